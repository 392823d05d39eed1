import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { buildRecipe, libfaketimePath, type BuildMode, type BuildVariation } from '../../pipeline/build-recipe';
import { InputError } from '../../model/errors';
import { readRecipe } from '../../model/recipe';
import { packageFolder } from '../../model/package-layout';
import { readPackageInfo } from '../../packages/pacman-package';
import { builtPackages, comparePackages, compareSplitPackages, describePackage, writeResult, type ReproducibilityResult } from '../../reproducible/compare';
import { buildWorkspaceOf, recipeFileOf, systemTargetOf, taskFailed } from '../context';
import type { ReproduceExecutorOptions } from './schema';

/** Seconds in a day. */
const DAY_SECONDS = 86_400;

/** Default wall-clock offset of a rebuild: 398 days (reprotest's is about a year and a month: another day, month and year). */
export const DEFAULT_CLOCK_OFFSET_DAYS = 398;

/**
 * `nx-distro:reproduce`: a reproducibility check of one recipe's package for one system target.
 * Nx runs the recipe's `build` task first (or restores it from a cache, possibly another
 * machine's); this executor builds the recipe a second time with {@link buildRecipe} into its own
 * folders and compares the two `.pkg.tar.zst` files byte for byte:
 * - `check: rebuild`: the same mode as the build task (cross, or native for `cross: false` and
 *   `builds: native`), in the work folder `tmp/reproduce/<systemTarget>/<recipe>/rebuild/<longer
 *   path>/` instead of `tmp/build/...`, with the wall clock moved by `clockOffsetDays` (libfaketime,
 *   cross builds only: it is a library of the build machine's arch), and another `$JOBS`;
 * - `check: native`: natively in the system target's build root (`system:buildroot`), against the
 *   cross-built package; `not-applicable` when the build task is native already.
 * On a difference diffoscope's text report is written and its start logged, and the task fails.
 * Output folder: `<distDir>/<systemTarget>/reproduce/<recipe>/<check>/` (`result.json`, the second
 * package under `package/`, `diffoscope.txt`); `nx-distro reproducibility` summarises them.
 * @returns `{ success }`: true when reproducible (or nothing to compare); a user's mistake, a failed
 *   second build or a difference is logged, never thrown
 */
export default async function reproduceExecutor(options: ReproduceExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const { root, pluginOptions: { distDir }, loaded: loadedTarget } = systemTargetOf(options, context);
    const recipeFile = options.recipe ?? recipeFileOf(context);
    const { recipe } = readRecipe(root, recipeFile);
    const checkDir = path.join(root, distDir, loadedTarget.name, 'reproduce', recipe.name, options.check);
    await fs.rm(checkDir, { recursive: true, force: true });
    await fs.mkdir(checkDir, { recursive: true });
    const firstBuild = await builtPackages(path.join(root, distDir, ...packageFolder(loadedTarget.name, recipe.name, recipe.toolchain)), recipe.name);
    const firstPackage = firstBuild.main;
    const buildMode: BuildMode = recipe.cross === false || loadedTarget.target.builds === 'native' ? 'native' : 'cross';
    const base = { recipe: recipe.name, systemTarget: loadedTarget.name, check: options.check };

    if (options.check === 'native' && buildMode === 'native') {
      logger.info(`${recipe.name}: no cross-built package to compare for ${loadedTarget.name}: its build is native already`);
      await writeResult(checkDir, { ...base, status: 'not-applicable', first: await describePackage(root, firstPackage), second: null, variations: [] });
      return { success: true };
    }

    const secondMode: BuildMode = options.check === 'native' ? 'native' : buildMode;
    const workDir = path.join(root, 'tmp', 'reproduce', loadedTarget.name, recipe.name, options.check, 'second-build-in-another-folder');
    const variations: string[] = [`work folder ${path.relative(root, workDir)} (first: tmp/build/${loadedTarget.name}/${recipe.name})`];
    const variation: { -readonly [K in keyof BuildVariation]: BuildVariation[K] } = { workDir, outDir: path.join(checkDir, 'package') };
    // The first build's date (its .PKGINFO builddate, which is its SOURCE_DATE_EPOCH): what a
    // second build made now would otherwise compute afresh, and differently when the first came
    // from the cache of an uncommitted recipe.
    const builddate = firstPackage ? Number((await readPackageInfo(firstPackage)).builddate?.[0]) : NaN;
    if (Number.isInteger(builddate) && builddate >= 0) variation.sourceDateEpoch = builddate;
    if (options.check === 'native') {
      variations.push(`built natively in the ${loadedTarget.target.buildroot?.debian_arch ?? '(none)'} build root (first: cross-built)`);
    } else {
      variation.jobs = options.jobs ?? os.availableParallelism() + 1;
      variations.push(`JOBS=${variation.jobs}`);
      const days = options.clockOffsetDays ?? DEFAULT_CLOCK_OFFSET_DAYS;
      if (days !== 0 && secondMode === 'cross') {
        try {
          await fs.access(libfaketimePath());
        } catch {
          throw new InputError(path.relative(root, libfaketimePath()), 'clockOffsetDays', 'libfaketime is not installed', 'run tools/setup-host (or apt-get install libfaketime), or set clockOffsetDays to 0');
        }
        variation.clockOffsetSeconds = days * DAY_SECONDS;
        variations.push(`wall clock +${days} days (libfaketime)`);
      } else if (days !== 0) {
        logger.info(`${recipe.name}: the wall clock is not moved for a native build (libfaketime is a library of the build machine's arch)`);
      }
    }

    logger.info(`${recipe.name}: second build for ${loadedTarget.name} (${options.check}): ${variations.join('; ')}`);
    const built = await buildRecipe({ recipe: recipeFile, systemTarget: loadedTarget.name }, buildWorkspaceOf(context), secondMode, variation);
    if (!built.success) {
      logger.error(`${recipe.name}: the second build (${options.check}) failed for ${loadedTarget.name}; nothing compared`);
      return { success: false };
    }
    const secondBuild = await builtPackages(variation.outDir, recipe.name);
    const compared = await comparePackages(root, firstPackage, secondBuild.main, checkDir);
    // The split packages (zlib-dev): each compared by file name, any difference fails the check.
    const splits = await compareSplitPackages(root, firstBuild.splits, secondBuild.splits, checkDir);
    const splitDiffers = splits.filter((s) => s.status === 'differs');
    const status = compared.status === 'differs' || splitDiffers.length ? 'differs' : compared.status;
    const result: ReproducibilityResult = { ...base, ...compared, status, variations, ...(splits.length ? { splits } : {}) };
    await writeResult(checkDir, result);
    if (result.status === 'differs' && compared.status !== 'differs') {
      // Only split packages differ.
      for (const s of splitDiffers) {
        const head = s.diffoscope ? (await fs.readFile(path.join(root, s.diffoscope), 'utf8')).split('\n').slice(0, 40).join('\n') : `only the ${s.first ? 'first' : 'second'} build wrote it`;
        logger.error(`${head}\n${recipe.name}: split package ${s.package} not reproducible for ${loadedTarget.name} (${options.check})${s.diffoscope ? `; diffoscope: ${s.diffoscope}` : ''}`);
      }
      return { success: false };
    }
    if (result.status === 'differs') {
      const head = result.diffoscope
        ? (await fs.readFile(path.join(root, result.diffoscope), 'utf8')).split('\n').slice(0, 60).join('\n')
        : `only the ${result.first ? 'first' : 'second'} build wrote a package`;
      logger.error(`${head}\n${recipe.name}: not reproducible for ${loadedTarget.name} (${options.check}): ${result.first?.sha256.slice(0, 16) ?? 'none'} vs ${result.second?.sha256.slice(0, 16) ?? 'none'}${result.diffoscope ? `; diffoscope: ${result.diffoscope}` : ''}`);
      return { success: false };
    }
    logger.info(`${recipe.name}: ${result.status === 'reproducible' ? `reproducible for ${loadedTarget.name} (${options.check}): both builds wrote ${result.first!.sha256}${splits.length ? `, and the same ${splits.length} split package(s): ${splits.map((s) => s.package).join(', ')}` : ''}` : `no package for ${loadedTarget.name} from either build`}`);
    return { success: true };
  } catch (e) {
    return taskFailed(e, context.projectName ?? 'reproduce');
  }
}
