/**
 * The step times of a build log (`build.log` beside each package). Every step starts with a
 * line `==> <phase>` (what a reader looks for) and, since the run report, ends with one
 * machine-readable line:
 *
 *     ==> configure done: 12.3 s [start_ms=1764700000123 end_ms=1764700012468 exit=0]
 *     ==> build failed: 3.1 s [start_ms=1764700012470 end_ms=1764700015570 exit=2]
 *
 * `start_ms` and `end_ms` are milliseconds since the epoch (the build machine's clock, as Nx's
 * task timings); `exit` is the step's exit status, or `signal:<NAME>` when a signal ended it.
 */

/** One step of a build, as its log recorded it. */
export interface BuildStep {
  /** The phase: `prepare`, `configure`, `build`, `check`, `install`. */
  readonly phase: string;
  /** Milliseconds since the epoch. */
  readonly start: number;
  /** Milliseconds since the epoch. */
  readonly end: number;
  /** Whether the step exited 0. */
  readonly ok: boolean;
  /** The exit status (`0`, `2`) or `signal:<NAME>`. */
  readonly exit: string;
}

const STEP_END = /^==> (\S+) (done|failed): [^\n[]*\[start_ms=(\d+) end_ms=(\d+) exit=(\S+)\]$/gm;

/**
 * The line that ends a step in the build log, with its newline.
 * @param start milliseconds since the epoch
 * @param end milliseconds since the epoch
 * @param exit the step's exit status, or the signal's name when a signal ended it
 */
export function stepEndLine(phase: string, start: number, end: number, exit: number | string): string {
  const status = typeof exit === 'number' ? String(exit) : `signal:${exit}`;
  const ok = status === '0';
  return `==> ${phase} ${ok ? 'done' : 'failed'}: ${((end - start) / 1000).toFixed(1)} s [start_ms=${Math.round(start)} end_ms=${Math.round(end)} exit=${status}]\n`;
}

/**
 * The steps a build log recorded with {@link stepEndLine}, in the order they ran. A log written
 * before such lines existed, or from another tool, gives none. Output of a step that happens to
 * print a line of the same shape is not told apart: a caller keeps only steps inside the task's
 * own time window.
 */
export function parseBuildSteps(log: string): BuildStep[] {
  const steps: BuildStep[] = [];
  for (const m of log.matchAll(STEP_END)) {
    steps.push({ phase: m[1], start: Number(m[3]), end: Number(m[4]), ok: m[2] === 'done' && m[5] === '0', exit: m[5] });
  }
  return steps;
}
