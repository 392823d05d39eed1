import { InputError, quote } from '../model/errors';

/**
 * Which package goes into which layer of a layered image.
 *
 * A system target's `package_sets` form a tree: `base` at the root, every other set stacked
 * `on` another (the Gentoo build-helper's worlds and `worlds/tree`). Each set is one image
 * layer: a squashfs mounted as an overlayfs lowerdir above the layers it is stacked on.
 *
 * The rule: a set *needs* every package of its runtime dependency closure (its own packages,
 * their `depend` entries, transitively; `base` also needs the extra base packages, the
 * toolchain's C runtime). A package is installed once, in the lowest layer under every set that
 * needs it: the set itself when one chain needs it, the sets' common ancestor when sibling sets
 * both need it. So a package is never in two layers, every stack `base … S` holds everything S
 * needs, and every layer's dependencies lie in that layer or below it (a dependency is needed
 * by at least the sets that need its dependent), which is what lets pacman install the layers
 * in order, checking dependencies as it goes.
 */

/** A built package the plan can draw on (from its `.PKGINFO`). */
export interface AvailablePackage {
  /** `pkgname`. */
  readonly name: string;
  /** `pkgver` as pacman shows it (`<pkgver>-<pkgrel>`). */
  readonly version: string;
  /** `depend` entries, verbatim (`readline`, `zlib>=1.2`). */
  readonly depends: readonly string[];
  /** `provides` entries, verbatim (`sh`, `libfoo=1.0`). */
  readonly provides: readonly string[];
  /** Absolute path of the package file. */
  readonly file: string;
}

/** One package placed in a layer. */
export interface PlannedPackage {
  readonly name: string;
  readonly version: string;
  readonly file: string;
  /** Named by some set (or an extra base package), not only pulled in as a dependency: pacman's install reason. */
  readonly explicit: boolean;
}

/** One layer: a package set and the packages installed in it. */
export interface LayerPlan {
  /** Set name (`base`, `tools`). */
  readonly set: string;
  /** The set it is stacked on; `null` for `base`. */
  readonly on: string | null;
  /** Distance from `base` (0 for base). */
  readonly depth: number;
  /** Packages installed in this layer, sorted by name. */
  readonly packages: readonly PlannedPackage[];
  /** Every package installed in the stack `base … set` (this layer and the layers below), sorted by name. */
  readonly stack: readonly string[];
}

/** Inputs of {@link planLayers}. */
export interface PlanOptions {
  /** Workspace-relative target file, for errors (`targets/aarch64.yaml`). */
  readonly file: string;
  /** Packages every system of the target needs in `base` (e.g. `toolchain-runtime`), when built. */
  readonly basePackages?: readonly string[];
  /**
   * Why a package named by a set has no built package and how to fix it, e.g.
   * `no package built for aarch64 (dist/aarch64/packages/lua/); run nx run lua:build -c aarch64`.
   */
  readonly missing: (name: string) => string;
}

/** A dependency no built package satisfies; `message` names the package, the dependency and the set. */
export class UnsatisfiedDependency extends Error {}

/** The name part of a dependency or provision: `zlib>=1.2` → `zlib`, `libfoo=1.0` → `libfoo`. */
export function dependencyName(entry: string): string {
  const m = /^[^<>=]+/.exec(entry.trim());
  return m ? m[0] : entry.trim();
}

/**
 * The sets ordered for stacking: base first, then by depth (distance from base), then by name.
 * Every set comes after the set it is stacked on.
 * @param sets `package_sets` of a target file, already checked (base exists, every `on` names a set, no loop)
 */
export function stackOrder(sets: Readonly<Record<string, { readonly on?: string }>>): Array<{ set: string; on: string | null; depth: number }> {
  const depth = (name: string): number => {
    let d = 0;
    for (let cur = sets[name].on; cur !== undefined; cur = sets[cur].on) d++;
    return d;
  };
  return Object.keys(sets)
    .map((set) => ({ set, on: sets[set].on ?? null, depth: depth(set) }))
    .sort((a, b) => a.depth - b.depth || (a.set < b.set ? -1 : a.set > b.set ? 1 : 0));
}

/**
 * Plans the layers of a target's package sets (the rule is in this file's header comment).
 * Dependencies resolve to the package of that name, else to the first package (by name) that
 * `provides` it; version constraints are left to pacman, which checks them when it installs.
 * @param sets `package_sets` of the target file, already checked by `loadSystemTargets`
 * @param available every package built for the target, at most one per name
 * @returns one plan per set in {@link stackOrder}
 * @throws InputError `<file>: package_sets.<set>.packages: "<name>": <missing(name)>` for a named
 *   package that was not built (the first one found)
 * @throws UnsatisfiedDependency when a needed package depends on something no built package provides
 */
export function planLayers(
  sets: Readonly<Record<string, { readonly on?: string; readonly packages: readonly string[] }>>,
  available: readonly AvailablePackage[],
  options: PlanOptions,
): LayerPlan[] {
  const byName = new Map(available.map((p) => [p.name, p]));
  const providers = new Map<string, AvailablePackage>();
  for (const p of [...available].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    for (const prov of p.provides) {
      const n = dependencyName(prov);
      if (!providers.has(n)) providers.set(n, p);
    }
  }
  const resolve = (dep: string): AvailablePackage | undefined => byName.get(dependencyName(dep)) ?? providers.get(dependencyName(dep));

  const order = stackOrder(sets);
  const explicit = new Set<string>();
  /** For every package, the sets whose closure holds it. */
  const neededBy = new Map<string, Set<string>>();
  for (const { set } of order) {
    const roots: AvailablePackage[] = [];
    for (const name of sets[set].packages) {
      const p = byName.get(name);
      if (!p) throw new InputError(options.file, `package_sets.${set}.packages`, `${quote(name)}: ${options.missing(name)}`);
      roots.push(p);
      explicit.add(p.name);
    }
    if (set === 'base') {
      for (const name of options.basePackages ?? []) {
        const p = byName.get(name);
        if (!p) continue;
        roots.push(p);
        explicit.add(p.name);
      }
    }
    const seen = new Set<string>();
    const queue = [...roots];
    while (queue.length) {
      const p = queue.shift()!;
      if (seen.has(p.name)) continue;
      seen.add(p.name);
      for (const dep of p.depends) {
        const d = resolve(dep);
        if (!d) throw new UnsatisfiedDependency(`${p.name} ${p.version} (${p.file}) depends on ${dep}, which no package built for the target provides (needed by package set ${set} of ${options.file}); build the package that provides it or remove ${p.name} from the set`);
        if (!seen.has(d.name)) queue.push(d);
      }
    }
    for (const name of seen) {
      const s = neededBy.get(name) ?? new Set<string>();
      s.add(set);
      neededBy.set(name, s);
    }
  }

  const chain = (set: string): string[] => {
    const out: string[] = [];
    for (let cur: string | undefined = set; cur !== undefined; cur = sets[cur].on) out.unshift(cur);
    return out;
  };
  /** Lowest common ancestor of sets: the longest common prefix of their chains from base. */
  const commonBase = (names: Iterable<string>): string => {
    let prefix: string[] | undefined;
    for (const n of names) {
      const c = chain(n);
      if (prefix === undefined) prefix = c;
      else {
        let i = 0;
        while (i < prefix.length && i < c.length && prefix[i] === c[i]) i++;
        prefix = prefix.slice(0, i);
      }
    }
    return prefix![prefix!.length - 1];
  };

  const inLayer = new Map<string, PlannedPackage[]>(order.map(({ set }) => [set, []]));
  for (const [name, needers] of [...neededBy.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const p = byName.get(name)!;
    inLayer.get(commonBase(needers))!.push({ name, version: p.version, file: p.file, explicit: explicit.has(name) });
  }
  return order.map(({ set, on, depth }) => ({
    set,
    on,
    depth,
    packages: inLayer.get(set)!,
    stack: chain(set).flatMap((s) => inLayer.get(s)!.map((p) => p.name)).sort(),
  }));
}
