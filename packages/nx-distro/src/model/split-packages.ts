import type { Stats } from 'node:fs';
import { InputError, quote } from './errors';
import { debugPackageName } from './package-layout';
import type { Recipe } from './recipe.generated';

/**
 * The split packages a recipe declares: several pacman packages written from one build's `$pkgdir`
 * (Arch's split PKGBUILDs, cports' subpackages, Debian's `-dev` binary packages), named with
 * `subpackages` (its own file patterns) and `split` (the standard `dev` and `doc` splits). What
 * each takes out of `$pkgdir` is packages/split.ts's.
 */

/** One package written from a recipe's build besides the one of its own name. */
export interface SplitPackageSpec {
  /** pacman package name. */
  readonly name: string;
  /** Its `pkgdesc`. */
  readonly description: string;
  /**
   * Glob patterns (picomatch, `dot: true`) of paths inside the package, without a leading `/`;
   * a pattern matching a folder takes everything under it.
   */
  readonly files: readonly string[];
  /** `depend = ` lines of its `.PKGINFO`: package names, optionally with a version constraint. */
  readonly depends: readonly string[];
  /** The recipe field that declares it, for messages: `subpackages[0]`, `split[1]`. */
  readonly field: string;
  /**
   * Whether an entry the patterns match stays in the main package after all (the `dev` split
   * leaves an unversioned shared library that is a real ELF file, a runtime file, where it is).
   */
  readonly keeps?: (rel: string, st: Stats, head: Buffer) => boolean;
}

/**
 * What the `dev` split takes: what a build against the library needs and a system running it
 * does not (Debian's `-dev` packages, cports' `devel` subpackages).
 */
export const DEV_FILES: readonly string[] = [
  'usr/include',
  'usr/lib/*.so',
  'usr/lib/*.a',
  'usr/lib/pkgconfig',
  'usr/share/pkgconfig',
  'usr/lib/cmake',
  'usr/share/aclocal',
  'usr/share/man/man3',
];

/** What the `doc` split takes: documentation (Arch's and Debian's `-doc` packages). */
export const DOC_FILES: readonly string[] = ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/gtk-doc'];

/** An ELF file's first bytes. */
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/**
 * The split packages a recipe declares, in the order they take files: `subpackages` as written,
 * then `split`'s `dev`, then `doc`.
 * @param recipe the recipe (after `arch_overrides`)
 */
export function splitPackageSpecs(recipe: Recipe): SplitPackageSpec[] {
  const specs: SplitPackageSpec[] = (recipe.subpackages ?? []).map((s, i) => ({
    name: s.name,
    description: s.description ?? `${recipe.description} (${s.name})`,
    files: s.files,
    depends: s.depends ?? [],
    field: `subpackages[${i}]`,
  }));
  const split = recipe.split ?? [];
  if (split.includes('dev')) {
    specs.push({
      name: `${recipe.name}-dev`,
      description: `${recipe.description} (development files)`,
      files: DEV_FILES,
      depends: [`${recipe.name}=${recipe.version}-${recipe.release}`],
      field: `split[${split.indexOf('dev')}]`,
      // usr/lib/*.so: the development link or linker script, never a real shared library.
      keeps: (rel, st, head) => /^usr\/lib\/[^/]+\.so$/.test(rel) && st.isFile() && head.subarray(0, 4).equals(ELF_MAGIC),
    });
  }
  if (split.includes('doc')) {
    specs.push({ name: `${recipe.name}-doc`, description: `${recipe.description} (documentation)`, files: DOC_FILES, depends: [], field: `split[${split.indexOf('doc')}]` });
  }
  return specs;
}

/**
 * The problems of a recipe's split packages that its schema cannot see: a name that is the
 * recipe's own, the debug package's (`<name>-debug`), or that two of them share.
 * @param file workspace-relative recipe file, for the errors
 * @returns one InputError per problem (empty when none)
 */
export function splitPackageProblems(file: string, recipe: Recipe): InputError[] {
  const errors: InputError[] = [];
  // `<name>-debug` is the debug package's (packages/debug-info.ts), whether or not this build writes one.
  const seen = new Map<string, string>([[recipe.name, 'name'], [debugPackageName(recipe.name), 'the debug package (docs/debug-packages.md)']]);
  for (const spec of splitPackageSpecs(recipe)) {
    const other = seen.get(spec.name);
    const field = spec.field.startsWith('subpackages') ? `${spec.field}.name` : spec.field;
    if (other) errors.push(new InputError(file, field, `package name ${quote(spec.name)} is also given by ${other}`, 'give each package of the recipe its own name'));
    else seen.set(spec.name, field);
  }
  return errors;
}
