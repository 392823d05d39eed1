import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** A sha256 digest as 64 lower-case hex digits. */
export type Sha256 = string;

/**
 * The sha256 of a file's bytes, read as a stream (any size, constant memory).
 * @param file absolute path
 * @returns 64 lower-case hex digits
 * @throws the `fs` error (ENOENT, EACCES…) when the file cannot be read
 */
export async function sha256File(file: string): Promise<Sha256> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * What a distfile on disk is: a regular file with its sha256, missing, or something else (a
 * symbolic link, folder, FIFO: never followed or read). What every check of a published distfile
 * against its recipe uses, so that no message shows the sum of a file that is not a distfile.
 * @param file absolute path (in a fetch output or a bundle's distfiles)
 */
export async function distfileSha256(file: string): Promise<{ kind: 'file'; sha256: Sha256 } | { kind: 'missing' } | { kind: 'not a regular file' }> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'missing' } : { kind: 'not a regular file' };
  }
  try {
    if (!(await handle.stat()).isFile()) return { kind: 'not a regular file' };
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return { kind: 'file', sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}
