import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { linkOrCopy } from './store';

/** Name of the checksum list written beside the distfiles of a `fetch` output (sha256sum format). */
export const SUMS_FILE = 'SHA256SUMS';

/** One verified distfile to publish in a recipe's `fetch` output. */
export interface PublishedDistfile {
  readonly filename: string;
  readonly sha256: string;
  /** Absolute path of the verified file (in the store). */
  readonly path: string;
}

/**
 * Writes a `fetch` output folder: every distfile hard-linked from the store (copied across
 * filesystems) plus `SHA256SUMS` (`sha256sum -c` format, sorted by name). The folder is built
 * beside its final place and renamed over it, so a killed run never leaves a half-written one.
 * @param outDir absolute output folder, e.g. `<workspace>/dist/sources/musl`
 */
export async function publishDistfiles(outDir: string, files: readonly PublishedDistfile[]): Promise<void> {
  const parent = path.dirname(outDir);
  await fs.mkdir(parent, { recursive: true });
  const staging = path.join(parent, `.${path.basename(outDir)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(staging);
  try {
    const sorted = [...files].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
    for (const f of sorted) await linkOrCopy(f.path, path.join(staging, f.filename));
    await fs.writeFile(path.join(staging, SUMS_FILE), sorted.map((f) => `${f.sha256}  ${f.filename}\n`).join(''));
    const old = `${staging}.old`;
    await fs.rename(outDir, old).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await fs.rename(staging, outDir);
    await fs.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true });
    throw e;
  }
}
