import { readLastRun, readSignatures, type Signature } from './signatures';

/** One difference between two signatures of a task. */
export interface InputChange {
  /** `changed`, `added` (an input the older signature did not have) or `removed`. */
  readonly kind: 'changed' | 'added' | 'removed';
  /** `command`, an input's name as Nx gives it, `runtime: <command>`, or `file <path>`. */
  readonly input: string;
}

/**
 * What differs between two signatures of one task (BitBake's bitbake-diffsigs): the command,
 * each input Nx hashed, each runtime input, and each file of the project and targets folders.
 * @returns sorted: command first, then inputs, runtime inputs, files
 */
export function diffSignatures(older: Signature, newer: Signature): InputChange[] {
  const out: InputChange[] = [];
  if (older.command !== newer.command) out.push({ kind: 'changed', input: 'command (project, target, configuration, options)' });
  const diff = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>, label: (k: string) => string) => {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(k in a)) out.push({ kind: 'added', input: label(k) });
      else if (!(k in b)) out.push({ kind: 'removed', input: label(k) });
      else if (a[k] !== b[k]) out.push({ kind: 'changed', input: label(k) });
    }
  };
  diff(older.nodes, newer.nodes, (k) => k);
  diff(older.runtime, newer.runtime, (k) => `runtime: ${k}`);
  diff(older.files, newer.files, (k) => `file ${k}`);
  return out;
}

/**
 * Explains one task: its newest signature against the one before it.
 * @param dir the signatures folder
 * @returns lines to print
 */
export function explainTask(dir: string, taskId: string, run = readLastRun(dir)): string[] {
  const history = readSignatures(dir, taskId);
  if (history.length === 0) return [`${taskId}: no signature recorded (it has not run in this workspace since nx-distro records them)`];
  const newer = history[history.length - 1];
  const when = (s: Signature) => `${s.hash} (${new Date(s.time).toISOString()}, ${s.status})`;
  const last = run?.tasks.find((t) => t.id === taskId);
  if (last && run!.time > newer.time && last.hash === newer.hash && (last.status === 'success' || last.status === 'failure')) {
    return [`${taskId}: ran with the hash it had before, ${when(newer)}: no input changed; the cache had no entry for it (another cache folder, an entry another checkout wrote into a shared cache folder, whose index Nx keeps in that checkout's workspace data folder, an evicted entry, a failed earlier run, or --skip-nx-cache)`];
  }
  if (history.length === 1) return [`${taskId}: ${when(newer)}: the first signature recorded; nothing to compare with`];
  const older = history[history.length - 2];
  const changes = diffSignatures(older, newer);
  const lines = [`${taskId}: hash ${when(newer)} differs from the one before, ${when(older)}:`];
  for (const c of changes) lines.push(`  ${c.kind.padEnd(7)} ${c.input}`);
  if (changes.length === 0) lines.push('  no recorded input differs (Nx hashed something nx-distro does not record)');
  return lines;
}

/**
 * Explains the last run: every task that ran (missed the cache), or the given tasks.
 * @returns lines to print
 */
export function explain(dir: string, taskIds: readonly string[]): string[] {
  if (taskIds.length) return taskIds.flatMap((id) => explainTask(dir, id));
  const run = readLastRun(dir);
  if (!run) return ['no run recorded yet in this workspace'];
  const ran = run.tasks.filter((t) => t.status === 'success' || t.status === 'failure');
  const lines = [`last run (${new Date(run.time).toISOString()}): ${run.tasks.length} tasks, ${ran.length} ran, ${run.tasks.length - ran.length} from a cache or skipped`];
  for (const t of ran) lines.push(...explainTask(dir, t.id, run));
  return lines;
}
