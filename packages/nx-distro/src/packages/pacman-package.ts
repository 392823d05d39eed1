import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import { sha256File } from '../util/hash';
import { MAX_PACKAGE_FILE_NAME_BYTES, packageFileName, packageTempName } from '../model/package-layout';
import { mtreeText, type MtreeEntry } from './mtree';
import { readBody, readTar, skipBody } from './tar-input';
import { scanTree as scanFileTree, type TreeEntry as FileTreeEntry } from '../util/file-tree';

/**
 * pacman packages (`.pkg.tar.zst`), written bit for bit reproducibly.
 *
 * The reference is pacman 6.0.2's makepkg (`scripts/makepkg.sh.in`: `write_pkginfo`,
 * `write_buildinfo`, `create_package`; `scripts/libmakepkg/util/dirsize.sh`), the package format
 * libalpm reads (`lib/libalpm/be_package.c`), BUILDINFO(5) and PKGBUILD(5). The differences to
 * makepkg are listed in ./README.md; in short: mtimes are clamped to SOURCE_DATE_EPOCH (makepkg
 * sets them all to it), the tar is written by tar-stream instead of bsdtar, the mtree text is
 * generated here (identical to bsdtar's, see ./mtree.ts).
 */

/** Package metadata, written to `.PKGINFO` (and partly `.BUILDINFO`). */
export interface PackageMeta {
  /** Package name: lower-case letters, digits and `@ . _ + -`, not starting with `-` or `.` (makepkg's lint_pkgname). */
  pkgname: string;
  /** Name of the recipe the package comes from (equal to `pkgname` unless split). Same rules. */
  pkgbase: string;
  /** Upstream version: no `:`, `/`, `-` or whitespace (makepkg's lint_pkgver). */
  pkgver: string;
  /** Package release, an integer ≥ 1. */
  pkgrel: number;
  /** One-line description; runs of whitespace become one space, as makepkg does. */
  pkgdesc: string;
  /** Upstream URL (may be empty). */
  url: string;
  /** pacman arch name: `x86_64`, `aarch64`, `armv7h`, `riscv64`, … or `any` (letters, digits, `_`). */
  arch: string;
  /** License identifiers, one `license = ` line each. */
  license: string[];
  /** Runtime dependencies (`name`, `name>=1.2`), one `depend = ` line each. */
  depends: string[];
  /** Virtual names provided, one `provides = ` line each. */
  provides?: string[];
  /** Conflicting packages, one `conflict = ` line each. */
  conflicts?: string[];
  /** Packages this one replaces, one `replaces = ` line each. */
  replaces?: string[];
  /** Package groups (`base-devel`), one `group = ` line each. */
  groups?: string[];
  /**
   * Configuration files pacman keeps (`.pacnew`/`.pacsave`), paths inside the package without a
   * leading `/` (`etc/foo.conf`), one `backup = ` line each; each must be a regular file in `pkgdir`.
   */
  backup?: string[];
  /** Optional dependencies, `name` or `name: reason`, one `optdepend = ` line each (whitespace runs become one space, as makepkg). */
  optdepends?: string[];
  /** Who built it, e.g. `nx-distro`. */
  packager: string;
  /** Build date, seconds since the epoch (normally SOURCE_DATE_EPOCH). */
  builddate: number;
}

/** Build environment, written to `.BUILDINFO` (format 2, as makepkg's write_buildinfo). */
export interface BuildInfo {
  /** sha256 of the build description (the recipe file), 64 lower-case hex digits (`pkgbuild_sha256sum`). */
  pkgbuildSha256: string;
  /** Absolute folder the build ran in (`builddir`). */
  builddir: string;
  /** Absolute folder of the recipe (`startdir`). */
  startdir: string;
  /** makepkg.conf-style BUILDENV words, e.g. `!distcc`, `!ccache`, `check` (`buildenv` lines). */
  buildenv: string[];
  /** makepkg.conf-style OPTIONS words, e.g. `strip`, `!debug` (`options` lines). */
  options: string[];
  /** `name-ver-rel-arch` of each package staged for the build (`installed` lines). */
  installed: string[];
  /** Version of the tool that built the package (`buildtoolver`; `buildtool` is `nx-distro`). */
  buildtoolver: string;
}

/** What {@link writePackage} wrote. */
export interface WrittenPackage {
  /** Absolute path of the package file, `<outDir>/<pkgname>-<pkgver>-<pkgrel>-<arch>.pkg.tar.zst`. */
  file: string;
  /** Size of the package file in bytes. */
  size: number;
  /** sha256 of the package file, 64 lower-case hex digits. */
  sha256: string;
  /** Installed size in bytes (`.PKGINFO` `size`): regular file contents, each hard-linked inode once. */
  installedSize: number;
}

/** Options of {@link writePackage}. */
export interface WritePackageOptions {
  /**
   * zstd compression level, 1 to 22 (`--ultra` is added above 19). Default 19. Any level is
   * reproducible; the output depends on the level and on the zstd version.
   */
  zstdLevel?: number;
}

/** The newest SOURCE_DATE_EPOCH a ustar header written by tar-stream can carry (2038-01-19). */
export const MAX_EPOCH = 2 ** 31 - 1;

export { packageFileName } from '../model/package-layout';

/**
 * Writes a pacman package of the tree `pkgdir`, as makepkg's create_package does, reproducibly:
 * the same tree contents, metadata, epoch and zstd version give the same bytes, whatever the
 * on-disk mtimes newer than the epoch, the owners, the umask, the folder names or the CPU count.
 *
 * Archive layout (a ustar tar, with pax headers for names that do not fit or are not ASCII):
 * - `.BUILDINFO`, `.MTREE`, `.PKGINFO` first (mode 0644, mtime = `sourceDateEpoch`), then every
 *   entry of `pkgdir` (not `pkgdir` itself) in byte order of its relative path (what makepkg's
 *   `LC_COLLATE=C` glob `**\/*` gives), folders as `name/`;
 * - owner uid/gid 0, user and group names `root`;
 * - mode bits as on disk, including setuid, setgid and sticky (octal `0o7777` mask; symlinks 0o777);
 * - mtime = min(on-disk mtime, `sourceDateEpoch`) in whole seconds (0 for mtimes before 1970);
 * - symlinks stored as symlinks (target verbatim); a file with several names inside `pkgdir`
 *   (same inode) is stored once, under its first name in that order, the other names as tar hard
 *   links to it (as bsdtar does); `.MTREE` lists every name as a regular file.
 *
 * `.PKGINFO` is makepkg's write_pkginfo (with pacman 6.1's `xdata = pkgtype=pkg`), `.BUILDINFO`
 * its write_buildinfo (format 2), `.MTREE` its bsdtar mtree ({@link mtreeText}) compressed by the
 * host's `gzip -c -f -n` like makepkg (GNU gzip's output does not depend on the CPU; Node's zlib,
 * Chromium's fork, hashes with crc32c where the CPU has it, so its deflate output differs between
 * machines). The tar is streamed through `zstd -q -c -T0 -<level>` into a temporary file in
 * `outDir`, which is renamed to its final name once complete (mode 0644): a reader never sees a
 * partial package. zstd's output is identical for any `-T` worker count (not for
 * `--single-thread`, which is never used).
 *
 * `pkgdir` must not change during the call. Builds should run their install step with umask 0022,
 * as makepkg does, since modes are kept.
 *
 * @param pkgdir absolute path of the DESTDIR tree (it is only read)
 * @param meta package metadata, see {@link PackageMeta}
 * @param buildinfo build environment, see {@link BuildInfo}
 * @param outDir absolute folder for the package (created if missing)
 * @param sourceDateEpoch seconds since the epoch, 0 to {@link MAX_EPOCH}
 * @param options see {@link WritePackageOptions}
 * @returns the file, its size and sha256, and the installed size
 * @throws TypeError for invalid metadata or paths (one line naming the field)
 * @throws RangeError for an epoch out of range or a bad zstd level
 * @throws Error when a `meta.backup` entry is not a regular file of `pkgdir`, when `pkgdir` holds
 *   something a package cannot carry (a device, FIFO or socket,
 *   a top-level name starting with `.`, a name or symlink target that is not UTF-8), when a file
 *   changes while it is read, or when `zstd`/`gzip` are missing or fail
 */
export async function writePackage(pkgdir: string, meta: PackageMeta, buildinfo: BuildInfo, outDir: string, sourceDateEpoch: number, options: WritePackageOptions = {}): Promise<WrittenPackage> {
  if (!path.isAbsolute(pkgdir)) throw new TypeError(`writePackage: pkgdir must be absolute, got ${JSON.stringify(pkgdir)}`);
  if (!path.isAbsolute(outDir)) throw new TypeError(`writePackage: outDir must be absolute, got ${JSON.stringify(outDir)}`);
  if (!Number.isInteger(sourceDateEpoch) || sourceDateEpoch < 0 || sourceDateEpoch > MAX_EPOCH) {
    throw new RangeError(`writePackage: sourceDateEpoch must be an integer from 0 to ${MAX_EPOCH} (seconds since the epoch), got ${sourceDateEpoch}`);
  }
  const level = options.zstdLevel ?? 19;
  if (!Number.isInteger(level) || level < 1 || level > 22) throw new RangeError(`writePackage: zstdLevel must be an integer from 1 to 22, got ${level}`);
  validateMeta(meta);
  validateBuildInfo(buildinfo);

  const tree = scanTree(pkgdir, sourceDateEpoch);
  let installedSize = 0;
  for (const e of tree) {
    if (e.kind !== 'file') continue;
    const sums = await digestFile(e.abs, e.size);
    e.md5 = sums.md5;
    e.sha256 = sums.sha256;
    installedSize += e.size;
  }
  const byRel = new Map(tree.map((e) => [e.rel, e]));
  for (const file of meta.backup ?? []) {
    const problem = backupEntryProblem(byRel, file);
    if (problem) throw new Error(`writePackage: meta.backup: ${problem}`);
  }
  for (const e of tree) {
    if (e.kind !== 'hardlink') continue;
    const first = byRel.get(e.target!)!;
    e.md5 = first.md5;
    e.sha256 = first.sha256;
  }

  const pkginfo = Buffer.from(pkginfoText(meta, installedSize, buildinfo.buildtoolver));
  const buildinfoBytes = Buffer.from(buildinfoText(meta, buildinfo));
  const meta3: MtreeEntry[] = [
    { path: '.BUILDINFO', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: sourceDateEpoch, size: buildinfoBytes.length, ...digest(buildinfoBytes) },
    { path: '.PKGINFO', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: sourceDateEpoch, size: pkginfo.length, ...digest(pkginfo) },
  ];
  const mtree = mtreeText([
    ...meta3,
    ...tree.map(
      (e): MtreeEntry => ({
        path: e.rel,
        type: e.kind === 'dir' ? 'dir' : e.kind === 'symlink' ? 'link' : 'file',
        mode: e.mode,
        uid: 0,
        gid: 0,
        mtime: e.mtime,
        ...(e.kind === 'symlink' ? { link: e.target! } : {}),
        ...(e.kind === 'file' || e.kind === 'hardlink' ? { size: e.size, md5: e.md5!, sha256: e.sha256! } : {}),
      }),
    ),
  ]);
  const mtreeGz = await gzip(Buffer.from(mtree));

  fs.mkdirSync(outDir, { recursive: true });
  const final = path.join(outDir, packageFileName(meta));
  const temp = path.join(outDir, packageTempName(packageFileName(meta), process.pid, randomBytes(6).toString('hex')));
  try {
    await writeCompressedTar(temp, level, async (add) => {
      const fixed = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(sourceDateEpoch * 1000) };
      await add({ ...fixed, name: '.BUILDINFO', type: 'file', mode: 0o644, size: buildinfoBytes.length }, buildinfoBytes);
      await add({ ...fixed, name: '.MTREE', type: 'file', mode: 0o644, size: mtreeGz.length }, mtreeGz);
      await add({ ...fixed, name: '.PKGINFO', type: 'file', mode: 0o644, size: pkginfo.length }, pkginfo);
      for (const e of tree) {
        const header: EntryHeader = { ...fixed, name: e.rel, mode: e.mode, mtime: new Date(e.mtime * 1000) };
        switch (e.kind) {
          case 'dir':
            await add({ ...header, name: `${e.rel}/`, type: 'directory', size: 0 });
            break;
          case 'symlink':
            await add({ ...header, type: 'symlink', linkname: e.target!, mode: 0o777, size: 0 });
            break;
          case 'hardlink':
            await add({ ...header, type: 'link', linkname: e.target!, size: 0 });
            break;
          case 'file':
            await add({ ...header, type: 'file', size: e.size }, { file: e.abs, size: e.size });
            break;
        }
      }
    });
    fs.renameSync(temp, final);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
  const size = fs.statSync(final).size;
  return { file: final, size, sha256: await sha256File(final), installedSize };
}

/**
 * The `.PKGINFO` of a package file, parsed as libalpm does (`key = value` lines, `#` comments).
 * Only the archive's first entries are read: makepkg and {@link writePackage} put `.PKGINFO`
 * among the first three.
 * @param file absolute path of a package (zstd, xz, gzip, bzip2 or plain tar)
 * @returns every key with its values in file order, e.g. `{ pkgname: ['zlib'], depend: ['glibc'] }`
 * @throws Error when the file is not a package (no `.PKGINFO`, a line without ` = `), cannot
 *   be read or is damaged
 */
export async function readPackageInfo(file: string): Promise<Record<string, string[]>> {
  let text: string | undefined;
  await readTar(file, async (header, body) => {
    if (header.name === '.PKGINFO') {
      text = (await readBody(body, 1 << 20)).toString('utf8');
      return 'stop';
    }
    await skipBody(header, body);
    return undefined;
  });
  if (text === undefined) throw new Error(`${file}: not a pacman package (no .PKGINFO entry)`);
  return parsePkginfo(text, file);
}

/**
 * Parses `.PKGINFO` text: `key = value` per line, `#` comments and empty lines skipped.
 * @param where shown in errors (the package file)
 * @throws Error for a line without ` = `
 */
export function parsePkginfo(text: string, where = '.PKGINFO'): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf(' = ');
    if (eq <= 0) throw new Error(`${where}: .PKGINFO line ${i + 1} is not "key = value": ${JSON.stringify(line)}`);
    (out[line.slice(0, eq)] ??= []).push(line.slice(eq + 3));
  }
  return out;
}

/**
 * Why pacman could not keep a `backup` entry: it must name a regular file (or a hard link to one)
 * of the package. makepkg only warns ("backup entry file not in package"); an entry that names
 * nothing is a recipe's mistake pacman would carry silently, so the writers treat it as an error.
 * @param entries the package tree by path inside the package (`etc/foo.conf`)
 * @param file the backup entry, a path inside the package without a leading `/`
 * @returns the problem (the entry quoted), or undefined when pacman can keep the file
 */
export function backupEntryProblem(entries: ReadonlyMap<string, { readonly kind: string }>, file: string): string | undefined {
  const kind = entries.get(file)?.kind;
  if (kind === 'file' || kind === 'hardlink') return undefined;
  return `${JSON.stringify(file)} is ${kind ? `a ${kind}` : 'not in the package'}, not a regular file`;
}

/**
 * The `.PKGINFO` text, in makepkg's write_pkginfo order: pkgname, pkgbase, xdata, pkgver
 * (`<pkgver>-<pkgrel>`), pkgdesc, url, builddate, packager, size, arch, license…, replaces…,
 * group…, conflict…, provides…, backup…, depend…, optdepend… (pacman 6.0's makepkg).
 * @param installedSize bytes
 * @param toolVersion shown in the header comment
 */
export function pkginfoText(meta: PackageMeta, installedSize: number, toolVersion: string): string {
  const lines = [`# Generated by nx-distro ${toolVersion}`];
  const kv = (key: string, values: readonly (string | number)[]) => {
    for (const v of values) lines.push(`${key} = ${v}`);
  };
  kv('pkgname', [meta.pkgname]);
  kv('pkgbase', [meta.pkgbase]);
  kv('xdata', ['pkgtype=pkg']);
  kv('pkgver', [`${meta.pkgver}-${meta.pkgrel}`]);
  kv('pkgdesc', [meta.pkgdesc.replace(/\s+/g, ' ').trim()]);
  kv('url', [meta.url]);
  kv('builddate', [meta.builddate]);
  kv('packager', [meta.packager]);
  kv('size', [installedSize]);
  kv('arch', [meta.arch]);
  kv('license', meta.license);
  kv('replaces', meta.replaces ?? []);
  kv('group', meta.groups ?? []);
  kv('conflict', meta.conflicts ?? []);
  kv('provides', meta.provides ?? []);
  kv('backup', meta.backup ?? []);
  kv('depend', meta.depends);
  kv('optdepend', (meta.optdepends ?? []).map((o) => o.replace(/\s+/g, ' ')));
  return `${lines.join('\n')}\n`;
}

/** The `.BUILDINFO` text, format 2, in makepkg's write_buildinfo order. */
export function buildinfoText(meta: PackageMeta, bi: BuildInfo): string {
  const lines: string[] = [];
  const kv = (key: string, values: readonly (string | number)[]) => {
    for (const v of values) lines.push(`${key} = ${v}`);
  };
  kv('format', [2]);
  kv('pkgname', [meta.pkgname]);
  kv('pkgbase', [meta.pkgbase]);
  kv('pkgver', [`${meta.pkgver}-${meta.pkgrel}`]);
  kv('pkgarch', [meta.arch]);
  kv('pkgbuild_sha256sum', [bi.pkgbuildSha256]);
  kv('packager', [meta.packager]);
  kv('builddate', [meta.builddate]);
  kv('builddir', [bi.builddir]);
  kv('startdir', [bi.startdir]);
  kv('buildtool', ['nx-distro']);
  kv('buildtoolver', [bi.buildtoolver]);
  kv('buildenv', bi.buildenv);
  kv('options', bi.options);
  kv('installed', bi.installed);
  return `${lines.join('\n')}\n`;
}

const NAME = /^[a-z0-9@_+][a-z0-9@._+-]*$/;
const VERSION = /^[^:/\-\s]+$/;
const ARCH = /^[A-Za-z0-9_]+$/;

/**
 * Checks metadata against makepkg's lint rules and the format (one value per line).
 * @throws TypeError `writePackage: meta.<field>: <problem>`
 */
export function validateMeta(meta: PackageMeta): void {
  const fail = (field: string, problem: string): never => {
    throw new TypeError(`writePackage: meta.${field}: ${problem}`);
  };
  for (const field of ['pkgname', 'pkgbase'] as const) {
    if (typeof meta[field] !== 'string' || !NAME.test(meta[field])) fail(field, `${JSON.stringify(meta[field])} is not a package name (lower-case letters, digits, @ . _ + -, not starting with - or .)`);
  }
  if (typeof meta.pkgver !== 'string' || !VERSION.test(meta.pkgver)) fail('pkgver', `${JSON.stringify(meta.pkgver)} is not a version (no : / - or whitespace)`);
  if (!Number.isInteger(meta.pkgrel) || meta.pkgrel < 1) fail('pkgrel', `${meta.pkgrel} is not an integer ≥ 1`);
  if (typeof meta.arch !== 'string' || !ARCH.test(meta.arch)) fail('arch', `${JSON.stringify(meta.arch)} is not a pacman arch (letters, digits, _)`);
  if (!Number.isInteger(meta.builddate) || meta.builddate < 0) fail('builddate', `${meta.builddate} is not seconds since the epoch`);
  const nameBytes = Buffer.byteLength(packageFileName(meta));
  if (nameBytes > MAX_PACKAGE_FILE_NAME_BYTES) fail('pkgver', `the package file name would be ${nameBytes} bytes, over ${MAX_PACKAGE_FILE_NAME_BYTES}`);
  const oneLine = (field: string, v: unknown) => {
    if (typeof v !== 'string' || /[\n\r]/.test(v)) fail(field, `${JSON.stringify(v)} must be a string on one line`);
  };
  oneLine('pkgdesc', meta.pkgdesc);
  oneLine('url', meta.url);
  oneLine('packager', meta.packager);
  for (const field of ['license', 'depends', 'provides', 'conflicts', 'replaces', 'groups', 'backup', 'optdepends'] as const) {
    const list = meta[field];
    if (list === undefined && field !== 'license' && field !== 'depends') continue;
    if (!Array.isArray(list)) fail(field, 'must be a list of strings');
    for (const v of list!) {
      oneLine(field, v);
      if (v.trim() === '' || v !== v.trim()) fail(field, `${JSON.stringify(v)}: empty or surrounded by whitespace`);
    }
  }
  for (const file of meta.backup ?? []) {
    if (file.startsWith('/') || file.split('/').some((c) => c === '' || c === '.' || c === '..')) fail('backup', `${JSON.stringify(file)} is not a path inside the package without a leading / (etc/foo.conf)`);
  }
}

function validateBuildInfo(bi: BuildInfo): void {
  const fail = (field: string, problem: string): never => {
    throw new TypeError(`writePackage: buildinfo.${field}: ${problem}`);
  };
  if (typeof bi.pkgbuildSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(bi.pkgbuildSha256)) fail('pkgbuildSha256', 'must be 64 lower-case hex digits');
  for (const field of ['builddir', 'startdir'] as const) {
    if (typeof bi[field] !== 'string' || !path.isAbsolute(bi[field]) || /[\n\r]/.test(bi[field])) fail(field, `${JSON.stringify(bi[field])} must be an absolute path on one line`);
  }
  if (typeof bi.buildtoolver !== 'string' || /[\n\r]/.test(bi.buildtoolver) || bi.buildtoolver === '') fail('buildtoolver', 'must be a non-empty string on one line');
  for (const field of ['buildenv', 'options', 'installed'] as const) {
    if (!Array.isArray(bi[field])) fail(field, 'must be a list of strings');
    for (const v of bi[field]) if (typeof v !== 'string' || /[\n\r]/.test(v) || v === '') fail(field, `${JSON.stringify(v)} must be a non-empty string on one line`);
  }
}

/** One entry of the package tree: {@link FileTreeEntry} with the digests of a file's contents. */
type TreeEntry = { -readonly [K in keyof FileTreeEntry]: FileTreeEntry[K] } & { md5?: string; sha256?: string };

/**
 * Every entry under `pkgdir` ({@link scanFileTree}: sorted by the bytes of the relative path,
 * mtimes clamped, hard links resolved to the first name), refusing what a package cannot carry.
 */
function scanTree(root: string, epoch: number): TreeEntry[] {
  if (!fs.statSync(root).isDirectory()) throw new Error(`${root}: pkgdir is not a folder`);
  for (const name of fs.readdirSync(root)) {
    if (name.startsWith('.')) {
      throw new Error(`${root}/${name}: names starting with "." at the top of a package are reserved for its metadata (.PKGINFO, .MTREE…) and ignored by pacman; move or remove it`);
    }
  }
  return scanFileTree(root, epoch, 'which a package cannot carry; create it at install time instead').map((e) => ({ ...e }));
}

function digest(bytes: Buffer): { md5: string; sha256: string } {
  return { md5: createHash('md5').update(bytes).digest('hex'), sha256: createHash('sha256').update(bytes).digest('hex') };
}

const CHUNK = 1 << 20;

/** md5 and sha256 of a file, checking it still has `size` bytes. */
async function digestFile(file: string, size: number): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  await readChunks(file, size, (chunk) => {
    md5.update(chunk);
    sha256.update(chunk);
  });
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/**
 * Reads exactly `size` bytes of a file in chunks of at most 1 MiB.
 * @throws Error when the file is shorter or longer than `size` (it changed)
 */
async function readChunks(file: string, size: number, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  const fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    let pos = 0;
    while (pos < size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw new Error(`${file}: the file shrank while it was packaged (${size} bytes expected); pkgdir must not change`);
      pos += bytesRead;
      await onChunk(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    }
    const { bytesRead } = await fh.read(Buffer.alloc(1), 0, 1, size);
    if (bytesRead !== 0) throw new Error(`${file}: the file grew while it was packaged (${size} bytes expected); pkgdir must not change`);
  } finally {
    await fh.close();
  }
}

/** `gzip -c -f -n` as makepkg runs it for `.MTREE`: no name, no timestamp, level 6. */
async function gzip(input: Buffer): Promise<Buffer> {
  try {
    const env = { ...process.env };
    delete env.GZIP; // gzip reads default options from it
    const r = await execa('gzip', ['-c', '-f', '-n'], { input, encoding: 'buffer', stripFinalNewline: false, env, extendEnv: false });
    return Buffer.from(r.stdout);
  } catch (e) {
    const err = e as { code?: string; shortMessage?: string };
    if (err.code === 'ENOENT') throw new Error('cannot run gzip: install it (Debian package gzip)', { cause: e });
    throw new Error(`gzip failed: ${err.shortMessage ?? String(e)}`, { cause: e });
  }
}

/** A tar entry header as tar-stream's pack takes it. */
type EntryHeader = Partial<Header> & Pick<Header, 'name'>;

/** Adds one entry: no body (folders, links), a buffer, or a file read in chunks. */
type AddEntry = (header: EntryHeader, body?: Buffer | { file: string; size: number }) => Promise<void>;

/**
 * Streams a tar built by `fill` through `zstd -q -c -T0 -<level>` into `file` (created, mode
 * 0644, fsynced).
 * @throws Error when zstd is missing or fails, or `fill` throws
 */
async function writeCompressedTar(file: string, level: number, fill: (add: AddEntry) => Promise<void>): Promise<void> {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
  try {
    fs.fchmodSync(fd, 0o644);
    const args = ['-q', '-c', '-T0', `-${level}`, ...(level > 19 ? ['--ultra'] : [])];
    // No ZSTD_CLEVEL / ZSTD_NBTHREADS from the environment: the flags alone decide the output.
    const env = { ...process.env };
    delete env.ZSTD_CLEVEL;
    delete env.ZSTD_NBTHREADS;
    const child = spawn('zstd', args, { stdio: ['pipe', fd, 'pipe'], env });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error('cannot run zstd: install it (Debian package zstd)', { cause: e }) : e));
      child.on('close', (code) => resolve(code));
    });
    exited.catch(() => undefined);
    let stdinError: Error | undefined;
    child.stdin!.on('error', (e) => (stdinError = e));

    const pack: Pack = tarPack();
    pack.pipe(child.stdin!);
    const add: AddEntry = (header, body) =>
      new Promise<void>((resolve, reject) => {
        const done = (err?: Error | null) => (err ? reject(err) : resolve());
        if (body === undefined) {
          pack.entry(header, done);
        } else if (Buffer.isBuffer(body)) {
          pack.entry(header, body, done);
        } else {
          const sink = pack.entry(header, done);
          readChunks(body.file, body.size, (chunk) => {
            if (sink.write(chunk)) return undefined;
            return new Promise<void>((res) => sink.once('drain', () => res()));
          }).then(
            () => {
              sink.end(null); // streamx: null or undefined = no last chunk
            },
            (e: Error) => {
              reject(e);
              pack.destroy(e);
            },
          );
        }
      });
    try {
      await fill(add);
      pack.finalize();
    } catch (e) {
      pack.destroy(e as Error);
      child.kill();
      await exited.catch(() => undefined);
      throw e;
    }
    const code = await exited;
    if (code !== 0) throw new Error(`zstd failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}${stdinError ? ` (${stdinError.message})` : ''}`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
