import { dependencyPackages } from '../packages/built-packages';
import { parseDependencyRef } from '../model/dependency-ref';
import { lintPackage, type LintCheck, type LintFinding, type LintPolicy } from './lint';
import { providedNamesOfPackage, readTreeForLint } from './load';

/** What {@link lintBuild} needs of one build. */
export interface BuildLintInput {
  /** Absolute workspace root. */
  readonly workspaceRoot: string;
  /** Workspace-relative dist folder (the plugin option). */
  readonly distDir: string;
  /** The system target's name (`aarch64`). */
  readonly systemTarget: string;
  /** Absolute `$pkgdir` the package is written from. */
  readonly pkgdir: string;
  /** The package's `.PKGINFO` name, arch and depends (names, as written). */
  readonly name: string;
  readonly arch: string;
  readonly depends: readonly string[];
  /** Arch the package's ELF files must have: the target's, or the build machine's for a `toolchain: true` recipe. */
  readonly expectedArch: string;
  /** Further dependency keys whose packages may be named in a fix (the build's makedepends: `name` or `name@stage1`). */
  readonly known: readonly string[];
  readonly setuid?: readonly string[];
  /** Checks not run for this build (a build-machine package's libraries come from the build machine: no depends judged). */
  readonly skip?: readonly LintCheck[];
  readonly recipePolicy?: LintPolicy;
  readonly targetPolicy?: LintPolicy;
}

/**
 * `nx-distro lint` on a build's `$pkgdir` before its package is written (pipeline/build-recipe.ts):
 * the providers of its depends are the packages those builds wrote for the target (a depends
 * not built yet is not judged); the same checks and policies as the command.
 * @returns the findings ({@link lintPackage})
 */
export async function lintBuild(input: BuildLintInput): Promise<LintFinding[]> {
  const providers = new Map<string, ReadonlySet<string>>();
  for (const key of [...new Set([...input.depends, ...input.known])]) {
    const name = parseDependencyRef(key).name;
    if (providers.has(name)) continue;
    // What the dependency's packages provide together (its split packages included).
    const files = dependencyPackages(input.workspaceRoot, input.distDir, input.systemTarget, key);
    if (files.length) {
      const names = new Set<string>();
      for (const file of files) for (const n of await providedNamesOfPackage(file)) names.add(n);
      providers.set(name, names);
    }
  }
  const pkg = await readTreeForLint(input.pkgdir, { name: input.name, arch: input.arch, depends: input.depends });
  const findings = lintPackage(pkg, { arch: input.expectedArch, providers, ...(input.setuid ? { setuid: input.setuid } : {}) }, { recipe: input.recipePolicy, target: input.targetPolicy });
  return input.skip?.length ? findings.filter((f) => !input.skip!.includes(f.check)) : findings;
}
