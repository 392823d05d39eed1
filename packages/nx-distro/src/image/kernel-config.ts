import type { Compression } from './compress';
import type { SquashfsCompression } from './squashfs';

/**
 * What an image needs of its kernel's configuration (the `/boot/config` the kernel package
 * ships: the kernel's `.config`), and the compressors the image can use with it. Only built-in
 * options (`=y`) count: the images load no modules.
 */

/** Options every boot needs: the initramfs, its `/init` script and the mounts it makes. */
export const BOOT_OPTIONS = ['CONFIG_BLK_DEV_INITRD', 'CONFIG_BINFMT_ELF', 'CONFIG_BINFMT_SCRIPT', 'CONFIG_DEVTMPFS', 'CONFIG_PROC_FS', 'CONFIG_SYSFS', 'CONFIG_TMPFS'] as const;
/** Options the layered boot needs on top: virtio disks, squashfs, overlayfs. */
export const LAYER_OPTIONS = ['CONFIG_VIRTIO_BLK', 'CONFIG_SQUASHFS', 'CONFIG_OVERLAY_FS'] as const;

/** A kernel configuration lacks something the image needs; `message` says which option and how to fix it. */
export class KernelConfigError extends Error {}

/**
 * Parses a kernel `.config`: `CONFIG_X=value` lines (quotes kept), and `# CONFIG_X is not set`
 * as `n`.
 * @returns option → value (`y`, `m`, `n`, `"text"`, numbers)
 */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (set) out.set(set[1], set[2]);
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) out.set(unset[1], 'n');
  }
  return out;
}

/** The compressors an image uses with a kernel, and why. */
export interface KernelChoices {
  /** Initramfs compressor: zstd when `CONFIG_RD_ZSTD=y`, else gzip (`CONFIG_RD_GZIP=y`). */
  readonly initramfs: Compression;
  /** squashfs compressor: zstd (`CONFIG_SQUASHFS_ZSTD=y`), else xz, else gzip (`CONFIG_SQUASHFS_ZLIB=y`). */
  readonly squashfs: SquashfsCompression;
}

/**
 * Checks a kernel configuration against what the image needs ({@link BOOT_OPTIONS},
 * {@link LAYER_OPTIONS}, a usable initramfs and squashfs compressor) and picks the compressors.
 * @param config parsed `/boot/config`
 * @param where shown at the start of an error (the kernel package and its config file)
 * @param fix shown at the end of an error: where the configuration is kept (`targets/aarch64/linux.config`)
 * @throws KernelConfigError for the first missing option, in one line
 */
export function checkKernelConfig(config: ReadonlyMap<string, string>, where: string, fix: string): KernelChoices {
  const y = (o: string) => config.get(o) === 'y';
  const fail = (option: string, why: string): never => {
    const state = config.get(option);
    throw new KernelConfigError(`${where}: ${option} is ${state === undefined || state === 'n' ? 'not set' : `=${state}, not built in`}, which ${why}; add ${option}=y to ${fix} and rebuild the kernel`);
  };
  for (const o of BOOT_OPTIONS) if (!y(o)) fail(o, 'the image\'s initramfs boot needs');
  const initramfs: Compression | undefined = y('CONFIG_RD_ZSTD') ? 'zstd' : y('CONFIG_RD_GZIP') ? 'gzip' : undefined;
  if (!initramfs) fail('CONFIG_RD_ZSTD', 'the initramfs needs (or CONFIG_RD_GZIP)');
  for (const o of LAYER_OPTIONS) if (!y(o)) fail(o, 'the layered image (squashfs layers as an overlay) needs');
  const squashfs: SquashfsCompression | undefined = y('CONFIG_SQUASHFS_ZSTD') ? 'zstd' : y('CONFIG_SQUASHFS_XZ') ? 'xz' : y('CONFIG_SQUASHFS_ZLIB') ? 'gzip' : undefined;
  if (!squashfs) fail('CONFIG_SQUASHFS_ZSTD', 'the squashfs layers need (or CONFIG_SQUASHFS_XZ, CONFIG_SQUASHFS_ZLIB)');
  return { initramfs: initramfs!, squashfs: squashfs! };
}
