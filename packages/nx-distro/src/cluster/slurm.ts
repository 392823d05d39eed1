/**
 * One build as one Slurm job: submit it with `sbatch`, follow its output file as it grows, wait
 * for its end by polling `squeue`, take its state and exit status from `sacct` (the job records
 * of the cluster, never `sbatch --wait` alone), and cancel it with `scancel` when asked or when
 * this process gets SIGINT, SIGTERM or SIGHUP. A sketch of what the build executors will call in
 * a cluster run (issue 25); not wired into them yet. Written against Slurm 22.05 (Debian 12);
 * what a cluster needs for it: docs/slurm.md.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { execa, execaSync } from 'execa';

/** A Slurm command failed or the cluster answered what this module cannot use; `message` is one line naming it. */
export class SlurmError extends Error {
  override name = 'SlurmError';
}

/** How Slurm commands are run: their extra environment (e.g. `SLURM_CONF` for a cluster other than /etc/slurm's). */
export interface SlurmClient {
  /** Added to this process's environment for every Slurm command. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Where the cluster keeps its job records, which `sacct` reads: `slurmdbd` (AccountingStorageType
 * accounting_storage/slurmdbd: full accounting in a database) or `jobcomp` (JobCompType
 * jobcomp/filetxt: one line per finished run in JobCompLoc, read by `sacct -c` directly from that
 * file, so it must be readable where this process runs).
 */
export type JobRecordSource = 'slurmdbd' | 'jobcomp';

/** What a build asks of its job. */
export interface SlurmJobSpec {
  /**
   * Job name: the Nx task id (`zlib:build:aarch64`), what `squeue`, `sacct` and `scancel --name`
   * show and select. No whitespace: jobcomp/filetxt writes `Name=<name>` unquoted into a line of
   * space-separated fields, and a space breaks the record (its state reads back empty).
   */
  readonly name: string;
  /** The job script's text (a `#!` line first), sent on sbatch's standard input: Slurm copies it, so it needs no shared folder. */
  readonly script: string;
  /**
   * Absolute path of the job's output file (stdout and stderr, `--output`), on a folder the
   * worker writes and this machine reads (a shared file system). Emptied at submission; a
   * requeued job's next run appends to it (`--open-mode=append`).
   */
  readonly outputFile: string;
  /** Absolute working folder of the job on the worker (`--chdir`). */
  readonly cwd: string;
  /** CPUs of the job (`--cpus-per-task`); Slurm's default 1. */
  readonly cpus?: number;
  /** Memory of the job, MiB (`--mem`); Slurm's default (DefMemPerNode, else the node's whole memory). */
  readonly memoryMiB?: number;
  /** A node feature the worker must have (`--constraint`), e.g. the system target's arch for native workers. */
  readonly constraint?: string;
  /** Requeue the job when its node fails (`--requeue`, the default) or not (`--no-requeue`). */
  readonly requeue?: boolean;
  /** Wall-clock limit, minutes (`--time`); the partition's default when absent. */
  readonly timeLimitMinutes?: number;
  /** Partition (`--partition`); the cluster's default when absent. */
  readonly partition?: string;
}

/** One run of a job as `sacct` records it: a requeued job has one per run, the last one last. */
export interface SlurmJobRun {
  readonly jobId: string;
  readonly name: string;
  /** `COMPLETED`, `FAILED`, `CANCELLED`, `NODE_FAIL`, `TIMEOUT`, `OUT_OF_MEMORY`... (a suffix such as ` by 0` removed). */
  readonly state: string;
  /** The exit status of the job script (the part before `:` of sacct's ExitCode). */
  readonly exitStatus: number;
  /** The signal that ended it, 0 for none (the part after `:`). */
  readonly signal: number;
  /** The node list (`n1`, `(null)` when it never ran). */
  readonly nodes: string;
  /** Start and end, milliseconds since the epoch (sacct prints local time to the second); NaN when unknown. */
  readonly start: number;
  readonly end: number;
}

/** The end of a job: its last run, whether it succeeded, and every run. */
export interface SlurmJobResult extends SlurmJobRun {
  /** COMPLETED with exit status 0 and no signal. */
  readonly success: boolean;
  /** Every run in order; more than one when the job was requeued (a failed node). */
  readonly runs: readonly SlurmJobRun[];
}

/** Job states after which a job never runs again (Slurm's job_state_string names). */
const TERMINAL_STATES = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

/** Whether a squeue or sacct state is one after which the job never runs again. */
export function isTerminalState(state: string): boolean {
  return TERMINAL_STATES.has(state.split(/\s/)[0]);
}

/** sacct's fields, in the order {@link parseSacct} reads them. */
const SACCT_FIELDS = 'JobID,JobName,State,ExitCode,NodeList,Start,End';

/**
 * Checks a job name ({@link SlurmJobSpec.name}).
 * @throws SlurmError naming the problem: empty, or whitespace in it
 */
export function checkJobName(name: string): void {
  if (!name) throw new SlurmError('slurm: empty job name');
  if (/\s/.test(name)) throw new SlurmError(`slurm: job name '${name}' has whitespace, which breaks its job completion record; use a name without it`);
}

/**
 * sbatch's arguments for a job (the script comes on standard input): `--parsable`, the name,
 * the output file (`%` written as `%%`, as sbatch reads `%j` and the like), `--open-mode=append`,
 * `--chdir`, and what the spec asks.
 * @throws SlurmError for a bad name, a relative path or a non-positive number
 */
export function sbatchArgs(spec: SlurmJobSpec): string[] {
  checkJobName(spec.name);
  for (const [field, p] of [['outputFile', spec.outputFile], ['cwd', spec.cwd]] as const) {
    if (!path.isAbsolute(p)) throw new SlurmError(`slurm: ${field} '${p}' is not an absolute path`);
  }
  const positive = (field: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new SlurmError(`slurm: ${field} ${v} is not a positive whole number`);
    return v;
  };
  const args = ['--parsable', `--job-name=${spec.name}`, `--output=${spec.outputFile.replaceAll('%', '%%')}`, '--open-mode=append', `--chdir=${spec.cwd}`];
  if (positive('cpus', spec.cpus) !== undefined) args.push(`--cpus-per-task=${spec.cpus}`);
  if (positive('memoryMiB', spec.memoryMiB) !== undefined) args.push(`--mem=${spec.memoryMiB}M`);
  if (positive('timeLimitMinutes', spec.timeLimitMinutes) !== undefined) args.push(`--time=${spec.timeLimitMinutes}`);
  if (spec.constraint) args.push(`--constraint=${spec.constraint}`);
  if (spec.partition) args.push(`--partition=${spec.partition}`);
  args.push(spec.requeue === false ? '--no-requeue' : '--requeue');
  return args;
}

/** sacct's arguments for the runs of `jobId` ({@link SACCT_FIELDS}, parsable, no header). */
export function sacctArgs(jobId: string, source: JobRecordSource): string[] {
  // jobcomp: -c reads JobCompLoc. slurmdbd: -X the allocation only (no steps), -D every run of a requeued job.
  return [...(source === 'jobcomp' ? ['-c'] : ['-X', '-D']), '-P', '-n', '-j', jobId, '-o', SACCT_FIELDS];
}

/**
 * Parses `sacct -P -n -o JobID,JobName,State,ExitCode,NodeList,Start,End` output: one run per
 * line, in sacct's order (a requeued job's runs oldest first). Times are sacct's local time.
 * @throws SlurmError for a line without the seven fields
 */
export function parseSacct(stdout: string): SlurmJobRun[] {
  const time = (t: string) => (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(t) ? new Date(t).getTime() : NaN);
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const f = l.split('|');
      if (f.length !== 7) throw new SlurmError(`slurm: sacct line '${l}' does not have the 7 fields ${SACCT_FIELDS}`);
      const [jobId, name, state, exitCode, nodes, start, end] = f;
      const m = /^(\d+):(\d+)$/.exec(exitCode);
      if (!m) throw new SlurmError(`slurm: sacct line '${l}': ExitCode '${exitCode}' is not <status>:<signal>`);
      return { jobId, name, state: state.split(' ')[0], exitStatus: Number(m[1]), signal: Number(m[2]), nodes, start: time(start), end: time(end) };
    });
}

/** Runs a Slurm command; never rejects. */
async function slurm(client: SlurmClient, command: string, args: readonly string[], input?: string) {
  const r = await execa(command, args, { env: { ...client.env }, reject: false, ...(input === undefined ? { stdin: 'ignore' as const } : { input }) });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), failed: r.failed, message: r.shortMessage };
}

/**
 * A failed command's error output as one line: its lines joined with `; `, each without the
 * command's `<command>: error: ` prefix (sbatch says why in one line, then that it failed in
 * another).
 */
function oneLine(r: { stderr: string; stdout: string; message?: string }): string {
  const text = r.stderr.trim() || r.stdout.trim() || r.message || 'no output';
  return text
    .split('\n')
    .map((l) => l.trim().replace(/^\w+: error: /, ''))
    .filter(Boolean)
    .join('; ');
}

/**
 * Where the cluster keeps its job records (`scontrol show config`): slurmdbd when
 * AccountingStorageType is accounting_storage/slurmdbd, else jobcomp when JobCompType is
 * jobcomp/filetxt.
 * @throws SlurmError when scontrol fails (the controller is unreachable) or the cluster keeps no
 *   job records `sacct` can read (the fix: JobCompType=jobcomp/filetxt, or slurmdbd)
 */
export async function jobRecordSource(client: SlurmClient = {}): Promise<JobRecordSource> {
  const r = await slurm(client, 'scontrol', ['show', 'config']);
  if (r.exitCode !== 0) throw new SlurmError(`slurm: scontrol show config failed: ${oneLine(r)}`);
  const value = (key: string) => new RegExp(`^${key}\\s*=\\s*(\\S+)`, 'm').exec(r.stdout)?.[1] ?? '';
  if (value('AccountingStorageType') === 'accounting_storage/slurmdbd') return 'slurmdbd';
  if (value('JobCompType') === 'jobcomp/filetxt') return 'jobcomp';
  throw new SlurmError(
    `slurm: the cluster keeps no job records sacct can read (AccountingStorageType=${value('AccountingStorageType') || '?'}, JobCompType=${value('JobCompType') || '?'}); set JobCompType=jobcomp/filetxt in slurm.conf, or run slurmdbd`,
  );
}

/**
 * Submits a job (`sbatch`, the script on standard input) after emptying its output file.
 * @returns the job id
 * @throws SlurmError with sbatch's errors on one line (e.g. `CPU count per node can not be
 *   satisfied; Batch job submission failed: Requested node configuration is not available` when
 *   no worker has the CPUs or memory, `Invalid feature specification` for an unknown
 *   constraint), or for a bad spec ({@link sbatchArgs})
 */
export async function submitJob(spec: SlurmJobSpec, client: SlurmClient = {}): Promise<string> {
  const args = sbatchArgs(spec);
  if (!spec.script.startsWith('#!')) throw new SlurmError(`slurm: the job script of '${spec.name}' does not start with a #! line`);
  await fs.writeFile(spec.outputFile, '');
  const r = await slurm(client, 'sbatch', args, spec.script);
  const id = r.stdout.trim().split(';')[0];
  if (r.exitCode !== 0 || !/^\d+$/.test(id)) throw new SlurmError(`slurm: sbatch of '${spec.name}' failed: ${oneLine(r)}`);
  return id;
}

/**
 * The job's state as the controller has it (`squeue -t all`: finished jobs too, for MinJobAge
 * seconds), `''` once the controller has forgotten the job.
 * @returns undefined when the controller could not be asked (a transient failure)
 */
export async function queueState(jobId: string, client: SlurmClient = {}): Promise<string | undefined> {
  const r = await slurm(client, 'squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T']);
  if (r.exitCode === 0) return r.stdout.trim();
  if (/Invalid job id/i.test(r.stderr)) return '';
  return undefined;
}

/** The job's runs from `sacct` ({@link parseSacct}); empty while it has not ended once. */
export async function jobRuns(jobId: string, source: JobRecordSource, client: SlurmClient = {}): Promise<SlurmJobRun[]> {
  const r = await slurm(client, 'sacct', sacctArgs(jobId, source));
  if (r.exitCode !== 0) throw new SlurmError(`slurm: sacct for job ${jobId} failed: ${oneLine(r)}`);
  return parseSacct(r.stdout).filter((run) => run.jobId === jobId);
}

/**
 * Cancels a job (`scancel`); a job that has ended already is no error.
 * @throws SlurmError when scancel fails otherwise
 */
export async function cancelJob(jobId: string, client: SlurmClient = {}): Promise<void> {
  const r = await slurm(client, 'scancel', [jobId]);
  if (r.exitCode !== 0 && !/already completing or completed|Invalid job id/i.test(r.stderr)) throw new SlurmError(`slurm: scancel ${jobId} failed: ${oneLine(r)}`);
}

/**
 * Follows a file as it grows: each {@link poll} hands what was appended since the last one to
 * `onText` (UTF-8, never a split character). A file that shrinks (truncated, e.g. a requeued
 * job's output without `--open-mode=append`) is read again from its start; a missing file is
 * waited for.
 */
export class FileFollower {
  private offset = 0;
  private decoder = new StringDecoder('utf8');

  /** @param file absolute path */
  constructor(
    readonly file: string,
    private readonly onText: (text: string) => void,
  ) {}

  /** Reads what was appended since the last call. */
  async poll(): Promise<void> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    try {
      const { size } = await handle.stat();
      if (size < this.offset) {
        this.offset = 0;
        this.decoder = new StringDecoder('utf8');
      }
      const buf = Buffer.alloc(64 * 1024);
      while (this.offset < size) {
        const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - this.offset), this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const text = this.decoder.write(buf.subarray(0, bytesRead));
        if (text) this.onText(text);
      }
    } finally {
      await handle.close();
    }
  }
}

/** Options of {@link waitForJob} and {@link runJob}. */
export interface SlurmWaitOptions {
  readonly client?: SlurmClient;
  /** Where the job records are; asked of the cluster ({@link jobRecordSource}) when absent. */
  readonly source?: JobRecordSource;
  /** Milliseconds between two looks at the queue and the output file; default 1000. */
  readonly pollMs?: number;
  /** Receives the job's output file as it grows (both runs of a requeued job, one after the other). */
  readonly onOutput?: (text: string) => void;
  /** Cancels the job (`scancel`) when aborted; the wait then ends with the job's CANCELLED record. */
  readonly signal?: AbortSignal;
  /** How long the controller may stay unreachable before the wait gives up, ms; default 600,000 (10 min). */
  readonly controllerGraceMs?: number;
  /** How long a job that ended may lack its sacct record, ms; default 30,000. */
  readonly recordGraceMs?: number;
  /** {@link runJob} only: told the job id once sbatch has answered (for the task's log). */
  readonly onSubmitted?: (jobId: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until job `jobId` has ended for good (its queue state is terminal, or the controller
 * has forgotten it; a requeued job is pending again, so its failed run does not end the wait),
 * following `outputFile` into `onOutput` meanwhile, and returns its runs from `sacct`; the last
 * run must agree with the final queue state.
 * @param outputFile absolute path of the job's output file, when `onOutput` is to receive it
 * @throws SlurmError when the controller stays unreachable longer than `controllerGraceMs`, or
 *   the ended job has no agreeing sacct record within `recordGraceMs` (JobCompLoc not readable
 *   here, slurmdbd down)
 */
export async function waitForJob(jobId: string, outputFile: string | undefined, options: SlurmWaitOptions = {}): Promise<SlurmJobResult> {
  const client = options.client ?? {};
  const source = options.source ?? (await jobRecordSource(client));
  const pollMs = options.pollMs ?? 1000;
  const follower = outputFile && options.onOutput ? new FileFollower(outputFile, options.onOutput) : undefined;
  let cancelling: Promise<void> | undefined;
  const onAbort = () => {
    cancelling ??= cancelJob(jobId, client);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    let unreachableSince: number | undefined;
    let endedAt: number | undefined;
    for (;;) {
      await follower?.poll();
      const state = await queueState(jobId, client);
      if (state === undefined) {
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince > (options.controllerGraceMs ?? 600_000)) {
          throw new SlurmError(`slurm: the controller was unreachable for ${Math.round((Date.now() - unreachableSince) / 1000)} s while waiting for job ${jobId}`);
        }
      } else {
        unreachableSince = undefined;
        if (state === '' || isTerminalState(state)) {
          endedAt ??= Date.now();
          const runs = await jobRuns(jobId, source, client);
          const last = runs.at(-1);
          if (last && isTerminalState(last.state) && (state === '' || last.state === state.split(/\s/)[0])) {
            await follower?.poll();
            await cancelling;
            return { ...last, success: last.state === 'COMPLETED' && last.exitStatus === 0 && last.signal === 0, runs };
          }
          if (Date.now() - endedAt > (options.recordGraceMs ?? 30_000)) {
            throw new SlurmError(`slurm: job ${jobId} ended (${state || 'forgotten by the controller'}) but sacct${source === 'jobcomp' ? ' -c' : ''} has no matching record (runs: ${runs.map((r) => r.state).join(', ') || 'none'})`);
          }
        }
      }
      await sleep(pollMs);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Signals that cancel the jobs of {@link runJob} before this process goes. */
const CANCELLING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs one build as one Slurm job: {@link submitJob}, then {@link waitForJob}. While it waits,
 * SIGINT, SIGTERM or SIGHUP of this process cancel the job first (`scancel`, synchronously,
 * before any other listener: the process may end right after), then take their course:
 * re-raised when nothing else listens for that signal, else left to the other listeners (Nx's);
 * and so does the process's exit (`process.exit` by another listener). Only SIGKILL of this
 * process leaves the job running.
 * @returns the job's end (`success` false for a failed, cancelled or timed-out job: no throw)
 * @throws SlurmError when the job cannot be submitted or its end cannot be known
 */
export async function runJob(spec: SlurmJobSpec, options: SlurmWaitOptions = {}): Promise<SlurmJobResult> {
  const client = options.client ?? {};
  const source = options.source ?? (await jobRecordSource(client));
  const jobId = await submitJob(spec, client);
  options.onSubmitted?.(jobId);
  const handlers = new Map<NodeJS.Signals, () => void>();
  const cancelNow = () => {
    try {
      execaSync('scancel', [jobId], { env: { ...client.env }, stdio: 'ignore', timeout: 30_000 });
    } catch {
      // the job has ended, or the controller is gone: nothing more to do before going
    }
  };
  // Another listener may end the process first (Nx's task process calls process.exit on
  // SIGINT): the signal listeners go first, and an exit while waiting cancels too.
  const onExit = () => cancelNow();
  const removeHandlers = () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    handlers.clear();
    process.removeListener('exit', onExit);
  };
  for (const sig of CANCELLING_SIGNALS) {
    const h = () => {
      removeHandlers();
      cancelNow();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    handlers.set(sig, h);
    process.prependListener(sig, h);
  }
  process.on('exit', onExit);
  try {
    return await waitForJob(jobId, spec.outputFile, { ...options, client, source });
  } finally {
    removeHandlers();
  }
}
