import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { sourceDateEpoch } from '../../pipeline/source-date-epoch';
import { assembleImage, IMAGE_FILES } from '../../image/assemble-image';
import { imageSettings } from '../../image/target';
import { InputError } from '../../model/errors';
import { replaceFolder, stagingFolderFor } from '../../util/replace-folder';
import { systemTargetOf, taskFailed } from '../context';
import { findPackages } from '../../packages/built-packages';
import type { ImageExecutorOptions } from './schema';

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/**
 * `nx-distro:image`: the system target's bootable image in `<distDir>/<systemTarget>/image/`,
 * from `<distDir>/<systemTarget>/rootfs/` (system:rootfs) and the package of the target's
 * `image.kernel` recipe (`/boot/vmlinuz`, `/boot/config`): the kernel, an initramfs holding the
 * whole system, a small initramfs that stacks the squashfs layers, one squashfs per package set,
 * `manifest.json` and `boot.sh` (see `image/assemble-image.ts`). Reproducible: SOURCE_DATE_EPOCH
 * is the environment's, else the commit time of the target file.
 *
 * Work folder `<workspace>/tmp/image/<systemTarget>/image/` (removed afterwards); the output
 * folder is written beside the final one and renamed into place.
 * @returns `{ success }`; a failure (unknown target, a missing `image` field, no kernel package,
 *   a kernel configuration that cannot boot the image, no rootfs) is logged as one line and
 *   gives `{ success: false }`
 */
export default async function imageExecutor(options: ImageExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const started = Date.now();
  try {
    const { root, pluginOptions: { targetsDir, distDir }, loaded } = systemTargetOf(options, context);
    const settings = imageSettings(loaded);
    const base = path.join(root, distDir, loaded.name);
    const kernel = (await findPackages(path.join(base, 'packages'), root, loaded.target.arch)).find((p) => p.name === settings.kernel);
    if (!kernel) {
      throw new InputError(loaded.file, 'image.kernel', `no package ${settings.kernel} built for ${loaded.name} (${distDir}/${loaded.name}/packages/${settings.kernel}/)`, `run nx run ${settings.kernel}:build -c ${loaded.name}`);
    }
    const configFile = `${targetsDir}/${loaded.name}/linux.config`;
    const outDir = path.join(base, 'image');
    const work = path.join(root, 'tmp', 'image', loaded.name, 'image');
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true });
    const staging = stagingFolderFor(outDir);
    try {
      const m = await assembleImage({
        root,
        target: loaded.name,
        targetFile: loaded.file,
        arch: loaded.target.arch,
        qemu: settings,
        sourceDateEpoch: sourceDateEpoch(root, loaded.file),
        rootfsDir: path.join(base, 'rootfs'),
        kernelPackage: { file: kernel.file, name: kernel.name, version: kernel.version },
        kernelConfigHint: existsSync(path.join(root, configFile)) ? configFile : `the kernel configuration of recipe ${settings.kernel}`,
        work,
        out: staging,
      });
      await replaceFolder(staging, outDir);
      const rel = path.relative(root, outDir);
      logger.info(`image: kernel ${m.kernel.package} ${m.kernel.version} (${MiB(m.kernel.size)}); initramfs ${m.initramfs.compression}, squashfs ${m.squashfs.compression}`);
      logger.info(`image: ${m.initramfs.initramfs.file}: the whole system, ${m.initramfs.initramfs.entries} entries, ${MiB(m.initramfs.initramfs.size)}`);
      logger.info(`image: ${m.initramfs.layers.file}: /init with ${m.initramfs.layers.packages.join(', ')}, ${m.initramfs.layers.entries} entries, ${MiB(m.initramfs.layers.size)}`);
      for (const l of m.layers) logger.info(`image: ${l.file}${l.on ? ` (on ${l.on})` : ''}: ${l.packages.join(', ') || 'no package'}; ${MiB(l.size)}`);
      logger.info(`image: wrote ${rel}/ (${IMAGE_FILES.manifest}, ${IMAGE_FILES.bootScript}) in ${((Date.now() - started) / 1000).toFixed(1)} s; boot it: ${rel}/${IMAGE_FILES.bootScript} layers`);
      return { success: true };
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
      await fs.rm(work, { recursive: true, force: true });
    }
  } catch (e) {
    return taskFailed(e, 'image', { otherErrors: 'log' });
  }
}
