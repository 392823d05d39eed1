import type { Recipe } from '../model/recipe.generated';
import { withArgs } from './args';
import type { StyleSteps } from './index';

/** `./configure`'s arguments of the `gnu-configure` style, before the recipe's `configure_args`. */
export const CONFIGURE = './configure --build="$CBUILD" --host="$CHOST" --prefix=/usr --sysconfdir=/etc --localstatedir=/var --disable-static';

/**
 * `gnu-configure`: an autoconf package (GNU Coding Standards' configure interface), as in
 * cbuild's gnu_configure build style and Funtoo From Scratch's templates. `autoreconf: true`
 * regenerates `configure` first (`autoreconf -fi`, in the configure step); `configure_args` are
 * appended to `./configure`, `make_args` to every `make`.
 * @param recipe the recipe whose style options apply
 */
export function gnuConfigure(recipe: Recipe): StyleSteps {
  const make = (args: string) => withArgs(`make ${args}`, recipe.make_args);
  return {
    configure: `${recipe.autoreconf ? 'autoreconf -fi\n' : ''}${withArgs(CONFIGURE, recipe.configure_args)}`,
    build: make('-j"$JOBS"'),
    check: make('-j"$JOBS" check'),
    install: make('DESTDIR="$pkgdir" install'),
  };
}
