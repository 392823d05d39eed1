import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TargetConfiguration, TargetDependencyConfig } from '@nx/devkit';
import type { InputDefinition } from '@nx/devkit/internal';
import { BUILD_TARGET, FETCH_TARGET, buildTargetName, parseDependencyRef } from '../model/dependency-ref';
import type { NodeDependencies } from '../model/graph';
import type { LoadedRecipe } from '../model/recipe';
import type { LoadedSystemTarget } from '../model/system-target';
import { ABI_MANIFEST_FILE } from '../packages/abi-manifest';
import type { NormalizedOptions } from './options';
import { BUILDROOT_TARGET, SYSTEM_PROJECT } from './system-project';

/** Absolute folder of the plugin package (where package.json is). */
export const PLUGIN_DIR = path.resolve(__dirname, '..', '..');

/** The values shared by every target of every recipe in one createNodes call. */
export interface TargetContext {
  readonly options: NormalizedOptions;
  readonly systemTargets: readonly LoadedSystemTarget[];
  /** Input that makes the plugin's own code part of the cache key (a fileset or the npm package). */
  readonly pluginInput: InputDefinition;
  /** Runtime input printing the identity (version, binary sha256) of every external toolchain. */
  readonly toolchainInput: InputDefinition;
  /** Runtime input naming the build machine's release and apt sources (for the build roots). */
  readonly buildrootInput: InputDefinition;
}

/**
 * The environment variable `SOURCE_DATE_EPOCH` as an input of every task that writes dates into
 * its output (packages, build roots, rootfs, image, source bundle): the same recipe built with
 * another explicit epoch has other bytes, so it must have another key. (Without the variable the
 * epoch is the commit time of the recipe's or target file's last commit, which is the same in
 * every clone of one commit; see docs/cache-keys.md for the limit.)
 */
export const EPOCH_INPUT: InputDefinition = { env: 'SOURCE_DATE_EPOCH' };

/** Whether some system target builds every recipe natively (`builds: native`). */
function anyNativeSystemTarget(ctx: TargetContext): boolean {
  return ctx.systemTargets.some((t) => t.target.builds === 'native');
}

/**
 * The input naming the plugin's own code, so `nx affected` (task-based in Nx 24) and the cache
 * see a change to it: its source files when the plugin lives in the workspace; the npm package
 * when the workspace declares `nx-distro` as a dependency; otherwise a runtime input printing
 * the sha256 of the plugin's files (bin/plugin-identity.mjs).
 */
export function pluginInput(workspaceRoot: string): InputDefinition {
  const rel = path.relative(workspaceRoot, PLUGIN_DIR).split(path.sep).join('/');
  if (!rel.startsWith('..') && !rel.split('/').includes('node_modules')) return { fileset: `{workspaceRoot}/${rel}/**/*` };
  let declared = false;
  try {
    const pkg = JSON.parse(readFileSync(path.join(workspaceRoot, 'package.json'), 'utf8'));
    declared = Boolean(pkg.dependencies?.['nx-distro'] ?? pkg.devDependencies?.['nx-distro']);
  } catch {
    // no package.json: not declared
  }
  return declared ? { externalDependencies: ['nx-distro'] } : { runtime: `node ${rel}/bin/plugin-identity.mjs` };
}

/** The runtime input: `node <plugin>/bin/toolchain-identity.mjs <targetsDir>`, run from the workspace root. */
export function toolchainInput(workspaceRoot: string, targetsDir: string): InputDefinition {
  const script = path.relative(workspaceRoot, path.join(PLUGIN_DIR, 'bin', 'toolchain-identity.mjs')).split(path.sep).join('/');
  return { runtime: `node ${script} ${targetsDir}` };
}

/** The runtime input `node <plugin>/bin/buildroot-identity.mjs`: the build machine's release and Debian apt sources. */
export function buildrootInput(workspaceRoot: string): InputDefinition {
  const script = path.relative(workspaceRoot, path.join(PLUGIN_DIR, 'bin', 'buildroot-identity.mjs')).split(path.sep).join('/');
  return { runtime: `node ${script}` };
}

function dependsOnBuilds(deps: NodeDependencies): TargetDependencyConfig[] {
  const byTarget = new Map<string, string[]>();
  for (const key of [...deps.sysroot, ...deps.tools]) {
    const ref = parseDependencyRef(key);
    const target = buildTargetName(ref.stage);
    const list = byTarget.get(target) ?? [];
    if (!list.includes(ref.name)) list.push(ref.name);
    byTarget.set(target, list);
  }
  return [...byTarget.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([target, projects]) => ({ target, projects: projects.sort(), params: 'ignore' as const }));
}

// Target descriptions are shared constants: per-recipe text would add megabytes to a
// 10k-recipe graph that Nx then copies between processes and caches (measured, tools/bench/graph).
const FETCH_METADATA = { description: 'Fetch and verify the sources (arch-independent).' };
const BUILD_METADATA = { description: "Build the package for the configuration's system target." };
const STAGE_METADATA = { description: "Build this stage (a reduced build that breaks a dependency loop) for the configuration's system target." };

/**
 * The `fetch` target: arch-independent (no configurations), its cache key is the recipe
 * folder and the plugin's code.
 */
export function fetchTarget(r: LoadedRecipe, ctx: TargetContext): TargetConfiguration {
  return {
    executor: 'nx-distro:fetch',
    cache: true,
    inputs: ['{projectRoot}/**/*', ctx.pluginInput],
    outputs: [`{workspaceRoot}/${ctx.options.distDir}/sources/${r.recipe.name}`],
    metadata: FETCH_METADATA,
  };
}

/**
 * A per-arch build target: `build` (the final package) or `build--<stage>`. It carries one
 * configuration per system target, so a dependency never falls back to another arch's build.
 * The system target files are an input: Nx 24 hashes a target's whole set of configurations
 * into every task's key, so a per-configuration key is not possible and any target file
 * change rebuilds every configuration (measured; documented in docs/cache-keys.md).
 */
export function buildTarget(r: LoadedRecipe, stage: string | undefined, deps: NodeDependencies, ctx: TargetContext): TargetConfiguration {
  const configurations: Record<string, Record<string, string>> = {};
  for (const t of ctx.systemTargets) configurations[t.name] = { systemTarget: t.name };
  const out = `{workspaceRoot}/${ctx.options.distDir}/{options.systemTarget}/packages/${r.recipe.name}${stage ? `@${stage}` : ''}`;
  // A recipe that cannot be cross-compiled is always built natively; a system target asking for
  // native builds makes the cross executor build natively too. Either needs the build root,
  // which Nx builds (or restores) first for the same configuration.
  const native = r.recipe.cross === false;
  const buildroot: TargetDependencyConfig[] = native || anyNativeSystemTarget(ctx)
    ? [{ target: BUILDROOT_TARGET, projects: [SYSTEM_PROJECT], params: 'ignore' }]
    : [];
  return {
    executor: native ? 'nx-distro:native' : 'nx-distro:cross',
    cache: true,
    inputs: [
      '{projectRoot}/**/*',
      `{workspaceRoot}/${ctx.options.targetsDir}/**/*`,
      ctx.pluginInput,
      ctx.toolchainInput,
      EPOCH_INPUT,
      // Early cutoff: a cross build's key reads what its dependencies offer it (their ABI
      // manifests: headers, sonames and exported symbols, every other file's bytes), so a
      // dependency rebuilt with the same ABI leaves it cached. A native build can run its
      // dependencies' programs, whose behaviour their libraries' code shapes: it reads the packages.
      { dependentTasksOutputFiles: buildroot.length ? '**/*.pkg.tar.*' : `**/${ABI_MANIFEST_FILE}`, transitive: false },
      // A native build's key names the Debian packages (with versions) of its build root.
      ...(buildroot.length ? [{ dependentTasksOutputFiles: '**/buildroot/packages.txt', transitive: false }] : []),
    ],
    outputs: [out],
    dependsOn: [FETCH_TARGET, ...buildroot, ...dependsOnBuilds(deps)],
    ...(stage ? { options: { stage } } : {}),
    configurations,
    defaultConfiguration: ctx.options.defaultSystemTarget,
    metadata: stage ? STAGE_METADATA : BUILD_METADATA,
  };
}

/** Every target of one recipe's project. */
export function recipeTargets(r: LoadedRecipe, nodes: ReadonlyMap<string, NodeDependencies>, ctx: TargetContext): Record<string, TargetConfiguration> {
  const targets: Record<string, TargetConfiguration> = { [FETCH_TARGET]: fetchTarget(r, ctx) };
  targets[BUILD_TARGET] = buildTarget(r, undefined, nodes.get(r.recipe.name)!, ctx);
  for (const stage of Object.keys(r.recipe.stages ?? {}).sort()) {
    targets[buildTargetName(stage)] = buildTarget(r, stage, nodes.get(`${r.recipe.name}@${stage}`)!, ctx);
  }
  return targets;
}
