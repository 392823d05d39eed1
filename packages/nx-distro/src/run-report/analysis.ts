/**
 * The figures of a run: critical path, work, the lower bound of its wall time, the workers'
 * lanes. Pure functions over the tasks' timings (milliseconds since the epoch, as Nx records
 * `task.startTime` and `task.endTime`) and the task graph's dependencies.
 */

/** What the analysis needs of a task. */
export interface TimedTask {
  /** Nx task id (`project:target[:configuration]`). */
  readonly id: string;
  /** When Nx started it, milliseconds since the epoch; absent when it never started (skipped). */
  readonly start?: number;
  /** When it ended, milliseconds since the epoch; absent when it never started. */
  readonly end?: number;
  /** Ids of the tasks of the same run it depends on (Nx's task graph). */
  readonly dependencies: readonly string[];
  /** Restored from a cache (local or remote) instead of run. */
  readonly cached: boolean;
}

/** A task's duration in milliseconds: `end - start`, 0 when it has no timings (or a clock step made it negative). */
export function durationMs(task: Pick<TimedTask, 'start' | 'end'>): number {
  if (task.start === undefined || task.end === undefined) return 0;
  return Math.max(0, task.end - task.start);
}

/** The longest chain of dependent tasks by duration. */
export interface CriticalPath {
  /** Task ids from the first (a task with no dependency on the path) to the last. */
  readonly path: readonly string[];
  /** Sum of the path's durations, milliseconds. */
  readonly durationMs: number;
}

/**
 * The critical path: the chain of tasks, each depending on the one before it, whose durations
 * add up to the most. It is the run's floor with unlimited workers (a task cannot start before
 * all its dependencies ended). Only tasks with timings count (a skipped task never ran, and no
 * task that ran depends on it); a dependency outside `tasks` is ignored. Ties go to the
 * predecessor with the smaller id, so the result is deterministic.
 * @throws {Error} when the dependencies form a cycle (Nx refuses such a task graph before running it)
 */
export function criticalPath(tasks: readonly TimedTask[]): CriticalPath {
  const byId = new Map<string, TimedTask>();
  for (const t of tasks) if (t.start !== undefined && t.end !== undefined) byId.set(t.id, t);
  // Kahn's algorithm over the timed tasks: finish[t] = duration(t) + max finish of its dependencies.
  const dependents = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  for (const t of byId.values()) {
    const deps = [...new Set(t.dependencies)].filter((d) => byId.has(d) && d !== t.id);
    waiting.set(t.id, deps.length);
    for (const d of deps) {
      const list = dependents.get(d);
      if (list) list.push(t.id);
      else dependents.set(d, [t.id]);
    }
  }
  const finish = new Map<string, number>();
  const best = new Map<string, string | undefined>();
  const ready = [...byId.keys()].filter((id) => waiting.get(id) === 0).sort();
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i];
    let before = 0;
    let pred: string | undefined;
    for (const d of [...byId.get(id)!.dependencies].sort()) {
      const f = finish.get(d);
      if (f === undefined) continue;
      if (pred === undefined || f > before) {
        before = f;
        pred = d;
      }
    }
    finish.set(id, before + durationMs(byId.get(id)!));
    best.set(id, pred);
    for (const next of dependents.get(id) ?? []) {
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (finish.size !== byId.size) {
    const stuck = [...byId.keys()].filter((id) => !finish.has(id)).sort();
    throw new Error(`the task dependencies form a cycle through ${stuck.slice(0, 5).join(', ')}${stuck.length > 5 ? ', ...' : ''}`);
  }
  let last: string | undefined;
  for (const id of [...finish.keys()].sort()) if (last === undefined || finish.get(id)! > finish.get(last)!) last = id;
  const path: string[] = [];
  for (let id = last; id !== undefined; id = best.get(id)) path.unshift(id);
  return { path, durationMs: last === undefined ? 0 : finish.get(last)! };
}

/** The run's totals, every time in milliseconds. */
export interface RunTotals {
  /** Nx's run window: from before the task graph's hashing to the last task's end (`endTime - startTime` of `postTasksExecution`'s context). */
  readonly wallMs: number;
  /** First task's start to the last task's end (0 without timed tasks). */
  readonly spanMs: number;
  /** Sum of every timed task's duration (cache hits included: their restore time). */
  readonly workMs: number;
  /** The critical path's duration. */
  readonly criticalPathMs: number;
  /** Nx's parallelism (`--parallel`): how many tasks it runs at once. */
  readonly jobs: number;
  /** `max(criticalPathMs, workMs / jobs)`: no schedule of these tasks on `jobs` workers ends sooner. */
  readonly boundMs: number;
  /** Which term of the bound is the larger: `critical path` or `work / jobs`. */
  readonly boundBy: 'critical path' | 'work / jobs';
  /** Tasks of the run. */
  readonly tasks: number;
  /** Tasks restored from a cache. */
  readonly cacheHits: number;
  /** Tasks that ran (succeeded or failed). */
  readonly ran: number;
  /** Tasks that failed. */
  readonly failed: number;
  /** Tasks that never started (a dependency failed, or the run was stopped). */
  readonly notRun: number;
}

/** What {@link runTotals} needs of a task besides its timings. */
export interface CountedTask extends TimedTask {
  readonly failed: boolean;
}

/**
 * The run's totals.
 * @param runStart Nx's start of the run, milliseconds since the epoch
 * @param runEnd Nx's end of the run, milliseconds since the epoch
 * @param jobs Nx's parallelism (at least 1)
 */
export function runTotals(tasks: readonly CountedTask[], runStart: number, runEnd: number, jobs: number, path: CriticalPath = criticalPath(tasks)): RunTotals {
  const timed = tasks.filter((t) => t.start !== undefined && t.end !== undefined);
  const workMs = timed.reduce((sum, t) => sum + durationMs(t), 0);
  const spanMs = timed.length ? Math.max(...timed.map((t) => t.end!)) - Math.min(...timed.map((t) => t.start!)) : 0;
  const j = Math.max(1, Math.floor(jobs));
  const perJob = workMs / j;
  return {
    wallMs: Math.max(0, runEnd - runStart),
    spanMs,
    workMs,
    criticalPathMs: path.durationMs,
    jobs: j,
    boundMs: Math.max(path.durationMs, perJob),
    boundBy: path.durationMs >= perJob ? 'critical path' : 'work / jobs',
    tasks: tasks.length,
    cacheHits: tasks.filter((t) => t.cached).length,
    ran: timed.filter((t) => !t.cached).length,
    failed: tasks.filter((t) => t.failed).length,
    notRun: tasks.length - timed.length,
  };
}

/**
 * Gives every timed task a worker lane (0, 1, ...) the way Nx hands out its worker slots
 * (nx/src/tasks-runner/task-orchestrator.js `closeGroup`): the lowest slot free when the task
 * starts, held until it ends. Cache hits that Nx restores together (one bulk: the same start and
 * end) share one slot, as in Nx. Nx holds a slot a little longer than the task's timings (it
 * takes it before `startTime` and frees it after writing the outputs to the cache), so a lane
 * here can differ from Nx's slot number when a task starts while another's outputs are still
 * being cached; the lanes never overlap and never exceed what ran at once.
 * @returns task id -> lane, for every task with timings
 */
export function assignLanes(tasks: readonly TimedTask[]): Map<string, number> {
  const timed = tasks.filter((t) => t.start !== undefined && t.end !== undefined);
  // One entry per slot occupant: a task, or a bulk of cache hits with the same timings.
  const groups = new Map<string, TimedTask[]>();
  for (const t of timed) {
    const key = t.cached ? `cached ${t.start} ${t.end}` : `task ${t.id}`;
    const g = groups.get(key);
    if (g) g.push(t);
    else groups.set(key, [t]);
  }
  const occupants = [...groups.values()].map((members) => ({ members, start: members[0].start!, end: Math.max(members[0].start!, members[0].end!) }));
  occupants.sort((a, b) => a.start - b.start || (a.members[0].id < b.members[0].id ? -1 : a.members[0].id > b.members[0].id ? 1 : 0));
  const busyUntil: number[] = [];
  const lanes = new Map<string, number>();
  for (const o of occupants) {
    let lane = busyUntil.findIndex((until) => until <= o.start);
    if (lane < 0) lane = busyUntil.length;
    // A zero-length occupant still marks its lane as taken at that instant for a later one.
    busyUntil[lane] = o.end > o.start ? o.end : o.start + 0.5;
    for (const m of o.members) lanes.set(m.id, lane);
  }
  return lanes;
}
