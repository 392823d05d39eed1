import { logger, type ExecutorContext } from '@nx/devkit';
import { InputError, InputErrors } from '../model/errors';
import { RECIPE_FILE } from '../model/recipe';
import { normalizeOptions, type NormalizedOptions } from '../plugin/options';

/** Workspace-relative `<projectRoot>/recipe.yaml` of the project being run. */
export function recipeFileOf(context: ExecutorContext): string {
  const project = context.projectsConfigurations.projects[context.projectName!];
  return `${project.root}/${RECIPE_FILE}`;
}

/** The nx-distro plugin's options as nx.json gives them (no defaults filled in), undefined when it gives none. */
export function rawPluginOptionsOf(context: Pick<ExecutorContext, 'nxJsonConfiguration'>): object | undefined {
  const entry = context.nxJsonConfiguration?.plugins?.find((p) => (typeof p === 'string' ? p : p.plugin) === 'nx-distro');
  return typeof entry === 'object' ? (entry.options as object | undefined) : undefined;
}

/** The nx-distro plugin options from nx.json, defaults filled in. */
export function pluginOptionsOf(context: ExecutorContext): NormalizedOptions {
  return normalizeOptions(rawPluginOptionsOf(context));
}

/**
 * The failure path of an executor whose only expected errors are a user's mistakes: an
 * {@link InputError} or {@link InputErrors} is logged as its one-line message (no stack trace)
 * and becomes `{ success: false }`.
 * @throws anything else, unchanged (a bug: Nx prints it with its stack)
 */
export function failOnInputError(e: unknown): { success: false } {
  if (e instanceof InputError || e instanceof InputErrors) {
    logger.error(e.message);
    return { success: false };
  }
  throw e;
}
