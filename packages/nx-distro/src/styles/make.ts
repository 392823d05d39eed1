import type { StyleSteps } from './index';

/** `make`: a plain Makefile; the toolchain and flags are passed on make's command line. */
export const make: StyleSteps = {
  build: 'make -j"$JOBS" CC="$CC" AR="$AR" RANLIB="$RANLIB" CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS"',
  check: 'make check',
  install: 'make DESTDIR="$pkgdir" PREFIX=/usr install',
};
