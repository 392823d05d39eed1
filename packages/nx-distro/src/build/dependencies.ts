import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseDependencyRef } from '../model/dependency-ref';
import { InputError, InputErrors, quote } from '../model/errors';
import { buildRecipeGraph, type NodeDependencies } from '../model/graph';
import { readRecipe, RECIPE_FILE, type LoadedRecipe } from '../model/recipe';
import { packageFolder, pkgnameOfFile } from '../packages/layout';
import { debugPackageName } from '../packages/debug-info';

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
 * The package files a dependency's build wrote: the `*.pkg.tar.zst` files in
 * `<distDir>/<systemTarget>/packages/<node>/` (or `build-machine/<node>/` for a `toolchain: true`
 * recipe, packages/layout.ts): the package of the recipe's name and its split packages
 * (`subpackages`, `split`; packages/split.ts), not its `-debug` package. Nx restores them from the cache when the build
 * was not rerun.
 * @param nodeKey `name` or `name@stageN`
 * @returns absolute package paths, sorted; empty when that build wrote no package (an arch it
 *   does not support, or a recipe the external toolchain stands in for)
 */
export function dependencyPackages(workspaceRoot: string, distDir: string, systemTarget: string, nodeKey: string): string[] {
  for (const toolchain of [false, true]) {
    const dir = path.join(workspaceRoot, distDir, ...packageFolder(systemTarget, nodeKey, toolchain));
    if (!existsSync(dir)) continue;
    // Not its debug package (packages/debug-info.ts): debuggers read it, builds do not.
    const debugName = debugPackageName(nodeKey.split('@')[0]);
    const files = readdirSync(dir).filter((f) => /\.pkg\.tar\.zst$/.test(f) && !f.startsWith('.') && pkgnameOfFile(f) !== debugName);
    if (files.length) return files.sort().map((f) => path.join(dir, f));
  }
  return [];
}

/**
 * The package of the recipe's own name among {@link dependencyPackages} (the file
 * `<name>-<version>-<release>-<arch>.pkg.tar.zst`), not one of its split packages.
 * @param nodeKey `name` or `name@stageN`
 * @returns the absolute package path, or null when that build wrote no package of that name
 */
export function dependencyPackage(workspaceRoot: string, distDir: string, systemTarget: string, nodeKey: string): string | null {
  const name = nodeKey.split('@')[0];
  return dependencyPackages(workspaceRoot, distDir, systemTarget, nodeKey).find((f) => pkgnameOfFile(path.basename(f)) === name) ?? null;
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
