import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError, InputErrors } from '../model/errors';
import { stripSpecialBits } from '../packages/package-lint';
import { PackagingFailed, packageBuild } from './package-build';
import { runStep } from './run-step';
import { openWorkFolder } from './rescue';

/** Usage of `nx-distro resume`. */
export const RESUME_USAGE = `nx-distro resume PROJECT[:TARGET] -c SYSTEM_TARGET
  Continues a failed build from its failed step, in its kept work folder (after a fix made there,
  e.g. in nx-distro shell): the same sandbox and steps, then the same packaging, into
  dist/SYSTEM_TARGET/resumed/NODE/. Outside Nx on purpose: its inputs are not the recipe's, so
  nothing of it is cached, uploaded or staged by other builds. Put the fix into the recipe (a
  patch, a step) and build again for the real package.`;

/** The folder a resumed build's packages and log go to, workspace-relative: `<distDir>/<systemTarget>/resumed/<node>`. */
export function resumedFolder(distDir: string, systemTarget: string, node: string): string {
  return path.posix.join(distDir, systemTarget, 'resumed', node);
}

/**
 * `nx-distro resume`, run in the workspace root: reads the work folder's sandbox record
 * (pipeline/rescue.ts), runs its failed step and the steps after it in the same sandbox (an
 * `install` step into an emptied `$pkgdir`), then {@link packageBuild} into
 * {@link resumedFolder}, with a log that starts with the failed build's (`build.log`).
 * @param workspaceRoot absolute workspace root (default: the current folder)
 * @returns 0 when the packages are written, 1 when a step or the packaging fails or there is
 *   nothing to resume, 2 for a usage error
 */
export async function resumeCommand(args: readonly string[], workspaceRoot = process.cwd()): Promise<number> {
  const opened = openWorkFolder('resume', RESUME_USAGE, 'resume', args, workspaceRoot);
  if (typeof opened === 'number') return opened;
  const { parsed, work, rel, record } = opened;
  const again = `npx nx run ${parsed.project}:${parsed.target} -c ${parsed.systemTarget}`;
  // The record is the build's own (the steps cannot write the work folder's top), but what this
  // command empties must be that folder's $pkgdir and nothing else.
  if (path.resolve(record.pkgdir) !== path.join(work, 'pkg')) {
    console.error(`nx-distro resume: ${rel}/sandbox.json: its $pkgdir ${JSON.stringify(record.pkgdir)} is not ${rel}/pkg; fix: ${again}`);
    return 1;
  }
  const from = record.steps.findIndex((s) => s.phase === record.failedPhase);
  if (!record.failedPhase || from < 0) {
    console.error(`nx-distro resume: ${rel}: its last build did not fail in a step, so there is nothing to resume; fix: ${again}`);
    return 1;
  }
  const out = resumedFolder(record.packaging.distDir, record.systemTarget, record.node);
  const outDir = path.join(workspaceRoot, out);
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.mkdir(outDir, { recursive: true });
  const logFile = path.join(outDir, 'build.log');
  await fs.copyFile(record.packaging.logFile, logFile).catch(() => fs.writeFile(logFile, ''));
  await fs.appendFile(logFile, `\n# resumed by hand from step ${record.failedPhase} in ${rel} (nx-distro resume): not the recipe's build\n`);
  console.error(`nx-distro resume: ${record.node} for ${record.systemTarget}: from step ${record.failedPhase} in ${rel}; log: ${path.posix.join(out, 'build.log')}`);
  try {
    for (const step of record.steps.slice(from)) {
      if (step.phase === 'install') {
        // A failed install may have left half a tree.
        await fs.rm(record.pkgdir, { recursive: true, force: true });
        await fs.mkdir(record.pkgdir);
      }
      const r = await runStep(step, record.sandbox, record.pkgdir, logFile);
      if (r.exitCode !== 0) {
        const tail = (await fs.readFile(logFile, 'utf8')).trimEnd().split('\n').slice(-20).join('\n');
        console.error(`${tail}\nnx-distro resume: ${record.node}: step ${step.phase} failed again (${r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`}); fix it in ${rel}/src (npx nx-distro shell ${parsed.project}${parsed.target === 'build' ? '' : `:${parsed.target}`} -c ${record.systemTarget}) and resume again`);
        return 1;
      }
      console.error(`nx-distro resume: ${record.node}: ${step.phase} done in ${((Date.now() - r.started) / 1000).toFixed(1)} s`);
    }
    await packageBuild({ ...record.packaging, outDir, logFile });
  } catch (e) {
    if (e instanceof PackagingFailed || e instanceof InputErrors || e instanceof InputError) {
      console.error(`nx-distro resume: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  } finally {
    // As after every build: no setuid or setgid bit stays on what the steps wrote.
    for (const dir of [path.join(work, 'src'), record.pkgdir]) await stripSpecialBits(dir).catch(() => 0);
  }
  console.error(`nx-distro resume: wrote ${out}/ from a build resumed by hand: nothing of it is cached, uploaded or staged by other builds; put the fix into the recipe (a patch or a step), then: ${again}`);
  return 0;
}
