import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { BUILD_TARGET, FETCH_TARGET } from '../model/dependency-ref';
import type { TargetDependencyConfig } from '@nx/devkit';
import { BUILDROOT_TARGET, SYSTEM_PROJECT, SYSTEM_TARGET_DEPENDENCY, SYSTEM_TARGET_INPUT, SYSTEM_TARGET_TARGET, TOOLCHAIN_TARGET } from './system-tasks';
import { EPOCH_INPUT, systemTargetConfigurations, type TargetContext } from './targets';

/** Nx target of the `system` project that packages the external toolchain's C runtime. */
export const TOOLCHAIN_RUNTIME_TARGET = 'toolchain-runtime';

/** Nx target of the `system` project that writes the source bundle. */
export const SOURCE_BUNDLE_TARGET = 'source-bundle';

/** Nx target of the `system` project that installs the package sets into a root file system. */
export const ROOTFS_TARGET = 'rootfs';

/** Nx target of the `system` project that writes the bootable image. */
export const IMAGE_TARGET = 'image';

/** Nx target of the `system` project that boots the image in QEMU and checks it. */
export const BOOT_TARGET = 'boot';

/** Nx target of the `system` project that serves the target's debug packages with debuginfod (continuous, never cached). */
export const DEBUGINFOD_TARGET = 'debuginfod';

/** Tag carried by every recipe project, used to name them all in `dependsOn`. */
export const RECIPE_TAG = 'nx-distro:recipe';

/** Sorted union of `values` over every system target. */
function union(ctx: TargetContext, values: (t: TargetContext['systemTargets'][number]) => readonly string[]): string[] {
  return [...new Set(ctx.systemTargets.flatMap(values))].sort();
}

/**
 * The builds `system:toolchain` waits for: each bootstrap system target's toolchain recipes,
 * for that target's configuration only. Nx's `dependsOn` is one list for every configuration;
 * `configurations` on an entry is what patches/nx+24.0.0.patch adds to it (the entry is left
 * out for a task of any other configuration), so a build for a target with an external toolchain
 * never waits for musl or gcc's stages. An Nx without the patch takes every entry for every
 * configuration: those builds then only come first (the file written for an external toolchain
 * names none of them).
 */
function toolchainBuildDependencies(ctx: TargetContext): TargetDependencyConfig[] {
  const byRecipes = new Map<string, { projects: string[]; configurations: string[] }>();
  for (const { name, target } of ctx.systemTargets) {
    if (target.toolchain.kind !== 'bootstrap') continue;
    const projects = [...new Set(target.toolchain.recipes)].sort();
    const key = projects.join('\n');
    const entry = byRecipes.get(key) ?? { projects, configurations: [] };
    entry.configurations.push(name);
    byRecipes.set(key, entry);
  }
  return [...byRecipes.values()].map(({ projects, configurations }) => ({
    target: BUILD_TARGET,
    projects,
    params: 'ignore' as const,
    configurations: configurations.sort(),
  }) as TargetDependencyConfig);
}

/** Runtime input printing the versions of host programs (a missing one prints nothing). */
function toolVersions(commands: readonly string[]): { runtime: string } {
  return { runtime: `${commands.map((c) => `${c} 2>/dev/null`).join('; ')}; true` };
}

/**
 * The `system` project: see {@link SYSTEM_PROJECT}.
 *
 * Image targets and Nx: `dependsOn` is per Nx target, not per configuration, so `rootfs`
 * depends on the `build` of every recipe some target's package sets name (the union over all
 * targets; a name that is no project is ignored by Nx) and `image` on the build of every
 * target's kernel recipe. Its cache key takes the package files of those builds and of their
 * build dependencies (`dependentTasksOutputFiles`, transitive), for the configuration run: a
 * runtime-only dependency that is neither named by a set nor a build dependency of one is not
 * built first (the rootfs step then fails naming it); the current recipes have none.
 * @param root workspace-relative targets folder (the project's root)
 */
export function systemProject(root: string, ctx: TargetContext): ProjectConfiguration {
  const dist = `{workspaceRoot}/${ctx.options.distDir}/{options.systemTarget}`;
  const common = {
    cache: true,
    configurations: systemTargetConfigurations(ctx),
    defaultConfiguration: ctx.options.defaultSystemTarget,
  };
  const targets: Record<string, TargetConfiguration> = {
    [SYSTEM_TARGET_TARGET]: {
      ...common,
      executor: 'nx-distro:system-target',
      // Every target file and toolchain: Nx's inputs are per Nx target, not per configuration.
      // The output holds only this target's, so its readers are rebuilt only for it.
      inputs: ['{projectRoot}/**/*', ...ctx.pluginInputs, ctx.toolchainInput],
      outputs: [`${dist}/system-target`],
      metadata: { description: "The system target's identity: its file as validated, its folder's files, its toolchain; what its other tasks read of the targets." },
    },
    ...(ctx.bootstrapRecipes.length ? {
      [TOOLCHAIN_TARGET]: {
        ...common,
        executor: 'nx-distro:toolchain',
        inputs: [SYSTEM_TARGET_INPUT, ...ctx.pluginInputs, { dependentTasksOutputFiles: '**/*.pkg.tar.*', transitive: false }],
        outputs: [`${dist}/toolchain`],
        // Each bootstrap target's own toolchain builds, for its configuration alone.
        dependsOn: [SYSTEM_TARGET_DEPENDENCY, ...toolchainBuildDependencies(ctx)],
        metadata: { description: "The system target's bootstrap toolchain: the packages of its toolchain recipes (binutils, gcc, the C library), which every other build uses." },
      } satisfies TargetConfiguration,
    } : {}),
    [BUILDROOT_TARGET]: {
      ...common,
      executor: 'nx-distro:buildroot',
      inputs: [SYSTEM_TARGET_INPUT, ...ctx.pluginInputs, ctx.buildrootInput, EPOCH_INPUT],
      outputs: [`${dist}/buildroot`],
      dependsOn: [SYSTEM_TARGET_DEPENDENCY],
      metadata: { description: "A Debian build root of the system target's arch (mmdebstrap from the build machine's apt sources), for native builds." },
    },
    [TOOLCHAIN_RUNTIME_TARGET]: {
      ...common,
      executor: 'nx-distro:toolchain-runtime',
      inputs: [SYSTEM_TARGET_INPUT, ...ctx.pluginInputs, EPOCH_INPUT],
      outputs: [`${dist}/packages/toolchain-runtime`],
      dependsOn: [SYSTEM_TARGET_DEPENDENCY],
      metadata: { description: "The external toolchain's C runtime (loader, libc, libgcc_s, libstdc++) as a package of its own." },
    },
    [BUILD_TARGET]: {
      ...common,
      executor: 'nx-distro:repository',
      inputs: [SYSTEM_TARGET_INPUT, ...ctx.pluginInputs, { dependentTasksOutputFiles: '**/*.pkg.tar.*', transitive: false }],
      outputs: [`${dist}/repo`],
      dependsOn: [
        SYSTEM_TARGET_DEPENDENCY,
        { target: BUILD_TARGET, projects: [`tag:${RECIPE_TAG}`], params: 'ignore' },
        { target: TOOLCHAIN_RUNTIME_TARGET, params: 'ignore' },
      ],
      metadata: { description: "The system target's pacman repository (repo-add) of every package built for it." },
    },
    [SOURCE_BUNDLE_TARGET]: {
      ...common,
      executor: 'nx-distro:source-bundle',
      inputs: [SYSTEM_TARGET_INPUT, '{workspaceRoot}/recipes/**/*', ...ctx.pluginInputs, EPOCH_INPUT],
      outputs: [`${dist}/source-bundle`],
      dependsOn: [
        SYSTEM_TARGET_DEPENDENCY,
        { target: FETCH_TARGET, projects: [`tag:${RECIPE_TAG}`], params: 'ignore' }],
      metadata: { description: "Every source, recipe and patch of the system target's packages, with a script that builds them natively in order on the target machine." },
    },
    [ROOTFS_TARGET]: {
      ...common,
      executor: 'nx-distro:rootfs',
      inputs: [
        SYSTEM_TARGET_INPUT,
        ...ctx.pluginInputs,
        EPOCH_INPUT,
        { dependentTasksOutputFiles: '**/*.pkg.tar.*', transitive: true },
        toolVersions(['pacman --version | grep -o "Pacman v.*"', 'zstd --version']),
      ],
      outputs: [`${dist}/rootfs`],
      dependsOn: [
        SYSTEM_TARGET_DEPENDENCY,
        // A set may name a split package (zlib-dev): its recipe's build writes it.
        { target: BUILD_TARGET, projects: union(ctx, (t) => Object.values(t.target.package_sets).flatMap((s) => s.packages.map((n) => ctx.splitPackageOwners.get(n) ?? n))), params: 'ignore' },
        { target: TOOLCHAIN_RUNTIME_TARGET, params: 'ignore' },
      ],
      metadata: { description: "The system target's package sets installed by pacman (one layer per set): a reproducible rootfs tarball and its layer plan." },
    },
    [IMAGE_TARGET]: {
      ...common,
      executor: 'nx-distro:image',
      inputs: [
        SYSTEM_TARGET_INPUT,
        ...ctx.pluginInputs,
        EPOCH_INPUT,
        { dependentTasksOutputFiles: '**/rootfs/rootfs.*', transitive: false },
        { dependentTasksOutputFiles: '**/*.pkg.tar.*', transitive: false },
        toolVersions(['mksquashfs -version | head -n 1', 'zstd --version', 'gzip --version | head -n 1', 'bsdtar --version']),
      ],
      outputs: [`${dist}/image`],
      dependsOn: [
        SYSTEM_TARGET_DEPENDENCY,
        { target: ROOTFS_TARGET, params: 'ignore' },
        { target: BUILD_TARGET, projects: union(ctx, (t) => (t.target.image ? [t.target.image.kernel ?? 'linux'] : [])), params: 'ignore' },
      ],
      metadata: { description: "The system target's bootable image: kernel, initramfs, one squashfs per package set, manifest; reproducible." },
    },
    [DEBUGINFOD_TARGET]: {
      ...common,
      cache: false,
      // A server: Nx keeps it running (`continuous`) while the tasks that depend on it run.
      continuous: true,
      executor: 'nx-distro:debuginfod',
      dependsOn: [{ target: BUILD_TARGET, params: 'ignore' }],
      metadata: { description: "Serves the debug information and sources of the system target's packages (its repository's -debug packages) with elfutils' debuginfod; runs until stopped." },
    },
    [BOOT_TARGET]: {
      ...common,
      executor: 'nx-distro:boot',
      inputs: [
        SYSTEM_TARGET_INPUT,
        ...ctx.pluginInputs,
        { dependentTasksOutputFiles: '**/image/**', transitive: false },
        toolVersions(union(ctx, (t) => (t.target.image?.qemu_system ? [t.target.image.qemu_system] : [])).map((q) => `${q} --version | head -n 1`)),
      ],
      outputs: [`${dist}/boot`],
      dependsOn: [SYSTEM_TARGET_DEPENDENCY, { target: IMAGE_TARGET, params: 'ignore' }],
      metadata: { description: 'Boots the image in QEMU from the initramfs alone and from the squashfs layers as an overlay, and checks the marker and commands it prints.' },
    },
  };
  return { name: SYSTEM_PROJECT, root, projectType: 'application', tags: ['nx-distro:system'], targets };
}
