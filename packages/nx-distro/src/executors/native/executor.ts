import type { ExecutorContext } from '@nx/devkit';
import { buildRecipe } from '../../pipeline/build-recipe';
import { slurmPlacement } from '../../cluster/build-job';
import { buildWorkspaceOf } from '../context';
import type { NativeExecutorOptions } from './schema';

/**
 * `nx-distro:native`: builds one recipe (or one of its stages) natively for one system target:
 * in a bubblewrap sandbox whose read-only root is the target's Debian build root
 * (`system:buildroot`, made with mmdebstrap; Nx builds or restores it first) with the recipe's
 * dependencies installed into it, so the build root's own compiler runs, through QEMU user
 * emulation (binfmt_misc) when the target's arch is not the build machine's. The plugin uses it
 * for recipes that say `cross: false`. Writes the same pacman package as `nx-distro:cross`; the
 * steps are {@link buildRecipe}'s (src/pipeline/build-recipe.ts).
 * @returns `{ success }`; a user's mistake or a failing step is logged, never thrown
 */
export default async function nativeExecutor(options: NativeExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return buildRecipe(options, buildWorkspaceOf(context), 'native', undefined, slurmPlacement(options, context, 'native'));
}
