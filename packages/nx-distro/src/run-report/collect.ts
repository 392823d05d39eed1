import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { NxJsonConfiguration, ProjectGraph } from '@nx/devkit';
import type { CountedTask } from './analysis';
import { parseBuildSteps, type BuildStep } from './build-log';
import { commandTaskGraph, type CommandTaskGraph } from './command-graph';

/**
 * What a task is, for the report's colours: by its executor (nx-distro's own), so a renamed
 * target keeps its kind. `setup` is what the builds need first (a system target's identity, a
 * build root, a bootstrap toolchain's identity); `package` what gathers packages (the
 * repository, the toolchain's C runtime package, the source bundle); `check` the
 * reproducibility checks; `other` any executor that is not nx-distro's.
 */
export type TaskKind = 'fetch' | 'setup' | 'build' | 'package' | 'image' | 'check' | 'other';

/** Every kind, in the order the report's legend shows them. */
export const TASK_KINDS: readonly TaskKind[] = ['fetch', 'setup', 'build', 'package', 'image', 'check', 'other'];

const KIND_OF_EXECUTOR: Readonly<Record<string, TaskKind>> = {
  'nx-distro:fetch': 'fetch',
  'nx-distro:system-target': 'setup',
  'nx-distro:buildroot': 'setup',
  'nx-distro:toolchain': 'setup',
  'nx-distro:cross': 'build',
  'nx-distro:native': 'build',
  'nx-distro:toolchain-runtime': 'package',
  'nx-distro:repository': 'package',
  'nx-distro:source-bundle': 'package',
  'nx-distro:rootfs': 'image',
  'nx-distro:image': 'image',
  'nx-distro:boot': 'image',
  'nx-distro:reproduce': 'check',
};

/** The kind of a task run by `executor` (`nx-distro:cross`, ...; undefined when unknown). */
export function taskKind(executor: string | undefined): TaskKind {
  return (executor && KIND_OF_EXECUTOR[executor]) || 'other';
}

/** Nx statuses of a task restored from a cache instead of run. */
const CACHE_HIT = new Set(['local-cache', 'local-cache-kept-existing', 'remote-cache']);

/** One task of a run, as the report shows it. */
export interface ReportTask extends CountedTask {
  readonly project: string;
  /** The Nx target (`build`, `fetch`, ...). */
  readonly target: string;
  /** The Nx configuration (a system target's name), absent for `fetch`. */
  readonly configuration?: string;
  /** Nx's executor of the target, when the project graph names it. */
  readonly executor?: string;
  readonly kind: TaskKind;
  /**
   * Nx's status: `success`, `failure`, `stopped`, `local-cache`, `local-cache-kept-existing`,
   * `remote-cache`; or, for a task of the command that never started, `skipped` (a dependency
   * failed, was skipped or stopped) or `not-run`.
   */
  readonly status: string;
  /** The build's steps from its `build.log` (only for a build that ran in this run). */
  readonly steps?: readonly BuildStep[];
  /** Workspace-relative path of its `build.log`, when it has one. */
  readonly log?: string;
}

/** A whole run, as the report shows it: what {@link collectRun} gathers. */
export interface RunRecord {
  /** The nx command line after `nx` (`run-many -t build -c x86_64`). */
  readonly command: string;
  /** Absolute workspace root. */
  readonly workspaceRoot: string;
  /** Nx's start of the run (before hashing the task graph), milliseconds since the epoch. */
  readonly start: number;
  /** Nx's end of the run (after the last task), milliseconds since the epoch. */
  readonly end: number;
  /** Nx's parallelism: tasks it runs at once. */
  readonly jobs: number;
  /** Every task of the run: those with a result in Nx's order of completion, then those that never started. */
  readonly tasks: readonly ReportTask[];
  /** What the report could not know, one sentence each (e.g. without the project graph, no dependencies). */
  readonly notes: readonly string[];
}

/** What {@link collectRun} needs of one of Nx's task results (`context.taskResults` of `postTasksExecution`). */
export interface TaskResultInput {
  readonly task: {
    readonly id: string;
    readonly target: { readonly project: string; readonly target: string; readonly configuration?: string };
    /** Workspace-relative output paths (Nx resolves `{workspaceRoot}`, `{projectRoot}`, ...). */
    readonly outputs?: readonly string[];
    /** Milliseconds since the epoch. */
    readonly startTime?: number;
    /** Milliseconds since the epoch. */
    readonly endTime?: number;
  };
  readonly status: string;
}

/** What {@link collectRun} needs of `postTasksExecution`'s context. */
export interface RunContextInput {
  /** Absolute. */
  readonly workspaceRoot: string;
  /** The whole process argv of the nx command (`['node', '.../nx', 'run-many', ...]`). */
  readonly argv: readonly string[];
  readonly nxJsonConfiguration?: NxJsonConfiguration;
  /** Milliseconds since the epoch. */
  readonly startTime: number;
  /** Milliseconds since the epoch. */
  readonly endTime: number;
  readonly taskResults: Readonly<Record<string, TaskResultInput>>;
}

/**
 * Gathers a run for the report: every task of the command with Nx's own timings
 * (`task.startTime`/`endTime` of `context.taskResults`, which are also what Nx's `NX_PROFILE`
 * trace records), its status, its kind (from the executor the project graph names), its
 * dependencies (Nx's task graph of the command, rebuilt by Nx's own functions:
 * {@link commandTaskGraph}), and for a build that ran, the step times of its `build.log`.
 * A task of the command that has no result never started (Nx 24 reports none for a task whose
 * dependency failed): `skipped` when one of its dependencies failed, was skipped or stopped,
 * else `not-run`. For a command whose task graph is not rebuilt (`affected`), the dependencies
 * come from Nx's `ProcessTasks` over the tasks that have results ({@link taskDependencies}),
 * and the tasks that never started are missing (a note says so when one failed).
 * @param projectGraph the run's project graph (Nx's cached one); undefined when it cannot be read:
 *   the tasks then have no dependencies and no executor, and a note says so
 * @param cwd the command's working folder (absolute), for `nx run` without a project
 */
export function collectRun(context: RunContextInput, projectGraph: ProjectGraph | undefined, cwd: string = process.cwd()): RunRecord {
  const results = Object.values(context.taskResults);
  const notes: string[] = [];
  let planned: CommandTaskGraph | undefined;
  let dependencies = new Map<string, readonly string[]>();
  if (projectGraph) {
    try {
      planned = commandTaskGraph(context.argv, cwd, projectGraph, context.nxJsonConfiguration ?? {});
      const stray = planned && results.find((r) => !planned!.tasks[r.task.id]);
      if (stray) {
        notes.push(`Nx's task graph of the command, rebuilt here, lacks ${stray.task.id}, a task of the run; the dependencies are taken from the tasks that ran instead`);
        planned = undefined;
      }
    } catch (e) {
      notes.push(`Nx's task graph of the command could not be rebuilt here (${(e as Error).message.split('\n')[0]}); the dependencies are taken from the tasks that ran`);
    }
    if (planned) dependencies = new Map(Object.entries(planned.dependencies));
    else {
      try {
        dependencies = taskDependencies(projectGraph, results.map((r) => r.task));
      } catch (e) {
        notes.push(`the task graph could not be rebuilt (${(e as Error).message}), so no task has dependencies and the critical path is a single task`);
      }
      if (results.some((r) => r.status === 'failure' || r.status === 'stopped')) notes.push('tasks that never started (their dependency failed) are not listed: Nx reports no result for them, and this report rebuilds the task graph of run-many and run only');
    }
  } else {
    notes.push("Nx's project graph could not be read, so no task has dependencies and the critical path is a single task");
  }
  const withResult = new Set(results.map((r) => r.task.id));
  const tasks = results.map(({ task, status }) => reportTask(context.workspaceRoot, projectGraph, task, status, dependencies));
  if (planned) {
    // The command's tasks that never started, in dependency order so a skip is known before its dependents.
    const status = new Map(results.map((r) => [r.task.id, r.status]));
    const missing = Object.keys(planned.tasks).filter((id) => !withResult.has(id)).sort();
    const visit = (id: string): string => {
      const known = status.get(id);
      if (known !== undefined) return known;
      status.set(id, 'not-run'); // a cycle (Nx refuses one) ends here
      const deps = (planned!.dependencies[id] ?? []).map(visit);
      const s = deps.some((d) => d === 'failure' || d === 'skipped' || d === 'stopped') ? 'skipped' : 'not-run';
      status.set(id, s);
      return s;
    };
    for (const id of missing) tasks.push(reportTask(context.workspaceRoot, projectGraph, { ...planned.tasks[id], startTime: undefined, endTime: undefined }, visit(id), dependencies));
  }
  const ids = new Set(tasks.map((t) => t.id));
  return {
    command: context.argv.slice(2).join(' '),
    workspaceRoot: context.workspaceRoot,
    start: context.startTime,
    end: context.endTime,
    jobs: nxParallelism(context.argv, context.nxJsonConfiguration?.parallel),
    tasks: tasks.map((t) => ({ ...t, dependencies: t.dependencies.filter((d) => ids.has(d)) })),
    notes,
  };
}

function reportTask(workspaceRoot: string, projectGraph: ProjectGraph | undefined, task: TaskResultInput['task'], status: string, dependencies: ReadonlyMap<string, readonly string[]>): ReportTask {
  const executor = projectGraph?.nodes[task.target.project]?.data.targets?.[task.target.target]?.executor;
  const ran = status === 'success' || status === 'failure';
  const { steps, log } = ran ? buildSteps(workspaceRoot, task) : { steps: undefined, log: logOf(workspaceRoot, task) };
  return {
    id: task.id,
    project: task.target.project,
    target: task.target.target,
    ...(task.target.configuration ? { configuration: task.target.configuration } : {}),
    ...(executor ? { executor } : {}),
    kind: taskKind(executor),
    status,
    cached: CACHE_HIT.has(status),
    failed: status === 'failure',
    ...(typeof task.startTime === 'number' && typeof task.endTime === 'number' ? { start: task.startTime, end: task.endTime } : {}),
    dependencies: [...new Set(dependencies.get(task.id) ?? [])].sort(),
    ...(steps?.length ? { steps } : {}),
    ...(log ? { log } : {}),
  };
}

/**
 * The dependencies of each of `tasks` among them, as Nx's task graph has them: Nx's own
 * `ProcessTasks` (what `createTaskGraph` runs) is given, for each target and configuration of
 * the run, the projects that ran it; it adds every task's `dependsOn` closure, which is part of
 * the run too. A dependency that is not one of `tasks` is dropped.
 * @returns task id -> ids of the tasks it depends on
 */
export function taskDependencies(projectGraph: ProjectGraph, tasks: readonly TaskResultInput['task'][]): Map<string, string[]> {
  // Nx's module, not its public API; loaded here so a change there costs the report only.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ProcessTasks } = require('nx/src/tasks-runner/create-task-graph') as {
    ProcessTasks: new (extra: object, graph: ProjectGraph) => {
      dependencies: Record<string, ReadonlyArray<string | { id: string }>>;
      processTasks(projects: string[], targets: string[], configuration: string | undefined, overrides: object, excludeTaskDependencies: boolean): string[];
    };
  };
  const groups = new Map<string, { target: string; configuration?: string; projects: Set<string> }>();
  for (const t of tasks) {
    const key = `${t.target.target}\0${t.target.configuration ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { target: t.target.target, configuration: t.target.configuration, projects: new Set() }));
    g.projects.add(t.target.project);
  }
  const p = new ProcessTasks({}, projectGraph);
  for (const g of groups.values()) p.processTasks([...g.projects].sort(), [g.target], g.configuration, {}, false);
  const ids = new Set(tasks.map((t) => t.id));
  const out = new Map<string, string[]>();
  for (const id of ids) {
    const edges = p.dependencies[id] ?? [];
    out.set(id, [...new Set(edges.map((e) => (typeof e === 'string' ? e : e.id)))].filter((d) => ids.has(d) && d !== id).sort());
  }
  return out;
}

/** Workspace-relative `build.log` directly in one of the task's output folders, if any. */
function logOf(workspaceRoot: string, task: TaskResultInput['task']): string | undefined {
  for (const out of task.outputs ?? []) {
    const rel = path.posix.join(out.replace(/^\{workspaceRoot\}\/?/, ''), 'build.log');
    if (existsSync(path.join(workspaceRoot, rel))) return rel;
  }
  return undefined;
}

/**
 * The steps of a build that ran in this run, from its `build.log`: only a log written during
 * the task (its modification time and every step inside the task's window, 2 s of slack), so a
 * log left from an earlier run is never shown as this one's.
 */
function buildSteps(workspaceRoot: string, task: TaskResultInput['task']): { steps?: BuildStep[]; log?: string } {
  const log = logOf(workspaceRoot, task);
  if (!log || task.startTime === undefined || task.endTime === undefined) return { log };
  const slack = 2000;
  const file = path.join(workspaceRoot, log);
  try {
    const mtime = statSync(file).mtimeMs;
    if (mtime < task.startTime - slack || mtime > task.endTime + slack) return { log };
    const steps = parseBuildSteps(readFileSync(file, 'utf8'));
    if (!steps.every((s) => s.start >= task.startTime! - slack && s.end <= task.endTime! + slack && s.end >= s.start)) return { log };
    return { steps, log };
  } catch {
    return { log };
  }
}

/**
 * Nx's parallelism for a command line, as Nx resolves it: `--parallel[=N]` (`false` is 1, no
 * value or `true` is `--maxParallel`, `NX_PARALLEL` or 3; `N%` a share of the CPUs), then
 * `NX_PARALLEL`, nx.json's `parallel`, `--maxParallel`, 3 (nx/src/command-line/yargs-utils/shared-options.js
 * `readParallelFromArgsAndEnv`, which this calls, and task-orchestrator.js `getThreadPoolSize`).
 * @param argv the whole process argv of the nx command
 * @param nxJsonParallel nx.json's `parallel`
 */
export function nxParallelism(argv: readonly string[], nxJsonParallel: number | undefined): number {
  const args: Record<string, string> = {};
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    const m = /^--(parallel|maxParallel|max-parallel)(?:=(.*))?$/.exec(a);
    if (!m) continue;
    const next = argv[i + 1];
    args[m[1]] = m[2] ?? (next !== undefined && /^(\d+%?|true|false)$/.test(next) ? argv[++i] : '');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readParallelFromArgsAndEnv } = require('nx/src/command-line/yargs-utils/shared-options') as {
    readParallelFromArgsAndEnv(args: Record<string, unknown>): number | undefined;
  };
  const jobs = readParallelFromArgsAndEnv(args) ?? nxJsonParallel ?? Number(args.maxParallel || args['max-parallel'] || 3);
  return Number.isFinite(jobs) && jobs >= 1 ? Math.floor(jobs) : 3;
}
