import type { StyleSteps } from './index';

/**
 * `gnu-configure`: an autoconf package (GNU Coding Standards' configure interface), as in
 * cbuild's gnu_configure build style and Funtoo From Scratch's templates.
 */
export const gnuConfigure: StyleSteps = {
  configure: './configure --build="$CBUILD" --host="$CHOST" --prefix=/usr --sysconfdir=/etc --localstatedir=/var --disable-static',
  build: 'make -j"$JOBS"',
  check: 'make -j"$JOBS" check',
  install: 'make DESTDIR="$pkgdir" install',
};
