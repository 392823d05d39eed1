import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Reports kept in the folder (the newest), besides `latest.html`. */
export const KEPT_REPORTS = 20;

/** The name of the copy of the newest report. */
export const LATEST = 'latest.html';

/** A report's file name: its run's start (UTC, sortable) and the start of Nx's run id: `2026-11-22T10-00-00Z-1a2b3c4d.html`. */
export function reportFileName(runStart: number, runId: string): string {
  const stamp = new Date(runStart).toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const id = runId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  return `${stamp}${id ? `-${id}` : ''}.html`;
}

/**
 * Writes a report as `<dir>/<name>` and `<dir>/latest.html`, each through a temporary name and
 * a rename (a reader never sees half a page), then removes the oldest reports beyond
 * {@link KEPT_REPORTS} (by name, which sorts by time; other files are left alone).
 * @param dir absolute folder, created when missing
 * @param name file name from {@link reportFileName}
 * @returns the absolute paths written
 */
export function writeReportFiles(dir: string, name: string, html: string): { file: string; latest: string } {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  const latest = path.join(dir, LATEST);
  for (const target of [file, latest]) {
    const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, html);
      renameSync(tmp, target);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
  const reports = readdirSync(dir)
    .filter((f) => /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ.*\.html$/.test(f))
    .sort();
  for (const old of reports.slice(0, Math.max(0, reports.length - KEPT_REPORTS))) rmSync(path.join(dir, old), { force: true });
  return { file, latest };
}
