/**
 * One recipe-supplied argument as shell text: double-quoted, so it stays one argument whatever
 * spaces it holds, while `$VAR` and `${VAR}` still expand (a recipe writes
 * `-DFOO=$SYSROOT/usr`); `"`, `\` and `` ` `` are escaped.
 * @param arg one entry of `configure_args`, `make_args`, `cmake_args` or `meson_args`
 * @returns the argument as one shell word
 */
export function shellArg(arg: string): string {
  return `"${arg.replace(/["\\`]/g, (c) => `\\${c}`)}"`;
}

/**
 * A command line with the recipe's extra arguments appended, each one word ({@link shellArg}).
 * @returns `command` alone when there are none
 */
export function withArgs(command: string, args: readonly string[] | undefined): string {
  return args?.length ? `${command} ${args.map(shellArg).join(' ')}` : command;
}

/** The build folder of the `cmake` and `meson` styles, under the build sub-folder (`build_wrksrc`). */
export const BUILD_DIR = '_build';

/**
 * The folder, beside {@link BUILD_DIR}, that holds the files a style generates at configure
 * time (CMake's toolchain file, Meson's cross and native files). Kept out of the build folder,
 * which Meson wants empty, and in `$srcdir`, since a later step (ninja re-running CMake or Meson)
 * reads them again.
 */
export const STYLE_FILES_DIR = '_nx-distro';
