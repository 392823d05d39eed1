import { promises as fs, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { IMAGE_FILES, imageBootArgv } from '../../image/assemble-image';
import { checkConsole, unameMachine, type BootReport } from '../../image/boot-check';
import { runQemu, type QemuRun } from '../../image/boot-run';
import { readManifest, workspaceRel, type ImageManifest } from '../../image/manifest';
import { BOOT_MODES, shellCommand, type BootMode } from '../../image/qemu';
import { imageSettings } from '../../image/target';
import { replaceFolder, stagingFolderFor } from '../../util/replace-folder';
import { systemTargetOf, taskFailed } from '../context';
import type { BootExecutorOptions } from './schema';

/** Lines of console shown when a boot fails. */
const TAIL_LINES = 40;

/** The last lines of a console output, `\r` removed. */
function tail(output: string, lines = TAIL_LINES): string {
  return output.replace(/\r/g, '').trimEnd().split('\n').slice(-lines).join('\n');
}

/** One boot's verdict: the console check plus how QEMU ended. */
function verdict(run: QemuRun, report: BootReport, timeoutSeconds: number): string[] {
  const problems = [...report.problems];
  if (run.timedOut) problems.unshift(`no power off within the time limit of ${timeoutSeconds} s (QEMU killed)`);
  else if (run.noPowerOff) problems.unshift('the checks finished but the guest did not power off (QEMU killed)');
  else if (run.exitCode !== 0) problems.unshift(`QEMU exited with ${run.exitCode}`);
  if (/Kernel panic/.test(run.output)) problems.unshift(`kernel panic: ${/Kernel panic[^\n\r]*/.exec(run.output)![0]}`);
  return problems;
}

/**
 * `nx-distro:boot`: the boot test. Boots the image of `<distDir>/<systemTarget>/image/`
 * (system:image) with the target's QEMU settings (`image.qemu_system`, `machine`, `cpu`,
 * `memory_mib`, `console`), in each mode of `modes` (default: `initramfs`, then `layers`), with
 * the manifest's command line (`image/qemu.ts`: `-nographic -no-reboot -kernel … -initrd …`,
 * plus one read-only virtio disk per squashfs layer in the layered mode), and checks the serial
 * console (`image/boot-check.ts`): the marker `nx-distro-boot-ok <target>`, `uname -m` equal to
 * the arch, lua printing 42, an xz round trip, the pacman database listing exactly the image's
 * packages (lua among them), the overlay on `/` and each layer's squashfs mounted in the
 * layered mode, then the guest powering off by itself. A boot is killed at the time limit
 * (`timeoutSeconds`, default `image.boot_timeout_seconds`, 600 s: QEMU emulates the CPU).
 *
 * Writes `<distDir>/<systemTarget>/boot/`: `<mode>.log` (the console) and `boot.json` (per mode:
 * seconds, verdict, the values read), also when a boot fails.
 * @returns `{ success }`: every mode booted and passed; a failure is logged with its problems
 *   and the console's last lines
 */
export default async function bootExecutor(options: BootExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const { root, pluginOptions: { distDir }, loaded } = systemTargetOf(options, context);
    const settings = imageSettings(loaded);
    const base = path.join(root, distDir, loaded.name);
    const imageDir = path.join(base, 'image');
    const manifest = readManifest<ImageManifest>(path.join(imageDir, IMAGE_FILES.manifest), workspaceRel(root, path.join(imageDir, IMAGE_FILES.manifest)), 'system:image', loaded.name);
    const modes: BootMode[] = options.modes?.length ? options.modes : [...BOOT_MODES];
    const timeoutSeconds = options.timeoutSeconds ?? settings.bootTimeoutSeconds;
    const layers = manifest.layers.map((l) => ({ set: l.set, file: l.file }));
    const outDir = path.join(base, 'boot');
    const staging = stagingFolderFor(outDir);
    const results: Record<string, unknown> = {};
    let ok = true;
    try {
      for (const mode of modes) {
        const initrd = mode === 'layers' ? manifest.initramfs.layers.file : manifest.initramfs.initramfs.file;
        const argv = imageBootArgv(settings, mode, initrd, layers);
        logger.info(`boot ${mode}: (cd ${path.relative(root, imageDir)} && ${shellCommand(argv)})`);
        const run = await runQemu(argv, { timeoutSeconds, doneMarker: 'nx-distro-boot-done', cwd: imageDir });
        writeFileSync(path.join(staging, `${mode}.log`), run.output);
        const report = checkConsole(run.output, mode, {
          target: loaded.name,
          unameM: unameMachine(loaded.target.arch),
          packages: manifest.packages,
          layers: layers.map((l) => l.set),
        });
        const problems = verdict(run, report, timeoutSeconds);
        results[mode] = { seconds: Number(run.seconds.toFixed(1)), ok: problems.length === 0, problems, values: report.values, mounts: report.mounts, packages: report.packages };
        if (problems.length === 0) {
          const mounts = mode === 'layers' ? `; ${report.mounts.filter((m) => / type (overlay|squashfs) /.test(m)).map((m) => m.replace(/ \(.*$/, '')).join('; ')}` : '';
          logger.info(`boot ${mode}: ok in ${run.seconds.toFixed(1)} s: nx-distro-boot-ok ${loaded.name}; uname -m ${report.values['uname-m']}; lua ${report.values.lua}; xz ${report.values.xz}; ${report.packages.length} packages in the pacman database${mounts}`);
        } else {
          ok = false;
          logger.error(`boot ${mode}: FAILED after ${run.seconds.toFixed(1)} s: ${problems.join('; ')}`);
          logger.error(`boot ${mode}: last ${TAIL_LINES} lines of the console (all of it in ${path.relative(root, path.join(outDir, `${mode}.log`))}):\n${tail(run.output)}`);
        }
      }
      writeFileSync(path.join(staging, 'boot.json'), `${JSON.stringify({ target: loaded.name, timeoutSeconds, modes: results }, null, 2)}\n`);
      await replaceFolder(staging, outDir);
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
    return { success: ok };
  } catch (e) {
    return taskFailed(e, 'boot', { otherErrors: 'log' });
  }
}
