import { logger, type ExecutorContext } from '@nx/devkit';
import { recipeFileOf } from '../context';
import type { FetchExecutorOptions } from './schema';

/**
 * `nx-distro:fetch`: makes a recipe's sources available, verified. Not implemented yet: it
 * fails with that message rather than pretend to have fetched anything.
 */
export default async function fetchExecutor(options: FetchExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  logger.error(`${options.recipe ?? recipeFileOf(context)}: fetching sources is not implemented yet: nothing was fetched`);
  return { success: false };
}
