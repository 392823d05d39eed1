import path from 'node:path';
import { readCachedProjectGraph, type ProjectGraph } from '@nx/devkit';
import { collectRun, type RunContextInput } from './collect';
import { renderRunReport } from './html';
import { reportFileName, writeReportFiles } from './write';

/** The report folder: `<distDir>/run-report` (workspace-relative). */
export function runReportDir(distDir: string): string {
  return path.posix.join(distDir, 'run-report');
}

/**
 * After an nx command that ran tasks (`run-many`, `run`, `affected`): gathers the run
 * (src/run-report/collect.ts), renders its page and writes it as
 * `<workspace>/<distDir>/run-report/<start>-<id>.html` and `.../latest.html`, and prints one
 * line naming it (workspace-relative). A command without tasks writes nothing.
 * @param context `postTasksExecution`'s context (with Nx's `id` of the run)
 * @param distDir workspace-relative folder of the plugin's outputs
 * @returns the absolute path of the report, or undefined when nothing ran
 */
export function writeRunReport(context: RunContextInput & { readonly id: string }, distDir: string): string | undefined {
  if (Object.keys(context.taskResults).length === 0) return undefined;
  let graph: ProjectGraph | undefined;
  try {
    graph = readCachedProjectGraph();
  } catch {
    graph = undefined; // collectRun says what that costs the report
  }
  const run = collectRun(context, graph);
  const dir = path.join(context.workspaceRoot, runReportDir(distDir));
  const { file, latest } = writeReportFiles(dir, reportFileName(run.start, context.id), renderRunReport(run));
  // Workspace-relative: the plugin's process (or the daemon's) need not share the command's cwd.
  console.log(`nx-distro: run report (timeline, critical path, totals): ${path.relative(context.workspaceRoot, latest)} (kept as ${path.basename(file)})`);
  return file;
}
