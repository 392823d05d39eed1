import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger, type ExecutorContext } from '@nx/devkit';
import { execa } from 'execa';
import { InputError } from '../../model/errors';
import { systemTargetOf, taskFailed } from '../context';
import type { DebuginfodExecutorOptions } from './schema';

/** debuginfod's archive scanner for pacman packages (`-Z EXT=CMD`: files ending in EXT are archives libarchive reads from CMD's output). */
export const PACMAN_ARCHIVE_SCAN = '.pkg.tar.zst=zstdcat';

/**
 * Reads debuginfod's `/metrics` (Prometheus text) and tells whether its first scan is over: the
 * traversal ran once and neither the traversal nor a scanner thread has work left.
 * @param metrics the body of `GET /metrics`
 * @returns `{ done, archives }`: archives is `scanned_files_total` of the pacman archive scanner
 */
export function scanProgress(metrics: string): { done: boolean; archives: number } {
  const value = (name: string): number | undefined => {
    const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };
  const traversed = value('thread_work_total{role="traverse"}') ?? 0;
  const busy = (value('thread_busy{role="traverse"}') ?? 0) + (value('thread_busy{role="scan"}') ?? 0);
  const pending = value('thread_work_pending{role="scan"}') ?? 0;
  return { done: traversed >= 1 && busy === 0 && pending === 0, archives: value('scanned_files_total{source=".pkg.tar.zst archive"}') ?? 0 };
}

/**
 * Serves a system target's debug packages with elfutils' debuginfod (Debian's `debuginfod`
 * package): `debuginfod -Z .pkg.tar.zst=zstdcat -p <port> -t <rescanSeconds> -d <db>
 * <distDir>/<systemTarget>/repo`, which indexes every package of the repository by the GNU
 * build-ids of its ELF files (packages/debug-info.ts writes the `-debug` packages) and answers
 * `/buildid/<id>/debuginfo`, `/executable` and `/source/<path>` (the elfutils debuginfod
 * protocol, as `debuginfod-find` and gdb ask). Its database is
 * `<workspace>/tmp/debuginfod/<systemTarget>.sqlite` (kept between runs: a rescan only reads new
 * packages). Logs the URL once the first scan is over (from its `/metrics`), then runs until it is
 * stopped (SIGINT, SIGTERM: passed on to debuginfod) or debuginfod exits.
 * @returns `{ success: true }` when stopped; `{ success: false }` when there is no repository
 *   (one line: build it first), debuginfod is not installed, or debuginfod exits by itself
 */
export default async function debuginfodExecutor(options: DebuginfodExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const { root, pluginOptions: { distDir }, loaded } = systemTargetOf(options, context);
    const repo = path.join(root, distDir, loaded.name, 'repo');
    if (!existsSync(repo)) throw new InputError(loaded.file, 'package_sets', `no repository at ${path.relative(root, repo)}`, `run \`nx run system:build -c ${loaded.name}\` first`);
    const port = options.port ?? 8002;
    const dbDir = path.join(root, 'tmp', 'debuginfod');
    mkdirSync(dbDir, { recursive: true });
    const args = ['-Z', PACMAN_ARCHIVE_SCAN, '-p', String(port), '-t', String(options.rescanSeconds ?? 300), '-d', path.join(dbDir, `${loaded.name}.sqlite`), repo];
    let child;
    try {
      child = execa('debuginfod', args, { reject: false, stdio: ['ignore', 'inherit', 'inherit'] });
    } catch (e) {
      logger.error(`${loaded.name}: cannot start debuginfod (${(e as Error).message}); install it with tools/setup-host (Debian's debuginfod package)`);
      return { success: false };
    }
    let stopping = false;
    const stop = () => {
      stopping = true;
      child.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const url = `http://127.0.0.1:${port}`;
    // The first scan, from debuginfod's own metrics; the server answers while it scans.
    const ready = (async () => {
      while (child.exitCode === null && !stopping) {
        const metrics = await fetch(`${url}/metrics`).then((r) => r.text(), () => '');
        const p = scanProgress(metrics);
        if (p.done) {
          logger.info(`${loaded.name}: debuginfod serves ${p.archives} package(s) of ${path.relative(root, repo)} on port ${port} (every interface); use DEBUGINFOD_URLS=${url} (gdb, debuginfod-find)`);
          return;
        }
        await sleep(250);
      }
    })();
    const r = await child;
    await ready;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (stopping) return { success: true };
    logger.error(`${loaded.name}: debuginfod exited (${r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`}) ${r.failed && r.exitCode === undefined ? `: ${r.shortMessage}; install it with tools/setup-host (Debian's debuginfod package)` : '(port in use? its message is above)'}`);
    return { success: false };
  } catch (e) {
    return taskFailed(e, 'debuginfod');
  }
}
