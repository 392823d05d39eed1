import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ReportedError } from '../model/errors';
import { debugPackageName, packageFolder, pkgnameOfFile } from '../model/package-layout';
import { readPackageInfo } from './pacman-package';

/**
 * The packages builds wrote, as later tasks find them under `<distDir>/<systemTarget>/`: every
 * package of a system target (the repository, the rootfs, the image) and those of one build node
 * (what a build stages of its dependencies).
 */

/** The packages folder holds something the repository cannot be made of; `message` says what and how to fix it. */
export class PackagesProblem extends ReportedError {}

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
 * The package files a dependency's build wrote: the `*.pkg.tar.zst` files in
 * `<distDir>/<systemTarget>/packages/<node>/` (or `build-machine/<node>/` for a `toolchain: true`
 * recipe, model/package-layout.ts): the package of the recipe's name and its split packages
 * (`subpackages`, `split`; packages/split.ts), not its `-debug` package. Nx restores them from the cache when the build
 * was not rerun.
 * @param nodeKey `name` or `name@stageN`
 * @returns absolute package paths, sorted; empty when that build wrote no package (an arch it
 *   does not support, or a recipe the external toolchain stands in for)
 */
export function dependencyPackages(workspaceRoot: string, distDir: string, systemTarget: string, nodeKey: string): string[] {
  for (const toolchain of [false, true]) {
    const dir = path.join(workspaceRoot, distDir, ...packageFolder(systemTarget, nodeKey, toolchain));
    if (!existsSync(dir)) continue;
    // Not its debug package (packages/debug-info.ts): debuggers read it, builds do not.
    const debugName = debugPackageName(nodeKey.split('@')[0]);
    const files = readdirSync(dir).filter((f) => /\.pkg\.tar\.zst$/.test(f) && !f.startsWith('.') && pkgnameOfFile(f) !== debugName);
    if (files.length) return files.sort().map((f) => path.join(dir, f));
  }
  return [];
}

/**
 * The package of the recipe's own name among {@link dependencyPackages} (the file
 * `<name>-<version>-<release>-<arch>.pkg.tar.zst`), not one of its split packages.
 * @param nodeKey `name` or `name@stageN`
 * @returns the absolute package path, or null when that build wrote no package of that name
 */
export function dependencyPackage(workspaceRoot: string, distDir: string, systemTarget: string, nodeKey: string): string | null {
  const name = nodeKey.split('@')[0];
  return dependencyPackages(workspaceRoot, distDir, systemTarget, nodeKey).find((f) => pkgnameOfFile(path.basename(f)) === name) ?? null;
}
