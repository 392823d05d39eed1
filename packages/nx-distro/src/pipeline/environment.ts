import os from 'node:os';
import { execaSync } from 'execa';
import type { Recipe } from '../model/recipe.generated';
import type { SystemTarget } from '../model/target.generated';
import { debugBuild, debugSourceDir } from '../packages/debug-info';
import { CROSS_PATH, SANDBOX } from '../sandbox/layout';
import { BUILD_MACHINE_CFLAGS } from '../styles/machines';

let cachedBuildTriplet: string | undefined;

/**
 * GNU triplet of the build machine (`CBUILD`, configure's `--build`): what the build machine's
 * native compiler reports with `gcc -dumpmachine` (Debian's multiarch triplet, e.g.
 * `x86_64-linux-gnu`).
 * @throws Error when no native gcc is installed (tools/setup-host installs build-essential)
 */
export function buildTriplet(): string {
  cachedBuildTriplet ??= execaSync('gcc', ['-dumpmachine']).stdout.trim();
  return cachedBuildTriplet;
}

/** What the environment of one build is made of. */
export interface BuildEnvironmentInput {
  readonly recipe: Recipe;
  /** The stage being built, or undefined for the final build. */
  readonly stage?: string;
  readonly systemTarget: SystemTarget;
  /** Seconds since the epoch. */
  readonly sourceDateEpoch: number;
  /** Parallel make jobs; default `os.availableParallelism()`. */
  readonly jobs?: number;
  /** The system target's name (`aarch64`: the file `targets/aarch64.yaml`), `$SYSTEM_TARGET`. */
  readonly systemTargetName?: string;
  /**
   * `cross` (default): the external toolchain on the build machine and the staged `$SYSROOT`;
   * `native`: the build root's own compiler, the build machine being the host machine.
   */
  readonly mode?: 'cross' | 'native';
}

/**
 * Program prefix of a system target's cross tools: the external toolchain's `prefix`, or
 * `<triplet>-` for a bootstrap toolchain (what its binutils and gcc recipes install).
 */
export function crossPrefix(t: SystemTarget): string {
  return t.toolchain.kind === 'external' ? t.toolchain.prefix : `${t.triplet}-`;
}

/**
 * The complete environment of a build step: nothing from the caller's environment leaks in
 * (the sandbox starts empty and gets exactly this). Variables, as documented in
 * docs/recipe-format.md:
 * - GNU names kept strictly: `CBUILD` is the build machine's triplet, `CHOST` the host
 *   machine's (the system target's `triplet`); a `toolchain: true` recipe runs on the build
 *   machine, so there `CHOST` = `CBUILD` and `CTARGET` is the system target's triplet
 *   ({@link toolchainBuildEnvironment});
 * - cross tools ({@link crossPrefix}: the external toolchain's, or the bootstrap toolchain's
 *   staged at `/build/toolchain`, first on the PATH): `CC=<prefix>gcc`, `CXX`, `CPP`, `AR`,
 *   `RANLIB`, `LD`, `NM`, `STRIP`, `OBJCOPY`, `OBJDUMP`, `READELF`, `CROSS_COMPILE=<prefix>`;
 * - the staged sysroot (`$SYSROOT`, only the declared makedepends) is added to the compiler's
 *   search paths with `CPPFLAGS=-I$SYSROOT/usr/include` and `LDFLAGS=-L$SYSROOT/usr/lib
 *   -Wl,-rpath-link,$SYSROOT/usr/lib`, while the toolchain keeps its own C library from its
 *   built-in sysroot (Debian's cross compilers look in `/usr/<triplet>`); pkg-config looks only
 *   in `$SYSROOT` (`PKG_CONFIG_LIBDIR`) and prefixes what it prints with it
 *   (`PKG_CONFIG_SYSROOT_DIR`);
 * - `-ffile-prefix-map=/build/src=.` keeps the build folder out of the binaries;
 * - `QEMU_LD_PREFIX` ({@link qemuLdPrefix}), so a freshly built program of the host machine
 *   runs under binfmt_misc's QEMU with its C library;
 * - the recipe's `env` (a stage's `env` replaces it) last, so preseeded answers win.
 * @returns variable → value
 */
export function buildEnvironment(input: BuildEnvironmentInput): Record<string, string> {
  if (input.mode === 'native') return nativeBuildEnvironment(input);
  if (input.recipe.toolchain) return toolchainBuildEnvironment(input);
  const t = input.systemTarget;
  const prefix = crossPrefix(t);
  const sysroot = SANDBOX.sysroot;
  return withRecipeEnv(input, {
    ...stepBasics(input, { PATH: CROSS_PATH, CBUILD: buildTriplet(), CHOST: t.triplet, SYSROOT: sysroot }),
    CROSS_COMPILE: prefix,
    CC: `${prefix}gcc`,
    CXX: `${prefix}g++`,
    CPP: `${prefix}gcc -E`,
    AR: `${prefix}ar`,
    RANLIB: `${prefix}ranlib`,
    LD: `${prefix}ld`,
    NM: `${prefix}nm`,
    STRIP: `${prefix}strip`,
    OBJCOPY: `${prefix}objcopy`,
    OBJDUMP: `${prefix}objdump`,
    READELF: `${prefix}readelf`,
    ...targetFlags(input),
    CPPFLAGS: `-I${sysroot}/usr/include`,
    LDFLAGS: [targetLinkFlags(input), `-L${sysroot}/usr/lib`, `-Wl,-rpath-link,${sysroot}/usr/lib`].join(' ').trim(),
    PKG_CONFIG: 'pkg-config',
    PKG_CONFIG_SYSROOT_DIR: sysroot,
    PKG_CONFIG_LIBDIR: `${sysroot}/usr/lib/pkgconfig:${sysroot}/usr/share/pkgconfig`,
    PKG_CONFIG_PATH: '',
    QEMU_LD_PREFIX: qemuLdPrefix(t),
  });
}

/**
 * Where QEMU user emulation finds the host machine's dynamic loader and C library when a cross
 * build runs a program it has just built (a Makefile's default target running a generator or a
 * test, through binfmt_misc): the external toolchain's `sysroot` (`/usr/aarch64-linux-gnu`), or
 * the staged `$SYSROOT` holding a bootstrap toolchain's C library. The build machine's own
 * programs never read it.
 */
export function qemuLdPrefix(t: SystemTarget): string {
  return t.toolchain.kind === 'external' ? t.toolchain.sysroot : SANDBOX.sysroot;
}

/** `-ffile-prefix-map=/build/src=.`: keeps the build folder out of what is compiled. */
const PREFIX_MAP = `-ffile-prefix-map=${SANDBOX.srcdir}=.`;

/** What a build with debug packages links with (packages/debug-info.ts): a GNU build-id, where gdb and debuginfod look up the debug file. */
export const DEBUG_LINK_FLAGS = '-Wl,--build-id=sha1';

/**
 * What a build with debug packages compiles with instead of {@link PREFIX_MAP} (makepkg's
 * `DEBUG_CFLAGS` and its prefix map): `-g`, and the source folder mapped to
 * `/usr/src/debug/<name>` (packages/debug-info.ts's `debugSourceDir`), where the `-debug`
 * package puts the sources; a cross build also maps its staged sysroot to `/`, so the headers of
 * its dependencies are named where they are on the host machine (`/usr/include/zlib.h`).
 */
export function debugCompileFlags(name: string, mode: 'cross' | 'native'): string {
  return ['-g', `-ffile-prefix-map=${SANDBOX.srcdir}=${debugSourceDir(name)}`, ...(mode === 'cross' ? [`-ffile-prefix-map=${SANDBOX.sysroot}=`] : [])].join(' ');
}

/** The build machine's own unprefixed tools, but `CPP` (see {@link toolchainBuildEnvironment}). */
const UNPREFIXED_TOOLS = {
  CC: 'gcc',
  CXX: 'g++',
  AR: 'ar',
  RANLIB: 'ranlib',
  LD: 'ld',
  NM: 'nm',
  STRIP: 'strip',
  OBJCOPY: 'objcopy',
  OBJDUMP: 'objdump',
  READELF: 'readelf',
} as const;

/**
 * What every build step gets whatever the machines' roles: shell basics, the sandbox's fixed
 * paths, the system target's names, `$JOBS`, `$SOURCE_DATE_EPOCH`, the stage's `$PROFILES`, and
 * the given `PATH`, `CBUILD`, `CHOST` and `SYSROOT`.
 */
function stepBasics(input: BuildEnvironmentInput, roles: { PATH: string; CBUILD: string; CHOST: string; SYSROOT: string; CTARGET?: string }): Record<string, string> {
  const t = input.systemTarget;
  const stageSpec = input.stage ? input.recipe.stages?.[input.stage] : undefined;
  return {
    PATH: roles.PATH,
    HOME: '/tmp',
    TMPDIR: '/tmp',
    SHELL: '/bin/sh',
    TERM: 'dumb',
    LC_ALL: 'C',
    TZ: 'UTC',
    CBUILD: roles.CBUILD,
    CHOST: roles.CHOST,
    ...(roles.CTARGET ? { CTARGET: roles.CTARGET } : {}),
    CARCH: t.arch,
    KERNEL_ARCH: t.kernel_arch,
    SYSTEM_TARGET: input.systemTargetName ?? '',
    SYSTEM_TARGET_DIR: SANDBOX.systemTargetDir,
    SYSROOT: roles.SYSROOT,
    srcdir: SANDBOX.srcdir,
    pkgdir: SANDBOX.pkgdir,
    JOBS: String(input.jobs ?? os.availableParallelism()),
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
    PROFILES: (stageSpec?.profiles ?? []).join(' '),
  };
}

/**
 * The system target's `CFLAGS` and `CXXFLAGS` (`cxxflags`, else `cflags`) with {@link PREFIX_MAP},
 * or, for a build with debug packages ({@link debugBuild}), with {@link debugCompileFlags} instead.
 */
function targetFlags(input: BuildEnvironmentInput): { CFLAGS: string; CXXFLAGS: string } {
  const t = input.systemTarget;
  const extra = debugBuild(input.recipe, t, input.stage) ? debugCompileFlags(input.recipe.name, input.mode === 'native' ? 'native' : 'cross') : PREFIX_MAP;
  return { CFLAGS: [t.cflags ?? '', extra].join(' ').trim(), CXXFLAGS: [t.cxxflags ?? t.cflags ?? '', extra].join(' ').trim() };
}

/** The system target's `LDFLAGS` (`ldflags`), with `-Wl,--build-id=sha1` for a build with debug packages ({@link debugBuild}). */
function targetLinkFlags(input: BuildEnvironmentInput): string {
  const t = input.systemTarget;
  return [t.ldflags ?? '', debugBuild(input.recipe, t, input.stage) ? DEBUG_LINK_FLAGS : ''].join(' ').trim();
}

/** `env` with the recipe's `env` (a stage's `env` replaces it) exported last, so preseeded answers win. */
function withRecipeEnv(input: BuildEnvironmentInput, env: Record<string, string>): Record<string, string> {
  const stageSpec = input.stage ? input.recipe.stages?.[input.stage] : undefined;
  for (const [k, v] of Object.entries(stageSpec?.env ?? input.recipe.env ?? {})) env[k] = String(v);
  return env;
}

/**
 * The environment of a `toolchain: true` recipe's build step (binutils, gcc for the system
 * target): the package runs on the build machine, so `CBUILD` = `CHOST` = the build machine's
 * triplet and `CTARGET` is the system target's triplet (configure's `--target`; Alpine's
 * convention). The build machine's own unprefixed tools and {@link BUILD_MACHINE_CFLAGS} compile
 * it, with no `CPP`: gcc's target libraries (libgcc) run configure with the environment's `CPP`,
 * which would check the build machine's headers (libgcc then includes a `sys/mman.h` the target's
 * empty sysroot does not have), while gcc passes them the other tools as `*_FOR_TARGET`. What it
 * compiles for the target (libgcc, libstdc++) gets the target's flags through
 * `CFLAGS_FOR_TARGET`/`CXXFLAGS_FOR_TARGET` (gcc's configure variables). `SYSROOT` is the
 * target's staged sysroot (`--with-sysroot`), `CROSS_COMPILE` the target's tool prefix; the PATH
 * starts with the staged toolchain (e.g. binutils for gcc).
 */
function toolchainBuildEnvironment(input: BuildEnvironmentInput): Record<string, string> {
  const t = input.systemTarget;
  const cbuild = buildTriplet();
  const target = targetFlags(input);
  return withRecipeEnv(input, {
    ...stepBasics(input, { PATH: CROSS_PATH, CBUILD: cbuild, CHOST: cbuild, CTARGET: t.triplet, SYSROOT: SANDBOX.sysroot }),
    CROSS_COMPILE: crossPrefix(t),
    ...UNPREFIXED_TOOLS,
    CFLAGS: `${BUILD_MACHINE_CFLAGS} ${PREFIX_MAP}`,
    CXXFLAGS: `${BUILD_MACHINE_CFLAGS} ${PREFIX_MAP}`,
    CPPFLAGS: '',
    LDFLAGS: '',
    CFLAGS_FOR_TARGET: t.cflags ? target.CFLAGS : `-O2 ${PREFIX_MAP}`,
    CXXFLAGS_FOR_TARGET: t.cxxflags ?? t.cflags ? target.CXXFLAGS : `-O2 ${PREFIX_MAP}`,
    PKG_CONFIG: 'pkg-config',
  });
}

/**
 * The environment of a native build step (`nx-distro:native`), inside the system target's build
 * root where the build machine is the host machine: `CBUILD` = `CHOST` = the target's triplet
 * (Debian's native gcc reports the same multiarch triplet), the unprefixed tools (`CC=gcc`, ...),
 * `CROSS_COMPILE` and `SYSROOT` empty (the dependencies are installed in the build root's own
 * /usr, so `$SYSROOT/usr/include` is `/usr/include`), pkg-config with its default search path,
 * the target's flags, `-ffile-prefix-map`, then the recipe's `env`, as in {@link buildEnvironment}.
 */
function nativeBuildEnvironment(input: BuildEnvironmentInput): Record<string, string> {
  const t = input.systemTarget;
  return withRecipeEnv(input, {
    ...stepBasics(input, { PATH: '/usr/local/bin:/usr/bin:/bin', CBUILD: t.triplet, CHOST: t.triplet, SYSROOT: '' }),
    CROSS_COMPILE: '',
    ...UNPREFIXED_TOOLS,
    CPP: 'gcc -E',
    ...targetFlags(input),
    CPPFLAGS: '',
    LDFLAGS: targetLinkFlags(input),
    PKG_CONFIG: 'pkg-config',
  });
}
