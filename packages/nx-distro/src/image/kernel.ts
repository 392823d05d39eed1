import { readBody, readTar, skipBody } from '../packages/tar-input';

/** Where a kernel package keeps the kernel image and its configuration (as Arch's and the linux recipe's packages do). */
export const KERNEL_IMAGE_PATH = 'boot/vmlinuz';
export const KERNEL_CONFIG_PATH = 'boot/config';

/** The kernel of a kernel package. */
export interface KernelFiles {
  /** The kernel image (what QEMU's `-kernel` loads: arm64 `Image`, x86 `bzImage`). */
  readonly image: Buffer;
  /** Its `.config`, when the package has `/boot/config`. */
  readonly config?: string;
}

/**
 * Reads `/boot/vmlinuz` and `/boot/config` from a kernel package file.
 * @param file absolute path of the package
 * @throws Error `<file>: has no /boot/vmlinuz; …` when the image is missing, or the reader's errors
 */
export async function readKernelPackage(file: string): Promise<KernelFiles> {
  let image: Buffer | undefined;
  let config: string | undefined;
  await readTar(file, async (header, body) => {
    const name = header.name.replace(/^\.\//, '');
    if (name === KERNEL_IMAGE_PATH && header.type === 'file') image = await readBody(body, 256 << 20);
    else if (name === KERNEL_CONFIG_PATH && header.type === 'file') config = (await readBody(body, 16 << 20)).toString('utf8');
    else await skipBody(header, body);
    return image && config !== undefined ? 'stop' : undefined;
  });
  if (!image) throw new Error(`${file}: has no /${KERNEL_IMAGE_PATH}; the kernel recipe must install the kernel image there`);
  return { image, config };
}
