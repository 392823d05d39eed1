import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { dependencyPackage } from '../../packages/built-packages';
import { InputError } from '../../model/errors';
import { TOOLCHAIN_FILE } from '../../model/package-layout';
import { sha256File } from '../../util/hash';
import { systemTargetOf, taskFailed } from '../context';
import type { ToolchainExecutorOptions } from './schema';

/** What `toolchain.json` holds (keys sorted when written). */
export interface ToolchainManifest {
  /** The system target's `toolchain.kind`. */
  readonly kind: 'external' | 'bootstrap';
  /** For `bootstrap`: each toolchain recipe (list order) with its package's file name and sha256 (hex). */
  readonly packages?: ReadonlyArray<{ readonly recipe: string; readonly file: string; readonly sha256: string }>;
}

/**
 * `nx-distro:toolchain`: writes `<distDir>/<systemTarget>/toolchain/toolchain.json`
 * ({@link ToolchainManifest}; written to a temporary name, then renamed). Nx runs it after the
 * builds of every bootstrap toolchain recipe (restored from the cache or built) for the same
 * configuration; every other build of the target depends on it and reads this file, so a
 * changed compiler or C library rebuilds them, while a toolchain recipe rebuilt for an
 * external-toolchain target (where the file names no package) rebuilds nothing.
 * @returns `{ success }`; a missing toolchain package or a bad target file is logged, never thrown
 */
export default async function toolchainExecutor(options: ToolchainExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const { root, pluginOptions: { distDir }, loaded } = systemTargetOf(options, context);
    const t = loaded.target.toolchain;
    let manifest: ToolchainManifest = { kind: t.kind };
    if (t.kind === 'bootstrap') {
      const packages = [];
      for (const [i, recipe] of t.recipes.entries()) {
        const file = dependencyPackage(root, distDir, loaded.name, recipe);
        if (!file) throw new InputError(loaded.file, `toolchain.recipes[${i}]`, `${recipe} wrote no package for ${loaded.name}`, 'a toolchain recipe must build for every target that lists it: check its `arch` and steps');
        packages.push({ recipe, file: path.basename(file), sha256: await sha256File(file) });
      }
      manifest = { kind: t.kind, packages };
    }
    const outDir = path.join(root, distDir, loaded.name, 'toolchain');
    await fs.mkdir(outDir, { recursive: true });
    const file = path.join(outDir, TOOLCHAIN_FILE);
    await fs.writeFile(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
    await fs.rename(`${file}.tmp`, file);
    logger.info(`toolchain: ${loaded.name}: ${t.kind === 'bootstrap' ? manifest.packages!.map((p) => p.file).join(' ') : 'external (its identity is in system-target.json)'}; wrote ${path.relative(root, file)}`);
    return { success: true };
  } catch (e) {
    return taskFailed(e, 'toolchain');
  }
}
