/**
 * Where a recipe's build writes its package, relative to the dist folder: `<systemTarget>/packages/<node>/`
 * for a package of the system target (what its repository, rootfs and image take), or
 * `<systemTarget>/build-machine/<node>/` for a `toolchain: true` recipe's package (binutils, gcc:
 * programs of the build machine's arch that make up the target's toolchain, never installed on it).
 * `<node>` is the graph node key, `name` or `name@stageN`.
 */

/** What names a package file: pacman's `pkgname`, `pkgver`, `pkgrel` and `arch`. */
export interface PackageFileMeta {
  readonly pkgname: string;
  readonly pkgver: string;
  readonly pkgrel: number;
  readonly arch: string;
}

/** The file name pacman and repo-add expect: `<pkgname>-<pkgver>-<pkgrel>-<arch>.pkg.tar.zst`. */
export function packageFileName(meta: PackageFileMeta): string {
  return `${meta.pkgname}-${meta.pkgver}-${meta.pkgrel}-${meta.arch}.pkg.tar.zst`;
}

/**
 * The pkgname of a package file's name, the inverse of {@link packageFileName}: what comes before
 * its last three `-`-separated fields (pkgver, pkgrel, arch; none of them holds a `-`). Also
 * takes the name without `.pkg.tar.zst` (`zlib-dev-1.2.13-1-aarch64` -> `zlib-dev`).
 * @param file a file name, not a path
 */
export function pkgnameOfFile(file: string): string {
  return file.replace(/\.pkg\.tar\.zst$/, '').split('-').slice(0, -3).join('-');
}

/**
 * The temporary name a package is written under, in its folder, before the rename to its file
 * name: `.<file>.<pid>-<12 hex digits>.tmp`.
 */
export function packageTempName(file: string, pid: number, hex12: string): string {
  return `.${file}.${pid}-${hex12}.tmp`;
}

/** NAME_MAX of Linux file systems (ext4, xfs, btrfs, tmpfs): the longest file name, in bytes. */
const NAME_MAX = 255;

/**
 * Longest package file name, in bytes (229): NAME_MAX less what {@link packageTempName} adds
 * with the longest pid (7 digits, Linux's pid_max 4194304), so the temporary name fits too.
 */
export const MAX_PACKAGE_FILE_NAME_BYTES = NAME_MAX - packageTempName('', 4_194_304, '0'.repeat(12)).length;

/** Folder of the system target's packages under `<distDir>/<systemTarget>/`. */
export const TARGET_PACKAGES_DIR = 'packages';

/** Folder of the build-machine packages of the target's toolchain under `<distDir>/<systemTarget>/`. */
export const BUILD_MACHINE_PACKAGES_DIR = 'build-machine';

/**
 * The package folder of one build, as path segments to join under the dist folder.
 * @param toolchain the recipe's `toolchain` field
 * @returns `[systemTarget, 'packages' | 'build-machine', nodeKey]`
 */
export function packageFolder(systemTarget: string, nodeKey: string, toolchain: boolean | undefined): [string, string, string] {
  return [systemTarget, toolchain ? BUILD_MACHINE_PACKAGES_DIR : TARGET_PACKAGES_DIR, nodeKey];
}

/** The name of a recipe's debug package: `<name>-debug` (Arch's and Alpine's `-dbg` convention, Arch's spelling). */
export function debugPackageName(name: string): string {
  return `${name}-debug`;
}

/** What `system:toolchain` writes: `<distDir>/<systemTarget>/toolchain/toolchain.json`. */
export const TOOLCHAIN_FILE = 'toolchain.json';
