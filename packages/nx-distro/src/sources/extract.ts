import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { escapeControls, quote, ReportedError } from '../model/errors';

/**
 * Safe extraction of source tarballs (plain tar, or compressed with gzip, bzip2, xz or zstd).
 *
 * Source archives come from the network: even with a verified sha256 the sum only proves the
 * bytes are the ones the recipe author saw, not that they are harmless. Extraction therefore
 * refuses everything a source tree does not need and that could write outside the destination
 * folder (the well-known "tar slip" family): absolute names, `..`, symlinks leaving the tree,
 * writing through symlinks, hard links to files outside the archive, devices and FIFOs. Every
 * refusal is an {@link ArchiveError} with a one-line message naming the archive and the entry.
 */

/** Longest archive name or link target an error shows, in characters (a longer one is cut, marked `...`). */
const MAX_SHOWN_NAME = 1024;

/** How an archive is compressed, from its magic bytes; `'none'` is a plain (ustar/GNU) tar. */
export type ArchiveKind = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'none';

/** Options of {@link extractArchive}. */
export interface ExtractOptions {
  /**
   * Leading path components to remove from every entry name (and from hard link targets, not
   * from symlink targets), like GNU tar's `--strip-components`: components are counted on the
   * name as written, `.` included (`./pkg/a` with 1 gives `pkg/a`). Default 0. Entries with no
   * components left are skipped.
   */
  strip?: number;
  /**
   * Sub-folder of `destDir` to extract into: relative, `/`-separated, no `..` component
   * (e.g. `src/extra`). Created if missing. It is the extraction root: symlinks may not point
   * out of it. Default: `destDir` itself.
   */
  into?: string;
}

/** What {@link extractArchive} created. */
export interface ExtractResult {
  /** Regular files written (hard links not included). */
  files: number;
  /** Directory entries of the archive (folders created implicitly for entries not counted). */
  directories: number;
  /** Symbolic links created. */
  symlinks: number;
  /** Hard links created. */
  hardlinks: number;
  /** Bytes of file contents written (sum of regular file sizes). */
  bytes: number;
}

/**
 * An archive that cannot be extracted: unsafe (an entry would escape the destination or is a
 * device), corrupt or truncated (compressed data, tar headers), not a tar archive, or a file
 * system error while writing. The message is one line,
 * `<archive>: [entry "<name>": ]<problem>[; <what to do>]`, meant to be shown as is (no stack
 * trace); names from the archive are {@link quote}d, and control characters are escaped in all
 * of it, so nothing in an archive can break the line or send an escape sequence.
 */
export class ArchiveError extends ReportedError {
  /** The archive path as given to {@link extractArchive} / {@link detectArchive}. */
  readonly archive: string;
  /** The entry's name as written in the archive (before `strip`), when one entry is at fault. */
  readonly entry?: string;

  /**
   * @param archive path of the archive
   * @param problem what is wrong (and what to do), without the archive and entry
   * @param entry the entry's name in the archive, if one entry is at fault
   * @param cause the underlying error (file system, zlib), kept for debugging
   */
  constructor(archive: string, problem: string, entry?: string, cause?: unknown) {
    super(escapeControls(`${archive}: ${entry === undefined ? '' : `entry ${quote(entry, MAX_SHOWN_NAME)}: `}${problem}`), cause === undefined ? undefined : { cause });
    this.name = 'ArchiveError';
    this.archive = archive;
    if (entry !== undefined) this.entry = entry;
  }
}

const UNSAFE = 'the archive is unsafe, get it from a trusted source';
const DAMAGED = 'the file is damaged or incomplete, fetch it again';

/**
 * Detects how a file is compressed from its magic bytes (gzip `1f 8b`, bzip2 `BZh`,
 * xz `fd 37 7a 58 5a 00`, zstd `28 b5 2f fd`), or a plain tar from the `ustar` magic at offset
 * 257 (POSIX ustar/pax and GNU tar). The content under the compression is not checked.
 * @param file path of the file (absolute, or relative to the working directory)
 * @returns the compression, `'none'` for a plain tar, `null` for anything else (including
 *   pre-POSIX v7 tars, which have no magic, and files shorter than the magic)
 * @throws ArchiveError when the file cannot be read
 */
export async function detectArchive(file: string): Promise<ArchiveKind | null> {
  let head: Buffer;
  try {
    const fh = await fs.promises.open(file, 'r');
    try {
      head = Buffer.alloc(512);
      const { bytesRead } = await fh.read(head, 0, 512, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new ArchiveError(file, `cannot read: ${(e as Error).message}`, undefined, e);
  }
  const starts = (...bytes: number[]) => head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'none';
  return null;
}

/**
 * Extracts a tar archive, plain or compressed (gzip through node's zlib; bzip2, xz and zstd
 * streamed through the host's `bzip2 -dc`, `xz -dc`, `zstd -dc`, one process per archive),
 * into `destDir`, refusing anything unsafe.
 *
 * Refused, each with an {@link ArchiveError} naming the entry (nothing is ever written outside
 * `destDir`; entries before the refused one stay written):
 * - absolute names, and names with a `..` component once `strip` is applied;
 * - symlinks whose target is absolute or leaves the extraction root (`destDir/into`), resolved
 *   lexically from the link's own folder; and, once all entries are written, symlinks that leave
 *   it when followed through the other symlinks of the tree (`sub/x -> up/../..` is lexically
 *   `.`, but with `sub/up -> ..` it is the root's parent);
 * - hard links whose target is absolute, has a `..` component, or is not a regular file written
 *   earlier by this same archive (GNU tar's `--strip-components` applies to their targets);
 * - writing through a symlink: every folder of an entry's path under `destDir` must be a real
 *   folder (bsdtar's `ARCHIVE_EXTRACT_SECURE_SYMLINKS`), which defeats `a -> .`, `a/b -> ..`,
 *   `a/b/x` chains that a lexical check alone lets through;
 * - character and block devices, FIFOs, and entry types other than file, folder, symlink and
 *   hard link (pax and GNU long-name headers are understood, by tar-stream);
 * - corrupt or truncated data: decompressor failure (its stderr's first line), tar header
 *   checksum, a tar stream ending inside an entry.
 *
 * Otherwise, like GNU tar run by an ordinary user, with these choices: an existing path is
 * replaced (unlinked first, an existing empty folder removed; a file is only ever created with
 * `O_EXCL`, never opened for writing if it exists), an existing folder is kept. Permission bits
 * are applied exactly, not through the umask, so the tree does not depend on who extracts it;
 * setuid, setgid and sticky bits are dropped; owners (uid, gid, names) are ignored. Entry mtimes
 * are applied: to files and symlinks as written, to folders after all entries. Folders are
 * created 0755 (folders not in the archive keep that, less the umask) and get their archive mode
 * at the end, so a read-only folder can still be filled.
 *
 * File contents are streamed to disk chunk by chunk, as the input hands them (64 KiB from a
 * decompressor, up to 1 MiB from a plain tar; never a whole file in memory). File system calls are synchronous on purpose: an archive
 * is a sequential stream of many small operations, and the decompressor runs in parallel anyway
 * (another process, or zlib on the thread pool); a write-behind through the thread pool measured
 * slower (binutils 2.40, 27k files: 3.1 to 7 s against 2.9 s). Nothing else must write in `destDir` meanwhile (the checks are
 * not atomic against a concurrent writer). On failure `destDir` holds a partial tree: extract
 * into a fresh folder and remove it on error.
 *
 * @param archive path of the archive (absolute, or relative to the working directory); its
 *   compression is detected with {@link detectArchive}, not from its name
 * @param destDir absolute path of the destination folder, created (with parents) if missing
 * @param options `strip` and `into`, see {@link ExtractOptions}
 * @returns counts of what was created
 * @throws ArchiveError for an unsafe, corrupt, truncated or non-tar archive, a missing
 *   decompressor, or a file system error while writing
 * @throws TypeError when `destDir` is not absolute or the options are invalid
 */
export async function extractArchive(archive: string, destDir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  if (!path.isAbsolute(destDir)) throw new TypeError(`extractArchive: destDir must be absolute, got ${JSON.stringify(destDir)}`);
  const strip = options.strip ?? 0;
  if (!Number.isInteger(strip) || strip < 0) throw new TypeError(`extractArchive: strip must be a non-negative integer, got ${strip}`);
  let intoParts: string[] = [];
  if (options.into !== undefined) {
    const parts = options.into.split('/').filter((p) => p !== '' && p !== '.');
    if (options.into.startsWith('/') || parts.includes('..') || options.into.includes('\0')) {
      throw new TypeError(`extractArchive: into must be a relative path without "..", got ${JSON.stringify(options.into)}`);
    }
    intoParts = parts;
  }

  const kind = await detectArchive(archive);
  if (kind === null) throw new ArchiveError(archive, `not a tar archive (no gzip, bzip2, xz, zstd or ustar signature); ${DAMAGED}`);

  const dest = path.resolve(destDir);
  try {
    fs.mkdirSync(dest, { recursive: true });
  } catch (e) {
    throw new ArchiveError(archive, `cannot create the destination folder: ${(e as Error).message}`, undefined, e);
  }
  const writer = new TreeWriter(archive, dest, strip);
  writer.makeRoot(intoParts);

  const input = openInput(archive, kind);
  try {
    await parse(input.stream, writer);
  } catch (e) {
    if (e instanceof ArchiveError) {
      input.abort();
      throw e;
    }
    // The tar stream (or the decompressed bytes under it) is bad: the decompressor's own
    // diagnosis, when it has one, is the more useful message.
    const verdict = await input.settle();
    const problem = verdict ?? `not a valid tar stream${kind === 'none' ? '' : ` after ${kind} decompression`} (${(e as Error).message})`;
    throw new ArchiveError(archive, `${problem}; ${DAMAGED}`, undefined, e);
  }
  const verdict = await input.finish();
  if (verdict !== undefined) throw new ArchiveError(archive, `${verdict}; ${DAMAGED}`);
  writer.finish();
  return writer.result;
}

/**
 * Parses the tar stream and hands every entry to the writer, one at a time.
 * @throws ArchiveError from the writer, or the parser's (or input stream's) own error
 */
function parse(tarBytes: Readable, writer: TreeWriter): Promise<void> {
  // tar-stream's 'entry' events rather than its async iterator: a third less CPU per entry.
  // Pre-POSIX (v7) headers carry no ustar magic; real release tarballs still use them (xz 5.4.1's).
  // tar-stream still checks every header's checksum, so garbage is refused all the same.
  // (@types/tar-stream lags tar-stream 3 here: the option exists, extract.js reads it.)
  const parser = (tarExtract as (opts: { allowUnknownFormat: boolean }) => ReturnType<typeof tarExtract>)({ allowUnknownFormat: true });
  return new Promise<void>((resolve, reject) => {
    let failure: ArchiveError | undefined;
    parser.on('entry', (header, body, next) => {
      writer.write(header, body as unknown as Body).then(
        () => next(),
        (e: unknown) => {
          if (e instanceof ArchiveError) failure = e;
          next(e as Error);
        },
      );
    });
    parser.on('error', (e) => reject(failure ?? e));
    parser.on('finish', () => resolve());
    parser.on('close', () => reject(failure ?? new Error('the tar stream was cut short')));
    tarBytes.on('error', (e) => parser.destroy(e));
    tarBytes.pipe(parser as unknown as NodeJS.WritableStream);
  });
}

/** The decompressed tar bytes of an archive, and the decompressor's verdict. */
interface Input {
  /** Decompressed tar bytes. */
  stream: Readable;
  /** Waits for the decompressor to end; its failure as one line (e.g. `xz: (stdin): Compressed data is corrupt`), or undefined. */
  finish(): Promise<string | undefined>;
  /** After the tar parser failed: drains the rest briefly for the decompressor's verdict, then stops it. */
  settle(): Promise<string | undefined>;
  /** Stops reading and decompressing (the extraction failed on its own). */
  abort(): void;
}

const TOOLS: Record<'bzip2' | 'xz' | 'zstd', string> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };
const READ_CHUNK = 1 << 20;
/** `O_WRONLY | O_CREAT | O_EXCL`: node's `'wx'` without its `O_TRUNC`, which a new file does not need. */
const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;

function openInput(archive: string, kind: ArchiveKind): Input {
  if (kind === 'none' || kind === 'gzip') {
    let aborted = false;
    let verdict: string | undefined;
    const file = fs.createReadStream(archive, { highWaterMark: READ_CHUNK });
    file.on('error', (e) => {
      if (!aborted) verdict ??= `cannot read: ${e.message}`;
    });
    let stream: Readable = file;
    if (kind === 'gzip') {
      const gunzip = zlib.createGunzip({ chunkSize: 1 << 16 });
      gunzip.on('error', (e) => {
        if (!aborted) verdict ??= `gzip: ${e.message}`;
      });
      file.on('error', (e) => gunzip.destroy(e));
      file.pipe(gunzip);
      stream = gunzip;
    }
    // Both streams auto-destroy: 'close' follows the end of the data or an error.
    const ended = new Promise<void>((resolve) => stream.on('close', () => resolve()));
    const stop = () => {
      aborted = true;
      file.destroy();
      stream.destroy();
    };
    return {
      stream,
      finish: async () => {
        await ended;
        return verdict;
      },
      settle: async () => {
        // zlib reports in-process: by the time the parser failed on its output, an error is known.
        await waitAtMost(ended, 100);
        const v = verdict;
        stop();
        return v;
      },
      abort: stop,
    };
  }

  const tool = TOOLS[kind];
  let fd: number;
  try {
    fd = fs.openSync(archive, 'r');
  } catch (e) {
    throw new ArchiveError(archive, `cannot read: ${(e as Error).message}`, undefined, e);
  }
  let spawnError: Error | undefined;
  let killed = false;
  let hasExited = false;
  let stderr = '';
  let child;
  try {
    child = spawn(tool, ['-dc'], { stdio: [fd, 'pipe', 'pipe'] });
  } finally {
    fs.closeSync(fd);
  }
  const stdout = child.stdout!;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (e) => {
      spawnError = e;
      hasExited = true;
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
  });
  const verdictOf = async (): Promise<string | undefined> => {
    const { code, signal } = await exited;
    if (spawnError) {
      const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
      return missing ? `cannot decompress: the ${tool} tool is not installed (install it on the host)` : `cannot run ${tool}: ${spawnError.message}`;
    }
    if (code === 0 || killed) return undefined;
    const line = stderr.split('\n').find((l) => l.trim() !== '')?.trim();
    if (line) return line.startsWith(`${tool}:`) ? line : `${tool}: ${line}`;
    return `${tool} -dc failed (${code === null ? `signal ${signal}` : `exit code ${code}`})`;
  };
  const stop = () => {
    killed = true;
    stdout.destroy();
    child.kill('SIGKILL');
  };
  return {
    stream: stdout,
    finish: verdictOf,
    settle: async () => {
      // The tool may still be writing the bytes it decoded before noticing the corruption:
      // drain them a little while for its exit status, then stop it.
      stdout.unpipe();
      stdout.resume();
      await waitAtMost(exited, 2000);
      const v = hasExited ? await verdictOf() : undefined;
      stop();
      return v;
    },
    abort: stop,
  };
}

/** Waits for `promise`, at most `ms` milliseconds (the timer is cleared either way). */
async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Folder attributes applied once every entry is written. */
interface PendingDir {
  mode: number;
  mtime: Date;
}

/**
 * Writes entries under `root` (= destDir/into), keeping the bookkeeping the safety rules need:
 * folders known to be real folders, files written by this archive, folders whose attributes are
 * applied at the end, symlinks to re-check at the end.
 */
class TreeWriter {
  readonly result: ExtractResult = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, bytes: 0 };
  /** Absolute extraction root: destDir, or destDir/into. */
  private root: string;
  /** Absolute paths checked (lstat) or created as real folders; destDir itself is trusted. */
  private readonly realDirs = new Set<string>();
  /** Root-relative paths of regular files written by this archive (hard link targets). */
  private readonly files = new Set<string>();
  /** Folder entries, by absolute path, whose mode and mtime are applied at the end. */
  private readonly pendingDirs = new Map<string, PendingDir>();
  /** Symlinks created, by absolute path: entry name and target, re-checked at the end. */
  private readonly symlinks = new Map<string, { name: string; target: string }>();

  constructor(
    private readonly archive: string,
    private readonly dest: string,
    private readonly strip: number,
  ) {
    this.root = dest;
    this.realDirs.add(dest);
  }

  /** Creates the extraction root `dest/into` (its folders must not be symlinks). */
  makeRoot(intoParts: string[]): void {
    if (intoParts.length === 0) return;
    this.root = path.join(this.dest, ...intoParts);
    this.ensureDir(this.root, undefined);
  }

  /** Writes one entry, consuming its body. */
  async write(header: Header, body: Body): Promise<void> {
    const name = header.name;
    const parts = this.entryParts(name, name, 'path');
    if (parts === null) return drain(header, body);
    const rel = parts.join('/');
    const abs = `${this.root}/${rel}`;
    const type = header.type as Header['type'] | null;
    try {
      switch (type) {
        case 'file':
        case 'contiguous-file':
          return await this.writeFile(name, rel, abs, header, body);
        case 'directory':
          this.writeDir(name, abs, header);
          return drain(header, body);
        case 'symlink':
          this.writeSymlink(name, rel, abs, header);
          return drain(header, body);
        case 'link':
          this.writeHardlink(name, rel, abs, header);
          return drain(header, body);
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          const what = { 'character-device': 'character device', 'block-device': 'block device', fifo: 'FIFO (named pipe)' }[type];
          throw this.error(name, `is a ${what}, which a source archive never needs; ${UNSAFE}`);
        }
        default:
          throw this.error(name, `has an unknown entry type (not a file, folder, symlink or hard link); ${UNSAFE}`);
      }
    } catch (e) {
      if (e instanceof ArchiveError) throw e;
      if (e instanceof BodyError) throw e.cause;
      throw this.error(name, `cannot write it: ${(e as Error).message}`, e);
    }
  }

  /**
   * Applies folder modes and mtimes (deepest first, so a folder without search permission does
   * not hide its children), after re-checking every symlink through the final tree.
   */
  finish(): void {
    for (const [abs, { name, target }] of this.symlinks) {
      if (!this.staysInside(abs)) {
        fs.unlinkSync(abs);
        throw this.error(name, `symlink to ${quote(target, MAX_SHOWN_NAME)} leaves the extraction folder through other symlinks; ${UNSAFE}`);
      }
    }
    const dirs = [...this.pendingDirs].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [abs, { mode, mtime }] of dirs) {
      try {
        fs.chmodSync(abs, mode);
        fs.utimesSync(abs, mtime, mtime);
      } catch (e) {
        throw new ArchiveError(this.archive, `cannot set the mode of ${quote(abs, MAX_SHOWN_NAME)}: ${(e as Error).message}`, undefined, e);
      }
    }
  }

  /**
   * The components of an entry name (or hard link target) under the root, after `strip`;
   * `null` when nothing is left (skipped).
   * @throws ArchiveError for absolute names, `..` components and NUL characters
   */
  private entryParts(entry: string, name: string, what: 'path' | 'hard link target'): string[] | null {
    const shown = what === 'path' ? 'path' : `hard link target ${quote(name, MAX_SHOWN_NAME)}`;
    if (name.includes('\0')) throw this.error(entry, `${shown} contains a NUL character; ${UNSAFE}`);
    if (name.startsWith('/')) throw this.error(entry, `${shown} is absolute, outside the extraction folder; ${UNSAFE}`);
    let parts = name.split('/').filter((p) => p !== '');
    if (this.strip > 0) {
      if (parts.length <= this.strip) return null;
      parts = parts.slice(this.strip);
    }
    parts = parts.filter((p) => p !== '.');
    if (parts.includes('..')) {
      throw this.error(entry, `${shown} leaves the extraction folder (".." component${this.strip > 0 ? ` after stripping ${this.strip}` : ''}); ${UNSAFE}`);
    }
    return parts.length === 0 ? null : parts;
  }

  private async writeFile(name: string, rel: string, abs: string, header: Header, body: Body): Promise<void> {
    this.ensureDir(path.dirname(abs), name);
    const fd = this.create(name, abs, () => fs.openSync(abs, CREATE_NEW, 0o600));
    let written = 0;
    try {
      if (header.size > 0) {
        // Streamed: each chunk (at most the parser's input chunk, 64 KiB) is written as it comes.
        await new Promise<void>((resolve, reject) => {
          let writeError: unknown;
          let ended = false;
          body.on('data', (chunk: Buffer) => {
            if (writeError !== undefined) return;
            try {
              let off = 0;
              while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
              written += chunk.length;
            } catch (e) {
              writeError = e; // keep draining: the parser needs the body consumed to report
            }
          });
          body.on('end', () => {
            ended = true;
            if (writeError === undefined) resolve();
            else reject(writeError);
          });
          body.on('error', (e: Error) => reject(new BodyError(e)));
          body.on('close', () => {
            if (!ended) reject(new BodyError(new Error('the tar stream ended inside this entry')));
          });
        });
      }
      fs.fchmodSync(fd, header.mode & 0o777);
      const mtime = mtimeOf(header);
      fs.futimesSync(fd, mtime, mtime);
    } finally {
      fs.closeSync(fd);
    }
    this.files.add(rel);
    this.result.files++;
    this.result.bytes += written;
  }

  private writeDir(name: string, abs: string, header: Header): void {
    this.ensureDir(path.dirname(abs), name);
    if (!this.realDirs.has(abs)) {
      try {
        fs.mkdirSync(abs, 0o755);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (!fs.lstatSync(abs).isDirectory()) this.create(name, abs, () => fs.mkdirSync(abs, 0o755));
      }
      this.realDirs.add(abs);
    }
    this.pendingDirs.set(abs, { mode: header.mode & 0o777, mtime: mtimeOf(header) });
    this.result.directories++;
  }

  private writeSymlink(name: string, rel: string, abs: string, header: Header): void {
    const target = header.linkname ?? '';
    if (target === '') throw this.error(name, `symlink has an empty target; ${UNSAFE}`);
    if (target.includes('\0')) throw this.error(name, `symlink target contains a NUL character; ${UNSAFE}`);
    if (target.startsWith('/')) throw this.error(name, `symlink to the absolute path ${quote(target, MAX_SHOWN_NAME)} leaves the extraction folder; ${UNSAFE}`);
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
    if (resolved === '..' || resolved.startsWith('../')) {
      throw this.error(name, `symlink to ${quote(target, MAX_SHOWN_NAME)} leaves the extraction folder; ${UNSAFE}`);
    }
    this.ensureDir(path.dirname(abs), name);
    this.create(name, abs, () => fs.symlinkSync(target, abs));
    const mtime = mtimeOf(header);
    fs.lutimesSync(abs, mtime, mtime);
    this.symlinks.set(abs, { name, target });
    this.result.symlinks++;
  }

  private writeHardlink(name: string, rel: string, abs: string, header: Header): void {
    const target = header.linkname ?? '';
    const parts = this.entryParts(name, target, 'hard link target');
    const targetRel = parts?.join('/');
    if (targetRel === undefined || !this.files.has(targetRel)) {
      throw this.error(name, `hard link to ${quote(target, MAX_SHOWN_NAME)}, which is not a file extracted earlier from this archive; ${UNSAFE}`);
    }
    if (targetRel === rel) return; // a link to itself: the file is already there
    this.ensureDir(path.dirname(abs), name);
    const from = `${this.root}/${targetRel}`;
    this.ensureDir(path.dirname(from), name);
    this.create(name, abs, () => fs.linkSync(from, abs));
    this.files.add(rel);
    this.result.hardlinks++;
  }

  /**
   * Runs `make` (which creates `abs` exclusively); if `abs` exists, removes it (a file or symlink
   * is unlinked, never followed; a folder only if empty) and runs `make` again.
   */
  private create<T>(entry: string, abs: string, make: () => T): T {
    try {
      return make();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) {
      try {
        fs.rmdirSync(abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw this.error(entry, `cannot be written: a folder with contents is in the way`);
        }
        throw e;
      }
    } else {
      fs.unlinkSync(abs);
    }
    this.forget(abs);
    return make();
  }

  /** Drops the bookkeeping of a path that was removed. */
  private forget(abs: string): void {
    this.realDirs.delete(abs);
    this.pendingDirs.delete(abs);
    this.symlinks.delete(abs);
    if (abs.startsWith(`${this.root}/`)) this.files.delete(abs.slice(this.root.length + 1));
  }

  /**
   * Makes sure `dir` (absolute, under destDir) is a real folder, creating missing ones (0755):
   * no folder between destDir and it may be a symlink, or a file.
   * @param entry the entry being written, for the error message
   */
  private ensureDir(dir: string, entry: string | undefined): void {
    if (this.realDirs.has(dir)) return;
    const missing: string[] = [];
    for (let d = dir; !this.realDirs.has(d); d = path.dirname(d)) {
      if (d.length <= this.dest.length) throw new Error(`internal: ${dir} is not under ${this.dest}`);
      missing.push(d);
    }
    for (let i = missing.length - 1; i >= 0; i--) {
      const d = missing[i];
      try {
        fs.mkdirSync(d, 0o755);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const st = fs.lstatSync(d);
        const shown = quote(path.relative(this.dest, d), MAX_SHOWN_NAME);
        if (st.isSymbolicLink()) {
          const what = entry === undefined ? 'the extraction folder' : 'it';
          throw this.error(entry, `${what} would be written through the symlink ${shown} (folders on the way must be real folders); ${UNSAFE}`);
        }
        if (!st.isDirectory()) throw this.error(entry, `${entry === undefined ? 'the extraction folder' : 'it'} cannot be written: ${shown} is not a folder`);
      }
      this.realDirs.add(d);
    }
  }

  /**
   * Whether the symlink at `abs` resolves inside the root when followed through the tree as it
   * is on disk (symlinks expanded as the kernel would, missing components taken lexically).
   * A loop (more than 40 expansions, the kernel's limit) cannot be followed at all: inside.
   */
  private staysInside(abs: string): boolean {
    const stack = path.relative(this.root, path.dirname(abs)).split('/').filter((p) => p !== '');
    let queue = fs.readlinkSync(abs).split('/');
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (stack.length === 0) return false;
        stack.pop();
        continue;
      }
      stack.push(c);
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(`${this.root}/${stack.join('/')}`);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) {
        if (++hops > 40) return true;
        const target = fs.readlinkSync(`${this.root}/${stack.join('/')}`);
        if (target.startsWith('/')) return false;
        stack.pop();
        queue = target.split('/').concat(queue);
      }
    }
    return true;
  }

  private error(entry: string | undefined, problem: string, cause?: unknown): ArchiveError {
    return new ArchiveError(this.archive, problem, entry, cause);
  }
}

/** The entry's mtime: pax `mtime` (sub-second) when present, else the header's seconds. */
function mtimeOf(header: Header): Date {
  const pax = header.pax as Record<string, string> | null | undefined;
  const seconds = pax?.mtime ? Number.parseFloat(pax.mtime) : Number.NaN;
  return Number.isFinite(seconds) ? new Date(seconds * 1000) : header.mtime;
}

function depth(p: string): number {
  let n = 0;
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) n++;
  return n;
}

/** An entry's body as tar-stream hands it: a streamx Readable (data, end, error, close events). */
interface Body {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  resume(): unknown;
}

/** The tar stream failed while an entry's body was read (not a file system error). */
class BodyError extends Error {
  constructor(readonly cause: Error) {
    super(cause.message);
  }
}

/** Reads and discards an entry's body (a tar entry must be consumed before the next one). */
function drain(header: Header, body: Body): Promise<void> | undefined {
  if (!(header.size > 0) || header.type === 'directory') return undefined;
  return new Promise<void>((resolve, reject) => {
    let ended = false;
    body.on('end', () => {
      ended = true;
      resolve();
    });
    body.on('error', (e) => reject(new BodyError(e)));
    body.on('close', () => {
      if (!ended) reject(new BodyError(new Error('the tar stream ended inside this entry')));
    });
    body.resume();
  });
}
