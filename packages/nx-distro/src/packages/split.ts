import { promises as fs } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { InputError, quote } from '../model/errors';
import type { SplitPackageSpec } from '../model/split-packages';

/**
 * Split packages: several pacman packages written from one build's `$pkgdir` (Arch's split
 * PKGBUILDs, cports' subpackages, Debian's `-dev` binary packages). A recipe names them with
 * `subpackages` (its own file patterns) and `split` (the standard `dev` and `doc` splits); the
 * package of the recipe's own name keeps every file none of them took.
 */

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
