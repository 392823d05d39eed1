import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { sourceDateEpoch } from '../../pipeline/source-date-epoch';
import { bundleOrder, buildScript, writeBundleTarball } from '../../bundle/source-bundle';
import { parseDependencyRef } from '../../model/dependency-ref';
import { InputError, InputErrors } from '../../model/errors';
import { buildRecipeGraph } from '../../model/graph';
import { readRecipe, RECIPE_FILE, type LoadedRecipe } from '../../model/recipe';
import { distfileName } from '../../model/distfile';
import { distfileSha256 } from '../../util/hash';
import { systemTargetOf, taskFailed } from '../context';
import type { SourceBundleExecutorOptions } from './schema';

/**
 * `nx-distro:source-bundle` (`nx run system:source-bundle -c <target>`): BuildStream's
 * `source-bundle` for a system target: the sources (the `fetch` outputs, each re-hashed against
 * its recipe), the recipe folders, the target file and folder, the build order and a generated
 * `build.sh` that builds the target's package sets and kernel natively, in order, on the target
 * machine (src/bundle/source-bundle.ts has the layout and the script's contract).
 *
 * Output: `<distDir>/<systemTarget>/source-bundle/source-bundle-<systemTarget>.tar.zst`,
 * reproducible (SOURCE_DATE_EPOCH: the target file's last commit), written beside the final
 * folder and renamed into place.
 * @returns `{ success }`; a bad recipe or target, or a distfile missing or not matching its
 *   recipe, is logged as one error
 */
export default async function sourceBundleExecutor(options: SourceBundleExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const { root, pluginOptions: { targetsDir, distDir }, loaded: target } = systemTargetOf(options, context);

    const recipes: LoadedRecipe[] = [];
    for (const p of Object.values(context.projectsConfigurations.projects)) {
      const file = `${p.root}/${RECIPE_FILE}`;
      if (!p.tags?.includes('nx-distro:recipe')) continue;
      recipes.push(readRecipe(root, file));
    }
    // The target's arch's dependency lists (`arch_overrides`): what its builds stage and its packages declare.
    const graph = buildRecipeGraph(recipes, undefined, target.target.arch);
    if (graph.errors.length) throw new InputErrors([...graph.errors]);
    let order: string[];
    try {
      order = bundleOrder(graph, target);
    } catch (e) {
      logger.error((e as Error).message);
      return { success: false };
    }

    const top = `source-bundle-${target.name}`;
    const outDir = path.join(root, distDir, target.name, 'source-bundle');
    const staging = `${outDir}.partial`;
    await fs.rm(staging, { recursive: true, force: true });
    const tree = path.join(staging, 'tree', top);
    await fs.mkdir(path.join(tree, 'distfiles'), { recursive: true });
    const sums: string[] = [];
    const names = [...new Set(order.map((k) => parseDependencyRef(k).name))].sort();
    for (const name of names) {
      const loaded = graph.recipes.get(name)!;
      await fs.cp(path.join(root, loaded.root), path.join(tree, 'recipes', name), { recursive: true });
      for (const [i, source] of (loaded.recipe.sources ?? []).entries()) {
        const file = distfileName(source);
        const from = path.join(root, distDir, 'sources', name, file);
        const actual = await distfileSha256(from);
        if (actual.kind !== 'file' || actual.sha256 !== source.sha256) {
          const problem = actual.kind === 'file' ? `has sha256 ${actual.sha256}, not ${source.sha256}` : actual.kind === 'missing' ? 'is missing' : 'is not a regular file';
          throw new InputError(loaded.file, `sources[${i}]`, `${path.relative(root, from)} ${problem}`, `run \`nx run ${name}:fetch\` (system:source-bundle depends on every fetch)`);
        }
        await fs.link(from, path.join(tree, 'distfiles', file)).catch(() => fs.copyFile(from, path.join(tree, 'distfiles', file)));
        sums.push(`${source.sha256}  ${file}`);
      }
    }
    await fs.writeFile(path.join(tree, 'distfiles', 'SHA256SUMS'), [...new Set(sums)].sort().join('\n') + '\n');
    await fs.mkdir(path.join(tree, 'target'), { recursive: true });
    await fs.copyFile(path.join(root, target.file), path.join(tree, 'target', 'target.yaml'));
    const targetFolder = path.join(root, targetsDir, target.name);
    if (await fs.stat(targetFolder).then((s) => s.isDirectory(), () => false)) await fs.cp(targetFolder, path.join(tree, 'target'), { recursive: true });
    await fs.writeFile(path.join(tree, 'ORDER'), order.join('\n') + '\n');
    const epoch = sourceDateEpoch(root, target.file);
    await fs.writeFile(path.join(tree, 'build.sh'), buildScript({ target, recipes: graph.recipes, order, sourceDateEpoch: epoch, workspaceRoot: root }), { mode: 0o755 });
    await fs.chmod(path.join(tree, 'build.sh'), 0o755);

    const tarball = path.join(staging, `${top}.tar.zst`);
    await writeBundleTarball(path.join(staging, 'tree'), top, tarball, epoch);
    await fs.rm(path.join(staging, 'tree'), { recursive: true, force: true });
    await fs.rm(outDir, { recursive: true, force: true });
    await fs.rename(staging, outDir);
    const size = (await fs.stat(path.join(outDir, `${top}.tar.zst`))).size;
    logger.info(`source-bundle: wrote ${path.relative(root, path.join(outDir, `${top}.tar.zst`))} (${order.length} builds: ${order.join(' ')}; ${sums.length} distfiles; ${(size / 2 ** 20).toFixed(1)} MiB)`);
    return { success: true };
  } catch (e) {
    return taskFailed(e, 'source-bundle');
  }
}
