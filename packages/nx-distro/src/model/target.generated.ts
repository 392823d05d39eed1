/* Generated from target.schema.json by tools/gen-types.mjs: do not edit. */

/**
 * One system target, `targets/<name>.yaml`: the machine a build is for. Each file is an Nx configuration named after the file, present on every per-arch Nx target of every recipe. This schema is the single source of truth for target.generated.ts and docs/target-format.md.
 */
export interface SystemTarget {
  /**
   * One-line summary.
   */
  description?: string;
  /**
   * pacman arch name of the host machine (`x86_64`, `aarch64`, `armv7h`, `riscv64`), at most 16 characters; written into packages and matched against a recipe's `arch`.
   */
  arch: string;
  /**
   * GNU triplet of the host machine (`CHOST`, configure's `--host`), e.g. `aarch64-linux-gnu`.
   */
  triplet: string;
  /**
   * Linux kernel `ARCH=` value (`x86`, `arm64`, `arm`, `riscv`).
   */
  kernel_arch: string;
  /**
   * `CFLAGS` for the host machine (also the default `CXXFLAGS`).
   */
  cflags?: string;
  /**
   * `CXXFLAGS`; defaults to `cflags`.
   */
  cxxflags?: string;
  /**
   * `LDFLAGS` for the host machine.
   */
  ldflags?: string;
  /**
   * QEMU user-mode emulator that runs host-machine binaries on the build machine (e.g. `qemu-aarch64-static`), used for native builds and checks. Empty when the build machine runs them directly.
   */
  qemu: string;
  /**
   * `cross` (default): recipes are cross-compiled unless they say `cross: false`; `native`: every recipe is built natively in a build root of the host's arch.
   */
  builds?: 'cross' | 'native';
  /**
   * `false` to build every recipe of this target without debug information and without `-debug` packages (a recipe's own `debug: false` turns it off for that recipe alone). Default `true`: compiled with `-g`, the shipped ELF files stripped, their debug information in `<name>-debug` packages (docs/debug-packages.md).
   */
  debug?: boolean;
  /**
   * Where this target's package builds (`nx-distro:cross`, `nx-distro:native`) run on a cache miss: on this machine (`kind: local`, the default) or each as one job of a Slurm cluster (`kind: slurm`, docs/slurm.md). The environment variable `NX_DISTRO_EXECUTION` (`local` or `slurm`) overrides `kind` for one run. Not part of any cache key: a build writes the same bytes wherever it runs.
   */
  execution?: {
    /**
     * `local` (default) or `slurm`.
     */
    kind?: 'local' | 'slurm';
    /**
     * Slurm partition of the jobs (`sbatch --partition`); the cluster's default when absent.
     */
    partition?: string;
    /**
     * CPUs of each job (`--cpus-per-task`, and the build's `$JOBS`) unless the recipe's `resources.cpus` says otherwise; default 1.
     */
    cpus?: number;
    /**
     * Memory of each job, MiB (`--mem`), unless the recipe's `resources.memory_mib` says otherwise; the cluster's default when absent.
     */
    memory_mib?: number;
    /**
     * Node feature a worker must have (`--constraint`), e.g. the build machine's arch (`x86_64`) so that every cross build runs on the same kind of machine, or the target's arch where the cluster has native workers.
     */
    constraint?: string;
    /**
     * Wall-clock limit of each job, minutes (`--time`); the partition's default when absent.
     */
    time_limit_minutes?: number;
  };
  /**
   * Where the compiler for the host machine comes from.
   */
  toolchain:
    | {
        /**
         * `external`: a prebuilt cross toolchain installed on the build machine.
         */
        kind: 'external';
        /**
         * Program prefix, e.g. `aarch64-linux-gnu-` (so the compiler is `aarch64-linux-gnu-gcc`).
         */
        prefix: string;
        /**
         * Absolute path of the toolchain's own sysroot (its C library and headers), e.g. `/usr/aarch64-linux-gnu`.
         */
        sysroot: string;
        /**
         * Debian packages that provide the toolchain on the build machine (installed by tools/setup-host).
         */
        packages?: string[];
        /**
         * Recipes this toolchain stands in for (e.g. `binutils`, `gcc`): their builds for this target are explicit, logged no-ops that write no package, and nothing of theirs is staged; the toolchain on the build machine is used instead.
         */
        provides?: string[];
      }
    | {
        /**
         * `bootstrap`: the toolchain is built from recipes through their stages (gcc stage1, the C library, the final gcc), with the build machine's compiler, for this target's triplet; nothing of the build machine's cross compilers or C library is used.
         */
        kind: 'bootstrap';
        /**
         * Toolchain recipes, in the order a person would name them (the graph decides the real order): the ones with `toolchain: true` (binutils, gcc) are put on the PATH of every other build (`/build/toolchain/usr/bin`, `CC=<triplet>-gcc`), the others (the C library, the kernel headers) staged into every other build's sysroot. Every dependency of these recipes must be one of them.
         *
         * @minItems 1
         */
        recipes: [string, ...string[]];
        /**
         * Toolchain recipes every package holding a dynamically linked ELF file depends on at run time (the C library: `[musl]`), as `toolchain-runtime` is for an external toolchain.
         */
        runtime?: string[];
      };
  /**
   * The Debian build root in which recipes of this target are built natively (`cross: false` recipes, or every recipe with `builds: native`): made by `nx run system:buildroot -c <target>` with mmdebstrap from the build machine's apt sources, cached by Nx like any build. A target without it cannot build natively (such a build fails, naming this field).
   */
  buildroot?: {
    /**
     * Debian architecture of the host machine (`amd64`, `arm64`, `armhf`); one the build machine's Debian release ships.
     */
    debian_arch: string;
    /**
     * Debian suite (codename); default: the build machine's own (`VERSION_CODENAME` in /etc/os-release).
     */
    suite?: string;
    /**
     * mmdebstrap `--variant`; `buildd` (Essential, apt, build-essential) by default.
     */
    variant?: 'buildd' | 'minbase' | 'essential' | 'apt' | 'required' | 'important' | 'standard';
    /**
     * Further Debian packages installed into the build root: build tools the recipes' steps run (`pkgconf`, `autoconf`, ...).
     */
    packages?: string[];
  };
  /**
   * Package sets to build and install, keyed by set name. `base` is required; any other set names the set it is stacked on (`on`), so images can be layered: a package is installed in the lowest layer that needs it, never twice.
   */
  package_sets: {
    [k: string]: {
      /**
       * The set this one is stacked on.
       */
      on?: string;
      /**
       * Package names: recipes, or split packages a recipe writes (`zlib-dev`).
       */
      packages: string[];
    };
  };
  /**
   * `nx-distro lint` for every package of this target (docs/target-format.md#lint): which checks are errors (the build fails on them; `nx-distro lint` exits 1) and which are not run; a recipe's own `lint` wins. Check names as in the recipe's `lint`.
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
   * How the bootable image is assembled and booted.
   */
  image?: {
    /**
     * Recipe providing the kernel.
     */
    kernel?: string;
    /**
     * Path of the kernel image inside the kernel build (e.g. `arch/arm64/boot/Image`).
     */
    kernel_image?: string;
    /**
     * Serial console device for the kernel command line (`ttyS0`, `ttyAMA0`).
     */
    console?: string;
    /**
     * QEMU system emulator (`qemu-system-aarch64`).
     */
    qemu_system?: string;
    /**
     * QEMU `-machine` value.
     */
    machine?: string;
    /**
     * QEMU `-cpu` value.
     */
    cpu?: string;
    /**
     * Guest memory in MiB.
     */
    memory_mib?: number;
    /**
     * `separate` (a cpio beside the kernel, QEMU's `-initrd`) or `builtin` (unified single file: not supported yet, the image step refuses it).
     */
    initramfs?: 'separate' | 'builtin';
    /**
     * `Server` URL of the target's repository in the image's `/etc/pacman.conf` (section `[<target>]`), as the installed system reaches it: where `dist/<target>/repo` is copied, mounted or served (`https://example.org/nx-distro/aarch64`).
     */
    repository_server?: string;
    /**
     * Time limit of one boot in `system:boot` (QEMU without KVM emulates the CPU: allow minutes).
     */
    boot_timeout_seconds?: number;
  };
}
