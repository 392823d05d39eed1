import * as fs from 'node:fs';
import path from 'node:path';
import type { InstalledPackage } from './pacman-root';
import type { TreeEntry } from '../util/file-tree';

/**
 * Splitting an installed root into its layers, by the pacman local database: each package's
 * files (its `files` list) and its database folder (`var/lib/pacman/local/<name>-<version>/`) go
 * into the layer the package was planned in; what no package owns (`/etc/pacman.conf`, the
 * database's `ALPM_DB_VERSION`) goes into the bottom layer; every layer also holds the folders
 * above its entries, so a folder several packages share is in each of their layers (overlayfs
 * merges folders). Stacked bottom to top, the layers give the root back.
 */

/** All folders above a relative path (`a/b/c` → `a`, `a/b`). */
function ancestors(rel: string): string[] {
  const parts = rel.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/**
 * The entries of each layer.
 * @param tree the installed root, sorted ({@link scanTree})
 * @param db its local database ({@link readLocalDb})
 * @param layers bottom first: each layer's set name and package names
 * @returns per set name, its entries in tree order
 * @throws Error when the database lists a package no layer has, or a layer names a package that
 *   is not installed
 */
export function layerEntries(tree: readonly TreeEntry[], db: readonly InstalledPackage[], layers: ReadonlyArray<{ readonly set: string; readonly packages: readonly string[] }>): Map<string, TreeEntry[]> {
  const layerOf = new Map<string, string>();
  for (const l of layers) for (const p of l.packages) layerOf.set(p, l.set);
  const installed = new Set(db.map((p) => p.name));
  for (const l of layers) for (const p of l.packages) if (!installed.has(p)) throw new Error(`layer ${l.set}: package ${p} is not installed in the root`);
  /** path → the layers that own it */
  const owners = new Map<string, Set<string>>();
  const own = (rel: string, set: string) => {
    const s = owners.get(rel) ?? new Set<string>();
    s.add(set);
    owners.set(rel, s);
  };
  const dbDirs = new Map<string, string>();
  for (const p of db) {
    const set = layerOf.get(p.name);
    if (set === undefined) throw new Error(`package ${p.name} ${p.version} is installed but planned in no layer`);
    for (const f of p.files) own(f.replace(/\/$/, ''), set);
    dbDirs.set(p.dbDir, set);
  }
  const bottom = layers[0].set;
  const chosen = new Map<string, Set<string>>(layers.map((l) => [l.set, new Set<string>()]));
  for (const e of tree) {
    let sets: Iterable<string> | undefined = owners.get(e.rel);
    if (sets === undefined) {
      const db = [e.rel, ...ancestors(e.rel)].map((a) => dbDirs.get(a)).find((s) => s !== undefined);
      sets = db !== undefined ? [db] : e.kind === 'dir' ? [] : [bottom];
    }
    for (const s of sets) {
      const into = chosen.get(s)!;
      into.add(e.rel);
      for (const a of ancestors(e.rel)) into.add(a);
    }
  }
  // A folder nobody owns and nothing is under (an empty folder pacman left) goes to the bottom.
  const inSome = new Set<string>();
  for (const s of chosen.values()) for (const r of s) inSome.add(r);
  for (const e of tree) {
    if (!inSome.has(e.rel)) {
      chosen.get(bottom)!.add(e.rel);
      for (const a of ancestors(e.rel)) chosen.get(bottom)!.add(a);
    }
  }
  const out = new Map<string, TreeEntry[]>();
  for (const [set, rels] of chosen) out.set(set, tree.filter((e) => rels.has(e.rel)));
  return out;
}

/**
 * The entries of the named packages' files (not their database folders), with the folders above
 * them: e.g. busybox and the C runtime for the initramfs of a layered boot. A hard link whose
 * first name is not among them becomes a plain file.
 * @param names package names; each must be installed
 * @throws Error for a name that is not installed
 */
export function packageEntries(tree: readonly TreeEntry[], db: readonly InstalledPackage[], names: readonly string[]): TreeEntry[] {
  const wanted = new Set<string>();
  for (const n of names) {
    const p = db.find((d) => d.name === n);
    if (!p) throw new Error(`package ${n} is not installed in the root`);
    for (const f of p.files) {
      const rel = f.replace(/\/$/, '');
      wanted.add(rel);
      for (const a of ancestors(rel)) wanted.add(a);
    }
  }
  const picked = tree.filter((e) => wanted.has(e.rel));
  return picked.map((e) => (e.kind === 'hardlink' && !wanted.has(e.target!) ? { ...e, kind: 'file' as const } : e));
}

/**
 * Recreates entries under `dest` (an empty folder): folders with their modes, files as hard links
 * to the originals (same inode, so same contents and mtime; two names of one original stay
 * linked), symlinks anew; then every mtime is set from the entries (folders last, deepest first,
 * as adding children changes a folder's mtime).
 * @param dest absolute folder on the same file system as the entries' files
 */
export function materialize(entries: readonly TreeEntry[], dest: string): void {
  for (const e of entries) {
    const to = path.join(dest, e.rel);
    switch (e.kind) {
      case 'dir':
        fs.mkdirSync(to);
        fs.chmodSync(to, e.mode);
        break;
      case 'file':
      case 'hardlink':
        fs.linkSync(e.abs, to);
        break;
      case 'symlink':
        fs.symlinkSync(e.target!, to);
        fs.lutimesSync(to, e.mtime, e.mtime);
        break;
      case 'char':
        throw new Error(`${e.rel}: a device cannot be put in a layer tree`);
    }
  }
  for (const e of [...entries].reverse()) if (e.kind === 'dir') fs.utimesSync(path.join(dest, e.rel), e.mtime, e.mtime);
}
