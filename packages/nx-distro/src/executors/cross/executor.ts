import type { ExecutorContext } from '@nx/devkit';
import { buildRecipe } from '../../pipeline/build-recipe';
import { slurmPlacement } from '../../cluster/build-job';
import { buildWorkspaceOf } from '../context';
import type { CrossExecutorOptions } from './schema';

/**
 * `nx-distro:cross`: builds one recipe (or one of its stages) for one system target with the
 * target's external cross toolchain in a bubblewrap sandbox over the build machine's read-only
 * root, with a sysroot of exactly the declared makedepends, and writes its pacman package. For a
 * system target with `builds: native` it builds natively instead, like `nx-distro:native`.
 * The steps are {@link buildRecipe}'s (src/pipeline/build-recipe.ts).
 * @returns `{ success }`; a user's mistake or a failing step is logged, never thrown
 */
export default async function crossExecutor(options: CrossExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return buildRecipe(options, buildWorkspaceOf(context), 'cross', undefined, slurmPlacement(options, context, 'cross'));
}
