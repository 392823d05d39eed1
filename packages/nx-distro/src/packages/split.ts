import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { InputError, quote } from '../model/errors';
import type { Recipe } from '../model/recipe.generated';
import { debugPackageName } from './debug-info';

/**
 * Split packages: several pacman packages written from one build's `$pkgdir` (Arch's split
 * PKGBUILDs, cports' subpackages, Debian's `-dev` binary packages). A recipe names them with
 * `subpackages` (its own file patterns) and `split` (the standard `dev` and `doc` splits); the
 * package of the recipe's own name keeps every file none of them took.
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

/** One split package as written out of `$pkgdir`. */
export interface SplitTree {
  readonly spec: SplitPackageSpec;
  /** Absolute folder holding its files (a `$pkgdir` of its own). */
  readonly dir: string;
  /** Paths inside the package it took (files and links, no leading `/`), sorted. */
  readonly taken: readonly string[];
}

/**
 * Moves the files each split package takes out of `pkgdir` into a tree of its own,
 * `<workDir>/<name>/` (replaced), keeping modes, links and the folders above each file (with
 * their modes). An entry goes to the first package (in {@link splitPackageSpecs}'s order) one of
 * whose patterns matches its path or a folder above it; folders the moves left empty are removed
 * from `pkgdir`, folders that were empty before stay.
 * @param pkgdir absolute `$pkgdir` of the build (changed in place: it keeps the main package)
 * @param specs the split packages, in order
 * @param workDir absolute folder for the split trees (created if missing)
 * @param recipeFile workspace-relative recipe file, for the errors
 * @returns one tree per spec, in order
 * @throws InputError `<recipe>: <field>: <name>: no file of $pkgdir matches ...` when a split
 *   package would be empty
 */
export async function splitPackageTree(pkgdir: string, specs: readonly SplitPackageSpec[], workDir: string, recipeFile: string): Promise<SplitTree[]> {
  if (specs.length === 0) return [];
  const matchers = specs.map((s) => picomatch(s.files as string[], { dot: true }));
  const owner = (rel: string): number => {
    const parts = rel.split('/');
    for (let i = 0; i < specs.length; i++) {
      for (let n = parts.length; n >= 1; n--) if (matchers[i](parts.slice(0, n).join('/'))) return i;
    }
    return -1;
  };
  const taken: string[][] = specs.map(() => []);
  const hadEntries = new Set<string>();
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(pkgdir, rel), { withFileTypes: true });
    if (entries.length) hadEntries.add(rel);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        await walk(r);
        continue;
      }
      let i = owner(r);
      if (i >= 0 && specs[i].keeps) {
        const abs = path.join(pkgdir, r);
        const st = await fs.lstat(abs);
        const head = st.isFile() ? await readHead(abs) : Buffer.alloc(0);
        if (specs[i].keeps!(r, st, head)) i = -1;
      }
      if (i >= 0) taken[i].push(r);
    }
  };
  await walk('');
  const empty = specs.findIndex((_, i) => taken[i].length === 0);
  if (empty >= 0) {
    const s = specs[empty];
    throw new InputError(recipeFile, s.field, `${s.name}: no file of $pkgdir matches ${s.files.map((f) => quote(f)).join(', ')}${empty > 0 ? ' that an earlier package did not take' : ''}`, s.field.startsWith('split') ? 'remove it from split' : 'fix its files patterns, or remove it');
  }
  await fs.mkdir(workDir, { recursive: true });
  const trees: SplitTree[] = [];
  for (const [i, spec] of specs.entries()) {
    const dir = path.join(workDir, spec.name);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir);
    for (const rel of taken[i]) {
      await makeParents(pkgdir, dir, path.posix.dirname(rel));
      await fs.rename(path.join(pkgdir, rel), path.join(dir, rel));
    }
    trees.push({ spec, dir, taken: taken[i] });
  }
  // Folders the moves emptied, deepest first; the ones that were empty before stay.
  for (const rel of [...hadEntries].filter((r) => r !== '').sort((a, b) => b.length - a.length)) {
    if ((await fs.readdir(path.join(pkgdir, rel))).length === 0) await fs.rmdir(path.join(pkgdir, rel));
  }
  return trees;
}

/** The first 4 bytes of a file (fewer for a shorter one). */
async function readHead(file: string): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Creates `<to>/<rel>` and the folders above it with the modes of the same folders under `from`. */
async function makeParents(from: string, to: string, rel: string): Promise<void> {
  if (rel === '.' || rel === '') return;
  const target = path.join(to, rel);
  try {
    await fs.lstat(target);
    return;
  } catch {
    // not there yet
  }
  await makeParents(from, to, path.posix.dirname(rel));
  const st = await fs.lstat(path.join(from, rel));
  await fs.mkdir(target);
  await fs.chmod(target, st.mode & 0o7777);
}
