import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

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
