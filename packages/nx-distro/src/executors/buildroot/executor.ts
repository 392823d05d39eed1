import * as fs from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { buildrootSourcesList, hostAptSources, hostCodename } from '../../pipeline/apt-sources';
import { BUILDROOT_TARBALL, buildrootHostProblems, buildrootPackageList, makeBuildroot } from '../../pipeline/buildroot';
import { sourceDateEpoch } from '../../pipeline/source-date-epoch';
import { InputError, quote } from '../../model/errors';
import { systemTargetOf, taskFailed } from '../context';
import type { BuildrootExecutorOptions } from './schema';

/**
 * `nx-distro:buildroot` (`nx run system:buildroot -c <target>`): the Debian build root in which
 * recipes of the system target are built natively, from the target file's `buildroot`
 * (`debian_arch`, `suite` (default: the build machine's codename), `variant`, `packages`) and
 * the build machine's apt sources for that suite (see apt-sources.ts), made with mmdebstrap
 * (src/pipeline/buildroot.ts). SOURCE_DATE_EPOCH is the last commit of the target file.
 *
 * Output folder `<distDir>/<systemTarget>/buildroot/` (built beside it, then renamed):
 * `buildroot.tar.zst`, `packages.txt` (the Debian packages in it, `name version arch`) and
 * `buildroot.log` (mmdebstrap's output). Nx caches it like any build; native builds extract it
 * once per machine into `tmp/buildroots/<sha256>/`.
 * @returns `{ success }`; a missing `buildroot` field, a suite without apt sources, a missing
 *   mmdebstrap or (foreign arch) arch-test, or an mmdebstrap failure is logged as one error each,
 *   never thrown
 */
export default async function buildrootExecutor(options: BuildrootExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const { root, pluginOptions: { distDir }, loaded } = systemTargetOf(options, context);
    const spec = loaded.target.buildroot;
    if (!spec) {
      throw new InputError(loaded.file, 'buildroot', 'missing: this target has no build root, so nothing can be built natively for it', 'add `buildroot: { debian_arch: <Debian arch> }` if the build machine\'s Debian release ships that arch, or build the recipe by cross-compiling (remove `cross: false`)');
    }
    const suite = spec.suite ?? hostCodename();
    if (!suite) throw new InputError(loaded.file, 'buildroot.suite', 'missing, and the build machine has no VERSION_CODENAME in /etc/os-release', 'set the Debian suite, e.g. `suite: bookworm`');
    const sourcesList = buildrootSourcesList(hostAptSources(), suite, spec.debian_arch);
    if (!sourcesList) {
      throw new InputError(loaded.file, 'buildroot.suite', `the build machine's apt sources (/etc/apt/sources.list, sources.list.d/) have no deb entry for ${quote(suite)}`, `add one, or set buildroot.suite to a suite they name`);
    }

    const missing = buildrootHostProblems(spec.debian_arch, process.env.PATH ?? '');
    if (missing.length) {
      for (const p of missing) logger.error(`host: ${p.what}; fix: ${p.fix}`);
      return { success: false };
    }
    const outDir = path.join(root, distDir, loaded.name, 'buildroot');
    const staging = `${outDir}.partial`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    const logFile = path.join(staging, 'buildroot.log');
    const epoch = sourceDateEpoch(root, loaded.file);
    const started = Date.now();
    logger.info(`buildroot: making the ${spec.debian_arch} ${suite} build root (${spec.variant ?? 'buildd'}${spec.packages?.length ? ` + ${spec.packages.join(' ')}` : ''}) for ${loaded.name} with mmdebstrap; log: ${path.relative(root, path.join(outDir, 'buildroot.log'))}`);
    try {
      await makeBuildroot(
        { debianArch: spec.debian_arch, suite, variant: spec.variant ?? 'buildd', packages: spec.packages ?? [], sourcesList, sourceDateEpoch: epoch },
        path.join(staging, BUILDROOT_TARBALL),
        logFile,
      );
    } catch (e) {
      logger.error((e as Error).message.replaceAll(staging, outDir));
      fs.rmSync(outDir, { recursive: true, force: true });
      fs.renameSync(staging, outDir); // keep the log where the message says
      return { success: false };
    }
    const list = await buildrootPackageList(path.join(staging, BUILDROOT_TARBALL));
    fs.writeFileSync(path.join(staging, 'packages.txt'), list);
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.renameSync(staging, outDir);
    const size = fs.statSync(path.join(outDir, BUILDROOT_TARBALL)).size;
    logger.info(`buildroot: wrote ${path.relative(root, path.join(outDir, BUILDROOT_TARBALL))} (${list.trim().split('\n').length} Debian packages, ${(size / 2 ** 20).toFixed(1)} MiB) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return { success: true };
  } catch (e) {
    return taskFailed(e, 'buildroot');
  }
}
