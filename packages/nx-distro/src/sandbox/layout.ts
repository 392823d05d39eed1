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
