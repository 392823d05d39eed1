import { logger, type ExecutorContext } from '@nx/devkit';
import { failureReport } from '../model/errors';
import type { BuildWorkspace } from '../pipeline/build-recipe';
import { RECIPE_FILE } from '../model/recipe';
import { normalizeOptions, pluginEntryOptions, type NormalizedOptions } from '../model/plugin-options';
import { loadTargetNamed, type LoadedSystemTarget } from '../model/system-target';

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

/** The workspace of the build this executor runs, as `buildRecipe` takes it (pipeline/build-recipe.ts): root, plugin options, project roots, the project's recipe. */
export function buildWorkspaceOf(context: ExecutorContext): BuildWorkspace {
  return {
    root: context.root,
    pluginOptions: pluginOptionsOf(context),
    projectRoots: new Map(Object.entries(context.projectsConfigurations.projects).map(([name, p]) => [name, p.root])),
    ...(context.projectName ? { recipeFile: recipeFileOf(context), projectName: context.projectName } : {}),
  };
}

/** What {@link systemTargetOf} gives an executor that works on one system target. */
export interface SystemTargetTask {
  /** Absolute workspace root. */
  readonly root: string;
  /** The plugin's options, defaults filled in. */
  readonly pluginOptions: NormalizedOptions;
  /** The system target the task runs for (its file loaded and validated). */
  readonly loaded: LoadedSystemTarget;
}

/**
 * The preamble of an executor of one system target: the plugin options from nx.json and the
 * system target named by the task's options, loaded from the targets folder.
 * @throws {InputError} when no such system target exists or its file is invalid (call it inside
 *   the executor's `try`, whose `catch` is {@link taskFailed})
 */
export function systemTargetOf(options: { readonly systemTarget?: string }, context: ExecutorContext): SystemTargetTask {
  const pluginOptions = pluginOptionsOf(context);
  return { root: context.root, pluginOptions, loaded: loadTargetNamed(context.root, pluginOptions.targetsDir, options.systemTarget) };
}

/** How {@link taskFailed} treats an error that {@link failureReport} does not know. */
export interface TaskFailureOptions {
  /** Workspace-relative folders the task writes, named by a disk-full message. */
  readonly writing?: readonly string[];
  /**
   * `rethrow` (the default): a bug, which Nx prints with its stack. `log`: logged as
   * `<subject>: <message>` (the stack only with `NX_VERBOSE_LOGGING=true`), for the image steps,
   * whose other errors are the messages of the tools they run (pacman, mksquashfs, QEMU).
   */
  readonly otherErrors?: 'rethrow' | 'log';
}

/**
 * The failure path every executor shares: a user's mistake, a reported failure or a full file
 * system ({@link failureReport}, model/errors.ts) is logged as its one-line message, never with a
 * stack trace, and becomes `{ success: false }`.
 * @param subject the task's subject (`zlib`, `image`, the system target's name)
 * @throws anything else, unchanged, unless `options.otherErrors` is `log`
 */
export function taskFailed(e: unknown, subject: string, options: TaskFailureOptions = {}): { success: false } {
  const report = failureReport(e, subject, options.writing ?? []);
  if (report !== undefined) {
    logger.error(report);
    return { success: false };
  }
  if (options.otherErrors !== 'log') throw e;
  const err = e instanceof Error ? e : new Error(String(e));
  logger.error(`${subject}: ${err.message}`);
  if (process.env.NX_VERBOSE_LOGGING === 'true' && err.stack) logger.error(err.stack);
  return { success: false };
}
