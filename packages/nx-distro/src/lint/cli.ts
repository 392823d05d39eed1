import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readRecipe } from '../model/recipe';
import { loadTargetNamed } from '../model/system-target';
import { pkgnameOfFile, TARGET_PACKAGES_DIR } from '../model/package-layout';
import { readPluginOptions } from '../model/plugin-options';
import { formatFinding, lintPackage, type LintFinding, type LintPolicy } from './lint';
import { providedNamesOfPackage, readPackageForLint } from './load';

/** Usage of `nx-distro lint`. */
export const LINT_USAGE = `nx-distro lint SYSTEM_TARGET [PACKAGE...]
  Checks the built packages of a system target (dist/SYSTEM_TARGET/packages/, every one or the
  named ones) for what namcap and cports' lint catch: a DT_NEEDED library no declared depends
  provides, a depends nothing needs, an RPATH or a string pointing into the build sandbox,
  files outside the allowed FHS paths, setuid or world-writable files, .la files, an arch
  mismatch. One line per finding, \`<package>: <file>: <problem> [<severity> <check>]; <fix>\`.
  Exit 1 when a finding is an error (a recipe's or the target's \`lint.errors\`), else 0.`;

/** What {@link lintBuiltPackages} found. */
export interface LintRun {
  /** The packages linted, by name, sorted. */
  readonly packages: readonly string[];
  /** Every finding, package by package in that order. */
  readonly findings: readonly LintFinding[];
}

/**
 * The recipe file of a package name: `recipes/<name>/recipe.yaml` or
 * `recipes/<category>/<name>/recipe.yaml` (the layouts the plugin reads), workspace-relative.
 * @returns undefined when neither exists (a package with no recipe, e.g. `toolchain-runtime`)
 */
export function recipeFileOfPackage(workspaceRoot: string, name: string): string | undefined {
  const direct = `recipes/${name}/recipe.yaml`;
  if (existsSync(path.join(workspaceRoot, direct))) return direct;
  const recipes = path.join(workspaceRoot, 'recipes');
  if (!existsSync(recipes)) return undefined;
  for (const category of readdirSync(recipes).sort()) {
    const file = `recipes/${category}/${name}/recipe.yaml`;
    if (existsSync(path.join(workspaceRoot, file))) return file;
  }
  return undefined;
}

/**
 * The core of `nx-distro lint`: lints the packages a system target's builds wrote, read-only.
 * Every package folder `<distDir>/<systemTarget>/packages/<name>/` holding a `.pkg.tar.zst` is
 * a package (stage folders `<name>@<stage>` only when named): the one of the recipe's name, then
 * its split packages (`-dev`, `-doc`, `subpackages`), each linted on its own with its own
 * `.PKGINFO` (the files a split takes, headers among them, are in no other package: the build's
 * lint of the whole `$pkgdir` sees them under the recipe's name); the providers of depends are the
 * other packages of the same folder (their `abi.json`, else the package file). The policies are
 * the target file's `lint` and the package's recipe's `lint` (a package without a recipe,
 * `toolchain-runtime`, has the target's only).
 * @param names packages to lint (default: every one)
 * @throws Error `<folder>: no packages; fix: ...` when the target has none, `<name>: no built
 *   package ...` for a named package not built; InputErrors from the target or a recipe
 */
export async function lintBuiltPackages(workspaceRoot: string, options: { distDir: string; targetsDir: string }, systemTarget: string, names: readonly string[] = []): Promise<LintRun> {
  const target = loadTargetNamed(workspaceRoot, options.targetsDir, systemTarget);
  const dir = path.join(workspaceRoot, options.distDir, systemTarget, TARGET_PACKAGES_DIR);
  const files = new Map<string, string>();
  /** Each folder's split packages (absolute paths, sorted), after the package of the recipe's name. */
  const splits = new Map<string, string[]>();
  for (const folder of existsSync(dir) ? readdirSync(dir).sort() : []) {
    if (folder.includes('@') && !names.includes(folder)) continue;
    // The package of the recipe's own name (what depends name and the build lints), then its splits.
    const all = existsSync(path.join(dir, folder)) ? readdirSync(path.join(dir, folder)).filter((f) => f.endsWith('.pkg.tar.zst') && !f.startsWith('.')).sort() : [];
    const pkg = all.find((f) => pkgnameOfFile(f) === folder.split('@')[0]) ?? all[0];
    if (pkg) files.set(folder, path.join(dir, folder, pkg));
    splits.set(folder, all.filter((f) => f !== pkg).map((f) => path.join(dir, folder, f)));
  }
  const rel = path.relative(workspaceRoot, dir) || dir;
  if (files.size === 0) throw new Error(`${rel}: no packages; fix: nx run-many -t build -c ${systemTarget}`);
  for (const n of names) {
    if (!files.has(n)) throw new Error(`${n}: no built package in ${rel}; fix: nx run ${n.split('@')[0]}:build -c ${systemTarget}, or name one of: ${[...files.keys()].slice(0, 20).join(' ')}`);
  }
  const providers = new Map<string, ReadonlySet<string>>();
  for (const [folder, file] of files) if (!folder.includes('@')) providers.set(folder, await providedNamesOfPackage(file));
  const targetPolicy = target.target.lint as LintPolicy | undefined;
  const findings: LintFinding[] = [];
  const linted: string[] = [];
  for (const [folder, file] of files) {
    if (names.length && !names.includes(folder)) continue;
    const recipeFile = recipeFileOfPackage(workspaceRoot, folder.split('@')[0]);
    const recipe = recipeFile ? readRecipe(workspaceRoot, recipeFile).recipe : undefined;
    for (const one of [file, ...(splits.get(folder) ?? [])]) {
      const pkg = await readPackageForLint(one);
      findings.push(...lintPackage(pkg, { arch: target.target.arch, providers, ...(recipe?.setuid ? { setuid: recipe.setuid } : {}) }, { recipe: recipe?.lint as LintPolicy | undefined, target: targetPolicy }));
      linted.push(one === file ? folder : pkg.name);
    }
  }
  return { packages: linted, findings };
}

/**
 * `nx-distro lint SYSTEM_TARGET [PACKAGE...]`, run in the workspace root: prints one line per
 * finding ({@link formatFinding}) and a summary line on stderr.
 * @returns 0 when no finding is an error, 1 when one is (or the packages cannot be read), 2 for a usage error
 */
export async function lintCommand(args: readonly string[], workspaceRoot = process.cwd()): Promise<number> {
  const bad = args.find((a) => a.startsWith('-') || !/^[A-Za-z0-9@._+-]+$/.test(a));
  if (bad !== undefined || args.length === 0) {
    console.error(`nx-distro lint: ${bad === undefined ? 'no system target' : `${JSON.stringify(bad)}: not a system target or package name`}; fix: ${LINT_USAGE.split('\n')[0]}, e.g. nx-distro lint aarch64 zlib`);
    return 2;
  }
  const [systemTarget, ...names] = args;
  const { distDir, targetsDir } = readPluginOptions(workspaceRoot);
  const run = await lintBuiltPackages(workspaceRoot, { distDir, targetsDir }, systemTarget, names);
  for (const f of run.findings) console.log(formatFinding(f));
  const errors = run.findings.filter((f) => f.severity === 'error').length;
  console.error(`nx-distro lint: ${run.packages.length} package(s) of ${systemTarget}: ${errors} error(s), ${run.findings.length - errors} warning(s)`);
  return errors ? 1 : 0;
}
