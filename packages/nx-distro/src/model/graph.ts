import { InputError, quote } from './errors';
import { buildSpec, recipeForAnyArch, recipeForArch, type LoadedRecipe } from './recipe';
import type { Recipe } from './recipe.generated';
import { nodeKey, parseDependencyRef } from './dependency-ref';

/**
 * The build dependencies of one build node (`name` or `name@stageN`), as graph node keys.
 * In the graph of every arch ({@link buildRecipeGraph} without `arch`), a node's build task
 * depends on exactly these builds; in one arch's graph, they are what its build stages.
 */
export interface NodeDependencies {
  /** Packages staged into the build sysroot: `makedepends` and their runtime `depends`, transitively. */
  readonly sysroot: readonly string[];
  /** Packages whose programs run on the build machine: `makedepends_build` and their runtime `depends`. */
  readonly tools: readonly string[];
}

/** The checked recipe graph: what the plugin turns into Nx projects, targets and edges. */
export interface RecipeGraph {
  /** Valid recipes by name. */
  readonly recipes: ReadonlyMap<string, LoadedRecipe>;
  /** Build dependencies of every build node (final builds and stages), by node key. */
  readonly nodes: ReadonlyMap<string, NodeDependencies>;
  /** Every cross-recipe problem found (duplicates, unknown names or stages, cycles). */
  readonly errors: readonly InputError[];
}

const DEP_FIELDS = ['depends', 'makedepends', 'makedepends_build'] as const;

/** Every dependency list of a recipe with its field path: the recipe's own, each stage's and each `arch_overrides` entry's. */
function* dependencyLists(r: LoadedRecipe): Generator<[field: string, entries: readonly string[]]> {
  for (const f of DEP_FIELDS) if (r.recipe[f]) yield [f, r.recipe[f]!];
  for (const [stage, spec] of Object.entries(r.recipe.stages ?? {})) {
    for (const f of DEP_FIELDS) if (spec[f]) yield [`stages.${stage}.${f}`, spec[f]!];
  }
  for (const [arch, spec] of Object.entries(r.recipe.arch_overrides ?? {})) {
    for (const f of DEP_FIELDS) if (spec[f]) yield [`arch_overrides.${arch}.${f}`, spec[f]!];
  }
}

/** Levenshtein distance, bounded: returns `max + 1` as soon as it is exceeded. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

function closestName(name: string, names: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const n of names) {
    const d = distance(name, n, bestD - 1);
    if (d < bestD) {
      best = n;
      bestD = d;
    }
  }
  return best;
}

/**
 * Checks the recipes against each other and computes every build node's dependencies.
 *
 * Edges: a build node depends on the builds of its `makedepends` and `makedepends_build`
 * entries and, transitively, of their runtime `depends` (which must be in the sysroot or on the
 * PATH with them). A stage node uses its stage's lists, inheriting the recipe's where it has
 * none. Runtime `depends` alone never order builds, so a runtime loop (a needs b, b needs a at
 * run time) is not a cycle.
 *
 * `arch_overrides` lists: with `arch`, the lists are the ones a build for that arch sees
 * (`recipeForArch`): what the executor stages. Without it, every arch's entries are added
 * (`recipeForAnyArch`): the graph the plugin gives Nx, whose task dependencies cannot differ
 * between configurations, and in which cycles are sought (a cycle there would be one in Nx's
 * task graph for every configuration). References are checked in every list either way.
 *
 * @param recipes the recipes that loaded without error
 * @param brokenNames names of recipes that exist but failed to load: references to them are not
 *   reported again as unknown
 * @param arch a system target's pacman arch name, or undefined for the graph of every arch
 * @returns the graph, with `errors` listing every duplicate name, unknown recipe, unknown stage
 *   and cycle (each cycle once, as `a -> b -> a` with the files involved)
 */
export function buildRecipeGraph(recipes: readonly LoadedRecipe[], brokenNames: ReadonlySet<string> = new Set(), arch?: string): RecipeGraph {
  const errors: InputError[] = [];
  const byName = new Map<string, LoadedRecipe>();
  const duplicates = new Map<string, LoadedRecipe[]>();
  for (const r of recipes) {
    const other = byName.get(r.recipe.name);
    if (other) duplicates.set(r.recipe.name, [...(duplicates.get(r.recipe.name) ?? [other]), r]);
    else byName.set(r.recipe.name, r);
  }
  for (const [name, all] of duplicates) {
    for (const r of all) {
      const others = all.filter((o) => o !== r).map((o) => o.file);
      errors.push(new InputError(r.file, 'name', `duplicate recipe name ${quote(name)} (also ${others.join(', ')})`, 'rename one recipe and its folder'));
    }
    byName.delete(name);
  }

  // Reference checks: every entry must name a recipe and, with @stage, one of its stages.
  // A bad entry is left out of the edges below, so the cycles among the rest are still found
  // in the same run; the graph then has no nodes.
  let badRefs = false;
  const badEntries = new Map<string, Set<string>>();
  const markBad = (name: string, entry: string) => {
    badRefs = true;
    badEntries.set(name, (badEntries.get(name) ?? new Set()).add(entry));
  };
  for (const r of byName.values()) {
    for (const [field, entries] of dependencyLists(r)) {
      // The build node this list belongs to: `stages.<stage>.<field>` is that stage's, the rest the final build's.
      const ownStage = field.startsWith('stages.') ? field.split('.')[1] : undefined;
      entries.forEach((entry, i) => {
        const ref = parseDependencyRef(entry);
        const target = byName.get(ref.name);
        if (ref.name === r.recipe.name && ref.stage === ownStage) {
          errors.push(new InputError(r.file, `${field}[${i}]`, `${quote(entry)} depends on itself`, 'remove the entry (to build with an earlier build of itself, depend on a stage: name@stage1)'));
          markBad(r.recipe.name, entry);
        } else if (!target) {
          if (brokenNames.has(ref.name) || duplicates.has(ref.name)) {
            markBad(r.recipe.name, entry);
            return;
          }
          const hint = closestName(ref.name, byName.keys());
          errors.push(
            new InputError(r.file, `${field}[${i}]`, `unknown recipe ${quote(ref.name)}`,
              hint ? `did you mean ${quote(hint)}? (or add recipes/${ref.name}/recipe.yaml)` : `add recipes/${ref.name}/recipe.yaml or fix the name`),
          );
          markBad(r.recipe.name, entry);
        } else if (ref.stage && !target.recipe.stages?.[ref.stage]) {
          const stages = Object.keys(target.recipe.stages ?? {});
          errors.push(
            new InputError(r.file, `${field}[${i}]`, `recipe ${quote(ref.name)} has no stage ${quote(ref.stage)}`,
              stages.length ? `use one of: ${stages.map((s) => `${ref.name}@${s}`).join(', ')}` : `declare stages.${ref.stage} in ${target.file}`),
          );
          markBad(r.recipe.name, entry);
        }
      });
    }
  }

  const nodes = new Map<string, NodeDependencies>();
  // The recipes as this graph's builds see their dependency lists (one arch's, or every arch's).
  const views = new Map<string, Recipe>();
  for (const [name, r] of byName) views.set(name, arch === undefined ? recipeForAnyArch(r.recipe) : recipeForArch(r.recipe, arch));
  /** A recipe's dependency list without the entries reported above. */
  const usable = (name: string, entries: readonly string[]) => {
    const bad = badEntries.get(name);
    return bad ? entries.filter((e) => !bad.has(e)) : entries;
  };

  // Runtime closure: node -> packages needed with it at run time (via `depends`, transitively).
  const depsOf = (key: string): readonly string[] => {
    const ref = parseDependencyRef(key);
    return usable(ref.name, buildSpec(views.get(ref.name)!, ref.stage).depends);
  };
  /** Breadth-first closure of `start` over runtime depends; `via` records the path for messages. */
  const closure = (start: readonly string[], via: Map<string, string>): string[] => {
    const out: string[] = [];
    const seen = new Set<string>();
    const queue = [...start];
    for (const s of start) seen.add(s);
    while (queue.length) {
      const k = queue.shift()!;
      out.push(k);
      for (const d of depsOf(k)) {
        if (!seen.has(d)) {
          seen.add(d);
          via.set(d, k);
          queue.push(d);
        }
      }
    }
    return out.sort();
  };

  const vias = new Map<string, Map<string, string>>();
  for (const r of byName.values()) {
    for (const stage of [undefined, ...Object.keys(r.recipe.stages ?? {})]) {
      const key = nodeKey(r.recipe.name, stage);
      const spec = buildSpec(views.get(r.recipe.name)!, stage);
      const via = new Map<string, string>();
      const sysroot = closure(usable(r.recipe.name, spec.makedepends), via);
      const tools = closure(usable(r.recipe.name, spec.makedepends_build), via);
      nodes.set(key, { sysroot, tools });
      vias.set(key, via);
    }
  }
  errors.push(...findCycles(nodes, vias, byName));
  return { recipes: byName, nodes: badRefs ? new Map() : nodes, errors };
}

/** Tarjan's strongly connected components, iterative; returns the components with a cycle. */
function cyclicComponents(nodes: ReadonlyMap<string, NodeDependencies>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const succ = (k: string) => {
    const n = nodes.get(k)!;
    return n.tools.length ? [...n.sysroot, ...n.tools] : n.sysroot;
  };
  for (const root of nodes.keys()) {
    if (index.has(root)) continue;
    const work: Array<[string, number]> = [[root, 0]];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      const s = succ(v);
      if (i < s.length) {
        frame[1]++;
        const w = s[i];
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent)!, low.get(v)!));
      }
      if (low.get(v) === index.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || succ(v).includes(v)) out.push(comp);
      }
    }
  }
  return out;
}

function findCycles(
  nodes: ReadonlyMap<string, NodeDependencies>,
  vias: ReadonlyMap<string, Map<string, string>>,
  byName: ReadonlyMap<string, LoadedRecipe>,
): InputError[] {
  const errors: InputError[] = [];
  for (const comp of cyclicComponents(nodes)) {
    const inComp = new Set(comp);
    const start = [...comp].sort()[0];
    // Shortest path start -> ... -> start inside the component (breadth-first).
    const parent = new Map<string, string>();
    const queue = [start];
    let last: string | undefined;
    outer: while (queue.length) {
      const v = queue.shift()!;
      const n = nodes.get(v)!;
      for (const w of [...n.sysroot, ...n.tools]) {
        if (w === start) {
          last = v;
          break outer;
        }
        if (inComp.has(w) && !parent.has(w)) {
          parent.set(w, v);
          queue.push(w);
        }
      }
    }
    const hops: string[] = [last!];
    while (hops[0] !== start) hops.unshift(parent.get(hops[0])!);
    // Expand each build edge v -> w reached through runtime depends into the full chain.
    const loop: string[] = [start];
    for (let i = 0; i < hops.length; i++) {
      const from = hops[i];
      const to = i + 1 < hops.length ? hops[i + 1] : start;
      const via = vias.get(from)!;
      const chain: string[] = [to];
      while (via.has(chain[0])) chain.unshift(via.get(chain[0])!);
      loop.push(...chain);
    }
    const files = [...new Set(loop.map((k) => byName.get(parseDependencyRef(k).name)!.file))];
    errors.push(
      new InputError(files[0], '', `dependency cycle: ${loop.join(' -> ')} (recipes: ${files.join(', ')})`,
        'break it with a stage: give one recipe a reduced build under `stages: { stage1: { makedepends: [...] } }` and depend on it as name@stage1'),
    );
  }
  return errors;
}

/**
 * Project-level dependencies for the Nx project graph: for every recipe, the distinct recipes
 * named in any of its dependency lists (stages and `arch_overrides` included), without self-references.
 * @returns `[source, target, sourceFile]` triples; `sourceFile` is the workspace-relative recipe file
 */
export function projectDependencies(graph: RecipeGraph): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  for (const r of graph.recipes.values()) {
    const targets = new Set<string>();
    for (const [, entries] of dependencyLists(r)) for (const e of entries) targets.add(parseDependencyRef(e).name);
    targets.delete(r.recipe.name);
    for (const t of [...targets].sort()) if (graph.recipes.has(t)) out.push([r.recipe.name, t, r.file]);
  }
  return out;
}
