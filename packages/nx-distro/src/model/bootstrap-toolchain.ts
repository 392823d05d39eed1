import { InputError, quote } from './errors';
import { parseDependencyRef } from './dependency-ref';
import type { RecipeGraph } from './graph';
import type { LoadedSystemTarget } from './system-target';
import type { SystemTarget } from './target.generated';

/**
 * The recipes of a `toolchain: bootstrap` system target, split by where their packages go in
 * every other build of that target (after crosstool-NG and Alpine's bootstrap.sh: the cross
 * tools on the PATH, the C library and kernel headers in the sysroot).
 */
export interface BootstrapToolchain {
  /** Recipes with `toolchain: true` (binutils, gcc): build-machine programs, staged at `/build/toolchain`, in list order. */
  readonly tools: readonly string[];
  /** The other listed recipes (the C library, the kernel headers): staged into `/build/sysroot`, in list order. */
  readonly sysroot: readonly string[];
  /** Recipes a package with a dynamically linked ELF file depends on at run time (`toolchain.runtime`). */
  readonly runtime: readonly string[];
}

/** The bootstrap toolchain of a system target, or undefined for an external toolchain. */
export function bootstrapToolchain(target: SystemTarget, isTool: (recipe: string) => boolean): BootstrapToolchain | undefined {
  const t = target.toolchain;
  if (t.kind !== 'bootstrap') return undefined;
  return {
    tools: t.recipes.filter((n) => isTool(n)),
    sysroot: t.recipes.filter((n) => !isTool(n)),
    runtime: t.runtime ?? [],
  };
}

/**
 * Every recipe named by some system target's `toolchain.recipes` (sorted): their builds are the
 * toolchain, so they never wait for `system:toolchain` themselves.
 */
export function bootstrapRecipeNames(systemTargets: readonly LoadedSystemTarget[]): string[] {
  const names = new Set<string>();
  for (const { target } of systemTargets) if (target.toolchain.kind === 'bootstrap') for (const n of target.toolchain.recipes) names.add(n);
  return [...names].sort();
}

/**
 * Checks the bootstrap toolchains of the system targets against the recipe graph: every listed
 * recipe exists, `runtime` names listed recipes, and every build dependency (of the final build
 * and each stage, transitively through the graph's closure) of a listed recipe is listed too, as
 * those builds run before the toolchain exists and must not wait for it.
 * @returns one error per problem, naming the target file and the field (`toolchain.recipes`, `toolchain.runtime`)
 */
export function bootstrapToolchainErrors(systemTargets: readonly LoadedSystemTarget[], graph: RecipeGraph, brokenNames: ReadonlySet<string> = new Set()): InputError[] {
  const errors: InputError[] = [];
  for (const { file, target } of systemTargets) {
    const t = target.toolchain;
    if (t.kind !== 'bootstrap') continue;
    const listed = new Set(t.recipes);
    t.recipes.forEach((name, i) => {
      if (!graph.recipes.has(name) && !brokenNames.has(name)) errors.push(new InputError(file, `toolchain.recipes[${i}]`, `no recipe ${quote(name)}`, 'add recipes/<name>/recipe.yaml or remove the entry'));
    });
    (t.runtime ?? []).forEach((name, i) => {
      if (!listed.has(name)) errors.push(new InputError(file, `toolchain.runtime[${i}]`, `${quote(name)} is not one of toolchain.recipes`, `add it to toolchain.recipes or remove it here`));
    });
    const missing = new Map<string, string>(); // dependency -> first build that needs it
    for (const name of t.recipes) {
      const r = graph.recipes.get(name);
      if (!r) continue;
      const keys = [name, ...Object.keys(r.recipe.stages ?? {}).map((s) => `${name}@${s}`)];
      for (const key of keys) {
        const node = graph.nodes.get(key);
        for (const dep of [...(node?.sysroot ?? []), ...(node?.tools ?? [])]) {
          const depName = parseDependencyRef(dep).name;
          if (!listed.has(depName) && !missing.has(depName)) missing.set(depName, key);
        }
      }
    }
    for (const [depName, key] of missing) {
      errors.push(new InputError(file, 'toolchain.recipes', `${key} needs ${depName}, which is not in the list (the toolchain's own builds cannot wait for the toolchain)`, `add ${depName} to toolchain.recipes`));
    }
  }
  return errors;
}
