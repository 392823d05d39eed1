import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { sourceDateEpoch } from '../../pipeline/source-date-epoch';
import { writePackage } from '../../packages/pacman-package';
import { DEV_PACKAGE, probeToolchainDev, stageToolchainDev } from '../../packages/toolchain-dev';
import { probeToolchainRuntime, runtimeDescription, RUNTIME_LICENSES, RUNTIME_PACKAGE, stageToolchainRuntime } from '../../packages/toolchain-runtime';
import { sha256File } from '../../util/hash';
import { replaceFolder, stagingFolderFor } from '../../util/replace-folder';
import { systemTargetOf, taskFailed } from '../context';
import type { ToolchainRuntimeExecutorOptions } from './schema';

/** Upstream home of what the package mostly carries. */
const URL = 'https://www.gnu.org/software/libc/';

/**
 * `nx-distro:toolchain-runtime`: packages the C runtime of a system target's external toolchain
 * (Buildroot's external-toolchain approach, see `packages/toolchain-runtime.ts`) as the pacman
 * package `toolchain-runtime`, so that a root made of the packages runs their programs without
 * the build machine's sysroot.
 *
 * - `toolchain.kind: external`: the toolchain is probed (`<prefix>gcc`, the target's `cflags`
 *   and `ldflags`), the loader and libraries copied into `usr/lib/` under their sonames with
 *   `lib -> usr/lib` (and e.g. `lib64 -> usr/lib` where the loader is requested from `/lib64`),
 *   and `<distDir>/<systemTarget>/packages/toolchain-runtime/toolchain-runtime-<glibc>+gcc<gcc>-1-<arch>.pkg.tar.zst`
 *   written, licenses LGPL-2.1-or-later and GPL-3.0-or-later WITH GCC-exception-3.1,
 *   reproducibly: SOURCE_DATE_EPOCH from the environment, else the commit time of the target
 *   file (`pipeline/source-date-epoch.ts`), so the same toolchain gives the same bytes; beside it
 *   its `-dev` split `toolchain-runtime-dev` (same version, depending on it): the C library's
 *   headers, start files, static libraries and linker scripts and the kernel headers, from the
 *   toolchain's Debian packages (`packages/toolchain-dev.ts`), what a compiler on the target
 *   needs (a `devel` package set names it).
 * - `toolchain.kind: bootstrap`: an explicit, logged no-op (the C library comes from recipes);
 *   the output folder is left empty.
 *
 * The output folder is built beside the final one and renamed into place, so it never holds a
 * half-written or an older package. Work folder: `<workspace>/tmp/build/<systemTarget>/toolchain-runtime/`.
 *
 * The package's version changes with glibc's or gcc's upstream version only: a distributor's
 * rebuild of the same versions (Debian `2.36-8` → `2.36-9`) gives different bytes under the
 * same name and version (the description names the distributor's version).
 * @returns `{ success }`; an unknown system target or a missing or unusable toolchain is logged
 *   as one line and gives `{ success: false }`
 */
export default async function toolchainRuntimeExecutor(options: ToolchainRuntimeExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const { root, pluginOptions: { distDir }, loaded } = systemTargetOf(options, context);
    const target = loaded.target;
    const outDir = path.join(root, distDir, loaded.name, 'packages', RUNTIME_PACKAGE);
    const staging = stagingFolderFor(outDir);
    try {
      if (target.toolchain.kind !== 'external') {
        logger.info(`${RUNTIME_PACKAGE}: nothing to package for ${loaded.name}: its toolchain is built from recipes (kind ${target.toolchain.kind}); the C library comes from recipes`);
        await replaceFolder(staging, outDir);
        return { success: true };
      }
      const toolchain = target.toolchain;
      const rt = await probeToolchainRuntime({
        prefix: toolchain.prefix,
        cflags: target.cflags,
        ldflags: target.ldflags,
        installHint: `install ${toolchain.packages?.length ? toolchain.packages.join(' ') : 'the toolchain'} (tools/setup-host)`,
      });

      const work = path.join(root, 'tmp', 'build', loaded.name, RUNTIME_PACKAGE);
      await fs.rm(work, { recursive: true, force: true });
      const pkgdir = path.join(work, 'pkg');
      const epoch = sourceDateEpoch(root, loaded.file);
      // Both packages' .BUILDINFO: what makes them is the target file.
      const buildinfo = { pkgbuildSha256: await sha256File(path.join(root, loaded.file)), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: '0.1.0' };
      // The two packages' .PKGINFO: one base, one version, built from the same target file.
      const pkginfo = (pkgname: string, pkgdesc: string, license: string[], depends: string[]) => ({ pkgname, pkgbase: RUNTIME_PACKAGE, pkgver: rt.pkgver, pkgrel: 1, pkgdesc, url: URL, arch: target.arch, license, depends, packager: 'nx-distro', builddate: epoch });
      await stageToolchainRuntime(rt, pkgdir, epoch);
      const result = await writePackage(pkgdir, pkginfo(RUNTIME_PACKAGE, runtimeDescription(rt), [...RUNTIME_LICENSES], []), buildinfo, staging, epoch);
      // Its -dev split: the C library's development files and the kernel headers (packages/toolchain-dev.ts).
      const dev = await probeToolchainDev(rt, target.triplet, target.cflags);
      const devdir = path.join(work, 'dev');
      await stageToolchainDev(dev, devdir, epoch);
      const devResult = await writePackage(
        devdir,
        pkginfo(
          DEV_PACKAGE,
          `Development files of the external toolchain's C library and the kernel headers, from ${dev.sources.map((d) => `${d.name} ${d.version}`).join(' and ')}`,
          [...RUNTIME_LICENSES, 'GPL-2.0-only WITH Linux-syscall-note'],
          [`${RUNTIME_PACKAGE}=${rt.pkgver}-1`],
        ),
        buildinfo,
        staging,
        epoch,
      );
      await replaceFolder(staging, outDir);
      await fs.rm(work, { recursive: true, force: true });
      logger.info(`${RUNTIME_PACKAGE}: ${rt.compiler} ${rt.gccVersion}, glibc ${rt.glibcVersion}; loader ${rt.interpreter}; ${rt.libraries.map((l) => l.name).join(' ')}${rt.missing.length ? ` (not in the toolchain: ${rt.missing.join(' ')})` : ''}`);
      logger.info(`${RUNTIME_PACKAGE}: wrote ${path.relative(root, path.join(outDir, path.basename(result.file)))} (${result.size} bytes, installed ${result.installedSize} bytes, sha256 ${result.sha256})`);
      logger.info(`${RUNTIME_PACKAGE}: wrote ${path.relative(root, path.join(outDir, path.basename(devResult.file)))} (${dev.entries.length} entries from ${dev.sources.map((d) => d.name).join(', ')}${dev.skippedLinks.length ? `; left out ${dev.skippedLinks.length} link(s) to libraries the runtime does not carry: ${dev.skippedLinks.join(' ')}` : ''}; ${devResult.size} bytes, installed ${devResult.installedSize} bytes, sha256 ${devResult.sha256})`);
      return { success: true };
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  } catch (e) {
    return taskFailed(e, 'toolchain-runtime');
  }
}
