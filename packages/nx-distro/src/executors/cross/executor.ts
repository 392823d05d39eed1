import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { buildEnvironment, buildTriplet, SANDBOX } from '../../build/environment';
import { dependencyPackage, nodeDependencies } from '../../build/dependencies';
import { sourceDateEpoch } from '../../build/source-date-epoch';
import { sha256File } from '../../sources/hash';
import { parseDependencyRef } from '../../model/dependency-ref';
import { InputError, InputErrors } from '../../model/errors';
import { buildSpec, loadRecipe } from '../../model/recipe';
import { loadSystemTargets, recipeSupportsArch } from '../../model/system-target';
import { extractedPackage, stageSysroot } from '../../packages/package-store';
import { writePackage } from '../../packages/pacman-package';
import { runSandboxed } from '../../sandbox/bwrap';
import { ArchiveError } from '../../sources/extract';
import { PatchError } from '../../sources/patch';
import { prepareSources, SourceVerificationError } from '../../sources/prepare';
import { PHASES, resolveSteps } from '../../styles';
import { pluginOptionsOf, recipeFileOf } from '../context';
import type { CrossExecutorOptions } from './schema';

/** Lines of the build log printed when a step fails. */
const LOG_TAIL_LINES = 40;

/** A build step that failed; `message` names the step, the exit status and the log. */
class StepFailed extends Error {}

/**
 * `nx-distro:cross`: builds one recipe (or one of its stages) for one system target with the
 * target's cross toolchain, and writes its pacman package.
 *
 * 1. A recipe the external toolchain stands in for (`toolchain.provides`), or whose `arch` list
 *    excludes the target's arch, is an explicit, logged no-op that writes no package.
 * 2. The sysroot is staged fresh from the packages of exactly the declared `makedepends` and
 *    their runtime `depends` (hard links from the extracted-package store).
 * 3. `srcdir` is prepared: distfiles re-verified, unpacked, patched.
 * 4. Each step (`prepare`, `configure`, `build`, `check` when asked and native, `install`) runs
 *    in a bubblewrap sandbox: host root read-only, network off, `srcdir` writable, sysroot
 *    read-only, `$pkgdir` writable only during `install`, the environment exactly
 *    {@link buildEnvironment}'s. Output goes to `build.log` beside the package.
 * 5. `$pkgdir` (libtool `.la` files removed) becomes `NAME-VER-REL-ARCH.pkg.tar.zst`.
 *
 * Work folder: `<workspace>/tmp/build/<systemTarget>/<name>[@stage]/` (src, sysroot, pkg),
 * replaced at each run. Output folder: `<distDir>/<systemTarget>/packages/<name>[@stage]/`.
 * @returns `{ success }`; a user's mistake or a failing step is logged, never thrown
 */
export default async function crossExecutor(options: CrossExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const root = context.root;
    const { targetsDir, distDir } = pluginOptionsOf(context);
    const systemTargets = loadSystemTargets(root, targetsDir);
    const loadedTarget = systemTargets.find((t) => t.name === options.systemTarget);
    if (!loadedTarget) {
      throw new InputError(`${targetsDir}/${options.systemTarget ?? '<none>'}.yaml`, '', 'no such system target',
        `pass --configuration with one of: ${systemTargets.map((t) => t.name).join(', ')}`);
    }
    const target = loadedTarget.target;
    const recipeFile = options.recipe ?? recipeFileOf(context);
    const loaded = loadRecipe(root, recipeFile, readFileSync(path.join(root, recipeFile), 'utf8'));
    const { recipe } = loaded;
    const what = `${recipe.name}${options.stage ? `@${options.stage}` : ''}`;
    const outDir = path.join(root, distDir, loadedTarget.name, 'packages', what);
    await fs.rm(outDir, { recursive: true, force: true });
    await fs.mkdir(outDir, { recursive: true });

    const provided = new Set(target.toolchain.kind === 'external' ? target.toolchain.provides ?? [] : []);
    if (provided.has(recipe.name)) {
      logger.info(`${what}: nothing to build for ${loadedTarget.name}: its external toolchain (${target.toolchain.kind === 'external' ? target.toolchain.prefix : ''}gcc) stands in for it`);
      return { success: true };
    }
    if (!recipeSupportsArch(recipe.arch, target.arch)) {
      logger.info(`${what}: nothing to build for ${loadedTarget.name} (arch ${target.arch} is not in the recipe's arch list: ${(recipe.arch as string[]).join(', ')})`);
      return { success: true };
    }

    const steps = resolveSteps(recipe, options.stage);
    if (!steps.install) {
      logger.info(`${what}: nothing to build for ${loadedTarget.name}: the recipe has no install step (style ${recipe.style ?? 'none'}); no package is written`);
      return { success: true };
    }

    const work = path.join(root, 'tmp', 'build', loadedTarget.name, what);
    await chmodTreeWritable(work);
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true });
    const logFile = path.join(outDir, 'build.log');

    // Sysroot: exactly the declared makedepends and their runtime depends.
    const projectRoots = new Map(Object.entries(context.projectsConfigurations.projects).map(([name, p]) => [name, p.root]));
    const deps = nodeDependencies(root, projectRoots, loaded, options.stage);
    const staged: string[] = [];
    const installed: string[] = [];
    for (const key of deps.sysroot) {
      if (provided.has(parseDependencyRef(key).name)) continue;
      const pkg = dependencyPackage(root, distDir, loadedTarget.name, key);
      if (!pkg) {
        logger.info(`${what}: ${key} wrote no package for ${loadedTarget.name}; nothing of it is staged`);
        continue;
      }
      staged.push(await extractedPackage(path.join(root, 'tmp', 'extracted-packages'), pkg));
      installed.push(path.basename(pkg).replace(/\.pkg\.tar\.zst$/, ''));
    }
    const sysroot = path.join(work, 'sysroot');
    const stagedInfo = await stageSysroot(sysroot, staged);
    if (stagedInfo.conflicts.length) logger.warn(`${what}: files provided by two staged packages (first kept): ${stagedInfo.conflicts.slice(0, 5).join(', ')}`);
    const tools = deps.tools.filter((k) => !provided.has(parseDependencyRef(k).name));
    if (tools.length) logger.warn(`${what}: makedepends_build ${tools.join(', ')} are taken from the build machine (external toolchain targets do not stage build-machine programs)`);

    const srcdir = path.join(work, 'src');
    const prepared = await prepareSources(root, loaded, path.join(root, distDir, 'sources', recipe.name), srcdir);
    const pkgdir = path.join(work, 'pkg');
    await fs.mkdir(pkgdir);

    const epoch = sourceDateEpoch(root, loaded.root);
    const env = buildEnvironment({ recipe, stage: options.stage, systemTarget: target, sourceDateEpoch: epoch, jobs: options.jobs });
    await fs.writeFile(logFile, [
      `# ${what} for ${loadedTarget.name} (${target.triplet}), built on ${env.CBUILD}`,
      `# sysroot: ${installed.join(' ') || '(empty)'}`,
      `# sources: ${prepared.distfiles.join(' ') || '(none)'}; patches: ${prepared.patches.join(' ') || '(none)'}`,
      ...Object.entries(env).map(([k, v]) => `# ${k}=${v}`),
      '',
    ].join('\n'));
    logger.info(`${what}: building for ${loadedTarget.name} (${target.triplet}) on ${buildTriplet()}; sysroot: ${installed.length} package(s); log: ${path.relative(root, logFile)}`);

    const native = target.triplet === env.CBUILD;
    for (const phase of PHASES) {
      const script = steps[phase];
      if (!script) continue;
      if (phase === 'check' && !(options.check && native)) continue;
      await fs.appendFile(logFile, `\n==> ${phase}\n`);
      const started = Date.now();
      const r = await runSandboxed({
        binds: [
          { src: srcdir, dest: SANDBOX.srcdir, writable: true },
          { src: sysroot, dest: SANDBOX.sysroot, writable: false },
          { src: pkgdir, dest: SANDBOX.pkgdir, writable: phase === 'install' },
        ],
        env,
        cwd: SANDBOX.srcdir,
        argv: ['/bin/sh', '-e', '-c', script],
        logFile,
      });
      if (r.exitCode !== 0) {
        const tail = (await fs.readFile(logFile, 'utf8')).trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
        throw new StepFailed(`${tail}\n${what}: step ${phase} failed (${r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`}) after ${((Date.now() - started) / 1000).toFixed(1)} s; full log: ${path.relative(root, logFile)}`);
      }
      logger.info(`${what}: ${phase} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }

    await removeLibtoolArchives(pkgdir);
    if ((await fs.readdir(pkgdir)).length === 0) throw new StepFailed(`${what}: the install step put nothing into $pkgdir; install with DESTDIR="$pkgdir"`);
    const spec = buildSpec(recipe, options.stage);
    const result = await writePackage(
      pkgdir,
      {
        pkgname: recipe.name,
        pkgbase: recipe.name,
        pkgver: recipe.version,
        pkgrel: recipe.release,
        pkgdesc: recipe.description,
        url: recipe.homepage,
        arch: target.arch,
        license: recipe.license,
        depends: spec.depends.map((d) => parseDependencyRef(d).name).filter((n) => !provided.has(n)),
        packager: 'nx-distro',
        builddate: epoch,
      },
      {
        pkgbuildSha256: await sha256File(path.join(root, recipeFile)),
        builddir: '/build',
        startdir: '/build',
        buildenv: [],
        options: [],
        installed,
        buildtoolver: '0.1.0',
      },
      outDir,
      epoch,
    );
    logger.info(`${what}: wrote ${path.relative(root, result.file)} (${result.size} bytes, installed ${result.installedSize} bytes, sha256 ${result.sha256})`);
    return { success: true };
  } catch (e) {
    if (e instanceof InputError || e instanceof InputErrors || e instanceof ArchiveError || e instanceof PatchError || e instanceof SourceVerificationError || e instanceof StepFailed) {
      logger.error(e.message);
      return { success: false };
    }
    throw e;
  }
}

/** Removes libtool's `.la` files: their absolute paths would point into the build sysroot (Arch's and Alpine's practice). */
async function removeLibtoolArchives(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.la')) await fs.rm(path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
  }
}

/** Makes a previous run's work folder removable (builds may leave read-only folders). */
async function chmodTreeWritable(dir: string): Promise<void> {
  try {
    for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isDirectory()) await fs.chmod(path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name), 0o755).catch(() => undefined);
    }
  } catch {
    // no previous work folder
  }
}
