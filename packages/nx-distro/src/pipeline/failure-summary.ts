import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildOfTarget, nodeKey } from '../model/dependency-ref';
import type { TaskResultInput } from '../run-report/collect';
import { readRescueRecord, workFolder } from './rescue';

/**
 * The lines that end a run with failed tasks, one per failed task, sorted by task id, after a
 * count (the Gentoo build-helper's summary of a long build): for a build, its system target,
 * node, failed step (the work folder's sandbox record, pipeline/rescue.ts), log and the
 * `nx-distro shell` command that opens the step's sandbox; for a build that failed outside its
 * steps (sources, lint, an input error, the host check of a Slurm job's worker) or any other task, where to look. Nx keeps running every
 * task that does not depend on a failed one (unless `--nx-bail`), so the summary is the whole
 * run's.
 * @param workspaceRoot absolute workspace root
 * @param taskResults Nx's results of the run (`postTasksExecution`'s `context.taskResults`)
 * @returns lines without a trailing newline; empty when no task failed
 */
export function failureSummary(workspaceRoot: string, taskResults: Readonly<Record<string, TaskResultInput>>): string[] {
  const failed = Object.values(taskResults).filter((r) => r.status === 'failure').sort((a, b) => a.task.id.localeCompare(b.task.id));
  if (!failed.length) return [];
  const lines = [`nx-distro: ${failed.length} task(s) failed:`];
  for (const { task } of failed) {
    const { project, target, configuration } = task.target;
    const build = buildOfTarget(target);
    if (!build || !configuration) {
      lines.push(`nx-distro: failed: ${task.id} (its output above says why)`);
      continue;
    }
    const stage = build.stage;
    const node = nodeKey(project, stage);
    const out = task.outputs?.[0];
    const log = out && existsSync(path.join(workspaceRoot, out, 'build.log')) ? `${out}/build.log` : undefined;
    let phase: string | undefined;
    try {
      phase = readRescueRecord(workFolder(workspaceRoot, configuration, node))?.failedPhase;
    } catch {
      phase = undefined; // a damaged record: the summary names no step
    }
    lines.push(phase
      ? `nx-distro: failed: ${configuration} ${node}: step ${phase}${log ? `; log ${log}` : ''}; shell: npx nx-distro shell ${project}${stage ? `:${target}` : ''} -c ${configuration}`
      : `nx-distro: failed: ${configuration} ${node}: not in a step (sources, lint, an input error or a cluster worker's host check: its output above says which)${log ? `; log ${log}` : ''}`);
  }
  return lines;
}
