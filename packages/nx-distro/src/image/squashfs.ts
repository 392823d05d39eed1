import { execa } from 'execa';

/** squashfs compressors a kernel may read (`CONFIG_SQUASHFS_ZSTD`, `_XZ`, `_ZLIB`). */
export type SquashfsCompression = 'zstd' | 'xz' | 'gzip';

/**
 * The mksquashfs command line (squashfs-tools 4.5, Debian 12) for one image layer, chosen so that
 * the same tree gives the same bytes:
 * - `-noappend` (never add to an old file), `-reproducible` (4.4+'s default, explicit: output
 *   independent of the thread count and scheduling);
 * - `-all-root` (owner 0/0), `-no-xattrs`, `-root-mode 0755`;
 * - `-mkfs-time <epoch>` and `-root-time <epoch>`: the file system's creation time and its root
 *   folder's mtime (the root is made by mksquashfs, not taken from the tree); every other
 *   timestamp is the tree's, which the caller has clamped to the epoch;
 * - a fixed compressor and level: zstd 19, xz (its default preset), or gzip 9;
 * - `-quiet -no-progress`.
 * mksquashfs sorts each folder's entries itself (squashfs directories are sorted by name).
 * `SOURCE_DATE_EPOCH` is removed from its environment by {@link makeSquashfs} so only these
 * flags decide the timestamps.
 * @param source absolute folder whose contents become the file system's root
 * @param out absolute path of the image file
 */
export function mksquashfsArgs(source: string, out: string, compression: SquashfsCompression, epoch: number): string[] {
  const comp = compression === 'zstd' ? ['-comp', 'zstd', '-Xcompression-level', '19'] : compression === 'xz' ? ['-comp', 'xz'] : ['-comp', 'gzip', '-Xcompression-level', '9'];
  return [
    source, out,
    '-noappend', '-reproducible',
    '-all-root', '-no-xattrs', '-root-mode', '0755',
    '-mkfs-time', String(epoch), '-root-time', String(epoch),
    ...comp,
    '-quiet', '-no-progress',
  ];
}

/**
 * Runs mksquashfs ({@link mksquashfsArgs}).
 * @throws Error when mksquashfs is missing (naming the Debian package) or fails (its output)
 */
export async function makeSquashfs(source: string, out: string, compression: SquashfsCompression, epoch: number): Promise<void> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.SOURCE_DATE_EPOCH;
  const r = await execa('mksquashfs', mksquashfsArgs(source, out, compression, epoch), { reject: false, all: true, env, extendEnv: false });
  if ((r as { code?: string }).code === 'ENOENT') throw new Error('cannot run mksquashfs: install the Debian package squashfs-tools (tools/setup-host)');
  if (r.failed) throw new Error(`mksquashfs ${out} failed (exit ${r.exitCode ?? r.signal}): ${String(r.all ?? '').trim().split('\n').slice(-3).join(' | ')}`);
}
