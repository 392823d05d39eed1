import { readdirSync } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { InputError, InputErrors } from '../../model/errors';
import { loadTargetNamed } from '../../model/system-target';
import { readPackageInfo } from '../../packages/pacman-package';
import { writeRepository } from '../../packages/repository';
import { pluginOptionsOf } from '../context';
import type { RepositoryExecutorOptions } from './schema';

/** The packages folder holds something the repository cannot be made of; `message` says what and how to fix it. */
class PackagesProblem extends Error {}

/** One package found for the repository. */
export interface FoundPackage {
  /** Absolute path of the package file. */
  readonly file: string;
  /** Workspace-relative path, for messages. */
  readonly rel: string;
  /** `pkgname` from its `.PKGINFO`. */
  readonly name: string;
  /** `pkgver` (`<pkgver>-<pkgrel>`) from its `.PKGINFO`. */
  readonly version: string;
  /** `arch` from its `.PKGINFO`. */
  readonly arch: string;
}

/**
 * Every package built for a system target: the `*.pkg.tar.zst` files directly in each folder
 * `<packagesDir>/<name>/`, sorted by path. Skipped: names starting with `.` (staging folders
 * and temporary files of writers at work) and stage folders (`<name>@<stage>/`: a stage's
 * package is a reduced build that only exists to break a build loop, and carries the same
 * package name as the final one).
 * @param packagesDir absolute `<distDir>/<systemTarget>/packages` (may be missing: no package)
 * @param root absolute workspace root, for the relative paths in messages
 * @param arch the system target's pacman arch: every package must be for it or `any`
 * @returns the packages with their `.PKGINFO` name, version and arch
 * @throws PackagesProblem when a file is not a readable package, is for another arch, or two
 *   files carry the same package name
 */
export async function findPackages(packagesDir: string, root: string, arch: string): Promise<FoundPackage[]> {
  let folders: string[];
  try {
    folders = readdirSync(packagesDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && !d.name.includes('@'))
      .map((d) => d.name)
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const found: FoundPackage[] = [];
  const byName = new Map<string, FoundPackage>();
  for (const folder of folders) {
    const dir = path.join(packagesDir, folder);
    const files = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && !d.name.startsWith('.') && d.name.endsWith('.pkg.tar.zst'))
      .map((d) => d.name)
      .sort();
    for (const name of files) {
      const file = path.join(dir, name);
      const rel = path.relative(root, file);
      let info: Record<string, string[]>;
      try {
        info = await readPackageInfo(file);
      } catch (e) {
        throw new PackagesProblem(`${rel}: not a readable package (${(e as Error).message.split('\n')[0]}); rebuild it or remove it`);
      }
      const pkg: FoundPackage = { file, rel, name: info.pkgname?.[0] ?? '', version: info.pkgver?.[0] ?? '', arch: info.arch?.[0] ?? '' };
      if (!pkg.name || !pkg.version) throw new PackagesProblem(`${rel}: its .PKGINFO has no pkgname or pkgver; rebuild it or remove it`);
      if (pkg.arch !== arch && pkg.arch !== 'any') throw new PackagesProblem(`${rel}: built for arch ${pkg.arch || '(none)'}, not ${arch}; rebuild it or remove it`);
      const other = byName.get(pkg.name);
      if (other) throw new PackagesProblem(`${rel}: package ${pkg.name} also comes from ${other.rel}; a repository holds one version of each package: remove the stale one`);
      byName.set(pkg.name, pkg);
      found.push(pkg);
    }
  }
  return found;
}

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
    const root = context.root;
    const { targetsDir, distDir } = pluginOptionsOf(context);
    const loaded = loadTargetNamed(root, targetsDir, options.systemTarget);
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
    if (e instanceof InputError || e instanceof InputErrors || e instanceof PackagesProblem) {
      logger.error(e.message);
      return { success: false };
    }
    throw e;
  }
}
