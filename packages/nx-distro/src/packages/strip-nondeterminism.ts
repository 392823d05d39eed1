import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/** Files per `strip-nondeterminism` call (its command line stays far below ARG_MAX). */
const BATCH = 400;

/**
 * Normalises what build tools leave time-dependent inside the files of an installed tree:
 * gzip headers (mtime, file name), ar archive members (mtime, uid, gid, mode), zip and jar
 * entries, PNG time chunks, gettext .mo headers and the rest of Debian's `strip-nondeterminism`
 * (the tool debhelper runs on every Debian package, reproducible-builds.org). Timestamps
 * later than `epoch` become `epoch` (`--timestamp --clamp-timestamp`); the ar normaliser, off by
 * default (Debian's binutils write deterministic archives, but a build may ask for `ar U`), is
 * turned on; files of other types are left as they are. Examples met here: ncurses gzips its man pages with the build time in each
 * header and makes libncurses++w.a with `ar U` (member mtimes).
 * @param dir absolute folder (`$pkgdir`); symlinks are not followed
 * @param epoch SOURCE_DATE_EPOCH, seconds since the epoch
 * @throws Error with the tool's output when it fails (it is missing: tools/setup-host installs it)
 */
export async function stripNondeterminism(dir: string, epoch: number): Promise<void> {
  const files: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) files.push(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  }
  files.sort();
  for (let i = 0; i < files.length; i += BATCH) {
    const r = await execa('strip-nondeterminism', ['--normalizers=+ar', '--timestamp', String(epoch), '--clamp-timestamp', '--', ...files.slice(i, i + BATCH)], { reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`strip-nondeterminism failed (exit ${r.exitCode}) on ${dir}: ${String(r.all).trim().split('\n').slice(-5).join(' | ')}`);
  }
}
