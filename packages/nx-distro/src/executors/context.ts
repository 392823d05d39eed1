import type { ExecutorContext } from '@nx/devkit';
import { RECIPE_FILE } from '../model/recipe';
import { normalizeOptions, type NormalizedOptions } from '../plugin/options';

/** Workspace-relative `<projectRoot>/recipe.yaml` of the project being run. */
export function recipeFileOf(context: ExecutorContext): string {
  const project = context.projectsConfigurations.projects[context.projectName!];
  return `${project.root}/${RECIPE_FILE}`;
}

/** The nx-distro plugin options from nx.json, defaults filled in. */
export function pluginOptionsOf(context: ExecutorContext): NormalizedOptions {
  const entry = context.nxJsonConfiguration?.plugins?.find((p) => (typeof p === 'string' ? p : p.plugin) === 'nx-distro');
  return normalizeOptions(typeof entry === 'object' ? (entry.options as object) : undefined);
}
