import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logger } from '@nx/devkit';
import { buildMachineArch } from '../build-machine/binfmt';
import { lintBuild } from '../lint/build-lint';
import { formatFinding, type LintPolicy } from '../lint/lint';
import { parseDependencyRef } from '../model/dependency-ref';
import { InputError, InputErrors, ReportedError } from '../model/errors';
import { buildSpec } from '../model/recipe';
import type { Recipe } from '../model/recipe.generated';
import type { SystemTarget } from '../model/target.generated';
import { writeAbiManifest } from '../packages/abi-manifest';
import { debugPackageName } from '../model/package-layout';
import { splitDebugInfo, type TargetBinutils } from '../packages/debug-info';
import { firstDynamicElf } from '../packages/elf';
import { lintPackageTree } from '../packages/package-lint';
import { backupEntryProblem, writePackage } from '../packages/pacman-package';
import { pkgconfigDepends, type PackageTree } from '../packages/pkgconfig-depends';
import { splitPackageSpecs } from '../model/split-packages';
import { splitPackageTree } from '../packages/split';
import { stripNondeterminism } from '../packages/strip-nondeterminism';
import { sha256File } from '../util/hash';
import { scanTree } from '../util/file-tree';

/** What starts each `nx-distro lint` finding a build prints (and appends to `build.log`), so they are easy to grep. */
export const LINT_PREFIX = 'lint: ';

/**
 * What turns a build's `$pkgdir` into its packages, decided before the steps ran: plain data
 * (JSON), so that the work folder's sandbox record can keep it for `nx-distro resume`
 * (pipeline/rescue.ts). Paths are absolute unless said otherwise.
 */
export interface PackagingInput {
  readonly workspaceRoot: string;
  /** Workspace-relative dist folder (the plugin option `distDir`). */
  readonly distDir: string;
  /** The system target's name (`aarch64`). */
  readonly systemTarget: string;
  /** Workspace-relative recipe file (named in errors; its sha256 goes into `.BUILDINFO`). */
  readonly recipeFile: string;
  /** The recipe as the build for the target's arch sees it (`recipeForArch`). */
  readonly recipe: Recipe;
  readonly target: SystemTarget;
  /** The stage built, absent for the final build (a stage writes no split package). */
  readonly stage?: string;
  /** The build node, `zlib` or `gcc@stage1`, as messages name it. */
  readonly node: string;
  /** The installed tree (`$pkgdir`). */
  readonly pkgdir: string;
  /** Where split packages' trees are made (`<work>/split`). */
  readonly splitDir: string;
  /** Where the packages and `abi.json` are written. */
  readonly outDir: string;
  /** The build's log (`build.log`), to which lint findings are appended. */
  readonly logFile: string;
  /** SOURCE_DATE_EPOCH, seconds since the epoch: file times are clamped to it; the build date. */
  readonly epoch: number;
  /** The runtime packages a package holding a dynamic ELF file depends on (the toolchain's C runtime, or a bootstrap toolchain's runtime recipes); empty for a `toolchain: true` recipe. */
  readonly runtimeIfDynamic: readonly string[];
  /** Recipe names the external toolchain stands in for (`toolchain.provides`): left out of `depends`. */
  readonly provided: readonly string[];
  /** The build nodes staged into the sysroot: the lint's known providers. */
  readonly sysrootKeys: readonly string[];
  /** The staged packages' `name-version-release-arch`, for `.BUILDINFO`. */
  readonly installed: readonly string[];
  /** The staged packages as trees (pacman name, extracted folder): where split packages' pkg-config requirements are looked up. */
  readonly stagedTrees: readonly PackageTree[];
  /**
   * For a build with debug packages (packages/debug-info.ts's `debugBuild`): the build's source
   * folder (`$srcdir`), where the `-debug` package's sources are read, the folder its tree is
   * made in (`<work>/debug`), and the system target's binutils that strip; absent otherwise.
   */
  readonly debug?: { readonly srcdir: string; readonly debugdir: string; readonly binutils: TargetBinutils };
}

/** A problem of the installed tree that is the build's, not the recipe file's (nothing installed, lint errors); `message` says it and the fix. */
export class PackagingFailed extends ReportedError {}

/**
 * The passes after the `install` step, in this order (makepkg's tidy and package functions,
 * cports' post-install hooks): libtool `.la` files removed; for a build with debug packages, the
 * ELF files stripped and their debug information and sources moved to the `<name>-debug`
 * package's tree (packages/debug-info.ts; the tools' refusals logged as warnings); archive timestamps normalised
 * (strip-nondeterminism); the tree checked ({@link lintPackageTree}: undeclared setuid/setgid,
 * world-writable without sticky, links out of the package: errors naming the recipe file); the
 * runtime `depends` (the C runtime when an ELF file is dynamic, then the recipe's own);
 * `nx-distro lint`'s checks (findings logged and appended to the log; errors stop here);
 * `abi.json` over the whole tree; the split packages taken out (packages/split.ts; not for a
 * stage); the `backup` entries checked against the main package; the main package and each split
 * package written into `outDir`, then the `-debug` package when any debug file was written.
 * @throws {InputErrors} for what the recipe must fix; {@link PackagingFailed} for an empty
 *   `$pkgdir` or lint errors
 */
export async function packageBuild(input: PackagingInput): Promise<void> {
  const { recipe, target, pkgdir, epoch, logFile, outDir, recipeFile } = input;
  const what = input.node;
  await removeLibtoolArchives(pkgdir);
  if ((await fs.readdir(pkgdir)).length === 0) throw new PackagingFailed(`${what}: the install step put nothing into $pkgdir; install with DESTDIR="$pkgdir"`);
  // Debug packages (packages/debug-info.ts): the ELF files stripped, their debug information and
  // sources moved to the `-debug` package's tree; before the checks, which see what ships.
  if (input.debug) await fs.rm(input.debug.debugdir, { recursive: true, force: true });
  const debug = input.debug ? await splitDebugInfo({ pkgdir, debugdir: input.debug.debugdir, srcdir: input.debug.srcdir, name: recipe.name, binutils: input.debug.binutils }) : undefined;
  if (debug) {
    for (const w of debug.warnings) logger.warn(`${what}: debug information: ${w}`);
    logger.info(`${what}: stripped ${debug.stripped.length} file(s) (${debug.bytesSaved} bytes less); ${debug.debugFiles.length} debug file(s) and ${debug.sources} source file(s) for ${debugPackageName(recipe.name)}`);
  }
  await stripNondeterminism(pkgdir, epoch);
  // What makepkg's and cports' checks refuse: undeclared setuid/setgid, world-writable, links out.
  const tree = scanTree(pkgdir, epoch, 'which a package cannot carry; create it at install time instead');
  const problems = lintPackageTree(tree, recipe.setuid ?? []).map((p) => new InputError(recipeFile, p.field, `${what}: ${p.problem}`, p.fix));
  if (problems.length) throw new InputErrors(problems);
  const spec = buildSpec(recipe, input.stage);
  // What a dynamically linked program needs at run time: the external toolchain's C runtime, or
  // the bootstrap toolchain's runtime recipes (its C library); never for the toolchain's own
  // recipes, nor for a build-machine program (`toolchain: true`).
  const dynamic = !recipe.toolchain && (await firstDynamicElf(pkgdir)) !== undefined;
  const runtimeDepends = !dynamic ? [] : [...input.runtimeIfDynamic];
  const depends = [
    ...runtimeDepends.filter((n) => n !== recipe.name),
    ...spec.depends.map((d) => parseDependencyRef(d).name).filter((n) => !input.provided.includes(n)),
  ];
  const arch = recipe.toolchain ? buildMachineArch() : target.arch;
  // nx-distro lint (src/lint/): warnings by default, errors where the recipe or the target says.
  const findings = await lintBuild({
    workspaceRoot: input.workspaceRoot,
    distDir: input.distDir,
    systemTarget: input.systemTarget,
    pkgdir,
    name: recipe.name,
    arch,
    depends,
    expectedArch: arch,
    known: [...input.sysrootKeys],
    setuid: recipe.setuid ?? [],
    // A `toolchain: true` recipe's package runs on the build machine, whose libraries it links.
    skip: recipe.toolchain ? ['needed-without-depends', 'depends-not-needed'] : [],
    recipePolicy: recipe.lint as LintPolicy | undefined,
    targetPolicy: target.lint as LintPolicy | undefined,
  });
  if (findings.length) {
    const lines = findings.map((f) => `${LINT_PREFIX}${formatFinding(f)}`);
    for (const [i, f] of findings.entries()) {
      if (f.severity === 'error') logger.error(lines[i]);
      else logger.warn(lines[i]);
    }
    await fs.appendFile(logFile, `\n${lines.join('\n')}\n`);
  }
  const lintErrors = findings.filter((f) => f.severity === 'error').length;
  if (lintErrors) throw new PackagingFailed(`${what}: ${lintErrors} lint error(s) above (checks the recipe's or the target's \`lint.errors\` names); no package is written; fix them, or list the checks in the recipe's \`lint.ignore\``);
  // What dependents' cache keys read instead of the packages (early cutoff, docs/cache-keys.md):
  // one manifest over the whole $pkgdir, before the split, so it covers every package of the recipe.
  await writeAbiManifest(pkgdir, outDir);
  // Split packages (packages/split.ts): their files leave $pkgdir, which keeps the main package's.
  const splitTrees = input.stage ? [] : await splitPackageTree(pkgdir, splitPackageSpecs(recipe), input.splitDir, recipeFile);
  // Backup files belong to the main package. Named here as the recipe's field; writePackage
  // would refuse the same entries.
  const byRel = new Map((splitTrees.length ? scanTree(pkgdir, epoch, 'which a package cannot carry; create it at install time instead') : tree).map((e) => [e.rel, e]));
  const backupProblems: InputError[] = [];
  for (const [i, file] of (recipe.backup ?? []).entries()) {
    const problem = backupEntryProblem(byRel, file);
    if (problem) backupProblems.push(new InputError(recipeFile, `backup[${i}]`, `${what}: ${problem}`, splitTrees.some((t) => t.taken.includes(file)) ? 'a configuration file stays in the main package: narrow the split package\'s files patterns' : 'install the configuration file into $pkgdir, or drop it from backup'));
  }
  if (backupProblems.length) throw new InputErrors(backupProblems);
  const buildinfo = {
    pkgbuildSha256: await sha256File(path.join(input.workspaceRoot, recipeFile)),
    builddir: '/build',
    startdir: '/build',
    buildenv: [],
    // makepkg's names for what was done to the files.
    options: input.debug ? ['strip', 'debug'] : ['!strip', '!debug'],
    installed: [...input.installed],
    buildtoolver: '0.1.0',
  };
  const result = await writePackage(
    pkgdir,
    {
      pkgname: recipe.name,
      pkgbase: recipe.name,
      pkgver: recipe.version,
      pkgrel: recipe.release,
      pkgdesc: recipe.description,
      url: recipe.homepage,
      // A toolchain recipe's package runs on the build machine.
      arch,
      license: recipe.license,
      depends,
      // pacman's relations and files, as the recipe gives them (docs/recipe-format.md).
      provides: recipe.provides ?? [],
      conflicts: recipe.conflicts ?? [],
      replaces: recipe.replaces ?? [],
      groups: recipe.groups ?? [],
      backup: recipe.backup ?? [],
      optdepends: recipe.optdepends ?? [],
      packager: 'nx-distro',
      builddate: epoch,
    },
    buildinfo,
    outDir,
    epoch,
  );
  logger.info(`${what}: wrote ${path.relative(input.workspaceRoot, result.file)} (${result.size} bytes, installed ${result.installedSize} bytes, sha256 ${result.sha256})`);
  // What a split package's pkg-config files require (Alpine's `pc:` dependencies): zlib-dev for a
  // foo.pc that says `Requires: zlib`. A requirement nothing provides is a warning.
  const ownTrees = [{ name: recipe.name, dir: pkgdir }, ...splitTrees.map((s) => ({ name: s.spec.name, dir: s.dir }))];
  const pcDepends = await pkgconfigDepends(ownTrees.slice(1), ownTrees, input.stagedTrees, (n) => `${n}=${recipe.version}-${recipe.release}`);
  for (const [name, found] of pcDepends) {
    if (found.unresolved.length) logger.warn(`${what}: ${name}: ${found.unresolved.join(', ')}: a pkg-config requirement no package of this build or its makedepends provides (pkg-config fails on it); add the recipe installing that module's .pc file to makedepends`);
  }
  // What a package of the recipe beside its main one carries: its own name, description and
  // depends, the recipe's version, license and home, no relations of the main package's.
  const splitMeta = (pkgname: string, pkgdesc: string, splitDepends: string[]) => ({
    pkgname,
    pkgbase: recipe.name,
    pkgver: recipe.version,
    pkgrel: recipe.release,
    pkgdesc,
    url: recipe.homepage,
    arch,
    license: recipe.license,
    depends: splitDepends,
    provides: [],
    conflicts: [],
    replaces: [],
    groups: [],
    backup: [],
    optdepends: [],
    packager: 'nx-distro',
    builddate: epoch,
  });
  for (const t of splitTrees) {
    // A split package needs the C runtime on the same terms as the main one.
    const needsRuntime = !recipe.toolchain && (await firstDynamicElf(t.dir)) !== undefined;
    const sub = await writePackage(
      t.dir,
      splitMeta(t.spec.name, t.spec.description, [...new Set([...(needsRuntime ? runtimeDepends : []), ...t.spec.depends, ...(pcDepends.get(t.spec.name)?.depends ?? [])])]),
      buildinfo,
      outDir,
      epoch,
    );
    logger.info(`${what}: wrote ${path.relative(input.workspaceRoot, sub.file)} (${t.spec.field}: ${t.taken.length} file(s), ${sub.size} bytes, installed ${sub.installedSize} bytes, sha256 ${sub.sha256})`);
  }
  if (debug?.debugFiles.length) {
    // Arch's debug packages: no depends (a debugger reads them beside the package), the recipe's license.
    const dbg = await writePackage(
      input.debug!.debugdir,
      splitMeta(debugPackageName(recipe.name), `Detached debugging information for ${recipe.name}`, []),
      buildinfo,
      outDir,
      epoch,
    );
    logger.info(`${what}: wrote ${path.relative(input.workspaceRoot, dbg.file)} (${debug.debugFiles.length} debug file(s), ${debug.sources} source file(s), ${dbg.size} bytes, installed ${dbg.installedSize} bytes, sha256 ${dbg.sha256})`);
  }
}

/** Removes libtool's `.la` files: their absolute paths would point into the build sysroot (Arch's and Alpine's practice). */
async function removeLibtoolArchives(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.la')) await fs.rm(path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
  }
}
