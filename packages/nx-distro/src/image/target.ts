import { InputError } from '../model/errors';
import type { LoadedSystemTarget } from '../model/system-target';
import type { QemuSettings } from './qemu';

/** Default `image.repository_server`: where the image's pacman.conf expects the repository. */
export const DEFAULT_REPOSITORY_SERVER = 'file:///var/cache/nx-distro/repo';
/** Default `image.boot_timeout_seconds`. */
export const DEFAULT_BOOT_TIMEOUT_SECONDS = 600;

/** A target's `image:` section with its defaults filled in. */
export interface ImageSettings extends QemuSettings {
  /** Recipe (and package) of the kernel. */
  readonly kernel: string;
  /** `Server` of the target's repository in the image's pacman.conf. */
  readonly repositoryServer: string;
  /** Time limit of one boot, seconds. */
  readonly bootTimeoutSeconds: number;
}

/**
 * The `image:` section of a target file, checked for what images and boots need.
 * @throws InputError `<file>: image: missing; …`, `<file>: image.<field>: missing; …`, or
 *   `<file>: image.initramfs: builtin is not supported yet; use separate`
 */
export function imageSettings(t: LoadedSystemTarget): ImageSettings {
  const image = t.target.image;
  if (!image) throw new InputError(t.file, 'image', 'missing', 'add an image section (kernel, console, qemu_system, machine; docs/target-format.md)');
  if (image.initramfs === 'builtin') throw new InputError(t.file, 'image.initramfs', 'builtin (the initramfs inside the kernel) is not supported yet', 'use separate');
  const need = (field: 'console' | 'qemu_system' | 'machine', example: string): string => {
    const v = image[field];
    if (!v) throw new InputError(t.file, `image.${field}`, 'missing', `set it (e.g. ${example})`);
    return v;
  };
  return {
    kernel: image.kernel ?? 'linux',
    console: need('console', 'ttyAMA0 for aarch64 virt, ttyS0 for a PC'),
    qemuSystem: need('qemu_system', `qemu-system-${t.target.arch}`),
    machine: need('machine', 'virt, q35'),
    cpu: image.cpu,
    memoryMib: image.memory_mib ?? 512,
    repositoryServer: image.repository_server ?? DEFAULT_REPOSITORY_SERVER,
    bootTimeoutSeconds: image.boot_timeout_seconds ?? DEFAULT_BOOT_TIMEOUT_SECONDS,
  };
}
