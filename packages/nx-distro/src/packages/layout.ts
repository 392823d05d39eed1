/**
 * Where a recipe's build writes its package, relative to the dist folder: `<systemTarget>/packages/<node>/`
 * for a package of the system target (what its repository, rootfs and image take), or
 * `<systemTarget>/build-machine/<node>/` for a `toolchain: true` recipe's package (binutils, gcc:
 * programs of the build machine's arch that make up the target's toolchain, never installed on it).
 * `<node>` is the graph node key, `name` or `name@stageN`.
 */

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
