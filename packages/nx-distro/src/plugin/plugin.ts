import path from 'node:path';
import {
  AggregateCreateNodesError,
  DependencyType,
  type CreateDependencies,
  type CreateNodes,
  type CreateNodesResult,
  type PostTasksExecution,
  type PreTasksExecution,
  type RawProjectGraphDependency,
  cacheDir,
} from '@nx/devkit';
import { PluginCache, calculateHashesForCreateNodes, workspaceDataDirectory } from '@nx/devkit/internal';
import { failureSummary } from '../pipeline/failure-summary';
import { recordRun, signaturesDir } from '../explain/signatures';
import { recordCacheEntries, unservedEntries, unservedHint } from '../explain/unindexed';
import { assertHostReady } from '../build-machine/requirements';
import { hostNeedsOfRun } from '../build-machine/run-needs';
import { bootstrapRecipeNames, bootstrapToolchainErrors } from '../model/bootstrap-toolchain';
import { InputError, InputErrors, quote } from '../model/errors';
import { buildRecipeGraph, projectDependencies, type RecipeGraph } from '../model/graph';
import { RECIPE_FILE, readRecipe, type LoadedRecipe } from '../model/recipe';
import { splitPackageSpecs } from '../model/split-packages';
import { loadSystemTargets, type LoadedSystemTarget } from '../model/system-target';
import { normalizeOptions, type NxDistroPluginOptions } from '../model/plugin-options';
import { requestedConfiguration } from './requested-configuration';
import { writeRunReport } from '../run-report/report';
import { RECIPE_TAG, systemProject } from './system-project';
import { SYSTEM_PROJECT } from './system-tasks';
import { buildrootInput, pluginInputs, recipeTargets, toolchainInput, type TargetContext } from './targets';

/** Glob of recipe files: `recipes/<name>/recipe.yaml`, or one category level deeper. */
export const RECIPE_GLOB = `recipes/{*,*/*}/${RECIPE_FILE}`;

/** Bump when the cached shape of a parsed recipe changes. */
const CACHE_VERSION = '1';

/** The last graph built by createNodes, reused by createDependencies in the same process. */
let lastGraph: RecipeGraph | undefined;

function toAggregate(errors: Array<[string, Error]>, results: Array<[string, CreateNodesResult]>): AggregateCreateNodesError {
  const aggregate = new AggregateCreateNodesError(errors, results);
  // Nx prints `message` of each error; a user's mistake needs no stack trace.
  for (const [, e] of errors) if (e instanceof InputError) e.stack = e.message;
  return aggregate;
}

/**
 * Reads every recipe (from the parse cache when its folder's hash is unchanged), checks them
 * against each other and returns one Nx project per valid recipe.
 * @throws {AggregateCreateNodesError} with one `[file, InputError]` per problem in any recipe or
 *   system target, plus the projects that were fine (so Nx can still report them)
 */
export const createNodes: CreateNodes<NxDistroPluginOptions> = [
  RECIPE_GLOB,
  async (files, rawOptions, context) => {
    const options = normalizeOptions(rawOptions);
    const errors: Array<[string, Error]> = [];
    const reproduceTargets: unknown = rawOptions?.reproduceTargets;
    if (reproduceTargets !== undefined && typeof reproduceTargets !== 'boolean') {
      errors.push(['nx.json', new InputError('nx.json', 'plugins[nx-distro].options.reproduceTargets', `must be true or false, not ${JSON.stringify(reproduceTargets)}`, 'write true (the default) or false')]);
    }
    const runReport: unknown = rawOptions?.runReport;
    if (runReport !== undefined && typeof runReport !== 'boolean') {
      errors.push(['nx.json', new InputError('nx.json', 'plugins[nx-distro].options.runReport', `must be true or false, not ${JSON.stringify(runReport)}`, 'write true (the default) or false')]);
    }
    // A bad system target file must not hide the recipes' errors: both are read and reported
    // together; without valid targets no project is made.
    let systemTargets: LoadedSystemTarget[] | undefined;
    try {
      systemTargets = loadSystemTargets(context.workspaceRoot, options.targetsDir);
    } catch (e) {
      if (!(e instanceof InputErrors)) throw e;
      for (const err of e.errors) errors.push([err.file, err]);
    }
    if (systemTargets && !systemTargets.some((t) => t.name === options.defaultSystemTarget)) {
      const err = new InputError('nx.json', 'plugins[nx-distro].options.defaultSystemTarget', `no system target ${quote(options.defaultSystemTarget)}`, `use one of: ${systemTargets.map((t) => t.name).join(', ')}`);
      errors.push(['nx.json', err]);
      systemTargets = undefined;
    }

    const roots = files.map((f) => path.posix.dirname(f));
    const hashes = await calculateHashesForCreateNodes(roots, { v: CACHE_VERSION }, context);
    const cache = new PluginCache<LoadedRecipe>(path.join(workspaceDataDirectory, 'nx-distro-recipes.hash'));
    const loaded: LoadedRecipe[] = [];
    const broken = new Set<string>();
    try {
      files.forEach((file, i) => {
        const key = hashes[i];
        // A hit is the parse of these very bytes, read earlier from a regular file (the key
        // hashes the folder's content); a recipe since turned into a link to the same bytes is
        // refused by every executor, which reads it again (readRecipe).
        const hit = cache.get(key);
        if (hit && hit.file === file) {
          loaded.push(hit);
          return;
        }
        try {
          const r = readRecipe(context.workspaceRoot, file);
          cache.set(key, r);
          loaded.push(r);
        } catch (e) {
          if (!(e instanceof InputErrors)) throw e;
          broken.add(path.posix.basename(roots[i]));
          for (const err of e.errors) errors.push([file, err]);
        }
      });
    } finally {
      cache.writeToDisk();
    }

    const graph = buildRecipeGraph(loaded, broken);
    lastGraph = graph;
    for (const err of graph.errors) errors.push([err.file, err]);
    // Split packages: each name belongs to one recipe of the workspace.
    const splitPackageOwners = new Map<string, string>();
    for (const r of graph.recipes.values()) {
      for (const spec of splitPackageSpecs(r.recipe)) {
        const field = spec.field.startsWith('subpackages') ? `${spec.field}.name` : spec.field;
        const other = graph.recipes.has(spec.name) ? `the recipe ${graph.recipes.get(spec.name)!.file}` : splitPackageOwners.has(spec.name) ? `a split package of ${graph.recipes.get(splitPackageOwners.get(spec.name)!)!.file}` : undefined;
        if (other) errors.push([r.file, new InputError(r.file, field, `package name ${quote(spec.name)} is also ${other}`, 'give the split package a name no other package of the workspace has')]);
        else splitPackageOwners.set(spec.name, r.recipe.name);
      }
    }

    if (!systemTargets) throw toAggregate(errors, []);
    for (const err of bootstrapToolchainErrors(systemTargets, graph, broken)) errors.push([err.file, err]);

    const ctx: TargetContext = {
      options,
      splitPackageOwners,
      systemTargets,
      pluginInputs: pluginInputs(context.workspaceRoot),
      toolchainInput: toolchainInput(context.workspaceRoot, options.targetsDir),
      buildrootInput: buildrootInput(context.workspaceRoot),
      bootstrapRecipes: bootstrapRecipeNames(systemTargets),
    };
    const results: Array<[string, CreateNodesResult]> = [];
    if (graph.nodes.size) {
      for (const r of graph.recipes.values()) {
        results.push([
          r.file,
          {
            projects: {
              [r.root]: {
                name: r.recipe.name,
                root: r.root,
                projectType: 'library',
                tags: [RECIPE_TAG],
                targets: recipeTargets(r, graph.nodes, ctx),
                metadata: { description: r.recipe.description, version: `${r.recipe.version}-${r.recipe.release}` },
              },
            },
          },
        ]);
      }
    }
    if (graph.recipes.has(SYSTEM_PROJECT)) {
      const r = graph.recipes.get(SYSTEM_PROJECT)!;
      errors.push([r.file, new InputError(r.file, 'name', `${quote(SYSTEM_PROJECT)} is the name of the project of the system targets`, 'rename the recipe')]);
    } else {
      const anchor = systemTargets.find((t) => t.name === options.defaultSystemTarget)!.file;
      results.push([anchor, { projects: { [options.targetsDir]: systemProject(options.targetsDir, ctx) } }]);
    }
    if (errors.length) throw toAggregate(errors, results);
    return results;
  },
];

/**
 * Static project dependencies from every recipe's `depends`, `makedepends`,
 * `makedepends_build` and stage lists, each with the recipe file as `sourceFile`.
 */
export const createDependencies: CreateDependencies<NxDistroPluginOptions> = (_options, context) => {
  const graph = lastGraph;
  if (!graph) return [];
  const deps: RawProjectGraphDependency[] = [];
  for (const [source, target, sourceFile] of projectDependencies(graph)) {
    if (!context.projects[source] || !context.projects[target]) continue;
    deps.push({ source, target, sourceFile, type: DependencyType.static });
  }
  return deps;
};

/**
 * Before any task runs: refuses a `--configuration` that is not a system target (Nx itself
 * would silently run a task's default configuration instead, i.e. build for another arch); then,
 * when the command asks for `build`/`build--<stage>` tasks, checks that this machine can build
 * for the requested system target (or the default one): sandbox, toolchain, QEMU through
 * binfmt_misc, free disk space (src/build-machine/requirements.ts). Set `NX_DISTRO_SKIP_HOST_CHECK=1`
 * to skip that host check. First of all it records the names of the entries in Nx's cache folder
 * (`<workspace data>/nx-distro-signatures/cache-entries-before.json`), so that the run's end can
 * name the tasks that ran although the folder held their entry (src/explain/unindexed.ts).
 * @throws {InputError} `targets/<name>.yaml: no such system target; ...`
 * @throws {HostNotReadyError} one `host: <what>; fix: <fix>` line per thing the machine lacks
 */
export const preTasksExecution: PreTasksExecution<NxDistroPluginOptions> = (rawOptions, context) => {
  try {
    recordCacheEntries(signaturesDir(workspaceDataDirectory), cacheDir);
  } catch {
    // only a hint depends on it
  }
  const requested = requestedConfiguration(context.argv);
  const needs = hostNeedsOfRun(context.argv);
  if (requested === undefined && !needs.build) return;
  const options = normalizeOptions(rawOptions);
  const systemTargets = loadSystemTargets(context.workspaceRoot, options.targetsDir);
  const names = systemTargets.map((t) => t.name);
  if (requested !== undefined && !names.includes(requested)) {
    const err = new InputError(`${options.targetsDir}/${requested}.yaml`, '', 'no such system target', `pass --configuration with one of: ${names.join(', ')}`);
    err.stack = err.message;
    throw err;
  }
  const systemTarget = systemTargets.find((t) => t.name === (requested ?? options.defaultSystemTarget));
  if (systemTarget) assertHostReady(systemTarget, context.workspaceRoot, needs);
};

/**
 * Nx's hook after a run: records every task's signature (its hash and the hash of each input,
 * Nx's `hashDetails`) in `<workspace data>/nx-distro-signatures`, which `nx-distro explain`
 * compares to say why a task missed the cache (docs/cache-keys.md); then writes the run report,
 * `<distDir>/run-report/latest.html` (src/run-report/report.ts; plugin option `runReport`).
 * A failure of either is a warning, never a failed run.
 */
export const postTasksExecution: PostTasksExecution<NxDistroPluginOptions> = (rawOptions, context) => {
  const options = normalizeOptions(rawOptions);
  try {
    recordRun(signaturesDir(workspaceDataDirectory), context.workspaceRoot, options.targetsDir, Object.values(context.taskResults), context.endTime);
  } catch (e) {
    console.warn(`nx-distro: could not record the tasks' signatures for \`nx-distro explain\`: ${(e as Error).message}`);
  }
  try {
    const unserved = unservedEntries(signaturesDir(workspaceDataDirectory), cacheDir, Object.values(context.taskResults), context.argv);
    if (unserved.length) console.warn(unservedHint(unserved, cacheDir, workspaceDataDirectory));
  } catch {
    // a hint only
  }
  try {
    // One line per failed task, with its step, log and rescue shell (pipeline/failure-summary.ts).
    for (const line of failureSummary(context.workspaceRoot, context.taskResults)) console.error(line);
  } catch {
    // a summary only: each task printed its own failure
  }
  if (!options.runReport) return;
  try {
    writeRunReport(context, options.distDir);
  } catch (e) {
    console.warn(`nx-distro: could not write the run report: ${(e as Error).message}`);
  }
};
