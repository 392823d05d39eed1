import type { Recipe } from '../model/recipe.generated';
import { withArgs } from './args';
import type { StyleSteps } from './style';

/**
 * `./configure`'s arguments of the `gnu-configure` style, before the recipe's `configure_args`.
 * `CONFIG_SHELL` is `/bin/sh` unless the recipe's `env` sets it: without it, an autoconf
 * `configure` run by dash (Debian's `/bin/sh`, which has no `LINENO`) looks for a better shell,
 * finds the build machine's bash and reruns itself under it, and the scripts it makes
 * (`#!@SHELL@`: xzdiff, egrep, gunzip) start with `#!/bin/bash`, which a system of busybox does
 * not have (autoconf's manual, "Defining Variables", on `CONFIG_SHELL`).
 */
export const CONFIGURE = 'CONFIG_SHELL="${CONFIG_SHELL:-/bin/sh}" ./configure --build="$CBUILD" --host="$CHOST" --prefix=/usr --sysconfdir=/etc --localstatedir=/var --disable-static';

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
