/**
 * The `.MTREE` text of a pacman package, generated in JavaScript exactly as makepkg's
 * create_package gets it from libarchive:
 *
 *     bsdtar -cnf - --format=mtree \
 *       --options='!all,use-set,type,uid,gid,mode,time,size,md5,sha256,link' \
 *       --null --files-from - --exclude .MTREE
 *
 * The layout follows libarchive 3.6's `archive_write_set_format_mtree.c` (the version Debian 12
 * and pacman 6.0 use) in its non-classic, non-indented form:
 *
 * - `#mtree`, then a depth-first walk of the tree: for each folder, `/set` lines for the values
 *   most used by its children (see {@link MtreeWriter}), the folder's own line, the lines of its
 *   non-folder children, then each sub-folder in turn; children in byte order of their names
 *   (`strcmp`). The root folder itself has no line (makepkg never lists `.`).
 * - Each line is the path (`./` + relative path, characters outside the printable ASCII set and
 *   space, `#`, `=`, `\` written as a backslash and three octal digits) followed by the keywords
 *   `time=<seconds>.<nanoseconds>` (nanoseconds not zero-padded, a libarchive quirk: `.0` for
 *   whole seconds), `mode=<octal>`, `gid=`, `uid=` (each only when it differs from the current
 *   `/set`), `type=` (`dir`, `link`; `file` only when `/set` says otherwise), `link=<target>`,
 *   `size=<bytes>`, `md5digest=`, `sha256digest=` (regular files).
 *
 * A hard link is described like the file it links to (makepkg's bsdtar reads the tree from disk,
 * where both names are regular files): `type=file`, full size and digests.
 *
 * pacman reads this text (through libarchive's mtree reader) for its file list on install and for
 * `pacman -Qkk`; byte-identical output to bsdtar is checked by the integration tests.
 */

/** One entry of the tree described by the mtree text. */
export interface MtreeEntry {
  /** Path relative to the package root, `/`-separated, no leading `./`, no trailing `/` (e.g. `usr/bin/ls`). */
  path: string;
  /** Entry type (a hard link is a `file`). */
  type: 'file' | 'dir' | 'link';
  /** Permission bits including setuid/setgid/sticky, e.g. `0o4755` (0o777 for symlinks on Linux). */
  mode: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Modification time, whole seconds since the epoch. */
  mtime: number;
  /** Size in bytes (regular files). */
  size?: number;
  /** MD5 of the content, 32 lower-case hex digits (regular files). */
  md5?: string;
  /** SHA-256 of the content, 64 lower-case hex digits (regular files). */
  sha256?: string;
  /** Symlink target as stored in the link (symlinks). */
  link?: string;
}

/** A tree node: an entry, or the virtual root. */
interface Node {
  entry: MtreeEntry | null;
  name: Buffer;
  children: Map<string, Node>;
}

/** One value of a `/set` attribute with its count, as libarchive's `struct attr_counter`. */
interface Counter {
  value: number;
  count: number;
}

/**
 * Builds the mtree text (uncompressed) of a set of entries.
 * @param entries every entry of the package, any order; each folder on the way to an entry must
 *   be an entry itself (makepkg lists every folder)
 * @returns the text, `#mtree\n` first, lines ending in `\n`
 * @throws Error when a folder is missing or a path is listed twice
 */
export function mtreeText(entries: readonly MtreeEntry[]): string {
  const root: Node = { entry: null, name: Buffer.from('.'), children: new Map() };
  const dirs = new Map<string, Node>([['', root]]);
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  for (const entry of sorted) {
    const slash = entry.path.lastIndexOf('/');
    const parentPath = slash === -1 ? '' : entry.path.slice(0, slash);
    const parent = dirs.get(parentPath);
    if (parent === undefined) throw new Error(`mtree: ${JSON.stringify(entry.path)} has no folder entry for ${JSON.stringify(parentPath)}`);
    const base = entry.path.slice(slash + 1);
    if (parent.children.has(base)) throw new Error(`mtree: ${JSON.stringify(entry.path)} is listed twice`);
    const node: Node = { entry, name: Buffer.from(base), children: new Map() };
    parent.children.set(base, node);
    if (entry.type === 'dir') dirs.set(entry.path, node);
  }
  return new MtreeWriter().write(root);
}

/** Printable characters written as is (libarchive's `safe_char`): `!`..`~` except `#`, `=`, `\`. */
function safe(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x23 && c !== 0x3d && c !== 0x5c;
}

/** libarchive's `mtree_quote`: unsafe bytes become `\` and three octal digits. */
export function mtreeQuote(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  for (const c of bytes) out += safe(c) ? String.fromCharCode(c) : `\\${(c >> 6) & 7}${(c >> 3) & 7}${c & 7}`;
  return out;
}

/** The children of a node in `strcmp` order of their names. */
function ordered(node: Node): Node[] {
  return [...node.children.values()].sort((a, b) => Buffer.compare(a.name, b.name));
}

/**
 * The writer's state between lines: the current `/set` values. Mirrors `write_global`,
 * `attr_counter_*`, `get_global_set_keys` and `write_mtree_entry` of libarchive for the keys
 * makepkg asks for (type, uid, gid, mode, time, size, md5, sha256, link).
 */
class MtreeWriter {
  private out = '#mtree\n';
  /** Whether a `/set` has been written (libarchive's `set.processing`). */
  private processing = false;
  /** Which of uid, gid, mode the `/set` currently carries (`set.keys`). */
  private setKeys = { type: false, uid: false, gid: false, mode: false };
  private set = { uid: 0, gid: 0, mode: 0 };
  /** Counters over the children of the folder being written (`mtree->acs`). */
  private acs: { uid: Counter[]; gid: Counter[]; mode: Counter[] } = { uid: [], gid: [], mode: [] };

  write(root: Node): string {
    const visit = (node: Node): void => {
      const children = ordered(node);
      this.acs = { uid: [], gid: [], mode: [] };
      for (const child of children) {
        const e = child.entry!;
        count(this.acs.uid, e.uid);
        count(this.acs.gid, e.gid);
        count(this.acs.mode, e.mode & 0o7777);
      }
      this.writeGlobal();
      if (node.entry !== null) this.writeEntry(node.entry);
      for (const child of children) if (child.entry!.type !== 'dir') this.writeEntry(child.entry!);
      for (const child of children) if (child.entry!.type === 'dir') visit(child);
    };
    visit(root);
    return this.out;
  }

  /** libarchive's `write_global` (keys: type, uid, gid, mode; never `dironly`). */
  private writeGlobal(): void {
    const acs = this.acs;
    let set = '';
    if (this.processing) {
      // Only uid, gid and mode can change; each when the most used value (used at least twice)
      // differs from the current one, or when it was never set.
      const update = (list: Counter[], key: 'uid' | 'gid' | 'mode') => list.length > 0 && (!this.setKeys[key] || (list[0].count >= 2 && this.set[key] !== list[0].value));
      if (update(acs.uid, 'uid')) {
        this.set.uid = acs.uid[0].value;
        set += ` uid=${this.set.uid}`;
      }
      if (update(acs.gid, 'gid')) {
        this.set.gid = acs.gid[0].value;
        set += ` gid=${this.set.gid}`;
      }
      if (update(acs.mode, 'mode')) {
        this.set.mode = acs.mode[0].value;
        set += ` mode=${this.set.mode.toString(8)}`;
      }
      this.setKeys = { type: true, uid: true, gid: true, mode: true };
    } else {
      const keys = { type: true, uid: acs.uid.length > 0, gid: acs.gid.length > 0, mode: acs.mode.length > 0 };
      set += ' type=file';
      if (keys.uid) {
        this.set.uid = acs.uid[0].value;
        set += ` uid=${this.set.uid}`;
      }
      if (keys.gid) {
        this.set.gid = acs.gid[0].value;
        set += ` gid=${this.set.gid}`;
      }
      if (keys.mode) {
        this.set.mode = acs.mode[0].value;
        set += ` mode=${this.set.mode.toString(8)}`;
      }
      this.setKeys = keys;
    }
    if (set !== '') this.out += `/set${set}\n`;
    this.processing = true;
  }

  /** libarchive's `write_mtree_entry` with `get_global_set_keys`. */
  private writeEntry(e: MtreeEntry): void {
    let line = mtreeQuote(`./${e.path}`);
    const mode = e.mode & 0o7777;
    line += ` time=${e.mtime}.0`;
    if (!(this.setKeys.mode && this.set.mode === mode)) line += ` mode=${mode.toString(8)}`;
    if (!(this.setKeys.gid && this.set.gid === e.gid)) line += ` gid=${e.gid}`;
    if (!(this.setKeys.uid && this.set.uid === e.uid)) line += ` uid=${e.uid}`;
    switch (e.type) {
      case 'link':
        line += ` type=link link=${mtreeQuote(e.link ?? '')}`;
        break;
      case 'dir':
        line += ' type=dir'; // the /set type is always `file`
        break;
      case 'file':
        if (!this.setKeys.type) line += ' type=file';
        line += ` size=${e.size ?? 0} md5digest=${e.md5 ?? ''} sha256digest=${e.sha256 ?? ''}`;
        break;
    }
    this.out += `${line}\n`;
  }
}

/**
 * libarchive's `attr_counter_set_collect` + `attr_counter_inc` for one attribute: a list kept in
 * an order where the head is the most used value; a counter moves up when it overtakes the one
 * before it, to just after the nearest earlier counter with at least its count (ties keep the
 * value seen first).
 */
function count(list: Counter[], value: number): void {
  const i = list.findIndex((c) => c.value === value);
  if (i === -1) {
    list.push({ value, count: 1 });
    return;
  }
  const c = list[i];
  c.count++;
  if (i === 0 || list[i - 1].count >= c.count) return;
  let j = i - 1;
  while (j >= 0 && list[j].count < c.count) j--;
  list.splice(i, 1);
  list.splice(j + 1, 0, c);
}
