/* Generated from recipe.schema.json by tools/gen-types.mjs: do not edit. */

/**
 * Runtime dependencies: packages installed with this one on the host machine. Also staged into the sysroot of any build that has this package in its `makedepends`.
 *
 * Items: A recipe name, or `name@stageN` for that recipe's reduced stage build.
 */
export type DependencyList = string[];
/**
 * Libraries and headers for the host machine, staged (with their runtime `depends`) into the build sysroot.
 *
 * Items: A recipe name, or `name@stageN` for that recipe's reduced stage build.
 */
export type DependencyList1 = string[];
/**
 * Programs that must run on the build machine during the build (put on the build's PATH, not into the sysroot).
 *
 * Items: A recipe name, or `name@stageN` for that recipe's reduced stage build.
 */
export type DependencyList2 = string[];
/**
 * Items: A recipe name, or `name@stageN` for that recipe's reduced stage build.
 */
export type DependencyList3 = string[];
/**
 * `gnu-configure`: extra arguments appended to `./configure`'s; each entry one argument, `$VAR` expanded as in double quotes.
 */
export type Args = string[];
/**
 * `gnu-configure` and `make`: extra arguments to every `make` of the style (build, check, install); each entry one argument, `$VAR` expanded.
 */
export type Args1 = string[];
/**
 * `cmake`: extra arguments appended to the `cmake` configure command (`-DBUILD_TESTING=OFF`); each entry one argument, `$VAR` expanded.
 */
export type Args2 = string[];
/**
 * `meson`: extra arguments appended to `meson setup` (`-Ddocs=false`); each entry one argument, `$VAR` expanded.
 */
export type Args3 = string[];
/**
 * Entries added to `depends` for this arch.
 *
 * Items: A recipe name, or `name@stageN` for that recipe's reduced stage build.
 */
export type DependencyList4 = string[];
/**
 * Entries added to `makedepends` for this arch.
 *
 * Items: A recipe name, or `name@stageN` for that recipe's reduced stage build.
 */
export type DependencyList5 = string[];
/**
 * Entries added to `makedepends_build` for this arch.
 *
 * Items: A recipe name, or `name@stageN` for that recipe's reduced stage build.
 */
export type DependencyList6 = string[];
export type Args4 = string[];

/**
 * One package recipe, `recipes/<name>/recipe.yaml` (or `recipes/<category>/<name>/recipe.yaml`). Every recipe is one Nx project. This schema is the single source of truth: the TypeScript types in recipe.generated.ts are generated from it and docs/recipe-format.md documents it field by field.
 */
export interface Recipe {
  /**
   * Package name; must equal the recipe's folder name. Lower-case pacman package name: letters, digits and `+ . _ -`, not starting with `-` or `.`.
   */
  name: string;
  /**
   * Upstream version (pacman `pkgver`): no `-`, `:`, `/` or whitespace, at most 128 characters; with the name it must leave the package file name (`<name>-<version>-<release>-<arch>.pkg.tar.zst`) within 229 bytes.
   */
  version: string;
  /**
   * Package release (pacman `pkgrel`), an integer from 1 to 999999, bumped when the recipe changes but the upstream version does not.
   */
  release: number;
  /**
   * One-line summary of the package.
   */
  description: string;
  /**
   * Licenses as SPDX identifiers or expressions (`GPL-2.0-only`, `GPL-2.0-only WITH Linux-syscall-note`, `LicenseRef-...`).
   *
   * @minItems 1
   */
  license: [string, ...string[]];
  /**
   * Upstream project page (http or https URL).
   */
  homepage: string;
  /**
   * Upstream files the build needs (distfiles), each verified by sha256 before use. May be empty.
   */
  sources?: Source[];
  /**
   * Patches applied in order with `patch -p1` semantics, each with the upstream link that carries the change.
   */
  patches?: Patch[];
  depends?: DependencyList;
  /**
   * Virtual packages or other names this package stands for, as pacman's `provides` (`sh`, `libz.so=1-64`, `name=version`): one `provides = ` line each in `.PKGINFO`; pacman satisfies a dependency on the name with this package.
   *
   * @maxItems 64
   */
  provides?: string[];
  /**
   * Packages that cannot be installed with this one, as pacman's `conflicts` (`name`, or `name<2.0` with one of `< <= = >= >`): one `conflict = ` line each in `.PKGINFO`.
   *
   * @maxItems 64
   */
  conflicts?: string[];
  /**
   * Packages this one supersedes (a rename), as pacman's `replaces` (`name`, or with a version constraint as in `conflicts`): one `replaces = ` line each in `.PKGINFO`; `pacman -Su` offers to swap them.
   *
   * @maxItems 64
   */
  replaces?: string[];
  /**
   * Optional runtime dependencies with the reason, as pacman's `optdepends` (`bash-completion: completion for bash`): one `optdepend = ` line each in `.PKGINFO`, runs of whitespace as one space (makepkg); not installed, not staged, shown by `pacman -Qi`.
   *
   * @maxItems 64
   */
  optdepends?: string[];
  /**
   * Configuration files pacman keeps on upgrade and removal (a changed one is saved as `.pacnew`/`.pacsave`), as paths inside the package without a leading `/` (`etc/dropbear/dropbear.conf`): one `backup = ` line each in `.PKGINFO`. Each must be a regular file of the package, or the build fails.
   *
   * @maxItems 256
   */
  backup?: string[];
  /**
   * Package groups this package belongs to (`base`, `base-devel`), as pacman's `groups`: one `group = ` line each in `.PKGINFO`; `pacman -S <group>` installs every member.
   *
   * @maxItems 16
   */
  groups?:
    | []
    | [string]
    | [string, string]
    | [string, string, string]
    | [string, string, string, string]
    | [string, string, string, string, string]
    | [string, string, string, string, string, string]
    | [string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string, string, string, string, string, string, string]
    | [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string
      ]
    | [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string
      ];
  /**
   * The standard split packages written from the same build (`$pkgdir`), after any `subpackages`: `dev` is `<name>-dev` (headers, `usr/lib/*.so` links and linker scripts, static libraries, pkg-config, CMake and aclocal files, section 3 manuals; it depends on `<name>=<version>-<release>`), `doc` is `<name>-doc` (`usr/share/doc`, `usr/share/man`, `usr/share/info`). The package `<name>` keeps the rest. A split that takes no file fails the build. Not applied to stage builds.
   */
  split?: ('dev' | 'doc')[];
  /**
   * Further packages written from the same build, in this order before `split`: each takes the files of `$pkgdir` its `files` patterns match that no earlier one took (Arch's split packages, cports' subpackages). Dependents' sysroots get every package of the recipe; an image installs a subpackage only when a package set names it.
   *
   * @maxItems 32
   */
  subpackages?: {
    /**
     * The package name (pacman rules); unlike the recipe's name and every other package name of the workspace.
     */
    name: string;
    /**
     * Its `pkgdesc`; default the recipe's description with ` (<name>)` appended.
     */
    description?: string;
    /**
     * Glob patterns (picomatch: `*` within one path segment, `**` across them) of paths inside the package without a leading `/` (`usr/bin/*-config`, `usr/share/locale/**`). A pattern that matches a folder takes everything under it.
     *
     * @minItems 1
     * @maxItems 64
     */
    files: [string, ...string[]];
    /**
     * Its runtime dependencies as pacman package names (`name`, or with a version constraint as in `conflicts`), written as `depend = ` lines; default none. The toolchain's C runtime is added when it holds a dynamically linked ELF file, as for the main package.
     *
     * @maxItems 64
     */
    depends?: string[];
  }[];
  makedepends?: DependencyList1;
  makedepends_build?: DependencyList2;
  /**
   * Debian packages of the build machine's programs the build runs (`cmake`, `ninja-build`, `python3`, `perl`), beyond build-essential: tools/setup-host installs them, a cross build fails in one line when one is missing, a native build when the target's build root lacks it (`buildroot.packages`), and their installed versions are part of the build's cache key. The `cmake` and `meson` styles add theirs (`cmake`/`meson` and `ninja-build`).
   */
  host_tools?: string[];
  /**
   * Reduced builds used to break a dependency loop (gcc `stage1` before the C library; Debian's `stage1`/`nocheck` build profiles). Each stage is the Nx target `build--<stage>`; other recipes refer to it as `name@<stage>`. A field a stage leaves out is inherited from the recipe.
   */
  stages?: {
    [k: string]: Stage;
  };
  /**
   * What one build of this recipe needs of a cluster worker when its system target's builds run on Slurm (`execution.kind: slurm`): CPUs (also its `$JOBS`) and memory, instead of the target's `execution.cpus` and `execution.memory_mib`. Unused by local builds.
   */
  resources?: {
    /**
     * CPUs of the build's job (`sbatch --cpus-per-task`).
     */
    cpus?: number;
    /**
     * Memory of the build's job, MiB (`sbatch --mem`).
     */
    memory_mib?: number;
  };
  /**
   * `false` for a package that can only be built natively (in a build root of the host's arch, under QEMU user emulation for a foreign arch).
   */
  cross?: boolean;
  /**
   * `true` for a part of a cross toolchain (binutils, gcc): built for the build machine (GNU host = build, `CHOST` = `CBUILD`, the build machine's own compiler) with the system target's triplet as its GNU target (`$CTARGET`); its package, of the build machine's arch, is put on the PATH (`/build/toolchain`) of the builds that name it in `makedepends_build` and, for a `toolchain: bootstrap` system target that lists it, of every other build. Alpine's `CTARGET` convention.
   */
  toolchain?: boolean;
  /**
   * pacman arch names this recipe builds for, or `any` for every arch. A system target whose arch is not listed gets an explicit no-op build.
   */
  arch?: 'any' | [string, ...string[]];
  /**
   * `nx-distro lint` (docs/recipe-format.md#lint): which of its checks on this recipe's package are errors and which are not run. The recipe's word wins over the system target's `lint`. Checks: `needed-without-depends` (an ELF file's DT_NEEDED library no declared `depends` provides), `depends-not-needed`, `build-rpath` (an RPATH/RUNPATH into the /build sandbox), `build-reference` (a file naming a sandbox path), `fhs-path`, `setuid`, `world-writable`, `symlink-escape`, `libtool-archive`, `arch-mismatch`.
   */
  lint?: {
    /**
     * Checks whose findings are errors: `nx-distro lint` exits 1 and the build fails on one (by default every finding is a warning, printed only).
     */
    errors?: (
      | 'needed-without-depends'
      | 'depends-not-needed'
      | 'build-rpath'
      | 'build-reference'
      | 'fhs-path'
      | 'setuid'
      | 'world-writable'
      | 'symlink-escape'
      | 'libtool-archive'
      | 'arch-mismatch'
    )[];
    /**
     * Checks not reported at all (wins over `errors` of the same field).
     */
    ignore?: (
      | 'needed-without-depends'
      | 'depends-not-needed'
      | 'build-rpath'
      | 'build-reference'
      | 'fhs-path'
      | 'setuid'
      | 'world-writable'
      | 'symlink-escape'
      | 'libtool-archive'
      | 'arch-mismatch'
    )[];
  };
  /**
   * Files of the package that may keep a setuid or setgid bit, as paths inside the package without a leading `/` (`usr/bin/passwd`). Any other setuid or setgid file or folder fails the build, as does a listed path the package does not hold with such a bit.
   *
   * @maxItems 64
   */
  setuid?: string[];
  /**
   * `false` to build without debug information and keep the package's ELF files as built (makepkg's and cports' `!debug`). By default (unless the system target says `debug: false`) the build compiles with `-g`, the sources mapped to `/usr/src/debug/<name>`, links with a GNU build-id, and packaging strips the package's ELF files and moves their debug information into a `<name>-debug` package (`usr/lib/debug/.build-id/xx/yyyy.debug`, and the sources they name under `usr/src/debug/<name>/`; docs/debug-packages.md). Never for a `toolchain: true` recipe nor a stage build, whose files are kept as built.
   */
  debug?: boolean;
  env?: Env1;
  /**
   * Named build style supplying default steps; `steps` override them one by one (docs/recipe-format.md, Build styles). `gnu-configure`: autoconf `./configure --build --host --prefix=/usr`, `make`, `make DESTDIR=$pkgdir install`. `make`: plain `make` with `CC` and flags on the command line. `cmake`: a generated CMake toolchain file, Ninja, `cmake --install` into `$pkgdir`. `meson`: a generated Meson cross file (and native file for the build machine), `meson setup`, `meson install`. `none`: no default steps.
   */
  style?: 'cmake' | 'gnu-configure' | 'make' | 'meson' | 'none';
  /**
   * Sub-folder of `$srcdir` every step (the style's and the recipe's) starts in, as cports' `build_wrksrc` (expat's sources sit in `expat/`): a relative path of plain names, no `.` or `..`.
   */
  build_wrksrc?: string;
  /**
   * `gnu-configure` only: run `autoreconf -fi` before `./configure` (a release or tag archive without a generated `configure`).
   */
  autoreconf?: boolean;
  configure_args?: Args;
  make_args?: Args1;
  cmake_args?: Args2;
  meson_args?: Args3;
  /**
   * Shared step snippets (what eclasses and bbclasses are for): names of shell files `snippets/<name>.sh` at the workspace root whose text, in this order, starts every step of the build (before the step's own text, after the `cd` into `build_wrksrc`): functions and variables two recipes share, e.g. one workaround called from both recipes' steps. The files are part of the cache key of the recipes that name them.
   */
  snippets?: string[];
  steps?: Steps1;
  /**
   * Per-arch changes, keyed by pacman arch name (`riscv64: { env: {...}, configure_args: [...], makedepends: [libatomic-ops] }`), for what one arch needs and the others must not get: applied to builds for a system target of that arch. `env` and `steps` merge key by key over the recipe's (the arch's word wins; an empty step disables the phase); `configure_args`, `make_args`, `cmake_args` and `meson_args` are appended to the recipe's; `autoreconf` replaces it; `depends`, `makedepends` and `makedepends_build` add entries to the recipe's lists for that arch (makepkg's `depends_<arch>`), and stages that inherit a list inherit them too. Nx's task dependencies are per project, not per configuration: every arch's builds are ordered after the union of every arch's lists (a cycle in that union is an error), while each build stages, and each package declares, only its own arch's.
   */
  arch_overrides?: {
    [k: string]: {
      depends?: DependencyList4;
      makedepends?: DependencyList5;
      makedepends_build?: DependencyList6;
      env?: Env;
      steps?: Steps;
      configure_args?: Args4;
      make_args?: Args4;
      cmake_args?: Args4;
      meson_args?: Args4;
      autoreconf?: boolean;
    };
  };
}
export interface Source {
  /**
   * Upstream URL (http, https or file).
   */
  url?: string;
  /**
   * Equivalent upstream URLs, tried in order.
   *
   * @minItems 1
   */
  urls?: [string, ...string[]];
  /**
   * Name of the distfile; defaults to the last path segment of the first URL, percent-decoded, which must then be a file name too: one path segment (no `/`, not `.` or `..`) without whitespace or control characters.
   */
  filename?: string;
  /**
   * Lower-case hex sha256 of the file's exact bytes.
   */
  sha256: string;
  /**
   * Debian source package `NAME=VERSION` whose orig tarball is byte-identical to this file (fetched with `apt-get source --download-only`).
   */
  apt?: string;
  /**
   * Whether to unpack the archive into `$srcdir` (default true for archives), optionally stripping leading path components like `tar --strip-components` (default 1) and into a sub-folder; `member` unpacks an archive held inside this one instead (a Debian orig tarball that holds the upstream tarball).
   */
  extract?:
    | boolean
    | {
        strip?: number;
        into?: string;
        /**
         * Path of an archive inside this one, as the outer archive names it (e.g. `gcc-12-12.2.0/gcc-12.2.0-dfsg.tar.xz`): the outer archive is unpacked aside, then only this member is unpacked into `$srcdir` with `strip` and `into`; the rest of the outer archive is dropped.
         */
        member?: string;
      };
}
export interface Patch {
  /**
   * Patch file, relative to the recipe folder.
   */
  file: string;
  /**
   * Link to the bug report or commit that carries the change upstream (Debian rebootstrap's rule: no patch without one).
   */
  upstream: string;
}
export interface Stage {
  makedepends?: DependencyList3;
  makedepends_build?: DependencyList3;
  depends?: DependencyList3;
  /**
   * Build profiles active in this stage (Debian's `stage1`, `nocheck`, `nodoc`, ...), exported to the steps as `$PROFILES` (space-separated).
   */
  profiles?: string[];
  env?: Env;
  steps?: Steps;
}
export interface Env {
  [k: string]: string;
}
export interface Steps {
  /**
   * After extraction and patching: regenerate build files, apply sed fixes.
   */
  prepare?: string;
  /**
   * Configure the build for `$CHOST` on `$CBUILD`.
   */
  configure?: string;
  /**
   * Compile.
   */
  build?: string;
  /**
   * Run the test suite (skipped for cross builds whose tests cannot run, and under the `nocheck` profile).
   */
  check?: string;
  /**
   * Install into `$pkgdir` (the DESTDIR); the only step in which `$pkgdir` is writable.
   */
  install?: string;
}
/**
 * Build-environment preseeding: variables exported to every step (autoconf cache answers such as `ac_cv_func_malloc_0_nonnull: yes` for cross builds).
 */
export interface Env1 {
  [k: string]: string;
}
/**
 * Shell for each phase, run in order with `set -e` from `$srcdir`.
 */
export interface Steps1 {
  /**
   * After extraction and patching: regenerate build files, apply sed fixes.
   */
  prepare?: string;
  /**
   * Configure the build for `$CHOST` on `$CBUILD`.
   */
  configure?: string;
  /**
   * Compile.
   */
  build?: string;
  /**
   * Run the test suite (skipped for cross builds whose tests cannot run, and under the `nocheck` profile).
   */
  check?: string;
  /**
   * Install into `$pkgdir` (the DESTDIR); the only step in which `$pkgdir` is writable.
   */
  install?: string;
}
