import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { withFileLock } from '../util/lock';
import { sha256File } from '../util/hash';
import { readBody, readTar, skipBody, type TarBody } from './tar-input';

/**
 * The extracted-package store and sysroot staging.
 *
 * Every package a build needs in its sysroot is extracted once per machine into a
 * content-addressed store, then each build's sysroot is made of hard links to the stored files:
 * staging a sysroot copies no data, whatever the package sizes.
 *
 * Store layout (all under the absolute `storeRoot`):
 * - `<sha256>/`: the tree of the package file whose sha256 this is, without its metadata entries
 *   (`.PKGINFO`, `.BUILDINFO`, `.MTREE`, `.INSTALL`, `.CHANGELOG` and any other top-level name
 *   starting with `.`, which pacman does not install either). Files are read-only: mode 0444
 *   plus the execute bits they had (0755 → 0555, 0644 → 0444); setuid, setgid and sticky bits are
 *   dropped; mtimes kept. Folders are 0755. Symlinks are kept verbatim, absolute ones included
 *   (musl installs `/lib/ld-musl-*.so.1 -> /usr/lib/libc.so`); they are never followed.
 * - `<sha256>.PKGINFO`: the package's `.PKGINFO`, mode 0444.
 * - `<sha256>.files`: the tree's manifest, mode 0444, read by {@link stageSysroot} instead of
 *   walking the tree: NUL-terminated fields, `d`, path for a folder (every folder before what it
 *   holds), `f`, path for a regular file, `l`, path, target for a symlink; paths relative.
 * - `locks/<sha256>.lock`: proper-lockfile lock folder held while one package is extracted.
 * - `tmp/`: extractions in progress; a tree enters the store only by `rename`, after its
 *   `.PKGINFO` and `.files` are in place, so `<sha256>/` existing means complete.
 *
 * Store files are shared by every sysroot staged from them (same inode). They must never be
 * modified through a sysroot: the read-only modes stop ordinary writes by a non-root build, and
 * builds get their sysroot read-only anyway (bubblewrap `--ro-bind <sysroot> <sysroot>`), which
 * also stops root and `chmod`. Nothing in this module writes to a stored file after extraction.
 */

/** Process-wide cache: package file identity (path, inode, size, mtime, ctime) → sha256. */
const sumCache = new Map<string, string>();

/** The sha256 of a package file, cached while the file is unchanged (same inode, size, mtime, ctime). */
async function packageSum(file: string): Promise<string> {
  const st = fs.statSync(file, { bigint: true });
  if (!st.isFile()) throw new Error(`${file}: not a regular file`);
  const key = `${file}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const cached = sumCache.get(key);
  if (cached !== undefined) return cached;
  const sum = await sha256File(file);
  sumCache.set(key, sum);
  return sum;
}

/**
 * The store folder holding the extracted tree of a package file, extracting it on first use.
 *
 * A hit (the folder exists) costs a `stat` of the package file and of the folder: the sha256 is
 * computed once per file identity in a process, not on every call. A miss takes the sum's lock
 * (so concurrent callers, other processes included, extract once and wait for each other;
 * a lock not refreshed for 60 s is taken over), extracts into `tmp/`, writes `<sum>.PKGINFO`
 * and `<sum>.files`, then renames the tree into place.
 *
 * Extraction refuses (Error naming the entry) what a package never needs and what could write
 * outside the tree: absolute names, `..` components, writing through a symlink, replacing a
 * folder with a non-folder, hard links to anything but a regular file extracted earlier from the same
 * package, devices, FIFOs and other entry types.
 *
 * @param storeRoot absolute folder of the store (created if missing)
 * @param pkgFile absolute path of a package file (zstd, xz, gzip, bzip2 or plain tar); it must
 *   not change while it is extracted
 * @returns the absolute folder `<storeRoot>/<sha256 of pkgFile>`
 * @throws TypeError when a path is not absolute
 * @throws Error when the file cannot be read, is damaged, has no `.PKGINFO`, or holds an entry
 *   refused above; or when the lock cannot be taken (proper-lockfile's `ELOCKED` after ~2 h)
 */
export async function extractedPackage(storeRoot: string, pkgFile: string): Promise<string> {
  if (!path.isAbsolute(storeRoot)) throw new TypeError(`extractedPackage: storeRoot must be absolute, got ${JSON.stringify(storeRoot)}`);
  if (!path.isAbsolute(pkgFile)) throw new TypeError(`extractedPackage: pkgFile must be absolute, got ${JSON.stringify(pkgFile)}`);
  const sum = await packageSum(pkgFile);
  const final = path.join(storeRoot, sum);
  if (isDir(final)) return final;

  const locks = path.join(storeRoot, 'locks');
  const tmp = path.join(storeRoot, 'tmp');
  fs.mkdirSync(locks, { recursive: true });
  fs.mkdirSync(tmp, { recursive: true });
  return withFileLock(final, path.join(locks, `${sum}.lock`), async () => {
    if (isDir(final)) return final;
    const work = path.join(tmp, `${sum}-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      fs.mkdirSync(work);
      const { pkginfo, manifest } = await extractPackageTree(pkgFile, work);
      if (pkginfo === undefined) throw new Error(`${pkgFile}: not a pacman package (no .PKGINFO entry)`);
      for (const [ext, bytes] of [['PKGINFO', pkginfo], ['files', manifest]] as const) {
        const temp = `${work}.${ext}`;
        fs.writeFileSync(temp, bytes, { mode: 0o444 });
        fs.chmodSync(temp, 0o444);
        fs.renameSync(temp, path.join(storeRoot, `${sum}.${ext}`));
      }
      fs.renameSync(work, final);
    } catch (e) {
      fs.rmSync(work, { recursive: true, force: true });
      fs.rmSync(`${work}.PKGINFO`, { force: true });
      fs.rmSync(`${work}.files`, { force: true });
      throw e;
    }
    return final;
  });
}

function isDir(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** What a package never needs: the message ends with this. */
const UNSAFE = 'a package never needs this; rebuild it or get it from a trusted source';

/**
 * Extracts a package's tree into the empty folder `dest` with the store's rules (see the module
 * comment); returns the `.PKGINFO` bytes (if the package has one) and the tree's manifest.
 */
async function extractPackageTree(pkgFile: string, dest: string): Promise<{ pkginfo: Buffer | undefined; manifest: Buffer }> {
  /** Folders created, in creation order (a folder before anything in it). */
  const realDirs = new Set<string>(['']);
  const files = new Set<string>();
  /** Non-folders written, in order: `null` for a regular file, the target for a symlink. */
  const nonDirs = new Map<string, string | null>();
  let pkginfo: Buffer | undefined;
  const fail = (entry: string, problem: string): never => {
    throw new Error(`${pkgFile}: entry ${JSON.stringify(entry)}: ${problem}`);
  };
  /** The components of an entry name; `null` for the root itself. */
  const partsOf = (entry: string, name: string): string[] | null => {
    if (name.includes('\0')) fail(entry, `NUL character in a name; ${UNSAFE}`);
    if (name.startsWith('/')) fail(entry, `absolute name ${JSON.stringify(name)}; ${UNSAFE}`);
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) fail(entry, `".." in ${JSON.stringify(name)} leaves the tree; ${UNSAFE}`);
    return parts.length === 0 ? null : parts;
  };
  /** Makes sure every folder above `parts` is a real folder created by this extraction. */
  const ensureParents = (entry: string, parts: string[]) => {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel === '' ? parts[i] : `${rel}/${parts[i]}`;
      if (realDirs.has(rel)) continue;
      const abs = `${dest}/${rel}`;
      try {
        fs.mkdirSync(abs, 0o755);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        fail(entry, `would be written through ${JSON.stringify(rel)}, which is not a folder; ${UNSAFE}`);
      }
      realDirs.add(rel);
    }
  };
  /** Removes a non-folder at `abs` (an entry written twice: the later one wins, as in pacman). */
  const clear = (entry: string, rel: string, abs: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      return;
    }
    if (st.isDirectory()) fail(entry, `a folder of the same name was extracted earlier`);
    fs.unlinkSync(abs);
    files.delete(rel);
    nonDirs.delete(rel);
  };

  await readTar(pkgFile, async (header, body) => {
    const entry = header.name;
    const parts = partsOf(entry, entry);
    if (parts === null) return skipBody(header, body);
    if (parts.length === 1 && parts[0].startsWith('.')) {
      if (parts[0] === '.PKGINFO' && header.type === 'file') pkginfo = await readBody(body, 1 << 20);
      else await skipBody(header, body);
      return undefined;
    }
    const rel = parts.join('/');
    const abs = `${dest}/${rel}`;
    ensureParents(entry, parts);
    const mtime = header.mtime ?? new Date(0);
    switch (header.type) {
      case 'directory':
        if (!realDirs.has(rel)) {
          try {
            fs.mkdirSync(abs, 0o755);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
            fail(entry, 'a non-folder of the same name was extracted earlier');
          }
          realDirs.add(rel);
        }
        return skipBody(header, body);
      case 'file':
      case 'contiguous-file': {
        clear(entry, rel, abs);
        const fd = fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
        try {
          await writeBody(fd, body, header.size ?? 0);
          fs.fchmodSync(fd, 0o444 | ((header.mode ?? 0) & 0o111));
          fs.futimesSync(fd, mtime, mtime);
        } finally {
          fs.closeSync(fd);
        }
        files.add(rel);
        nonDirs.set(rel, null);
        return undefined;
      }
      case 'symlink': {
        const target = header.linkname ?? '';
        if (target === '' || target.includes('\0')) fail(entry, `symlink with an empty or NUL target; ${UNSAFE}`);
        clear(entry, rel, abs);
        fs.symlinkSync(target, abs);
        fs.lutimesSync(abs, mtime, mtime);
        nonDirs.set(rel, target);
        return skipBody(header, body);
      }
      case 'link': {
        const targetParts = partsOf(entry, header.linkname ?? '');
        const targetRel = targetParts?.join('/');
        if (targetRel === undefined || !files.has(targetRel)) fail(entry, `hard link to ${JSON.stringify(header.linkname)}, not a file extracted earlier from this package; ${UNSAFE}`);
        if (targetRel !== rel) {
          clear(entry, rel, abs);
          fs.linkSync(`${dest}/${targetRel}`, abs);
          files.add(rel);
          nonDirs.set(rel, null);
        }
        return skipBody(header, body);
      }
      default:
        return fail(entry, `is a ${header.type ?? 'entry of unknown type'}; ${UNSAFE}`);
    }
  });
  const fields: string[] = [];
  for (const d of realDirs) if (d !== '') fields.push('d', d);
  for (const [rel, target] of nonDirs) {
    if (target === null) fields.push('f', rel);
    else fields.push('l', rel, target);
  }
  return { pkginfo, manifest: Buffer.from(fields.length === 0 ? '' : `${fields.join('\0')}\0`) };
}

/** Streams an entry body into `fd` (synchronous writes; the decompressor runs in parallel). */
function writeBody(fd: number, body: TarBody, size: number): Promise<void> {
  if (size <= 0) {
    body.resume();
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    let failure: unknown;
    let ended = false;
    body.on('data', (chunk: Buffer) => {
      if (failure !== undefined) return;
      try {
        let off = 0;
        while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
      } catch (e) {
        failure = e;
      }
    });
    body.on('end', () => {
      ended = true;
      if (failure === undefined) resolve();
      else reject(failure);
    });
    body.on('error', reject);
    body.on('close', () => {
      if (!ended) reject(new Error('the tar stream ended inside an entry'));
    });
  });
}

/** What {@link stageSysroot} did. */
export interface StagedSysroot {
  /** Non-folder entries staged: regular files hard-linked plus symlinks created. */
  files: number;
  /**
   * Paths provided by more than one package, sorted, each as
   * `<path relative to the sysroot>: <kept package folder>, also in <other package folder>`.
   * The first package (in `extractedDirs` order) wins; a folder in a later package where an
   * earlier one has a file or symlink is one conflict and its whole subtree is skipped (a
   * sysroot is never written through a symlink). Folders present in several packages are merged,
   * not conflicts.
   */
  conflicts: string[];
}

/**
 * Builds a fresh sysroot from extracted packages: folders are created (0755), every regular file
 * is hard-linked to its store copy (no data is copied; store and sysroot must be on the same
 * filesystem), every symlink is recreated with its target verbatim. A package's entries come
 * from its `<dir>.files` manifest (see the module comment; no folder walk, no readlink), or from
 * a walk of the folder when it has none.
 *
 * The sysroot is made of new folders only, so files added to it never land in the store, but its
 * files are the store's files (same inode): a build must get the sysroot read-only (bubblewrap
 * `--ro-bind`), see the module comment. Staging uses synchronous file system calls on purpose:
 * thousands of small operations, each far cheaper than a trip through the thread pool.
 *
 * @param sysroot absolute folder to create; an existing one is removed first (its links only:
 *   the store is not touched). Its parent folders are created if missing.
 * @param extractedDirs absolute store folders from {@link extractedPackage}, in priority order
 * @returns counts and conflicts, see {@link StagedSysroot}
 * @throws TypeError when a path is not absolute or `sysroot` is inside a package folder
 * @throws Error when a package folder is missing, the store and sysroot are on different
 *   filesystems (`EXDEV`: move the store), or another file system call fails; the partial
 *   sysroot is removed
 */
export async function stageSysroot(sysroot: string, extractedDirs: string[]): Promise<StagedSysroot> {
  if (!path.isAbsolute(sysroot)) throw new TypeError(`stageSysroot: sysroot must be absolute, got ${JSON.stringify(sysroot)}`);
  const root = path.resolve(sysroot);
  for (const d of extractedDirs) {
    if (!path.isAbsolute(d)) throw new TypeError(`stageSysroot: package folders must be absolute, got ${JSON.stringify(d)}`);
    const rel = path.relative(path.resolve(d), root);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) throw new TypeError(`stageSysroot: the sysroot ${root} is inside the package folder ${d}`);
    if (!isDir(d)) throw new Error(`${d}: no such extracted package folder`);
  }
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  try {
    return stageInto(root, extractedDirs.map((d) => path.resolve(d)));
  } catch (e) {
    fs.rmSync(root, { recursive: true, force: true });
    if ((e as NodeJS.ErrnoException).code === 'EXDEV') {
      throw new Error(`stageSysroot: cannot hard-link from the package store into ${root}: they are on different filesystems; put the store on the sysroot's filesystem`, { cause: e });
    }
    throw e;
  }
}

function stageInto(root: string, dirs: string[]): StagedSysroot {
  /** Relative paths of folders created in the sysroot ('' is the root) → index of the first package with it. */
  const made = new Map<string, number>([['', -1]]);
  /** Relative paths of non-folders staged → index of the package that provided them. */
  const owner = new Map<string, number>();
  const conflicts: string[] = [];
  let files = 0;
  const conflict = (rel: string, first: number, other: number) => conflicts.push(`${rel}: ${dirs[first]}, also in ${dirs[other]}`);

  for (let pkg = 0; pkg < dirs.length; pkg++) {
    const src = dirs[pkg];
    const fields = manifestOf(src);
    /** Folders of this package skipped with their whole subtree (a conflict). */
    const skipped = new Set<string>();
    for (let i = 0; i < fields.length; ) {
      const kind = fields[i];
      const r = fields[i + 1];
      const target = kind === 'l' ? fields[i + 2] : undefined;
      i += kind === 'l' ? 3 : 2;
      const slash = r.lastIndexOf('/');
      if (skipped.size > 0 && slash !== -1 && skipped.has(r.slice(0, slash))) {
        if (kind === 'd') skipped.add(r);
        continue;
      }
      if (kind === 'd') {
        if (made.has(r)) continue;
        const first = owner.get(r);
        if (first !== undefined) {
          conflict(r, first, pkg);
          skipped.add(r);
          continue;
        }
        fs.mkdirSync(`${root}/${r}`);
        made.set(r, pkg);
        continue;
      }
      const first = owner.get(r) ?? made.get(r);
      if (first !== undefined) {
        conflict(r, first, pkg);
        continue;
      }
      if (target !== undefined) fs.symlinkSync(target, `${root}/${r}`);
      else fs.linkSync(`${src}/${r}`, `${root}/${r}`);
      owner.set(r, pkg);
      files++;
    }
  }
  conflicts.sort();
  return { files, conflicts };
}

/**
 * The entries of an extracted package as manifest fields (`d`, path / `f`, path / `l`, path,
 * target; folders before their contents): its `<dir>.files` manifest when there is one (written
 * by {@link extractedPackage}), else a walk of the folder.
 */
function manifestOf(dir: string): string[] {
  let text: string | undefined;
  try {
    text = fs.readFileSync(`${dir}.files`, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text !== undefined) {
    const fields = text.split('\0');
    fields.pop(); // after the last NUL
    return fields;
  }
  const fields: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) {
        fields.push('d', r);
        walk(`${abs}/${d.name}`, r);
      } else if (d.isSymbolicLink()) fields.push('l', r, fs.readlinkSync(`${abs}/${d.name}`));
      else if (d.isFile()) fields.push('f', r);
    }
  };
  walk(dir, '');
  return fields;
}
