import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { SYSTEM_TARGET_IDENTITY_FILE, systemTargetIdentity } from '../../model/system-target-identity';
import { PLUGIN_DIR } from '../../util/plugin-dir';
import { systemTargetOf, taskFailed } from '../context';
import type { SystemTargetExecutorOptions } from './schema';

/**
 * `nx-distro:system-target`: writes `<distDir>/<systemTarget>/system-target/system-target.json`
 * ({@link systemTargetIdentity}; canonical JSON, written to a temporary name, then renamed). Its
 * cache key is every target file and every toolchain; its output changes only with its own
 * target's, so the builds that read it (early cutoff) are rebuilt only for that target.
 * @returns `{ success }`; a bad target file is logged, never thrown
 */
export default async function systemTargetExecutor(options: SystemTargetExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const { root, pluginOptions: { targetsDir, distDir }, loaded } = systemTargetOf(options, context);
    const identity = await systemTargetIdentity(root, targetsDir, loaded, path.join(PLUGIN_DIR, 'bin', 'toolchain-identity.mjs'));
    const outDir = path.join(root, distDir, loaded.name, 'system-target');
    await fs.mkdir(outDir, { recursive: true });
    const file = path.join(outDir, SYSTEM_TARGET_IDENTITY_FILE);
    await fs.writeFile(`${file}.tmp`, `${JSON.stringify(identity, null, 2)}\n`);
    await fs.rename(`${file}.tmp`, file);
    logger.info(`system-target: ${loaded.name}: ${Object.keys(identity.files).length} file(s) in ${targetsDir}/${loaded.name}/, toolchain ${identity.toolchain?.split(' ').slice(0, 1).join('') ?? `kind ${loaded.target.toolchain.kind}`}; wrote ${path.relative(root, file)}`);
    return { success: true };
  } catch (e) {
    return taskFailed(e, 'system-target');
  }
}
