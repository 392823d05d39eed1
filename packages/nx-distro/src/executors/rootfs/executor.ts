import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { sourceDateEpoch } from '../../pipeline/source-date-epoch';
import { assembleRootfs, ROOTFS_MANIFEST, ROOTFS_TARBALL } from '../../image/rootfs';
import { imageSettings } from '../../image/target';
import { RECIPE_FILE, readRecipe } from '../../model/recipe';
import { splitPackageSpecs } from '../../model/split-packages';
import { RUNTIME_PACKAGE } from '../../packages/toolchain-runtime';
import { replaceFolder, stagingFolderFor } from '../../util/replace-folder';
import { systemTargetOf, taskFailed } from '../context';
import { findPackages } from '../../packages/built-packages';
import type { RootfsExecutorOptions } from './schema';

/**
 * `nx-distro:rootfs`: the system target's root file system, installed by pacman from the
 * packages built for it, as `<distDir>/<systemTarget>/rootfs/rootfs.tar.zst` with
 * `rootfs.json` (the layers: per package set, the packages installed in it; see
 * `image/layers.ts` for the rule and `image/rootfs.ts` for the steps).
 *
 * The packages are those of `<distDir>/<systemTarget>/packages/*` (the repository executor's
 * `findPackages`), so the image holds exactly what the build wrote; base always gets the
 * toolchain's C runtime (`toolchain-runtime`) when the target has one. SOURCE_DATE_EPOCH: the
 * environment's, else the commit time of the target file. Work folder:
 * `<workspace>/tmp/image/<systemTarget>/rootfs/` (removed afterwards); the output folder is
 * written beside the final one and renamed into place. Needs root: pacman installs only as root.
 * @returns `{ success }`; a failure (unknown target, a set naming a package that was not built,
 *   a dependency nothing provides, pacman refusing) is logged as one line (`taskFailed`, executors/context.ts)
 *   and gives `{ success: false }`
 */
export default async function rootfsExecutor(options: RootfsExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const started = Date.now();
  try {
    const { root, pluginOptions: { distDir }, loaded } = systemTargetOf(options, context);
    const t = loaded.target;
    const settings = t.image ? imageSettings(loaded) : undefined;
    const base = path.join(root, distDir, loaded.name);
    const built = await findPackages(path.join(base, 'packages'), root, t.arch);
    const provided = t.toolchain.kind === 'external' ? t.toolchain.provides ?? [] : [];
    const missing = (name: string) =>
      provided.includes(name)
        ? 'provided by the external toolchain (toolchain.provides), which has no package of it; remove it from the set'
        : `no package built for ${loaded.name} (${distDir}/${loaded.name}/packages/${splitPackageOwner(context, name) ?? name}/); run nx run ${splitPackageOwner(context, name) ?? name}:build -c ${loaded.name}`;
    const outDir = path.join(base, 'rootfs');
    const work = path.join(root, 'tmp', 'image', loaded.name, 'rootfs');
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true });
    const staging = stagingFolderFor(outDir);
    try {
      const r = await assembleRootfs({
        root,
        target: loaded.name,
        targetFile: loaded.file,
        arch: t.arch,
        sets: t.package_sets,
        built,
        basePackages: [RUNTIME_PACKAGE],
        missing,
        repositoryServer: settings?.repositoryServer ?? 'file:///var/cache/nx-distro/repo',
        sourceDateEpoch: sourceDateEpoch(root, loaded.file),
        work,
        out: staging,
      });
      await replaceFolder(staging, outDir);
      for (const l of r.layers) {
        logger.info(`rootfs: layer ${l.set}${l.on ? ` (on ${l.on})` : ''}: ${l.packages.length ? l.packages.map((x) => `${x.name} ${x.version}${x.explicit ? '' : ' (dependency)'}`).join(', ') : 'no package of its own'}`);
      }
      const tb = r.manifest.tarball;
      const rel = path.relative(root, outDir);
      logger.info(`rootfs: wrote ${rel}/${ROOTFS_TARBALL} (${tb.entries} entries, ${tb.size} bytes, sha256 ${tb.sha256}) and ${rel}/${ROOTFS_MANIFEST} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { success: true };
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
      await fs.rm(work, { recursive: true, force: true });
    }
  } catch (e) {
    return taskFailed(e, 'rootfs', { otherErrors: 'log' });
  }
}

/**
 * The recipe whose build writes the split package `name` (`subpackages`, `split`), among the
 * workspace's projects; undefined when none does (a recipe's own name, or an unknown one).
 */
function splitPackageOwner(context: ExecutorContext, name: string): string | undefined {
  for (const [project, config] of Object.entries(context.projectsConfigurations.projects)) {
    let recipe;
    try {
      recipe = readRecipe(context.root, `${config.root}/${RECIPE_FILE}`).recipe;
    } catch {
      continue; // not a recipe project (the system project), or one the graph already refused
    }
    if (splitPackageSpecs(recipe).some((s) => s.name === name)) return project;
  }
  return undefined;
}
