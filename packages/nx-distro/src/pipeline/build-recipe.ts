import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logger } from '@nx/devkit';
import { buildEnvironment, buildTriplet, crossPrefix } from './environment';
import { SANDBOX } from '../sandbox/layout';
import { BUILDROOT_TARBALL, extractedBuildroot } from './buildroot';
import { dependencyPackages } from '../packages/built-packages';
import { loadRecipeNamed, nodeDependencies } from './dependencies';
import { bootstrapToolchain } from '../model/bootstrap-toolchain';
import { sourceDateEpoch } from './source-date-epoch';
import { writeRescueRecord, workFolder, type RescueRecord } from './rescue';
import { LINT_PREFIX, packageBuild, type PackagingInput } from './package-build';
import { runStep, STEP_UMASK, type PlannedStep } from './run-step';
import { buildTargetName, parseDependencyRef } from '../model/dependency-ref';
import { failureReport, InputError, ReportedError } from '../model/errors';
import { readRecipe, recipeForArch, type Recipe } from '../model/recipe';
import { loadTargetNamed, recipeSupportsArch, type LoadedSystemTarget } from '../model/system-target';
import type { NormalizedOptions } from '../model/plugin-options';
import { debugBuild, targetBinutils } from '../packages/debug-info';
import { extractedPackage, stageSysroot } from '../packages/package-store';
import { debugPackageName, packageFolder, pkgnameOfFile } from '../model/package-layout';
import { stripSpecialBits } from '../packages/package-lint';
import { outsideIdentity, SANDBOX_HOST_ID } from '../sandbox/bwrap';
import type { SandboxBind } from '../sandbox/spec';
import { prepareSources } from '../sources/prepare';
import { hostTools, PHASES, resolveSteps } from '../styles';
import { missingBuildrootPackages, missingHostPackages } from './host-tools';
import { readSnippets } from '../styles/snippets';

/** Options shared by the `nx-distro:cross` and `nx-distro:native` executors (their schema.json). */
export interface BuildExecutorOptions {
  /** Workspace-relative path of the recipe file; default `<projectRoot>/recipe.yaml`. */
  recipe?: string;
  /** Stage to build, absent for the final package. */
  stage?: string;
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
  /** Run the recipe's `check` step (only where the host machine's programs run: native builds, or a cross build for the build machine's own triplet). Default false. */
  check?: boolean;
  /** Parallel make jobs (`$JOBS`); default the number of CPUs. */
  jobs?: number;
}

/**
 * How a second build of a recipe differs from the first (reproducibility checks, after Debian's
 * reprotest): another work folder, another wall clock, another job count. (The umask is no
 * variation: every step runs with `umask 0022`, as makepkg's steps do.) The
 * in-sandbox paths (`/build/src`, `$pkgdir`) and `SOURCE_DATE_EPOCH` stay the same: the tool fixes
 * them for every build, so they never vary between two builders.
 */
export interface BuildVariation {
  /** Absolute work folder (src, sysroot or root, pkg), instead of `<workspace>/tmp/build/<systemTarget>/<name>`. */
  readonly workDir: string;
  /** Absolute output folder (package, `abi.json`, `build.log`), instead of `<distDir>/<systemTarget>/packages/<name>`. */
  readonly outDir: string;
  /**
   * Seconds added to the wall clock the build's programs see (libfaketime `LD_PRELOAD`, monotonic
   * clocks left alone); only where the build runs the build machine's own programs (cross builds),
   * as libfaketime is a library of the build machine's arch. File times stay the kernel's
   * (`NO_FAKE_STAT=1`: stat() is not faked; libfaketime's README, section 3, Installation).
   */
  readonly clockOffsetSeconds?: number;
  /** Parallel make jobs (`$JOBS`) instead of the options' or the CPU count. */
  readonly jobs?: number;
  /**
   * `SOURCE_DATE_EPOCH` (seconds since the epoch) instead of {@link sourceDateEpoch}'s: the first
   * build's, so a check compares builds of the same date. The epoch is not in the cache key, so a
   * first build restored from the cache can carry another date than a build made now (the recipe
   * was uncommitted then: its files' modification time; committed now: the commit's time).
   * Debian's reprotest keeps it fixed between its two builds too.
   */
  readonly sourceDateEpoch?: number;
}

/** libfaketime for the build machine's programs (Debian package `libfaketime`). */
export function libfaketimePath(): string {
  const multiarch = buildTriplet();
  return `/usr/lib/${multiarch}/faketime/libfaketime.so.1`;
}

/** Package every build with an external toolchain depends on: the toolchain's C runtime (`system:toolchain-runtime`). */
export const TOOLCHAIN_RUNTIME_PACKAGE = 'toolchain-runtime';

/** File mode creation mask of every build step (octal), makepkg's: packages keep file modes, so the caller's umask must not reach them. */
export { STEP_UMASK };

/** What starts each `nx-distro lint` finding a build prints (and appends to `build.log`), so they are easy to grep. */
export { LINT_PREFIX };

/** Lines of the build log printed when a step fails. */
const LOG_TAIL_LINES = 40;

/** A build step that failed; `message` names the step, the exit status and the log. */
class StepFailed extends ReportedError {}

/**
 * The workspace a build runs in, as plain values: what an Nx executor's context gives
 * (executors/context.ts `buildWorkspaceOf`), or a Slurm job's request (cluster/build-job-cli.ts).
 */
export interface BuildWorkspace {
  /** Absolute workspace root. */
  readonly root: string;
  /** The plugin's options, defaults filled in. */
  readonly pluginOptions: NormalizedOptions;
  /** Recipe name → workspace-relative project root, for every recipe of the workspace. */
  readonly projectRoots: ReadonlyMap<string, string>;
  /** Workspace-relative `<projectRoot>/recipe.yaml` of the project being built, unless `options.recipe` names one. */
  readonly recipeFile?: string;
  /** The project's name, for messages before its recipe is read. */
  readonly projectName?: string;
}

/** What {@link BuildPlacement.elsewhere} is given: the build as far as it is known before its steps. */
export interface PlacedBuild {
  readonly loadedTarget: LoadedSystemTarget;
  /** The recipe, its `arch_overrides` applied. */
  readonly recipe: Recipe;
  /** The build node: `name` or `name@stage`. */
  readonly what: string;
  /** Absolute output folder of the build (its package and `build.log`). */
  readonly outDir: string;
}

/** Where {@link buildRecipe} runs its steps: here, unless `elsewhere` takes the build. */
export interface BuildPlacement {
  /**
   * Runs the build somewhere else and returns its result, or returns undefined to build here
   * (cluster/build-job.ts `slurmPlacement`: a Slurm job on a worker, for a system target with
   * `execution.kind: slurm`). Never asked for a reproducibility check's second build.
   */
  readonly elsewhere?: (build: PlacedBuild) => Promise<{ success: boolean }> | undefined;
}

/**
 * How a recipe is built: `cross` with the system target's external cross toolchain on the build
 * machine, the build machine's root read-only and a sysroot of the staged dependencies;
 * `native` inside the system target's Debian build root (`system:buildroot`), whose own compiler
 * runs the host machine's code (through QEMU user emulation and binfmt_misc for a foreign arch),
 * with the dependencies installed into that root.
 */
export type BuildMode = 'cross' | 'native';

/**
 * Builds one recipe (or one of its stages) for one system target and writes its pacman package:
 * the body of `nx-distro:cross` and `nx-distro:native`.
 *
 * 1. A recipe the external toolchain stands in for (`toolchain.provides`), or whose `arch` list
 *    excludes the target's arch, is an explicit, logged no-op that writes no package.
 * 2. When the placement takes the build elsewhere ({@link BuildPlacement}: on a Slurm cluster, the
 *    target's `execution.kind: slurm` or `NX_DISTRO_EXECUTION=slurm`), what follows runs as one
 *    Slurm job on a worker, this same function called there by `nx-distro build-job`
 *    (cluster/build-job.ts); not for a reproducibility check's second build, which stays beside its first.
 * 3. The mode: `native` when asked (`nx-distro:native`, used for `cross: false` recipes) or when
 *    the system target says `builds: native`; else `cross`.
 * 4. Cross: the sysroot is staged fresh from the packages of exactly the declared `makedepends`
 *    and their runtime `depends` (hard links from the extracted-package store). Native: the
 *    build's root is staged fresh from the extracted build root (`tmp/buildroots/<sha256>/`,
 *    hard links) with those packages and the `makedepends_build` ones installed over it
 *    (files of the build root win a conflict; conflicts are logged).
 * 5. `srcdir` is prepared: distfiles re-verified, unpacked, patched.
 * 6. Each step (`prepare`, `configure`, `build`, `check` when asked and the host's programs run
 *    here, `install`) runs in a bubblewrap sandbox: the root read-only (the host's for cross,
 *    the staged build root for native), network off, `srcdir` writable, sysroot read-only,
 *    `$pkgdir` writable only during `install`, the environment exactly {@link buildEnvironment}'s,
 *    `umask` {@link STEP_UMASK}.
 *    Output goes to `build.log` beside the package.
 * 7. `$pkgdir`, by {@link packageBuild}'s passes (pipeline/package-build.ts): libtool `.la` files
 *    removed, archive timestamps normalised by strip-nondeterminism, the tree
 *    checked by `lintPackageTree` (no undeclared setuid/setgid entry, nothing world-writable
 *    without the sticky bit, no link out of the package; each problem one error line naming the
 *    recipe file, the path and the fix); it
 *    becomes `NAME-VER-REL-ARCH.pkg.tar.zst` with `abi.json` beside it; with an
 *    external toolchain, a package holding a dynamically linked ELF file (`firstDynamicElf`)
 *    depends on {@link TOOLCHAIN_RUNTIME_PACKAGE} besides its recipe's `depends` (a kernel, static
 *    programs, headers or data do not). Before it is written, `nx-distro lint`'s checks run on
 *    `$pkgdir` (src/lint/, `lintBuild`): each finding one `lint: ` line (logged and appended to
 *    `build.log`); a finding of a check the recipe's or the target's `lint.errors` names fails
 *    the build, and no package is written. `abi.json` is written over the whole `$pkgdir`; then
 *    the split packages (`subpackages`, `split`: packages/split.ts; not for a stage build) take
 *    their files out of it, each written as its own package beside the main one (pkgbase the
 *    recipe's name), and the `backup` entries must be files of what the main package kept.
 * 8. However the build ends, the setuid and setgid bits come off everything in the work folder's
 *    `src/` and `pkg/` ({@link stripSpecialBits}): with nx run as root, the sandbox's user is root
 *    outside, and a setuid file left there would be root's on the host.
 *
 * Work folder: `<workspace>/tmp/build/<systemTarget>/<name>[@stage]/` (src, sysroot or root, pkg,
 * and `sandbox.json`, the record `nx-distro shell` and `resume` read: pipeline/rescue.ts), replaced
 * at each run; a failed step's message names it. Output folder: `<distDir>/<systemTarget>/packages/<name>[@stage]/`, or
 * `build-machine/` instead of `packages/` for a `toolchain: true` recipe (model/package-layout.ts).
 * @param requestedMode `native` from `nx-distro:native`; `cross` from `nx-distro:cross` (which
 *   still builds natively for a `builds: native` system target)
 * @param variation for a reproducibility check's second build: its own folders and variations
 * @param workspace the workspace root, plugin options and project roots
 * @param placement where the steps run (default: here)
 * @returns `{ success }`; a user's mistake, a failing step or a full file system is logged, never thrown
 */
export async function buildRecipe(options: BuildExecutorOptions, workspace: BuildWorkspace, requestedMode: BuildMode, variation?: BuildVariation, placement?: BuildPlacement): Promise<{ success: boolean }> {
  // What a disk-full error names: the task's subject and the folders it writes (set as known).
  let subject = workspace.projectName ?? 'build';
  const writing: string[] = [];
  const writtenBySteps: string[] = [];
  try {
    const root = workspace.root;
    const { targetsDir, distDir } = workspace.pluginOptions;
    const loadedTarget = loadTargetNamed(root, targetsDir, options.systemTarget);
    const target = loadedTarget.target;
    const recipeFile = options.recipe ?? workspace.recipeFile;
    if (recipeFile === undefined) throw new Error('buildRecipe: no recipe file (options.recipe or workspace.recipeFile)');
    const loaded = readRecipe(root, recipeFile);
    // The recipe's `arch_overrides` for the system target's arch, applied once for every reader below.
    const recipe = recipeForArch(loaded.recipe, target.arch);
    const what = `${recipe.name}${options.stage ? `@${options.stage}` : ''}`;
    const outDir = variation?.outDir ?? path.join(root, distDir, ...packageFolder(loadedTarget.name, what, recipe.toolchain));
    subject = what;
    writing.push(path.relative(root, outDir));
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

    const mode: BuildMode = requestedMode === 'native' || target.builds === 'native' ? 'native' : 'cross';
    const steps = resolveSteps(recipe, options.stage, readSnippets(root, loaded));
    if (!steps.install) {
      logger.info(`${what}: nothing to build for ${loadedTarget.name}: the recipe has no install step (style ${recipe.style ?? 'none'}); no package is written`);
      return { success: true };
    }

    // On a Slurm cluster (the target's `execution`, or NX_DISTRO_EXECUTION for this run): the
    // rest runs as one job, on a worker, through this same function (cluster/build-job.ts).
    const elsewhere = variation ? undefined : placement?.elsewhere?.({ loadedTarget, recipe, what, outDir });
    if (elsewhere) return await elsewhere;

    const work = variation?.workDir ?? workFolder(root, loadedTarget.name, what);
    writing.unshift(path.relative(root, work));
    await chmodTreeWritable(work);
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true });
    // What the steps may write (src, pkg) loses its setuid and setgid bits when the build ends,
    // however it ends: with nx run as root a setuid file there would be root's on the host.
    writtenBySteps.push(path.join(work, 'src'), path.join(work, 'pkg'));
    const logFile = path.join(outDir, 'build.log');

    // The dependencies: exactly the declared makedepends and their runtime depends (and, for a
    // native build, where build machine = host machine, the makedepends_build programs too).
    const projectRoots = workspace.projectRoots;
    const deps = nodeDependencies(root, projectRoots, loaded, options.stage, target.arch);
    const isTool = (name: string) => name === recipe.name ? recipe.toolchain === true : loadRecipeNamed(root, projectRoots, name, { file: loadedTarget.file, field: 'toolchain.recipes' }).recipe.toolchain === true;
    // A bootstrap toolchain: its tools on the PATH and its C library in the sysroot of every
    // build but its own recipes' (which name what they need of each other).
    const bootstrap = bootstrapToolchain(target, isTool);
    const usesBootstrap = bootstrap !== undefined && !(target.toolchain.kind === 'bootstrap' && target.toolchain.recipes.includes(recipe.name));
    const tools = deps.tools.filter((k) => !provided.has(parseDependencyRef(k).name));
    // Cross: programs of `toolchain: true` recipes are staged at /build/toolchain; other build-machine programs come from the build machine.
    const toolchainKeys = mode === 'cross' ? [...new Set([...tools.filter((k) => isTool(parseDependencyRef(k).name)), ...(usesBootstrap ? bootstrap.tools : [])])] : [];
    const sysrootKeys = [...new Set([...(usesBootstrap && mode === 'cross' ? bootstrap.sysroot : []), ...deps.sysroot])];
    const wanted = mode === 'native' ? [...new Set([...sysrootKeys, ...tools])] : sysrootKeys;
    const packagesDir = path.join(root, 'tmp', 'extracted-packages');
    const stagePackages = async (keys: readonly string[]) => {
      const dirs: string[] = [];
      const names: string[] = [];
      for (const key of keys) {
        if (provided.has(parseDependencyRef(key).name)) continue;
        // Every package of the dependency's build: its split packages (headers in `-dev`) too.
        const pkgs = dependencyPackages(root, distDir, loadedTarget.name, key);
        if (!pkgs.length) {
          if (usesBootstrap && (bootstrap.tools.includes(key) || bootstrap.sysroot.includes(key))) {
            throw new InputError(loadedTarget.file, 'toolchain.recipes', `${key} wrote no package for ${loadedTarget.name}, so ${what} has no toolchain`, `build it first (\`nx run system:toolchain -c ${loadedTarget.name}\`; Nx runs it before every build of this target)`);
          }
          logger.info(`${what}: ${key} wrote no package for ${loadedTarget.name}; nothing of it is staged`);
          continue;
        }
        for (const pkg of pkgs) {
          dirs.push(await extractedPackage(packagesDir, pkg));
          names.push(path.basename(pkg).replace(/\.pkg\.tar\.zst$/, ''));
        }
      }
      return { dirs, names };
    };
    const { dirs: staged, names: installed } = await stagePackages(wanted);
    const toolchainPackages = await stagePackages(toolchainKeys);
    const toolchainDir = path.join(work, 'toolchain');
    if (toolchainPackages.dirs.length) await stageSysroot(toolchainDir, toolchainPackages.dirs);
    const sysroot = path.join(work, mode === 'native' ? 'root' : 'sysroot');
    let buildroot: string | undefined;
    if (mode === 'native') {
      const tarball = path.join(root, distDir, loadedTarget.name, 'buildroot', BUILDROOT_TARBALL);
      if (!target.buildroot) {
        throw new InputError(loadedTarget.file, 'buildroot', `missing: ${what} is built natively (${requestedMode === 'native' ? 'its recipe says `cross: false`' : 'the target says `builds: native`'}) but this target has no build root`, 'add `buildroot: { debian_arch: <Debian arch> }` if the build machine\'s Debian release ships that arch, or cross-compile the recipe');
      }
      try {
        await fs.access(tarball);
      } catch {
        throw new InputError(loadedTarget.file, 'buildroot', `no build root at ${path.relative(root, tarball)}`, `run \`nx run system:buildroot -c ${loadedTarget.name}\` (Nx runs it first for every native build)`);
      }
      buildroot = await extractedBuildroot(path.join(root, 'tmp', 'buildroots'), tarball);
    }
    // The build machine's programs the recipe runs (its style's and its host_tools): installed
    // on the build machine for a cross build, in the build root for a native one.
    const runsTools = hostTools(recipe);
    if (mode === 'cross') {
      const missing = missingHostPackages(runsTools);
      if (missing.length) throw new InputError(recipeFile, 'host_tools', `${what} runs ${missing.join(', ')} (Debian package${missing.length > 1 ? 's' : ''}), not installed on this build machine`, `run tools/setup-host, or: apt-get install ${missing.join(' ')}`);
    } else if (runsTools.length) {
      const list = path.join(root, distDir, loadedTarget.name, 'buildroot', 'packages.txt');
      const missing = missingBuildrootPackages(runsTools, await fs.readFile(list, 'utf8').catch(() => ''));
      if (missing.length) throw new InputError(loadedTarget.file, 'buildroot.packages', `${what} runs ${missing.join(', ')} (its host_tools or style), which the ${loadedTarget.name} build root does not have`, `add ${missing.join(', ')} to buildroot.packages`);
    }
    const stagedInfo = await stageSysroot(sysroot, buildroot ? [buildroot, ...staged] : staged);
    if (stagedInfo.conflicts.length) {
      const paths = stagedInfo.conflicts.map((c) => c.slice(0, c.indexOf(': ')));
      logger.warn(`${what}: ${paths.length} path(s) provided twice, the ${mode === 'native' ? "build root's" : 'first'} kept: ${paths.slice(0, 8).join(' ')}${paths.length > 8 ? ' ...' : ''}`);
    }
    const fromBuildMachine = mode === 'cross' ? tools.filter((k) => !toolchainKeys.includes(k)) : [];
    if (fromBuildMachine.length) logger.warn(`${what}: makedepends_build ${fromBuildMachine.join(', ')} are taken from the build machine (only \`toolchain: true\` recipes are staged as build-machine programs)`);

    const srcdir = path.join(work, 'src');
    const prepared = await prepareSources(root, loaded, path.join(root, distDir, 'sources', recipe.name), srcdir);
    const pkgdir = path.join(work, 'pkg');
    await fs.mkdir(pkgdir);

    const epoch = variation?.sourceDateEpoch ?? sourceDateEpoch(root, loaded.root);
    const env = buildEnvironment({ recipe, stage: options.stage, systemTarget: target, systemTargetName: loadedTarget.name, sourceDateEpoch: epoch, jobs: variation?.jobs ?? options.jobs, mode });
    if (variation?.clockOffsetSeconds && mode === 'cross') {
      env.LD_PRELOAD = libfaketimePath();
      env.FAKETIME = `${variation.clockOffsetSeconds >= 0 ? '+' : ''}${variation.clockOffsetSeconds}`;
      env.FAKETIME_DONT_FAKE_MONOTONIC = '1';
      // File times stay the kernel's: by default libfaketime moves the times stat() reports too, so
      // a file copied with its times kept (`cp -p`, `install -p`, CMake's install of docs) got the
      // moved date, and a package whose files keep their tarball's times older than
      // SOURCE_DATE_EPOCH "differed" by exactly the offset (expat, json-c-dev, pcre2).
      env.NO_FAKE_STAT = '1';
    }
    // targets/<name>/ (kernel configs and the like), read-only, when the target has one; else an empty folder.
    let systemTargetDir = path.join(root, targetsDir, loadedTarget.name);
    if (!(await fs.stat(systemTargetDir).then((st) => st.isDirectory(), () => false))) {
      systemTargetDir = path.join(work, 'no-target-dir');
      await fs.mkdir(systemTargetDir);
    }
    // Who the steps' user is outside (sandbox/bwrap.ts): an unprivileged id when nx runs as root and the host allows it.
    const sandboxBinds: SandboxBind[] = [
      { src: srcdir, dest: SANDBOX.srcdir, writable: true },
      { src: systemTargetDir, dest: SANDBOX.systemTargetDir, writable: false },
      ...(mode === 'cross' ? [{ src: sysroot, dest: SANDBOX.sysroot, writable: false }] : []),
      ...(toolchainPackages.dirs.length ? [{ src: toolchainDir, dest: SANDBOX.toolchain, writable: false }] : []),
    ];
    const outside = outsideIdentity({ binds: [...sandboxBinds, { src: pkgdir, dest: SANDBOX.pkgdir, writable: true }], ...(mode === 'native' ? { root: sysroot } : {}), env: {}, cwd: '/', argv: ['true'], logFile });
    await fs.writeFile(logFile, [
      `# ${what} for ${loadedTarget.name} (${target.triplet}), built ${mode === 'native' ? `natively in the ${target.buildroot?.debian_arch} build root ${path.basename(buildroot!)}${target.qemu ? ` (QEMU ${target.qemu} through binfmt_misc when foreign)` : ''}` : `on ${env.CBUILD}`}`,
      `# ${mode === 'native' ? 'installed in the build root' : 'sysroot'}: ${installed.join(' ') || '(empty)'}`,
      ...(toolchainPackages.names.length ? [`# toolchain (${SANDBOX.toolchain}): ${toolchainPackages.names.join(' ')}`] : []),
      `# sources: ${prepared.distfiles.join(' ') || '(none)'}; patches: ${prepared.patches.join(' ') || '(none)'}`,
      `# sandbox user outside: ${outside === 'unprivileged' ? `uid ${SANDBOX_HOST_ID} (unprivileged)` : outside === 'caller' ? `uid ${process.getuid?.()} (nx's own user)` : outside}`,
      ...Object.entries(env).map(([k, v]) => `# ${k}=${v}`),
      '',
    ].join('\n'));
    logger.info(`${what}: building for ${loadedTarget.name} (${target.triplet}) ${mode === 'native' ? 'natively in its build root' : `on ${buildTriplet()}`}; ${mode === 'native' ? 'installed' : 'sysroot'}: ${installed.length} package(s); log: ${path.relative(root, logFile)}`);

    // The host machine's programs run here in a native build, or a cross build for this machine's triplet.
    const native = mode === 'native' || target.triplet === env.CBUILD;
    const binds = sandboxBinds;
    // What becomes of $pkgdir after the steps (pipeline/package-build.ts), decided now.
    let packaging: PackagingInput = {
      workspaceRoot: root,
      distDir,
      systemTarget: loadedTarget.name,
      recipeFile,
      recipe,
      target,
      ...(options.stage ? { stage: options.stage } : {}),
      node: what,
      pkgdir,
      splitDir: path.join(work, 'split'),
      outDir,
      logFile,
      epoch,
      // What a dynamically linked program needs at run time: the external toolchain's C runtime, or
      // the bootstrap toolchain's runtime recipes (its C library); never for the toolchain's own
      // recipes, nor for a build-machine program (`toolchain: true`).
      runtimeIfDynamic: recipe.toolchain ? [] : target.toolchain.kind === 'external' ? [TOOLCHAIN_RUNTIME_PACKAGE] : usesBootstrap ? [...bootstrap.runtime] : [],
      provided: [...provided],
      sysrootKeys,
      installed,
      stagedTrees: installed.map((n, i) => ({ name: pkgnameOfFile(n), dir: staged[i] })),
    };
    // Debug packages (packages/debug-info.ts): stripped with the target's own binutils.
    if (debugBuild(recipe, target, options.stage)) {
      const binutils = targetBinutils(crossPrefix(target), toolchainPackages.dirs.length ? toolchainDir : undefined);
      if (binutils) packaging = { ...packaging, debug: { srcdir, debugdir: path.join(work, 'debug'), binutils } };
      else logger.warn(`${what}: no ${crossPrefix(target)}objcopy and ${crossPrefix(target)}strip (neither on the PATH nor in the staged toolchain): its files keep their debug information and no ${debugPackageName(recipe.name)} package is written; run tools/setup-host, or set \`debug: false\``);
    }
    // The steps this build runs, in order: `check` only where asked and the host's programs run here.
    const planned: PlannedStep[] = PHASES.flatMap((phase) => (steps[phase] && (phase !== 'check' || (options.check && native)) ? [{ phase, script: steps[phase]! }] : []));
    // How the steps are sandboxed, for `nx-distro shell` and `nx-distro resume` (pipeline/rescue.ts): the work folder keeps it.
    const rescue: RescueRecord = { format: 1, node: what, systemTarget: loadedTarget.name, mode, sandbox: { binds, env, cwd: SANDBOX.srcdir, ...(mode === 'native' ? { root: sysroot } : {}) }, pkgdir, steps: planned, packaging };
    await writeRescueRecord(work, rescue);
    // What a failure message adds: the kept work folder, and the shell that opens its sandbox.
    const rescueHint = variation
      ? `; work folder kept: ${path.relative(root, work)}`
      : `; work folder kept: ${path.relative(root, work)}; a shell in its sandbox: npx nx-distro shell ${recipe.name}${options.stage ? `:${buildTargetName(options.stage)}` : ''} -c ${loadedTarget.name}`;
    for (const step of planned) {
      const phase = step.phase;
      const r = await runStep(step, rescue.sandbox, pkgdir, logFile);
      const started = r.started;
      if (r.exitCode !== 0) {
        await writeRescueRecord(work, { ...rescue, failedPhase: phase });
        const tail = (await fs.readFile(logFile, 'utf8')).trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
        throw new StepFailed(`${tail}\n${what}: step ${phase} failed (${r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`}) after ${((Date.now() - started) / 1000).toFixed(1)} s; full log: ${path.relative(root, logFile)}${rescueHint}${installOutsidePkgdirHint(phase, tail)}`);
      }
      logger.info(`${what}: ${phase} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }

    await packageBuild(packaging);
    return { success: true };
  } catch (e) {
    // A user's mistake, a failing step or a full file system: one logged line; anything else is a bug.
    const report = failureReport(e, subject, writing);
    if (report === undefined) throw e;
    logger.error(report);
    return { success: false };
  } finally {
    let stripped = 0;
    for (const dir of writtenBySteps) stripped += await stripSpecialBits(dir);
    if (stripped) logger.info(`${subject}: took the setuid/setgid bits off ${stripped} file(s) the steps left in ${path.relative(workspace.root, path.dirname(writtenBySteps[0]))} (src, pkg); a package keeps only the declared ones`);
  }
}

/**
 * The fix to name when an install step wrote outside `$pkgdir` (the sandbox's root is read-only):
 * most often a plain Makefile that knows no `DESTDIR` and installs into `$(PREFIX)` directly.
 * @returns `; <fix>` to append to the failure line, or '' for any other failure
 */
export function installOutsidePkgdirHint(phase: string, logTail: string): string {
  if (phase !== 'install' || !/Read-only file system|Permission denied/.test(logTail)) return '';
  return '; the install step wrote outside $pkgdir (the root is read-only): if the Makefile has no DESTDIR, install with its prefix under $pkgdir (steps.install: make PREFIX="$pkgdir/usr" install, or make_args)';
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
