import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { readRecipe } from '../../model/recipe';
import { publishDistfiles, type PublishedDistfile } from '../../sources/distfiles-output';
import { distfileRequest, fetchDistfile } from '../../sources/fetch';
import { fetchSetup } from '../../sources/settings';
import { pluginOptionsOf, recipeFileOf, taskFailed } from '../context';
import type { FetchExecutorOptions } from './schema';

/**
 * `nx-distro:fetch`: makes a recipe's sources available, verified. Every `sources` entry is
 * taken from the distfiles store (re-verified) or fetched into it (mirrors, URLs, Debian source
 * package), then the output folder `<distDir>/sources/<name>/` gets the files (hard links) and a
 * `SHA256SUMS` list. Arch-independent; Nx caches the output, so a remote cache can restore it
 * on a machine that never downloaded anything.
 * @returns `{ success }`; a user's mistake, an unavailable file or a full file system is logged as one line, never thrown
 */
export default async function fetchExecutor(options: FetchExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const root = context.root;
  const pluginOptions = pluginOptionsOf(context);
  let storeRoot = '';
  try {
    const recipeFile = options.recipe ?? recipeFileOf(context);
    const { recipe } = readRecipe(root, recipeFile);
    const { store, settings } = fetchSetup(root, pluginOptions);
    storeRoot = store.root;
    const published: PublishedDistfile[] = [];
    const sources = recipe.sources ?? [];
    for (const [index, source] of sources.entries()) {
      const request = distfileRequest(recipeFile, index, source);
      const filename = request.filename;
      const outcome = await fetchDistfile(store, request, settings, (line) => logger.info(`${recipe.name}: ${line}`));
      if (outcome.from === 'store') logger.info(`${recipe.name}: ${filename}: in the distfiles store, sha256 verified`);
      published.push({ filename, sha256: source.sha256, path: outcome.path });
    }
    await publishDistfiles(path.join(root, pluginOptions.distDir, 'sources', recipe.name), published);
    logger.info(`${recipe.name}: ${sources.length} source file(s) ready in ${pluginOptions.distDir}/sources/${recipe.name} (store ${store.root})`);
    return { success: true };
  } catch (e) {
    return taskFailed(e, context.projectName ?? 'fetch', { writing: [storeRoot || 'the distfiles store', `${pluginOptions.distDir}/sources`] });
  }
}
