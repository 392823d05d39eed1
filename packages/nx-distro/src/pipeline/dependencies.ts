import { parseDependencyRef } from '../model/dependency-ref';
import { InputError, InputErrors, quote } from '../model/errors';
import { buildRecipeGraph, type NodeDependencies } from '../model/graph';
import { readRecipe, RECIPE_FILE, type LoadedRecipe } from '../model/recipe';

/**
 * The build dependencies of one build node (`name` or `name@stageN`) for one arch: the packages
 * staged into its sysroot and the ones whose programs it runs. Loads only the recipes reachable
 * from the node (through every dependency list, every arch's), never the whole tree, then applies
 * the same rules as the plugin's graph (graph.ts) with that arch's `arch_overrides`, so the
 * executor stages what the graph ordered, less what only other arches need.
 * @param workspaceRoot absolute workspace root
 * @param projectRoots recipe name → workspace-relative project root (from Nx's project configurations)
 * @param arch the system target's pacman arch name (`riscv64`)
 * @throws {InputErrors} when a reachable recipe is invalid or missing
 */
export function nodeDependencies(workspaceRoot: string, projectRoots: ReadonlyMap<string, string>, start: LoadedRecipe, stage: string | undefined, arch: string): NodeDependencies {
  const loaded = new Map<string, LoadedRecipe>([[start.recipe.name, start]]);
  const queue: LoadedRecipe[] = [start];
  while (queue.length) {
    const r = queue.pop()!;
    const lists = [r.recipe, ...Object.values(r.recipe.stages ?? {}), ...Object.values(r.recipe.arch_overrides ?? {})].flatMap((s) => [s.depends, s.makedepends, s.makedepends_build]);
    for (const entry of lists.flatMap((l) => l ?? [])) {
      const { name } = parseDependencyRef(entry);
      if (loaded.has(name)) continue;
      const root = projectRoots.get(name);
      if (!root) throw new InputErrors([new InputError(r.file, '', `depends on ${quote(name)}, which is not a project of this workspace`, 'add the recipe or remove the entry')]);
      const file = `${root}/${RECIPE_FILE}`;
      const next = readRecipe(workspaceRoot, file);
      loaded.set(name, next);
      queue.push(next);
    }
  }
  const graph = buildRecipeGraph([...loaded.values()], undefined, arch);
  if (graph.errors.length) throw new InputErrors(graph.errors);
  return graph.nodes.get(stage ? `${start.recipe.name}@${stage}` : start.recipe.name)!;
}

/**
 * Loads one recipe of the workspace by name (e.g. a system target's toolchain recipe).
 * @param projectRoots recipe name → workspace-relative project root (from Nx's project configurations)
 * @param referrer workspace-relative file and field that name the recipe, for the error
 * @throws {InputErrors} when no such project exists or its recipe is invalid
 */
export function loadRecipeNamed(workspaceRoot: string, projectRoots: ReadonlyMap<string, string>, name: string, referrer: { file: string; field: string }): LoadedRecipe {
  const root = projectRoots.get(name);
  if (!root) throw new InputErrors([new InputError(referrer.file, referrer.field, `no recipe ${quote(name)} in this workspace`, 'add the recipe or remove the entry')]);
  const file = `${root}/${RECIPE_FILE}`;
  return readRecipe(workspaceRoot, file);
}
