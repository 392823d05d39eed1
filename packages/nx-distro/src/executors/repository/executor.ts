import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { findPackages } from '../../packages/built-packages';
import { writeRepository } from '../../packages/repository';
import { systemTargetOf, taskFailed } from '../context';
import type { RepositoryExecutorOptions } from './schema';

/**
 * `nx-distro:repository`: the system target's pacman repository, so a machine installs the
 * system with pacman's dependency resolution:
 *
 *     [<systemTarget>]
 *     Server = file://<workspace>/<distDir>/<systemTarget>/repo
 *
 * Every package of {@link findPackages} (`<distDir>/<systemTarget>/packages/<name>/*.pkg.tar.zst`,
 * the outputs of the recipes' `build` tasks and of `system:toolchain-runtime`) goes into
 * `<distDir>/<systemTarget>/repo/`: the package files (hard links where possible), and the
 * database `<systemTarget>.db.tar.zst` with `<systemTarget>.files.tar.zst` and the `.db` /
 * `.files` symlinks, written by pacman's `repo-add` (`packages/repository.ts`). The folder is
 * built in a staging folder beside it and renamed over the old one, so it holds exactly the
 * packages built now: never an older version of a rebuilt package, never a package no longer
 * built. With no package at all, an empty but valid repository is written (what repo-remove
 * leaves when the last package goes), so `pacman -Sy` still works; the count is logged.
 *
 * The database is not reproducible byte for byte (repo-add stores the time it ran in the tar).
 * @returns `{ success }`; an unknown system target or a bad package folder is logged as one
 *   line and gives `{ success: false }`
 */
export default async function repositoryExecutor(options: RepositoryExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const { root, pluginOptions: { distDir }, loaded } = systemTargetOf(options, context);
    const base = path.join(root, distDir, loaded.name);
    const repoDir = path.join(base, 'repo');
    const packages = await findPackages(path.join(base, 'packages'), root, loaded.target.arch);
    await writeRepository(repoDir, loaded.name, packages.map((p) => p.file));
    const where = path.relative(root, repoDir);
    if (packages.length === 0) {
      logger.warn(`${loaded.name}: no package built for ${loaded.name} (nothing in ${path.relative(root, path.join(base, 'packages'))}/*/); wrote an empty repository ${where}/${loaded.name}.db.tar.zst`);
    } else {
      logger.info(`${loaded.name}: repository ${where}/${loaded.name}.db.tar.zst with ${packages.length} package${packages.length === 1 ? '' : 's'}: ${packages.map((p) => `${p.name} ${p.version}`).join(', ')}`);
    }
    return { success: true };
  } catch (e) {
    return taskFailed(e, 'repository');
  }
}
