import { logger, type ExecutorContext } from '@nx/devkit';
import { InputError, InputErrors } from '../model/errors';
import type { BuildWorkspace } from '../build/build-recipe';
import { RECIPE_FILE } from '../model/recipe';
import { normalizeOptions, pluginEntryOptions, type NormalizedOptions } from '../model/plugin-options';

/** Workspace-relative `<projectRoot>/recipe.yaml` of the project being run. */
export function recipeFileOf(context: ExecutorContext): string {
  const project = context.projectsConfigurations.projects[context.projectName!];
  return `${project.root}/${RECIPE_FILE}`;
}

/** The nx-distro plugin's options as nx.json gives them (no defaults filled in), undefined when it gives none. */
export function rawPluginOptionsOf(context: Pick<ExecutorContext, 'nxJsonConfiguration'>): object | undefined {
  return pluginEntryOptions(context.nxJsonConfiguration?.plugins);
}

/** The nx-distro plugin options from nx.json, defaults filled in. */
export function pluginOptionsOf(context: ExecutorContext): NormalizedOptions {
  return normalizeOptions(rawPluginOptionsOf(context));
}

/** The workspace of the build this executor runs, as `buildRecipe` takes it (build/build-recipe.ts): root, plugin options, project roots, the project's recipe. */
export function buildWorkspaceOf(context: ExecutorContext): BuildWorkspace {
  return {
    root: context.root,
    pluginOptions: pluginOptionsOf(context),
    projectRoots: new Map(Object.entries(context.projectsConfigurations.projects).map(([name, p]) => [name, p.root])),
    ...(context.projectName ? { recipeFile: recipeFileOf(context), projectName: context.projectName } : {}),
  };
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
