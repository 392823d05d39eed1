import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { BUILD_TARGET, FETCH_TARGET } from '../model/dependency-ref';
import type { TargetDependencyConfig } from '@nx/devkit';
import type { InputDefinition } from '@nx/devkit/internal';
import { SYSTEM_TARGET_IDENTITY_FILE } from '../model/system-target-identity';
import { EPOCH_INPUT, systemTargetConfigurations, type TargetContext } from './targets';

/**
 * Name of the synthetic Nx project that stands for the system targets themselves (root: the
 * targets folder). Its targets work on a whole system target rather than one recipe; each has
 * one configuration per file in `targets/`:
 * - `system-target`: the target's identity (`system-target.json`: its file as validated, its
 *   folder's files, its toolchain), which every other task of the target reads instead of the
 *   target files (`nx-distro:system-target`);
 * - `toolchain` (only when some target has `toolchain: bootstrap`): after the builds of the
 *   target's own bootstrap toolchain recipes (none for an external toolchain), names the
 *   target's toolchain packages (`nx-distro:toolchain`); every other recipe's build depends on
 *   it and reads its `toolchain.json`;
 * - `buildroot`: a Debian build root of the target's arch for native builds (`nx-distro:buildroot`);
 * - `toolchain-runtime`: the external toolchain's C runtime as a package (`nx-distro:toolchain-runtime`);
 * - `build`: the target's pacman repository of every package (`nx-distro:repository`), so
 *   `nx run-many -t build -c <target>` ends with the repository;
 * - `source-bundle`: sources, recipes and a native build script for the target machine (`nx-distro:source-bundle`).
 * - `rootfs`: the package sets installed by pacman, as a tarball with its layer plan (`nx-distro:rootfs`);
 * - `image`: kernel, initramfs, squashfs layers and manifest (`nx-distro:image`);
 * - `boot`: the image booted in QEMU, both ways, and checked (`nx-distro:boot`);
 * - `debuginfod`: the repository's debug packages served over HTTP by elfutils' debuginfod
 *   (`nx-distro:debuginfod`; continuous, never cached).
 * A recipe may not take this name (the recipe graph reports it).
 */
export const SYSTEM_PROJECT = 'system';

/** Nx target of the `system` project that writes a system target's identity (src/model/system-target-identity.ts). */
export const SYSTEM_TARGET_TARGET = 'system-target';

/**
 * What a task of one system target reads of the targets: the identity its `system:system-target`
 * task wrote (that target's file as validated, its folder's files, its toolchain), never the other
 * target files (docs/cache-keys.md). Goes with {@link SYSTEM_TARGET_DEPENDENCY}.
 */
export const SYSTEM_TARGET_INPUT: InputDefinition = { dependentTasksOutputFiles: `**/${SYSTEM_TARGET_IDENTITY_FILE}`, transitive: false };

/** The dependency on `system:system-target` for the same configuration that {@link SYSTEM_TARGET_INPUT} reads. */
export const SYSTEM_TARGET_DEPENDENCY: TargetDependencyConfig = { target: SYSTEM_TARGET_TARGET, projects: [SYSTEM_PROJECT], params: 'ignore' };

/** Nx target of the `system` project that makes the native build root. */
export const BUILDROOT_TARGET = 'buildroot';

/** The dependency of a native build (or a native reproducibility check) on the build root for the same configuration. */
export const BUILDROOT_DEPENDENCY: TargetDependencyConfig = { target: BUILDROOT_TARGET, projects: [SYSTEM_PROJECT], params: 'ignore' };

/** Nx target of the `system` project that names a system target's bootstrap toolchain packages (`toolchain.json`). */
export const TOOLCHAIN_TARGET = 'toolchain';

/** What `system:toolchain` writes: `<distDir>/<systemTarget>/toolchain/toolchain.json`. */
export const TOOLCHAIN_FILE = 'toolchain.json';

/**
 * What a build reads of its system target's bootstrap toolchain: the `toolchain.json` its
 * `system:toolchain` task wrote (each toolchain package's file name and sha256; for an external
 * toolchain a constant, as its identity is in `system-target.json`). Goes with {@link TOOLCHAIN_DEPENDENCY}.
 */
export const TOOLCHAIN_INPUT: InputDefinition = { dependentTasksOutputFiles: `**/toolchain/${TOOLCHAIN_FILE}`, transitive: false };

/** The dependency of a build on `system:toolchain` for the same configuration, which {@link TOOLCHAIN_INPUT} reads. */
export const TOOLCHAIN_DEPENDENCY: TargetDependencyConfig = { target: TOOLCHAIN_TARGET, projects: [SYSTEM_PROJECT], params: 'ignore' };

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
