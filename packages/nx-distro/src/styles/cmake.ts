import type { Recipe } from '../model/recipe.generated';
import { BUILD_DIR, STYLE_FILES_DIR, withArgs } from './args';
import type { StyleSteps } from './style';
import { machineCase } from './machines';

/** Where the configure step writes the toolchain file, relative to the build sub-folder. */
export const CMAKE_TOOLCHAIN_FILE = `${STYLE_FILES_DIR}/toolchain.cmake`;

/**
 * Shell that writes {@link CMAKE_TOOLCHAIN_FILE} for the host machine from the step's
 * environment (so the same text serves cross builds, native builds in a Debian build root and
 * the source bundle's self-hosted builds):
 * - `CMAKE_SYSTEM_NAME Linux` and `CMAKE_SYSTEM_PROCESSOR` (`uname -m`'s name of `$CARCH`) when
 *   the build machine is not the host machine (`$CBUILD` ≠ `$CHOST`): CMake is cross-compiling;
 * - the compilers and binutils (`$CC`, `$CXX`, `$AR`, ...) by absolute path;
 * - the flags: `CMAKE_<LANG>_FLAGS_INIT` from `$CFLAGS`/`$CXXFLAGS` and `$CPPFLAGS` (CMake
 *   ignores `CPPFLAGS`), the linker flags from `$LDFLAGS`; the step then unsets those variables,
 *   so the file is the only source of flags;
 * - with a staged sysroot (`$SYSROOT` set: a cross build): `CMAKE_FIND_ROOT_PATH` is it, with
 *   programs from the build machine only (`NEVER`) and libraries, headers and packages from the
 *   sysroot only (`ONLY`), so nothing of the build machine's `/usr` is found. `CMAKE_SYSROOT`
 *   is not set: it would pass `--sysroot` to the compiler, and Debian's cross compilers find
 *   their C library in `/usr/<triplet>` only without one.
 */
export const CMAKE_TOOLCHAIN_SCRIPT = String.raw`mkdir -p _nx-distro
nx_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"$]/\\&/g')"; }
nx_set() { printf 'set(%s %s)\n' "$1" "$(nx_str "$2")"; }
nx_tool() { command -v "$1" || printf '%s' "$1"; }
{
  echo "# CMake toolchain file for $CHOST, written by nx-distro's cmake style from the build environment"
  if [ "$CBUILD" != "$CHOST" ]; then
    echo 'set(CMAKE_SYSTEM_NAME Linux)'
__CASE__
    nx_set CMAKE_SYSTEM_PROCESSOR "$nx_processor"
  fi
  nx_set CMAKE_C_COMPILER "$(nx_tool "$CC")"
  nx_set CMAKE_CXX_COMPILER "$(nx_tool "$CXX")"
  nx_set CMAKE_AR "$(nx_tool "$AR")"
  nx_set CMAKE_RANLIB "$(nx_tool "$RANLIB")"
  nx_set CMAKE_NM "$(nx_tool "$NM")"
  nx_set CMAKE_STRIP "$(nx_tool "$STRIP")"
  nx_set CMAKE_OBJCOPY "$(nx_tool "$OBJCOPY")"
  nx_set CMAKE_OBJDUMP "$(nx_tool "$OBJDUMP")"
  nx_set CMAKE_READELF "$(nx_tool "$READELF")"
  nx_set CMAKE_C_FLAGS_INIT "$CFLAGS $CPPFLAGS"
  nx_set CMAKE_CXX_FLAGS_INIT "$CXXFLAGS $CPPFLAGS"
  nx_set CMAKE_EXE_LINKER_FLAGS_INIT "$LDFLAGS"
  nx_set CMAKE_SHARED_LINKER_FLAGS_INIT "$LDFLAGS"
  nx_set CMAKE_MODULE_LINKER_FLAGS_INIT "$LDFLAGS"
  if [ -n "$SYSROOT" ]; then
    nx_set CMAKE_FIND_ROOT_PATH "$SYSROOT"
    echo 'set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)'
    echo 'set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)'
    echo 'set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)'
    echo 'set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)'
  fi
} > _nx-distro/toolchain.cmake
unset CFLAGS CXXFLAGS CPPFLAGS LDFLAGS`.replace('__CASE__', machineCase('cmake', (m) => ({ nx_processor: m.cmakeProcessor })).replace(/^/gm, '    '));

/**
 * `cmake`'s configure arguments of the style, before the recipe's `cmake_args`. The install
 * folders are typed `PATH`: an untyped `-DCMAKE_INSTALL_LIBDIR=lib` is made absolute from the
 * build folder (`/build/src/lib`) when a project declares the variable a `PATH` cache entry
 * itself (its own copy of GNUInstallDirs: libjpeg-turbo's), CMake's rule for untyped
 * command-line entries (cmake(1), `-D`).
 */
export const CMAKE_CONFIGURE = `cmake -S . -B ${BUILD_DIR} -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/${CMAKE_TOOLCHAIN_FILE}" -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX:PATH=/usr -DCMAKE_INSTALL_LIBDIR:PATH=lib -DCMAKE_INSTALL_SYSCONFDIR:PATH=/etc -DCMAKE_INSTALL_LOCALSTATEDIR:PATH=/var`;

/**
 * `cmake`: a CMake project, as cports' cmake build style: the configure step writes the
 * toolchain file ({@link CMAKE_TOOLCHAIN_SCRIPT}) and runs CMake with the Ninja generator into
 * `_build` (`CMAKE_BUILD_TYPE=None`: only the target's flags; `lib`, not Debian's multiarch
 * folder, as the library folder), then the recipe's `cmake_args`; `cmake --build`; `ctest`;
 * `cmake --install` with `DESTDIR=$pkgdir`.
 * @param recipe the recipe whose style options apply
 */
export function cmake(recipe: Recipe): StyleSteps {
  return {
    configure: `${CMAKE_TOOLCHAIN_SCRIPT}\n${withArgs(CMAKE_CONFIGURE, recipe.cmake_args)}`,
    build: `cmake --build ${BUILD_DIR} -j "$JOBS"`,
    check: `ctest --test-dir ${BUILD_DIR} --output-on-failure -j "$JOBS"`,
    install: `DESTDIR="$pkgdir" cmake --install ${BUILD_DIR}`,
  };
}
