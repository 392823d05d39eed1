import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TargetConfiguration, TargetDependencyConfig } from '@nx/devkit';
import type { InputDefinition } from '@nx/devkit/internal';
import { BUILD_TARGET, FETCH_TARGET, buildTargetName, nodeKey, parseDependencyRef } from '../model/dependency-ref';
import { packageFolder } from '../model/package-layout';
import type { NodeDependencies } from '../model/graph';
import type { LoadedRecipe } from '../model/recipe';
import type { LoadedSystemTarget } from '../model/system-target';
import { ABI_MANIFEST_FILE } from '../packages/abi-manifest';
import { PLUGIN_DIR } from '../util/plugin-dir';
import type { NormalizedOptions } from '../model/plugin-options';
import { hostTools } from '../styles';
import { snippetFile } from '../styles/snippets';
import { BUILDROOT_DEPENDENCY, SYSTEM_TARGET_DEPENDENCY, SYSTEM_TARGET_INPUT, TOOLCHAIN_DEPENDENCY, TOOLCHAIN_INPUT } from './system-tasks';

/** The values shared by every target of every recipe in one createNodes call. */
export interface TargetContext {
  readonly options: NormalizedOptions;
  readonly systemTargets: readonly LoadedSystemTarget[];
  /** Inputs that make the plugin's own code part of the cache key ({@link pluginInputs}). */
  readonly pluginInputs: readonly InputDefinition[];
  /** Runtime input printing the identity (version, binary sha256) of every external toolchain (an input of `system:system-target` only). */
  readonly toolchainInput: InputDefinition;
  /** Runtime input naming the build machine's release and apt sources (for the build roots). */
  readonly buildrootInput: InputDefinition;
  /** Every recipe some system target's bootstrap toolchain lists (sorted; empty when no target bootstraps). */
  readonly bootstrapRecipes: readonly string[];
  /** Split package name (`subpackages`, `split`) → the recipe (project) whose build writes it. */
  readonly splitPackageOwners: ReadonlyMap<string, string>;
}

/**
 * Whether a recipe's builds wait for `system:toolchain` and read its `toolchain.json`: every
 * recipe but the bootstrap toolchain's own, when some target bootstraps its toolchain.
 */
function usesToolchainTask(r: LoadedRecipe, ctx: TargetContext): boolean {
  return ctx.bootstrapRecipes.length > 0 && !ctx.bootstrapRecipes.includes(r.recipe.name);
}

/**
 * The environment variable `SOURCE_DATE_EPOCH` as an input of every task that writes dates into
 * its output (packages, build roots, rootfs, image, source bundle): the same recipe built with
 * another explicit epoch has other bytes, so it must have another key. (Without the variable the
 * epoch is the commit time of the recipe's or target file's last commit, which is the same in
 * every clone of one commit; see docs/cache-keys.md for the limit.)
 */
export const EPOCH_INPUT: InputDefinition = { env: 'SOURCE_DATE_EPOCH' };

/**
 * The runtime input naming the installed versions of a recipe's host tools ({@link hostTools}):
 * `dpkg-query` prints `package=version` per line (or that one is missing), so an upgraded cmake or
 * meson changes the keys of exactly the builds that run it.
 * @returns no input for a recipe that declares none
 */
export function hostToolsInput(r: LoadedRecipe): InputDefinition[] {
  const tools = hostTools(r.recipe);
  if (!tools.length) return [];
  return [{ runtime: `dpkg-query -W -f='\${Package}=\${Version}\\n' ${tools.join(' ')} 2>&1; true` }];
}

/** The recipe's shared step snippets (`snippets/<name>.sh`) as file inputs of its builds. */
export function snippetInputs(r: LoadedRecipe): string[] {
  return (r.recipe.snippets ?? []).map((n) => `{workspaceRoot}/${snippetFile(n)}`);
}

/** One configuration per system target, named after it, setting the executor's `systemTarget` option. */
export function systemTargetConfigurations(ctx: TargetContext): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const t of ctx.systemTargets) out[t.name] = { systemTarget: t.name };
  return out;
}

/** Whether some system target builds every recipe natively (`builds: native`). */
function anyNativeSystemTarget(ctx: TargetContext): boolean {
  return ctx.systemTargets.some((t) => t.target.builds === 'native');
}

/**
 * The inputs naming the plugin's own code, so `nx affected` (task-based in Nx 24) and the cache
 * see a change to it: its files when the plugin lives in the workspace, its unit tests (the
 * `.test.ts` files) left out as bin/plugin-identity.mjs does (they shape no output); the npm package
 * when the workspace declares `nx-distro` as a dependency; otherwise a runtime input printing
 * the sha256 of the plugin's files (bin/plugin-identity.mjs).
 */
export function pluginInputs(workspaceRoot: string): InputDefinition[] {
  const rel = path.relative(workspaceRoot, PLUGIN_DIR).split(path.sep).join('/');
  if (!rel.startsWith('..') && !rel.split('/').includes('node_modules')) {
    return [{ fileset: `{workspaceRoot}/${rel}/**/*` }, { fileset: `!{workspaceRoot}/${rel}/**/*.test.ts` }];
  }
  let declared = false;
  try {
    const pkg = JSON.parse(readFileSync(path.join(workspaceRoot, 'package.json'), 'utf8'));
    declared = Boolean(pkg.dependencies?.['nx-distro'] ?? pkg.devDependencies?.['nx-distro']);
  } catch {
    // no package.json: not declared
  }
  return [declared ? { externalDependencies: ['nx-distro'] } : { runtime: `node ${rel}/bin/plugin-identity.mjs` }];
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
    inputs: ['{projectRoot}/**/*', ...ctx.pluginInputs],
    outputs: [`{workspaceRoot}/${ctx.options.distDir}/sources/${r.recipe.name}`],
    metadata: FETCH_METADATA,
  };
}

/**
 * A per-arch build target: `build` (the final package) or `build--<stage>`. It carries one
 * configuration per system target, so a dependency never falls back to another arch's build.
 * The system target enters the key through its identity ({@link SYSTEM_TARGET_INPUT}), not the
 * target files: Nx 24's inputs are per Nx target, never per configuration, so a file input
 * `targets/**` would make an edit of one target file rebuild every configuration
 * (docs/cache-keys.md).
 */
export function buildTarget(r: LoadedRecipe, stage: string | undefined, deps: NodeDependencies, ctx: TargetContext): TargetConfiguration {
  const [, folder, node] = packageFolder('', nodeKey(r.recipe.name, stage), r.recipe.toolchain);
  const out = `{workspaceRoot}/${ctx.options.distDir}/{options.systemTarget}/${folder}/${node}`;
  // A recipe that cannot be cross-compiled is always built natively; a system target asking for
  // native builds makes the cross executor build natively too. Either needs the build root,
  // which Nx builds (or restores) first for the same configuration.
  const native = r.recipe.cross === false;
  const buildroot: TargetDependencyConfig[] = native || anyNativeSystemTarget(ctx)
    ? [BUILDROOT_DEPENDENCY]
    : [];
  const toolchain = usesToolchainTask(r, ctx);
  return {
    executor: native ? 'nx-distro:native' : 'nx-distro:cross',
    cache: true,
    inputs: [
      '{projectRoot}/**/*',
      SYSTEM_TARGET_INPUT,
      ...(toolchain ? [TOOLCHAIN_INPUT] : []),
      ...ctx.pluginInputs,
      EPOCH_INPUT,
      ...hostToolsInput(r),
      ...snippetInputs(r),
      // Early cutoff: a cross build's key reads what its dependencies offer it (their ABI
      // manifests: headers, sonames and exported symbols, every other file's bytes), so a
      // dependency rebuilt with the same ABI leaves it cached. A native build can run its
      // dependencies' programs, whose behaviour their libraries' code shapes: it reads the packages.
      { dependentTasksOutputFiles: buildroot.length ? '**/*.pkg.tar.*' : `**/${ABI_MANIFEST_FILE}`, transitive: false },
      // A native build's key names the Debian packages (with versions) of its build root.
      ...(buildroot.length ? [{ dependentTasksOutputFiles: '**/buildroot/packages.txt', transitive: false }] : []),
    ],
    outputs: [out],
    dependsOn: [FETCH_TARGET, SYSTEM_TARGET_DEPENDENCY, ...(toolchain ? [TOOLCHAIN_DEPENDENCY] : []), ...buildroot, ...dependsOnBuilds(deps)],
    ...(stage ? { options: { stage } } : {}),
    configurations: systemTargetConfigurations(ctx),
    defaultConfiguration: ctx.options.defaultSystemTarget,
    metadata: stage ? STAGE_METADATA : BUILD_METADATA,
  };
}

/** Nx target of a recipe that rebuilds its package with variations and compares (`nx-distro:reproduce`, check `rebuild`). */
export const REPRODUCE_TARGET = 'reproduce';

/** Nx target of a recipe that builds its package natively and compares it with the cross-built one (`nx-distro:reproduce`, check `native`). */
export const REPRODUCE_NATIVE_TARGET = 'reproduce-native';

const REPRODUCE_METADATA = { description: "Build the package a second time (another work folder, wall clock and job count) and compare it byte for byte with the build's; diffoscope on a difference." };
const REPRODUCE_NATIVE_METADATA = { description: "Build the package natively in the system target's build root and compare it byte for byte with the cross-built one; diffoscope on a difference." };

/**
 * A reproducibility check target (`reproduce` or `reproduce-native`): runs after the recipe's own
 * `build` for the same configuration and builds it once more. Its key is the build's (recipe
 * folder, system target identity, plugin, epoch) plus the package the build wrote and, for the
 * native check, the build root's package list; outputs `<distDir>/<systemTarget>/reproduce/<recipe>/<check>`.
 */
export function reproduceTarget(r: LoadedRecipe, check: 'rebuild' | 'native', ctx: TargetContext): TargetConfiguration {
  const buildroot: TargetDependencyConfig[] = check === 'native' || r.recipe.cross === false || anyNativeSystemTarget(ctx)
    ? [BUILDROOT_DEPENDENCY]
    : [];
  const toolchain = usesToolchainTask(r, ctx);
  return {
    executor: 'nx-distro:reproduce',
    cache: true,
    inputs: [
      '{projectRoot}/**/*',
      SYSTEM_TARGET_INPUT,
      ...(toolchain ? [TOOLCHAIN_INPUT] : []),
      ...ctx.pluginInputs,
      EPOCH_INPUT,
      ...hostToolsInput(r),
      ...snippetInputs(r),
      { dependentTasksOutputFiles: '**/*.pkg.tar.*', transitive: false },
      ...(buildroot.length ? [{ dependentTasksOutputFiles: '**/buildroot/packages.txt', transitive: false }] : []),
    ],
    outputs: [`{workspaceRoot}/${ctx.options.distDir}/{options.systemTarget}/reproduce/${r.recipe.name}/${check}`],
    dependsOn: [{ target: BUILD_TARGET, params: 'ignore' }, SYSTEM_TARGET_DEPENDENCY, ...(toolchain ? [TOOLCHAIN_DEPENDENCY] : []), ...buildroot],
    options: { check },
    configurations: systemTargetConfigurations(ctx),
    defaultConfiguration: ctx.options.defaultSystemTarget,
    metadata: check === 'native' ? REPRODUCE_NATIVE_METADATA : REPRODUCE_METADATA,
  };
}

/** Every target of one recipe's project (the reproducibility checks only with the plugin option `reproduceTargets`, default true). */
export function recipeTargets(r: LoadedRecipe, nodes: ReadonlyMap<string, NodeDependencies>, ctx: TargetContext): Record<string, TargetConfiguration> {
  const targets: Record<string, TargetConfiguration> = { [FETCH_TARGET]: fetchTarget(r, ctx) };
  targets[BUILD_TARGET] = buildTarget(r, undefined, nodes.get(r.recipe.name)!, ctx);
  for (const stage of Object.keys(r.recipe.stages ?? {}).sort()) {
    targets[buildTargetName(stage)] = buildTarget(r, stage, nodes.get(`${r.recipe.name}@${stage}`)!, ctx);
  }
  if (ctx.options.reproduceTargets) {
    targets[REPRODUCE_TARGET] = reproduceTarget(r, 'rebuild', ctx);
    targets[REPRODUCE_NATIVE_TARGET] = reproduceTarget(r, 'native', ctx);
  }
  return targets;
}
