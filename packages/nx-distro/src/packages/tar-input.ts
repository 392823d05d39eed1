import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { detectArchive } from '../sources/extract';

/** An entry's body as tar-stream hands it (a streamx Readable). */
export interface TarBody {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  resume(): unknown;
}

/** What {@link readTar}'s callback answers for one entry: `'stop'` ends the reading early. */
export type EntryVerdict = void | 'stop';

/**
 * Reads the tar stream of a package file (zstd, xz, gzip, bzip2 or plain tar, detected from its
 * magic bytes), one entry at a time. The callback must consume the body (see {@link readBody},
 * {@link skipBody}) before its promise settles, except when it answers `'stop'`.
 * @param file absolute path of the archive
 * @param onEntry called for every entry in archive order; answering `'stop'` ends the reading
 *   (the decompressor is stopped)
 * @throws Error `<file>: not a tar archive…` / `<file>: <decompressor's first stderr line>` /
 *   the tar parser's error, prefixed with the file; or whatever `onEntry` throws
 */
export async function readTar(file: string, onEntry: (header: Header, body: TarBody) => Promise<EntryVerdict>): Promise<void> {
  const kind = await detectArchive(file);
  if (kind === null) throw new Error(`${file}: not a tar archive (no zstd, xz, gzip, bzip2 or ustar signature)`);
  let input: Readable;
  let child: ReturnType<typeof spawn> | undefined;
  let stderr = '';
  if (kind === 'none' || kind === 'gzip') {
    const raw = createReadStream(file, { highWaterMark: 1 << 20 });
    input = kind === 'gzip' ? raw.pipe(zlib.createGunzip()) : raw;
    if (kind === 'gzip') raw.on('error', (e) => input.destroy(e));
  } else {
    child = spawn(kind, ['-dcq', '--', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    input = child.stdout!;
  }
  const exited = child
    ? new Promise<number | null>((resolve, reject) => {
        child!.on('error', reject);
        child!.on('close', (code) => resolve(code));
      })
    : Promise.resolve(0);
  exited.catch(() => undefined);

  const parser = tarExtract();
  let stopped = false;
  let failure: unknown;
  const done = new Promise<void>((resolve, reject) => {
    parser.on('entry', (header, body, next) => {
      onEntry(header, body as unknown as TarBody).then(
        (verdict) => {
          if (verdict === 'stop') {
            stopped = true;
            resolve();
            parser.destroy();
            input.destroy();
            child?.kill();
          } else next();
        },
        (e: unknown) => {
          failure = e;
          reject(e);
          parser.destroy();
          input.destroy();
          child?.kill();
        },
      );
    });
    parser.on('finish', () => resolve());
    parser.on('error', (e: Error) => {
      if (!stopped) reject(failure ?? e);
    });
    parser.on('close', () => {
      if (!stopped) reject(failure ?? new Error('the tar stream was cut short'));
    });
    input.on('error', (e: Error) => parser.destroy(e));
    input.pipe(parser as unknown as NodeJS.WritableStream);
  });
  try {
    await done;
  } catch (e) {
    if (e === failure) throw e;
    const code = await exited.catch(() => null);
    const why = code !== 0 && stderr.trim() !== '' ? `${kind}: ${stderr.trim().split('\n')[0]}` : (e as Error).message;
    throw new Error(`${file}: ${why}`, { cause: e });
  }
  if (stopped) return;
  const code = await exited.catch((e: Error) => {
    throw new Error(`${file}: cannot run ${kind}: ${e.message}`);
  });
  if (code !== 0) throw new Error(`${file}: ${kind}: ${stderr.trim().split('\n')[0] || `exited with ${code}`}`);
}

/**
 * Reads a whole entry body into memory (for small metadata entries).
 * @param limit refuse bodies larger than this many bytes
 * @throws Error when the body exceeds `limit` or the stream fails
 */
export function readBody(body: TarBody, limit = 16 << 20): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    body.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    body.on('end', () => {
      ended = true;
      if (size > limit) reject(new Error(`entry larger than ${limit} bytes`));
      else resolve(Buffer.concat(chunks));
    });
    body.on('error', reject);
    body.on('close', () => {
      if (!ended) reject(new Error('the tar stream ended inside an entry'));
    });
  });
}

/** Reads and discards an entry body. */
export function skipBody(header: Header, body: TarBody): Promise<void> {
  if (!(header.size && header.size > 0)) {
    body.resume();
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    let ended = false;
    body.on('end', () => {
      ended = true;
      resolve();
    });
    body.on('error', reject);
    body.on('close', () => {
      if (!ended) reject(new Error('the tar stream ended inside an entry'));
    });
    body.resume();
  });
}
