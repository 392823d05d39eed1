import type { TargetDependencyConfig } from '@nx/devkit';
import type { InputDefinition } from '@nx/devkit/internal';
import { TOOLCHAIN_FILE } from '../model/package-layout';
import { SYSTEM_TARGET_IDENTITY_FILE } from '../model/system-target-identity';

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

/**
 * What a build reads of its system target's bootstrap toolchain: the `toolchain.json` its
 * `system:toolchain` task wrote (each toolchain package's file name and sha256; for an external
 * toolchain a constant, as its identity is in `system-target.json`). Goes with {@link TOOLCHAIN_DEPENDENCY}.
 */
export const TOOLCHAIN_INPUT: InputDefinition = { dependentTasksOutputFiles: `**/toolchain/${TOOLCHAIN_FILE}`, transitive: false };

/** The dependency of a build on `system:toolchain` for the same configuration, which {@link TOOLCHAIN_INPUT} reads. */
export const TOOLCHAIN_DEPENDENCY: TargetDependencyConfig = { target: TOOLCHAIN_TARGET, projects: [SYSTEM_PROJECT], params: 'ignore' };
