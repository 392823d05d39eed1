import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Recipe } from '../model/recipe.generated';
import type { SystemTarget } from '../model/target.generated';

/**
 * Fixed paths inside the build sandbox. They do not depend on the workspace's location, so
 * paths a build embeds (debug info, `__FILE__`) are the same on every machine.
 */
export const SANDBOX = {
  /** The extracted, patched sources (`$srcdir`), writable. */
  srcdir: '/build/src',
  /** The DESTDIR of the install step (`$pkgdir`), writable only during `install`. */
  pkgdir: '/build/pkg',
  /** The staged makedepends (`$SYSROOT`), read-only. */
  sysroot: '/build/sysroot',
  /** The system target's own folder `targets/<name>/` (`$SYSTEM_TARGET_DIR`: kernel configs and the like), read-only, when it exists. */
  systemTargetDir: '/build/target',
  /**
   * The staged packages of `toolchain: true` recipes (a bootstrap toolchain's binutils and gcc),
   * read-only; `usr/bin` under it comes first on the PATH. Their compilers were configured with
   * `--prefix=/usr --with-sysroot=/build/sysroot` and find their own files relative to themselves.
   */
  toolchain: '/build/toolchain',
} as const;

/** PATH of every cross build step: the staged toolchain's programs first, then the build machine's. */
export const CROSS_PATH = `${SANDBOX.toolchain}/usr/bin:/usr/local/bin:/usr/bin:/bin`;

/**
 * Flags for programs compiled for the build machine (a `toolchain: true` recipe's own code): no
 * target arch flags, which the build machine's compiler may not even accept.
 */
export const BUILD_MACHINE_CFLAGS = '-O2 -pipe';

let cachedBuildTriplet: string | undefined;

/**
 * GNU triplet of the build machine (`CBUILD`, configure's `--build`): what the build machine's
 * native compiler reports with `gcc -dumpmachine` (Debian's multiarch triplet, e.g.
 * `x86_64-linux-gnu`).
 * @throws Error when no native gcc is installed (tools/setup-host installs build-essential)
 */
export function buildTriplet(): string {
  cachedBuildTriplet ??= execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
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
 * - the recipe's `env` (a stage's `env` replaces it) last, so preseeded answers win.
 * @returns variable → value
 */
export function buildEnvironment(input: BuildEnvironmentInput): Record<string, string> {
  const { recipe, stage, systemTarget: t } = input;
  if (input.mode === 'native') return nativeBuildEnvironment(input);
  if (recipe.toolchain) return toolchainBuildEnvironment(input);
  const prefix = crossPrefix(t);
  const sysroot = SANDBOX.sysroot;
  const stageSpec = stage ? recipe.stages?.[stage] : undefined;
  const profiles = stageSpec?.profiles ?? [];
  const prefixMap = `-ffile-prefix-map=${SANDBOX.srcdir}=.`;
  const env: Record<string, string> = {
    PATH: CROSS_PATH,
    HOME: '/tmp',
    TMPDIR: '/tmp',
    SHELL: '/bin/sh',
    TERM: 'dumb',
    LC_ALL: 'C',
    TZ: 'UTC',
    CBUILD: buildTriplet(),
    CHOST: t.triplet,
    CARCH: t.arch,
    KERNEL_ARCH: t.kernel_arch,
    SYSTEM_TARGET: input.systemTargetName ?? '',
    SYSTEM_TARGET_DIR: SANDBOX.systemTargetDir,
    SYSROOT: sysroot,
    srcdir: SANDBOX.srcdir,
    pkgdir: SANDBOX.pkgdir,
    JOBS: String(input.jobs ?? os.availableParallelism()),
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
    PROFILES: profiles.join(' '),
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
    CFLAGS: [t.cflags ?? '', prefixMap].join(' ').trim(),
    CXXFLAGS: [t.cxxflags ?? t.cflags ?? '', prefixMap].join(' ').trim(),
    CPPFLAGS: `-I${sysroot}/usr/include`,
    LDFLAGS: [t.ldflags ?? '', `-L${sysroot}/usr/lib`, `-Wl,-rpath-link,${sysroot}/usr/lib`].join(' ').trim(),
    PKG_CONFIG: 'pkg-config',
    PKG_CONFIG_SYSROOT_DIR: sysroot,
    PKG_CONFIG_LIBDIR: `${sysroot}/usr/lib/pkgconfig:${sysroot}/usr/share/pkgconfig`,
    PKG_CONFIG_PATH: '',
  };
  for (const [k, v] of Object.entries(stageSpec?.env ?? recipe.env ?? {})) env[k] = String(v);
  return env;
}

/**
 * The environment of a `toolchain: true` recipe's build step (binutils, gcc for the system
 * target): the package runs on the build machine, so `CBUILD` = `CHOST` = the build machine's
 * triplet and `CTARGET` is the system target's triplet (configure's `--target`; Alpine's
 * convention). The build machine's own unprefixed tools (no `CPP`: see below) and
 * {@link BUILD_MACHINE_CFLAGS} compile it; what it compiles for the target (libgcc, libstdc++) gets the target's flags
 * through `CFLAGS_FOR_TARGET`/`CXXFLAGS_FOR_TARGET` (gcc's configure variables). `SYSROOT` is
 * the target's staged sysroot (`--with-sysroot`), `CROSS_COMPILE` the target's tool prefix; the
 * PATH starts with the staged toolchain (e.g. binutils for gcc).
 */
function toolchainBuildEnvironment(input: BuildEnvironmentInput): Record<string, string> {
  const { recipe, stage, systemTarget: t } = input;
  const stageSpec = stage ? recipe.stages?.[stage] : undefined;
  const prefixMap = `-ffile-prefix-map=${SANDBOX.srcdir}=.`;
  const cbuild = buildTriplet();
  const env: Record<string, string> = {
    PATH: CROSS_PATH,
    HOME: '/tmp',
    TMPDIR: '/tmp',
    SHELL: '/bin/sh',
    TERM: 'dumb',
    LC_ALL: 'C',
    TZ: 'UTC',
    CBUILD: cbuild,
    CHOST: cbuild,
    CTARGET: t.triplet,
    CARCH: t.arch,
    KERNEL_ARCH: t.kernel_arch,
    SYSTEM_TARGET: input.systemTargetName ?? '',
    SYSTEM_TARGET_DIR: SANDBOX.systemTargetDir,
    SYSROOT: SANDBOX.sysroot,
    srcdir: SANDBOX.srcdir,
    pkgdir: SANDBOX.pkgdir,
    JOBS: String(input.jobs ?? os.availableParallelism()),
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
    PROFILES: (stageSpec?.profiles ?? []).join(' '),
    CROSS_COMPILE: crossPrefix(t),
    // No CPP: gcc's target libraries (libgcc) run configure with the environment's CPP, which
    // would check the build machine's headers (libgcc then includes a sys/mman.h the target's
    // empty sysroot does not have); gcc passes the other tools to them as *_FOR_TARGET.
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
    CFLAGS: `${BUILD_MACHINE_CFLAGS} ${prefixMap}`,
    CXXFLAGS: `${BUILD_MACHINE_CFLAGS} ${prefixMap}`,
    CPPFLAGS: '',
    LDFLAGS: '',
    CFLAGS_FOR_TARGET: [t.cflags ?? '-O2', prefixMap].join(' ').trim(),
    CXXFLAGS_FOR_TARGET: [t.cxxflags ?? t.cflags ?? '-O2', prefixMap].join(' ').trim(),
    PKG_CONFIG: 'pkg-config',
  };
  for (const [k, v] of Object.entries(stageSpec?.env ?? recipe.env ?? {})) env[k] = String(v);
  return env;
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
  const { recipe, stage, systemTarget: t } = input;
  const stageSpec = stage ? recipe.stages?.[stage] : undefined;
  const prefixMap = `-ffile-prefix-map=${SANDBOX.srcdir}=.`;
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/tmp',
    TMPDIR: '/tmp',
    SHELL: '/bin/sh',
    TERM: 'dumb',
    LC_ALL: 'C',
    TZ: 'UTC',
    CBUILD: t.triplet,
    CHOST: t.triplet,
    CARCH: t.arch,
    KERNEL_ARCH: t.kernel_arch,
    SYSTEM_TARGET: input.systemTargetName ?? '',
    SYSTEM_TARGET_DIR: SANDBOX.systemTargetDir,
    SYSROOT: '',
    srcdir: SANDBOX.srcdir,
    pkgdir: SANDBOX.pkgdir,
    JOBS: String(input.jobs ?? os.availableParallelism()),
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
    PROFILES: (stageSpec?.profiles ?? []).join(' '),
    CROSS_COMPILE: '',
    CC: 'gcc',
    CXX: 'g++',
    CPP: 'gcc -E',
    AR: 'ar',
    RANLIB: 'ranlib',
    LD: 'ld',
    NM: 'nm',
    STRIP: 'strip',
    OBJCOPY: 'objcopy',
    OBJDUMP: 'objdump',
    READELF: 'readelf',
    CFLAGS: [t.cflags ?? '', prefixMap].join(' ').trim(),
    CXXFLAGS: [t.cxxflags ?? t.cflags ?? '', prefixMap].join(' ').trim(),
    CPPFLAGS: '',
    LDFLAGS: t.ldflags ?? '',
    PKG_CONFIG: 'pkg-config',
  };
  for (const [k, v] of Object.entries(stageSpec?.env ?? recipe.env ?? {})) env[k] = String(v);
  return env;
}
