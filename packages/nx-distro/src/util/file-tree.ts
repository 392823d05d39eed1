import * as fs from 'node:fs';

/** One entry of a file tree as the package and image writers (tar, cpio, layer trees, .MTREE) take it. */
export interface TreeEntry {
  /** Relative path, `/`-separated, no leading `/` or `./` (`usr/bin/lua`). */
  readonly rel: string;
  /** Absolute path on disk (empty for entries made in memory). */
  readonly abs: string;
  /** `hardlink`: another name of a `file` earlier in the order (its `rel` in `target`). */
  readonly kind: 'dir' | 'file' | 'symlink' | 'hardlink' | 'char';
  /** Permission bits (mask 0o7777). */
  readonly mode: number;
  /** Whole seconds since the epoch, clamped to the SOURCE_DATE_EPOCH given to {@link scanTree}. */
  readonly mtime: number;
  /** Bytes of a `file` or `hardlink` (0 otherwise). */
  readonly size: number;
  /** Symlink target, or the first name of a hard-linked file. */
  readonly target?: string;
  /** Contents of an in-memory `file` (abs is then empty). */
  readonly data?: Buffer;
  /** Device number `[major, minor]` of a `char` device. */
  readonly rdev?: readonly [number, number];
}

/** Byte order of UTF-8 paths (what `LC_COLLATE=C` sorting gives): `a`, `a-b`, `a/x`, `ab`. */
export function compareRel(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Every entry under `root` (not `root` itself), sorted by {@link compareRel}, so parents come
 * before their children. Modes keep setuid/setgid/sticky; mtimes are clamped to
 * `min(mtime, epoch)` (reproducible-builds.org's clamping), never below 0; a second name of an
 * inode (hard link) becomes a `hardlink` entry naming the first one in that order, as tar stores
 * it. Owners are not recorded: every writer stores uid/gid 0.
 * @param root absolute folder
 * @param epoch SOURCE_DATE_EPOCH, seconds
 * @param special the end of the error for a FIFO, socket or device (what cannot hold it and the fix)
 * @throws Error for a FIFO, socket or device (an installed root from packages has none), or a
 *   name or symlink target that is not UTF-8
 */
export function scanTree(root: string, epoch: number, special = 'which an image tree cannot hold'): TreeEntry[] {
  const out: Array<TreeEntry & { ino?: string }> = [];
  const walk = (dirAbs: string, dirRel: string) => {
    for (const raw of fs.readdirSync(dirAbs, { encoding: 'buffer' })) {
      const name = utf8(raw, `${dirAbs}/${raw.toString('utf8')}`);
      const rel = dirRel === '' ? name : `${dirRel}/${name}`;
      const abs = `${dirAbs}/${name}`;
      const st = fs.lstatSync(abs, { bigint: true });
      const seconds = Number(st.mtimeNs / 1_000_000_000n) - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1 : 0);
      const base = { rel, abs, mode: Number(st.mode) & 0o7777, mtime: Math.max(0, Math.min(seconds, epoch)), size: 0 };
      if (st.isDirectory()) {
        out.push({ ...base, kind: 'dir' });
        walk(abs, rel);
      } else if (st.isSymbolicLink()) {
        out.push({ ...base, kind: 'symlink', mode: 0o777, target: utf8(fs.readlinkSync(abs, { encoding: 'buffer' }), `${abs} (symlink target)`) });
      } else if (st.isFile()) {
        out.push({ ...base, kind: 'file', size: Number(st.size), ino: st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined });
      } else {
        throw new Error(`${abs}: is ${st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device'}, ${special}`);
      }
    }
  };
  walk(root, '');
  out.sort((a, b) => compareRel(a.rel, b.rel));
  const first = new Map<string, string>();
  return out.map(({ ino, ...e }) => {
    if (ino === undefined) return e;
    const name = first.get(ino);
    if (name === undefined) {
      first.set(ino, e.rel);
      return e;
    }
    return { ...e, kind: 'hardlink' as const, target: name };
  });
}

/**
 * Merges extra entries (made in memory: `/init`, `dev/console`…) into a sorted tree: an extra
 * entry replaces a tree entry of the same path. The result is sorted by {@link compareRel}.
 * @throws Error when an extra entry would sit under a path the tree has as a non-folder
 */
export function mergeEntries(tree: readonly TreeEntry[], extra: readonly TreeEntry[]): TreeEntry[] {
  const byRel = new Map(tree.map((e) => [e.rel, e]));
  for (const e of extra) {
    const parts = e.rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = byRel.get(parts.slice(0, i).join('/'));
      if (parent && parent.kind !== 'dir') throw new Error(`${e.rel}: cannot be added: ${parent.rel} is a ${parent.kind}, not a folder`);
    }
    byRel.set(e.rel, e);
  }
  // A replaced file that others were hard links to: those become plain copies of it.
  const merged = [...byRel.values()].sort((a, b) => compareRel(a.rel, b.rel));
  return merged.map((e) => (e.kind === 'hardlink' && byRel.get(e.target!)?.kind !== 'file' ? { ...e, kind: 'file' as const } : e));
}

/** Decodes a file name or link target read as bytes; only UTF-8 is accepted. */
function utf8(bytes: Buffer, where: string): string {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new Error(`${where}: the name is not valid UTF-8; rename it`);
  return text;
}
