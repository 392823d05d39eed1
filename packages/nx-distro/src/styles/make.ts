import type { Recipe } from '../model/recipe.generated';
import { withArgs } from './args';
import type { StyleSteps } from './style';

/**
 * `make`: a plain Makefile; the toolchain and flags are passed on make's command line, the
 * recipe's `make_args` after them (build, check and install).
 * @param recipe the recipe whose style options apply
 */
export function make(recipe: Recipe): StyleSteps {
  return {
    build: withArgs('make -j"$JOBS" CC="$CC" AR="$AR" RANLIB="$RANLIB" CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS"', recipe.make_args),
    check: withArgs('make check', recipe.make_args),
    install: withArgs('make DESTDIR="$pkgdir" PREFIX=/usr install', recipe.make_args),
  };
}
