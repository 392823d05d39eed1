import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { BUILD_TARGET, FETCH_TARGET } from '../model/dependency-ref';
import type { TargetContext } from './targets';

/**
 * Name of the synthetic Nx project that stands for the system targets themselves (root: the
 * targets folder). Its targets work on a whole system target rather than one recipe; each has
 * one configuration per file in `targets/`:
 * - `buildroot`: a Debian build root of the target's arch for native builds (`nx-distro:buildroot`);
 * - `toolchain-runtime`: the external toolchain's C runtime as a package (`nx-distro:toolchain-runtime`);
 * - `build`: the target's pacman repository of every package (`nx-distro:repository`), so
 *   `nx run-many -t build -c <target>` ends with the repository;
 * - `source-bundle`: sources, recipes and a native build script for the target machine (`nx-distro:source-bundle`).
 * A recipe may not take this name (the recipe graph reports it).
 */
export const SYSTEM_PROJECT = 'system';

/** Nx target of the `system` project that makes the native build root. */
export const BUILDROOT_TARGET = 'buildroot';

/** Nx target of the `system` project that packages the external toolchain's C runtime. */
export const TOOLCHAIN_RUNTIME_TARGET = 'toolchain-runtime';

/** Nx target of the `system` project that writes the source bundle. */
export const SOURCE_BUNDLE_TARGET = 'source-bundle';

/** Tag carried by every recipe project, used to name them all in `dependsOn`. */
export const RECIPE_TAG = 'nx-distro:recipe';

function configurations(ctx: TargetContext): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const t of ctx.systemTargets) out[t.name] = { systemTarget: t.name };
  return out;
}

/**
 * The `system` project: see {@link SYSTEM_PROJECT}.
 * @param root workspace-relative targets folder (the project's root)
 */
export function systemProject(root: string, ctx: TargetContext): ProjectConfiguration {
  const dist = `{workspaceRoot}/${ctx.options.distDir}/{options.systemTarget}`;
  const common = {
    cache: true,
    configurations: configurations(ctx),
    defaultConfiguration: ctx.options.defaultSystemTarget,
  };
  const targets: Record<string, TargetConfiguration> = {
    [BUILDROOT_TARGET]: {
      ...common,
      executor: 'nx-distro:buildroot',
      inputs: ['{projectRoot}/*.yaml', ctx.pluginInput, ctx.buildrootInput],
      outputs: [`${dist}/buildroot`],
      metadata: { description: "A Debian build root of the system target's arch (mmdebstrap from the build machine's apt sources), for native builds." },
    },
    [TOOLCHAIN_RUNTIME_TARGET]: {
      ...common,
      executor: 'nx-distro:toolchain-runtime',
      inputs: ['{projectRoot}/*.yaml', ctx.pluginInput, ctx.toolchainInput],
      outputs: [`${dist}/packages/toolchain-runtime`],
      metadata: { description: "The external toolchain's C runtime (loader, libc, libgcc_s, libstdc++) as a package of its own." },
    },
    [BUILD_TARGET]: {
      ...common,
      executor: 'nx-distro:repository',
      inputs: ['{projectRoot}/*.yaml', ctx.pluginInput, { dependentTasksOutputFiles: '**/*.pkg.tar.*', transitive: false }],
      outputs: [`${dist}/repo`],
      dependsOn: [
        { target: BUILD_TARGET, projects: [`tag:${RECIPE_TAG}`], params: 'ignore' },
        { target: TOOLCHAIN_RUNTIME_TARGET, params: 'ignore' },
      ],
      metadata: { description: "The system target's pacman repository (repo-add) of every package built for it." },
    },
    [SOURCE_BUNDLE_TARGET]: {
      ...common,
      executor: 'nx-distro:source-bundle',
      inputs: ['{projectRoot}/**/*', '{workspaceRoot}/recipes/**/*', ctx.pluginInput],
      outputs: [`${dist}/source-bundle`],
      dependsOn: [{ target: FETCH_TARGET, projects: [`tag:${RECIPE_TAG}`], params: 'ignore' }],
      metadata: { description: "Every source, recipe and patch of the system target's packages, with a script that builds them natively in order on the target machine." },
    },
  };
  return { name: SYSTEM_PROJECT, root, projectType: 'application', tags: ['nx-distro:system'], targets };
}
