import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

/** Compressors the image writers use; the kernel's initramfs unpacker reads both (`CONFIG_RD_ZSTD`, `CONFIG_RD_GZIP`). */
export type Compression = 'zstd' | 'gzip';

/** File name suffix of a compression (`.zst`, `.gz`). */
export function compressionSuffix(c: Compression): string {
  return c === 'zstd' ? '.zst' : '.gz';
}

/**
 * The compressor command line, fixed so that the same input gives the same bytes:
 * - zstd: `zstd -q -c -19 -T0` (level 19, as the packages; zstd's output does not depend on the
 *   worker count, only `--single-thread` would change it; Linux's own initramfs rule uses
 *   `zstd -22 --ultra`, the kernel reads any level);
 * - gzip: `gzip -c -n -9` (GNU gzip, no name or time stored; never Node's zlib, whose output
 *   differs between CPUs, see packages/README.md).
 * Environment variables that change their defaults (`ZSTD_CLEVEL`, `ZSTD_NBTHREADS`, `GZIP`) are
 * removed by {@link writeCompressed}.
 */
export function compressorArgv(c: Compression): [string, string[]] {
  return c === 'zstd' ? ['zstd', ['-q', '-c', '-19', '-T0']] : ['gzip', ['-c', '-n', '-9']];
}

/** Something that takes chunks in order and waits while the consumer is busy. */
export type ChunkSink = (chunk: Buffer) => Promise<void>;

/**
 * Streams what `produce` writes through the compressor ({@link compressorArgv}) into `file`
 * (created or truncated, mode 0644).
 * @param file absolute path
 * @throws Error when the compressor is missing (naming the Debian package) or fails (its stderr),
 *   or what `produce` throws
 */
export async function writeCompressed(file: string, c: Compression, produce: (write: ChunkSink) => Promise<void>): Promise<void> {
  const [program, args] = compressorArgv(c);
  const env = { ...process.env };
  delete env.ZSTD_CLEVEL;
  delete env.ZSTD_NBTHREADS;
  delete env.GZIP;
  const fd = fs.openSync(file, 'w', 0o644);
  try {
    const child = spawn(program, args, { stdio: ['pipe', fd, 'pipe'], env });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error(`cannot run ${program}: install it (Debian package ${program})`) : e));
      child.on('close', (code) => resolve(code));
    });
    exited.catch(() => undefined);
    let broken: Error | undefined;
    child.stdin!.on('error', (e) => (broken = e));
    const write: ChunkSink = (chunk) => {
      if (broken) return Promise.reject(broken);
      if (child.stdin!.write(chunk)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          child.stdin!.off('close', onClose);
          resolve();
        };
        const onClose = () => {
          child.stdin!.off('drain', onDrain);
          reject(broken ?? new Error(`${program} stopped reading`));
        };
        child.stdin!.once('drain', onDrain);
        child.stdin!.once('close', onClose);
      });
    };
    try {
      await produce(write);
    } catch (e) {
      child.kill();
      await exited.catch(() => undefined);
      throw e;
    }
    child.stdin!.end();
    const code = await exited;
    if (code !== 0) throw new Error(`${program} ${args.join(' ')} failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`);
  } finally {
    fs.closeSync(fd);
  }
}
