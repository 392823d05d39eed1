import * as fs from 'node:fs';
import { pack as tarPack, type Header } from 'tar-stream';

/** A tar entry header as tar-stream's pack takes it (missing fields take its defaults). */
type EntryHeader = Partial<Header> & Pick<Header, 'name'>;
import { writeCompressed, type ChunkSink, type Compression } from './compress';
import type { TreeEntry } from '../util/file-tree';

/**
 * Reproducible archives of a file tree: a tar (the rootfs tarball) and a cpio "newc" archive
 * (the initramfs), both from {@link TreeEntry} lists in their given order (callers pass
 * {@link scanTree}'s sorted output), every owner uid/gid 0, the entries' clamped mtimes and modes.
 */

/** Contents of a file entry: in memory, or read from disk now. */
function contents(e: TreeEntry): Buffer {
  if (e.data) return e.data;
  const data = fs.readFileSync(e.abs);
  if (data.length !== e.size) throw new Error(`${e.abs}: changed while it was archived (${e.size} bytes expected, ${data.length} read)`);
  return data;
}

/**
 * Writes a compressed tar (ustar; pax headers for long or non-ASCII names, as tar-stream
 * writes them): folders as `name/`, symlinks and hard links as links, character devices with
 * their numbers, owner `root:root` (0/0), mtimes and modes from the entries.
 * @param file absolute path of the archive (created or truncated)
 * @throws Error when a file changed since it was scanned, or from the compressor
 */
export async function writeTar(file: string, entries: readonly TreeEntry[], compression: Compression): Promise<void> {
  await writeCompressed(file, compression, async (write) => {
    const pack = tarPack();
    const consumer = (async () => {
      for await (const chunk of pack as unknown as AsyncIterable<Buffer>) await write(chunk);
    })();
    consumer.catch(() => undefined);
    const add = (header: EntryHeader, body?: Buffer) =>
      new Promise<void>((resolve, reject) => {
        const done = (err?: Error | null) => (err ? reject(err) : resolve());
        if (body === undefined) pack.entry(header, done);
        else pack.entry(header, body, done);
      });
    for (const e of entries) {
      const h: EntryHeader = { name: e.rel, mode: e.mode, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(e.mtime * 1000) };
      switch (e.kind) {
        case 'dir':
          await add({ ...h, name: `${e.rel}/`, type: 'directory', size: 0 });
          break;
        case 'symlink':
          await add({ ...h, type: 'symlink', linkname: e.target!, mode: 0o777, size: 0 });
          break;
        case 'hardlink':
          await add({ ...h, type: 'link', linkname: e.target!, size: 0 });
          break;
        case 'char':
          await add({ ...h, type: 'character-device', devmajor: e.rdev![0], devminor: e.rdev![1], size: 0 });
          break;
        case 'file': {
          const data = contents(e);
          await add({ ...h, type: 'file', size: data.length }, data);
          break;
        }
      }
    }
    pack.finalize();
    await consumer;
  });
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** Fields of one newc header (all numbers; written as 8 hex digits each). */
export interface NewcHeader {
  ino: number;
  /** File type and permission bits (`S_IFREG | 0o755`). */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
}

/** Zero bytes that pad `length` to a multiple of 4 (newc aligns headers+names and data to 4). */
function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

/**
 * One newc record: the 110-byte header (`070701`, 13 fields of 8 upper-case hex digits, `check`
 * 0), the name with its NUL, padded to 4 bytes, then the data padded to 4 bytes. Format: the
 * kernel's Documentation/driver-api/early-userspace/buffer-format.rst and GNU cpio's newc writer.
 * @throws RangeError for a field that does not fit in 32 bits
 */
export function newcRecord(name: string, h: NewcHeader, data: Buffer = Buffer.alloc(0)): Buffer {
  const nameBytes = Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0])]);
  const fields = [h.ino, h.mode, h.uid, h.gid, h.nlink, h.mtime, data.length, h.devmajor, h.devminor, h.rdevmajor, h.rdevminor, nameBytes.length, 0];
  const hex = fields.map((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`newc: field ${i} of ${name} out of range: ${v}`);
    return v.toString(16).toUpperCase().padStart(8, '0');
  });
  const head = Buffer.from(`070701${hex.join('')}`, 'ascii');
  const headAndName = Buffer.concat([head, nameBytes]);
  return Buffer.concat([headAndName, pad4(headAndName.length), data, pad4(data.length)]);
}

/** The end-of-archive record `TRAILER!!!`, as GNU cpio writes it (nlink 1, everything else 0). */
export function newcTrailer(): Buffer {
  return newcRecord('TRAILER!!!', { ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0 });
}

/**
 * Writes the entries as a cpio newc archive (what the kernel unpacks as an initramfs) to `write`.
 * Names are relative (`usr/bin/busybox`, no `./`); inode numbers count from 1 in entry order;
 * owner 0/0; folders nlink 2, others 1; a hard link is written as a copy of its file (the kernel
 * links names that share an inode, but a plain copy needs no such bookkeeping and the files in
 * question are small); symlinks carry their target as data; character devices their numbers.
 * The archive ends with the trailer and is padded with zeros to a multiple of 512 bytes, as GNU
 * cpio pads it (the kernel ignores the padding).
 * @returns the number of uncompressed bytes written
 * @throws Error when a file changed since it was scanned
 */
export async function writeNewc(entries: readonly TreeEntry[], write: ChunkSink): Promise<number> {
  const byRel = new Map(entries.map((e) => [e.rel, e]));
  let ino = 1;
  let total = 0;
  const put = async (b: Buffer) => {
    total += b.length;
    await write(b);
  };
  for (const e of entries) {
    const base = { ino: ino++, uid: 0, gid: 0, mtime: e.mtime, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0 };
    switch (e.kind) {
      case 'dir':
        await put(newcRecord(e.rel, { ...base, mode: S_IFDIR | e.mode, nlink: 2, filesize: 0 }));
        break;
      case 'symlink': {
        const data = Buffer.from(e.target!, 'utf8');
        await put(newcRecord(e.rel, { ...base, mode: S_IFLNK | 0o777, nlink: 1, filesize: data.length }, data));
        break;
      }
      case 'char':
        await put(newcRecord(e.rel, { ...base, mode: S_IFCHR | e.mode, nlink: 1, filesize: 0, rdevmajor: e.rdev![0], rdevminor: e.rdev![1] }));
        break;
      case 'file':
      case 'hardlink': {
        const source = e.kind === 'file' ? e : byRel.get(e.target!);
        if (!source || source.kind !== 'file') throw new Error(`${e.rel}: hard link to ${e.target}, which is not a file of the archive`);
        const data = contents(source);
        await put(newcRecord(e.rel, { ...base, mode: S_IFREG | e.mode, nlink: 1, filesize: data.length }, data));
        break;
      }
    }
  }
  await put(newcTrailer());
  if (total % 512) await put(Buffer.alloc(512 - (total % 512)));
  return total;
}

/**
 * Writes a compressed newc archive ({@link writeNewc}) to `file`.
 * @returns the uncompressed size in bytes
 */
export async function writeCpio(file: string, entries: readonly TreeEntry[], compression: Compression): Promise<number> {
  let size = 0;
  await writeCompressed(file, compression, async (write) => {
    size = await writeNewc(entries, write);
  });
  return size;
}
