import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A task's signature as Nx hashed it (BitBake's siginfo, for an Nx task): the hash and the
 * hash of each input Nx combined into it (Nx's `task.hashDetails`), plus the sha256 of every
 * file of the task's project folder and of the targets folder, so a changed fileset input can be
 * traced to its files.
 */
export interface Signature {
  /** Nx's task hash. */
  readonly hash: string;
  /** When the run that produced it ended, milliseconds since the epoch. */
  readonly time: number;
  /** Nx's task status then: `success` or `failure` (the task ran), `local-cache`, `remote-cache`, ... */
  readonly status: string;
  /** Hash of the command (project, target, configuration, options). */
  readonly command: string;
  /** Input name (Nx's: `zlib:{projectRoot}/**\/*`, `env:SOURCE_DATE_EPOCH`, ...) -> hash. */
  readonly nodes: Readonly<Record<string, string>>;
  /** Runtime input command -> hash. */
  readonly runtime: Readonly<Record<string, string>>;
  /** Workspace-relative file path -> sha256, for the project folder and the targets folder. */
  readonly files: Readonly<Record<string, string>>;
}

/** The last run's tasks, as {@link recordRun} saw them. */
export interface LastRun {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly tasks: readonly { readonly id: string; readonly status: string; readonly hash: string }[];
}

/** Where the plugin records signatures: `<Nx's workspace data folder>/nx-distro-signatures` (absolute). */
export function signaturesDir(workspaceDataDirectory: string): string {
  return path.join(workspaceDataDirectory, 'nx-distro-signatures');
}

/** At most this many distinct signatures are kept per task, the newest last. */
export const HISTORY = 8;

/** What {@link recordRun} needs of one of Nx's task results. */
export interface TaskResultLike {
  readonly task: {
    readonly id: string;
    readonly projectRoot?: string;
    readonly hash?: string;
    readonly hashDetails?: { command: string; nodes: Record<string, string>; runtime?: Record<string, string> };
  };
  readonly status: string;
}

/**
 * Records the signatures of a run's tasks under `dir` (`<workspace data>/nx-distro-signatures`):
 * `last-run.json`, `index.json` (task id -> newest hash) and one `tasks/<id>.json` per task
 * whose hash is new, holding its last {@link HISTORY} signatures. A task whose hash is the
 * newest one recorded costs no file read beyond the index. Files are written through a
 * temporary name and a rename.
 * @param workspaceRoot absolute
 * @param targetsDir workspace-relative targets folder
 * @param time end of the run, milliseconds since the epoch
 */
export function recordRun(dir: string, workspaceRoot: string, targetsDir: string, results: readonly TaskResultLike[], time: number): void {
  mkdirSync(path.join(dir, 'tasks'), { recursive: true });
  const index: Record<string, string> = readJson(path.join(dir, 'index.json')) ?? {};
  const fileCache = new Map<string, Record<string, string>>();
  const filesOf = (rel: string) => {
    let files = fileCache.get(rel);
    if (!files) fileCache.set(rel, (files = hashFiles(workspaceRoot, rel)));
    return files;
  };
  const run: LastRun['tasks'][number][] = [];
  for (const { task, status } of results) {
    if (!task.hash || !task.hashDetails) continue;
    run.push({ id: task.id, status, hash: task.hash });
    if (index[task.id] === task.hash) continue;
    const sig: Signature = {
      hash: task.hash,
      time,
      status,
      command: task.hashDetails.command,
      nodes: task.hashDetails.nodes,
      runtime: task.hashDetails.runtime ?? {},
      files: { ...(task.projectRoot ? filesOf(task.projectRoot) : {}), ...filesOf(targetsDir) },
    };
    const file = taskFile(dir, task.id);
    const history = (readJson<Signature[]>(file) ?? []).filter((s) => s.hash !== task.hash);
    writeJson(file, [...history, sig].slice(-HISTORY));
    index[task.id] = task.hash;
  }
  writeJson(path.join(dir, 'index.json'), index);
  writeJson(path.join(dir, 'last-run.json'), { time, tasks: run } satisfies LastRun);
}

/** The recorded signatures of a task, oldest first (empty when none). */
export function readSignatures(dir: string, taskId: string): Signature[] {
  return readJson<Signature[]>(taskFile(dir, taskId)) ?? [];
}

/** The last recorded run, or undefined. */
export function readLastRun(dir: string): LastRun | undefined {
  return readJson<LastRun>(path.join(dir, 'last-run.json'));
}

function taskFile(dir: string, taskId: string): string {
  return path.join(dir, 'tasks', `${encodeURIComponent(taskId)}.json`);
}

/** sha256 of every file under a workspace-relative folder (or of the file itself), by workspace-relative path. */
function hashFiles(workspaceRoot: string, rel: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (r: string) => {
    const abs = path.join(workspaceRoot, r);
    let st;
    try {
      st = statSync(abs);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(abs).sort()) walk(r === '' || r === '.' ? name : `${r}/${name}`);
    } else if (st.isFile()) out[r] = createHash('sha256').update(readFileSync(abs)).digest('hex');
  };
  if (rel !== '' && rel !== '.') walk(rel);
  return out;
}

function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined; // a damaged record is as good as none
  }
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value) + '\n');
  renameSync(tmp, file);
}
