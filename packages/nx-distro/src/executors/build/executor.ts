import { readFileSync } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { InputError, InputErrors } from '../../model/errors';
import { loadRecipe } from '../../model/recipe';
import { loadSystemTargets, recipeSupportsArch } from '../../model/system-target';
import { ArchiveError } from '../../sources/extract';
import { PatchError } from '../../sources/patch';
import { prepareSources, SourceVerificationError } from '../../sources/prepare';
import { pluginOptionsOf, recipeFileOf } from '../context';
import type { BuildExecutorOptions } from './schema';

/**
 * `nx-distro:build`: builds one recipe (or stage) for one system target.
 *
 * Today it resolves and checks what the build needs (recipe, system target, arch support),
 * makes a recipe that does not support the target's arch an explicit, logged no-op, and
 * prepares `srcdir` (`<workspace>/tmp/build/<systemTarget>/<name>[@stage]/src`: the fetch
 * output re-verified, unpacked and patched). Building itself (cross and native sandboxes,
 * packages) is not here yet: it then fails with that message rather than pretend to have built
 * anything.
 * @returns `{ success }`; a user's mistake is logged as one line, never thrown
 */
export default async function buildExecutor(options: BuildExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const root = context.root;
    const { targetsDir, distDir } = pluginOptionsOf(context);
    const systemTargets = loadSystemTargets(root, targetsDir);
    const systemTarget = systemTargets.find((t) => t.name === options.systemTarget);
    if (!systemTarget) {
      throw new InputError(`${targetsDir}/${options.systemTarget ?? '<none>'}.yaml`, '', 'no such system target',
        `pass --configuration with one of: ${systemTargets.map((t) => t.name).join(', ')}`);
    }
    const recipeFile = options.recipe ?? recipeFileOf(context);
    const loaded = loadRecipe(root, recipeFile, readFileSync(path.join(root, recipeFile), 'utf8'));
    const { recipe } = loaded;
    const what = `${recipe.name}${options.stage ? `@${options.stage}` : ''}`;
    if (!recipeSupportsArch(recipe.arch, systemTarget.target.arch)) {
      logger.info(`${what}: nothing to build for ${systemTarget.name} (arch ${systemTarget.target.arch} is not in the recipe's arch list: ${(recipe.arch as string[]).join(', ')})`);
      return { success: true };
    }
    const srcdir = path.join(root, 'tmp', 'build', systemTarget.name, what, 'src');
    const prepared = await prepareSources(root, loaded, path.join(root, distDir, 'sources', recipe.name), srcdir);
    logger.info(`${what}: srcdir ${path.relative(root, srcdir)} prepared: ${prepared.distfiles.length} distfile(s) verified and unpacked, ${prepared.patches.length} patch(es) applied`);
    logger.error(`${what}: building for ${systemTarget.name} (${systemTarget.target.triplet}) is not implemented yet: no package was written`);
    return { success: false };
  } catch (e) {
    if (e instanceof InputError || e instanceof InputErrors || e instanceof ArchiveError || e instanceof PatchError || e instanceof SourceVerificationError) {
      logger.error(e.message);
      return { success: false };
    }
    throw e;
  }
}
