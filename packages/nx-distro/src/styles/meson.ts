import type { Recipe } from '../model/recipe.generated';
import { SANDBOX } from '../sandbox/layout';
import { BUILD_MACHINE_CFLAGS } from './machines';
import { BUILD_DIR, STYLE_FILES_DIR, withArgs } from './args';
import type { StyleSteps } from './style';
import { machineCase } from './machines';

/** Meson's cross file (the host machine), relative to the build sub-folder. */
export const MESON_CROSS_FILE = `${STYLE_FILES_DIR}/cross.ini`;
/** Meson's native file (the build machine) of a cross build, relative to the build sub-folder. */
export const MESON_NATIVE_FILE = `${STYLE_FILES_DIR}/native.ini`;

/** The build machine's compilers in a cross build: its own unprefixed ones, as for `toolchain: true` recipes. */
export const BUILD_MACHINE_TOOLS = { c: 'gcc', cpp: 'g++', ar: 'ar', strip: 'strip', pkgconfig: 'pkg-config' } as const;

/**
 * The environment variables Meson would read for the build machine in a cross build (it applies
 * `CC`, `CFLAGS`, `PKG_CONFIG_LIBDIR`... to the build machine then, the cross file to the host
 * machine): unset in every step of the style when cross-compiling, so the host machine's
 * compiler and flags (fribidi's generators are built for the build machine) stay in the cross file.
 */
export const MESON_UNSET = 'CC CXX CPP AR RANLIB LD NM STRIP OBJCOPY OBJDUMP READELF CFLAGS CXXFLAGS CPPFLAGS LDFLAGS PKG_CONFIG PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR';

/** The first line of every step of the style: {@link MESON_UNSET} in a cross build (a staged `$SYSROOT`). */
const UNSET_WHEN_CROSS = `if [ -n "$SYSROOT" ]; then unset ${MESON_UNSET}; fi`;

const buildArgs = [...BUILD_MACHINE_CFLAGS.split(' '), `-ffile-prefix-map=${SANDBOX.srcdir}=.`].map((a) => `'${a}'`).join(', ');

/**
 * Shell that, in a cross build (`$SYSROOT` set), writes from the step's environment:
 * - {@link MESON_CROSS_FILE}: `[binaries]` (`$CC`, `$CXX`, `$AR`, `$STRIP`, ..., `pkgconfig`),
 *   `[built-in options]` `c_args`/`cpp_args` (`$CFLAGS`/`$CXXFLAGS` with `$CPPFLAGS`) and
 *   `c_link_args`/`cpp_link_args` (`$LDFLAGS`), `[properties]` `sys_root` (what Meson hands
 *   pkg-config as `PKG_CONFIG_SYSROOT_DIR`) and `pkg_config_libdir`, and `[host_machine]`
 *   (`system = 'linux'`, Meson's `cpu_family`, `cpu` and `endian` for `$CARCH`);
 * - {@link MESON_NATIVE_FILE}: the build machine's own tools ({@link BUILD_MACHINE_TOOLS}) with
 *   {@link BUILD_MACHINE_CFLAGS}, for what the build compiles and runs itself (generators).
 *
 * Then it unsets {@link MESON_UNSET}. A native build (no sysroot: a Debian build root, or the
 * source bundle on the system itself) writes nothing: Meson takes the environment there.
 */
export const MESON_FILES_SCRIPT = String.raw`if [ -n "$SYSROOT" ]; then
  mkdir -p _nx-distro
  nx_q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/[\\']/\\\\&/g")"; }
  nx_list() {
    nx_l= nx_s=
    set -f
    for nx_w in $1; do nx_l="$nx_l$nx_s$(nx_q "$nx_w")"; nx_s=', '; done
    set +f
    printf '[%s]' "$nx_l"
  }
__CASE__
  {
    printf '%s\n' "# Meson cross file for $CHOST, written by nx-distro's meson style from the build environment"
    echo '[binaries]'
    printf '%s\n' "c = $(nx_list "$CC")"
    printf '%s\n' "cpp = $(nx_list "$CXX")"
    printf '%s\n' "ar = $(nx_list "$AR")"
    printf '%s\n' "strip = $(nx_list "$STRIP")"
    printf '%s\n' "nm = $(nx_list "$NM")"
    printf '%s\n' "ranlib = $(nx_list "$RANLIB")"
    printf '%s\n' "objcopy = $(nx_list "$OBJCOPY")"
    printf '%s\n' "objdump = $(nx_list "$OBJDUMP")"
    printf '%s\n' "readelf = $(nx_list "$READELF")"
    printf '%s\n' "pkgconfig = $(nx_list "$PKG_CONFIG")"
    echo
    echo '[built-in options]'
    printf '%s\n' "c_args = $(nx_list "$CFLAGS $CPPFLAGS")"
    printf '%s\n' "c_link_args = $(nx_list "$LDFLAGS")"
    printf '%s\n' "cpp_args = $(nx_list "$CXXFLAGS $CPPFLAGS")"
    printf '%s\n' "cpp_link_args = $(nx_list "$LDFLAGS")"
    echo
    echo '[properties]'
    printf '%s\n' "sys_root = $(nx_q "$SYSROOT")"
    printf '%s\n' "pkg_config_libdir = $(nx_q "$PKG_CONFIG_LIBDIR")"
    echo
    echo '[host_machine]'
    printf '%s\n' "system = 'linux'"
    printf '%s\n' "cpu_family = '$nx_cpu_family'"
    printf '%s\n' "cpu = '$nx_cpu'"
    printf '%s\n' "endian = '$nx_endian'"
  } > _nx-distro/cross.ini
  {
    printf '%s\n' "# Meson native file for the build machine $CBUILD, written by nx-distro's meson style"
    echo '[binaries]'
__NATIVE__
    echo
    echo '[built-in options]'
    printf '%s\n' "c_args = [__BUILDARGS__]"
    printf '%s\n' "cpp_args = [__BUILDARGS__]"
  } > _nx-distro/native.ini
  unset __UNSET__
  set -- --cross-file "$PWD/_nx-distro/cross.ini" --native-file "$PWD/_nx-distro/native.ini"
else
  set --
fi`
  .replace('__CASE__', machineCase('meson', (m) => ({ nx_cpu_family: m.mesonCpuFamily, nx_cpu: m.mesonCpu, nx_endian: m.endian })).replace(/^/gm, '  '))
  .replace('__NATIVE__', Object.entries(BUILD_MACHINE_TOOLS).map(([k, v]) => `    printf '%s\n' "${k} = '${v}'"`).join('\n'))
  .replaceAll('__BUILDARGS__', buildArgs)
  .replace('__UNSET__', MESON_UNSET);

/** `meson setup`'s arguments of the style, before the cross and native files (`"$@"`) and the recipe's `meson_args`. */
export const MESON_SETUP = `meson setup ${BUILD_DIR} --prefix=/usr --libdir=lib --sysconfdir=/etc --localstatedir=/var --buildtype=plain --wrap-mode=nodownload "$@"`;

/**
 * `meson`: a Meson project, as cports' meson build style: the configure step writes the cross
 * and native files of a cross build ({@link MESON_FILES_SCRIPT}) and runs `meson setup` into
 * `_build` (`--buildtype=plain`: only the target's flags; `--libdir=lib`, not Debian's multiarch
 * folder; no downloads of subprojects), then the recipe's `meson_args`; `meson compile`;
 * `meson test`; `meson install --destdir "$pkgdir"`. Every step of a cross build unsets the
 * environment's host-machine tools and flags first ({@link MESON_UNSET}).
 * @param recipe the recipe whose style options apply
 */
export function meson(recipe: Recipe): StyleSteps {
  return {
    configure: `${MESON_FILES_SCRIPT}\n${withArgs(MESON_SETUP, recipe.meson_args)}`,
    build: `${UNSET_WHEN_CROSS}\nmeson compile -C ${BUILD_DIR} -j "$JOBS"`,
    check: `${UNSET_WHEN_CROSS}\nmeson test -C ${BUILD_DIR} --num-processes "$JOBS" --print-errorlogs`,
    install: `${UNSET_WHEN_CROSS}\nmeson install -C ${BUILD_DIR} --no-rebuild --destdir "$pkgdir"`,
  };
}
