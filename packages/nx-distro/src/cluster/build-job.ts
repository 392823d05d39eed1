/**
 * A package build as one Slurm job (issue 25): on a cache miss, `nx-distro:cross` and
 * `nx-distro:native` submit the build to the cluster instead of running its steps here, follow
 * the job's output into the task's output, and take the task's result from the job's record in
 * `sacct` (cluster/slurm.ts). The job runs `nx-distro build-job REQUEST` on a worker
 * (cluster/build-job-cli.ts), which calls the very same {@link buildRecipe} a local build runs:
 * the same sysroot, sources, sandboxed steps and packaging, the same bytes. Nx keeps the graph,
 * the order, the hashes and the caches: this module is only ever reached for a task Nx decided
 * to run. What the cluster needs (same host tools, the workspace and the distfiles store shared
 * at the same paths): docs/slurm.md.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import type { BuildExecutorOptions, BuildMode, BuildPlacement } from '../pipeline/build-recipe';
import { InputError, quote } from '../model/errors';
import { pluginEntryOptions } from '../model/plugin-options';
import type { Recipe } from '../model/recipe';
import type { LoadedSystemTarget, SystemTarget } from '../model/system-target';
import { shellQuote } from '../sandbox/bwrap';
import { runJob, SlurmError, type SlurmJobResult, type SlurmJobSpec } from './slurm';

/** Environment variable that chooses, for one run, where builds run: `local` or `slurm` (over the target's `execution.kind`). */
export const EXECUTION_ENV = 'NX_DISTRO_EXECUTION';

/** Where a package build runs on a cache miss: here, or as one Slurm job. */
export type ExecutionKind = 'local' | 'slurm';

/**
 * Where the system target's builds run: {@link EXECUTION_ENV} when set, else the target file's
 * `execution.kind`, else `local`.
 * @param file workspace-relative target file, for the error
 * @throws InputError naming the variable when it holds anything but `local` or `slurm`
 */
export function executionKind(target: SystemTarget, file: string, env: NodeJS.ProcessEnv = process.env): ExecutionKind {
  const fromEnv = env[EXECUTION_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv === 'local' || fromEnv === 'slurm') return fromEnv;
    throw new InputError(file, 'execution.kind', `the environment variable ${EXECUTION_ENV} is ${quote(fromEnv)}`, `set it to local or slurm, or unset it to use the target's execution.kind (${target.execution?.kind ?? 'local'})`);
  }
  return target.execution?.kind ?? 'local';
}

/**
 * What a build job needs to run {@link buildRecipe} on a worker without Nx: the executor's
 * options and mode and the few parts of Nx's executor context the build reads. Written as JSON
 * by the task on the head node, read by `nx-distro build-job` on the worker.
 */
export interface BuildJobRequest {
  readonly format: 1;
  /** The Nx task id (`zlib:build:aarch64`), also the job's name. */
  readonly taskId: string;
  /** Absolute workspace root: the same path on every host of the cluster. */
  readonly workspaceRoot: string;
  readonly projectName: string;
  readonly targetName: string;
  readonly configurationName?: string;
  /** Workspace-relative root of every project, by project name (the build finds its dependencies' recipes with it). */
  readonly projectRoots: Readonly<Record<string, string>>;
  /** The nx-distro plugin's options as nx.json gives them (raw: the worker normalizes them the same way). */
  readonly pluginOptions?: unknown;
  /** The executor's options; `jobs` set to the job's CPUs when the target gave none. */
  readonly options: BuildExecutorOptions;
  readonly mode: BuildMode;
}

/** The Nx task id of the executor's task: `project:target[:configuration]`. */
export function taskIdOf(context: Pick<ExecutorContext, 'projectName' | 'targetName' | 'configurationName'>): string {
  return [context.projectName, context.targetName, ...(context.configurationName ? [context.configurationName] : [])].join(':');
}

/** Workspace-relative folder of one build's job files (request, output): `tmp/cluster/<systemTarget>/<node>`. */
export function jobFolder(systemTarget: string, node: string): string {
  return path.posix.join('tmp', 'cluster', systemTarget, node);
}

/**
 * The job of one build: named after its Nx task, with the recipe's `resources` over the target's
 * `execution` (CPUs default 1), requeued when its node fails, running `nx-distro build-job` on
 * the request file with this Node (the cluster's hosts have the same at the same path).
 * @param requestFile absolute path of the request JSON
 * @param outputFile absolute path of the job's output file
 * @param cliPath absolute path of bin/nx-distro.js
 */
export function buildJobSpec(input: {
  readonly taskId: string;
  readonly workspaceRoot: string;
  readonly requestFile: string;
  readonly outputFile: string;
  readonly execution: SystemTarget['execution'];
  readonly resources: Recipe['resources'];
  readonly nodePath: string;
  readonly cliPath: string;
}): SlurmJobSpec {
  const ex = input.execution ?? {};
  const memory = input.resources?.memory_mib ?? ex.memory_mib;
  return {
    name: input.taskId,
    script: [
      '#!/bin/sh',
      `# nx-distro: ${input.taskId} as a Slurm job (cluster/build-job.ts)`,
      `exec ${[input.nodePath, input.cliPath, 'build-job', input.requestFile].map(shellQuote).join(' ')}`,
      '',
    ].join('\n'),
    outputFile: input.outputFile,
    cwd: input.workspaceRoot,
    cpus: input.resources?.cpus ?? ex.cpus ?? 1,
    ...(memory !== undefined ? { memoryMiB: memory } : {}),
    ...(ex.constraint ? { constraint: ex.constraint } : {}),
    ...(ex.partition ? { partition: ex.partition } : {}),
    ...(ex.time_limit_minutes !== undefined ? { timeLimitMinutes: ex.time_limit_minutes } : {}),
    requeue: true,
  };
}

/** Seconds between a run's start and end, or `?` when sacct did not say. */
function seconds(run: { start: number; end: number }): string {
  return Number.isFinite(run.start) && Number.isFinite(run.end) ? `${Math.round((run.end - run.start) / 1000)} s` : '? s';
}

/**
 * The one line that says how a build's job ended: `Slurm job 12 COMPLETED on n1 in 23 s`, with
 * the earlier runs of a requeued job (`after NODE_FAIL on n2`), a failure's exit status or
 * signal, and how long the task waited from the submission to the end it read in sacct (the
 * run's time plus what the cluster and the waiting cost: queueing, the scheduler's pass, polls).
 * @param sinceSubmissionSeconds seconds from sbatch's answer to the task's reading of the end
 */
export function jobSummary(result: SlurmJobResult, sinceSubmissionSeconds?: number): string {
  const end = result.success ? '' : result.signal ? ` (signal ${result.signal})` : ` (exit ${result.exitStatus})`;
  const earlier = result.runs.slice(0, -1).map((r) => `${r.state} on ${r.nodes}`);
  const waited = sinceSubmissionSeconds === undefined ? '' : `; ${sinceSubmissionSeconds.toFixed(1)} s from submission`;
  return `Slurm job ${result.jobId} ${result.state}${end} on ${result.nodes} in ${seconds(result)}${earlier.length ? `, after ${earlier.join(', ')}` : ''}${waited}`;
}

/** Writes `file` whole or not at all (a temporary name beside it, then rename). */
async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}

/**
 * Runs one build as one Slurm job and waits for it: writes the request and submits the job
 * ({@link buildJobSpec}; its files in {@link jobFolder}), streams the job's output file to this
 * task's output as it grows, and ends with the job's record: success only for COMPLETED with
 * exit status 0. A requeued job (its node failed) is waited for through its next run.
 * SIGINT, SIGTERM or SIGHUP of this process (Ctrl-C on nx) cancel the job first (`scancel`).
 * The job's summary line ({@link jobSummary}) is logged and appended to `build.log`.
 * @param what the build's node (`zlib`, `gcc@stage1`)
 * @param outDir absolute output folder of the build (where the worker writes its package and `build.log`)
 * @returns `{ success }`; a job the cluster refuses (no such partition or feature, too many
 *   CPUs) is one logged line, never thrown
 */
export async function buildOnSlurm(
  options: BuildExecutorOptions,
  context: ExecutorContext,
  mode: BuildMode,
  loadedTarget: LoadedSystemTarget,
  recipe: Recipe,
  what: string,
  outDir: string,
): Promise<{ success: boolean }> {
  const root = context.root;
  const taskId = taskIdOf(context);
  const dir = path.join(root, jobFolder(loadedTarget.name, what));
  await fs.mkdir(dir, { recursive: true });
  const requestFile = path.join(dir, 'request.json');
  const outputFile = path.join(dir, 'job.out');
  const spec = buildJobSpec({
    taskId,
    workspaceRoot: root,
    requestFile,
    outputFile,
    execution: loadedTarget.target.execution,
    resources: recipe.resources,
    nodePath: process.execPath,
    cliPath: path.resolve(__dirname, '../../bin/nx-distro.js'),
  });
  const pluginOptions = pluginEntryOptions(context.nxJsonConfiguration?.plugins);
  const request: BuildJobRequest = {
    format: 1,
    taskId,
    workspaceRoot: root,
    projectName: context.projectName!,
    targetName: context.targetName!,
    ...(context.configurationName ? { configurationName: context.configurationName } : {}),
    projectRoots: Object.fromEntries(Object.entries(context.projectsConfigurations.projects).map(([name, p]) => [name, p.root])),
    ...(pluginOptions !== undefined ? { pluginOptions } : {}),
    options: { ...options, jobs: options.jobs ?? spec.cpus },
    mode,
  };
  await writeFileAtomic(requestFile, `${JSON.stringify(request, null, 2)}\n`);
  let result: SlurmJobResult;
  let submittedAt = Date.now();
  try {
    result = await runJob(spec, {
      onSubmitted: (id) => {
        submittedAt = Date.now();
        logger.info(`${what}: submitted to the Slurm cluster as job ${id} (${spec.cpus} CPU${spec.cpus === 1 ? '' : 's'}${spec.memoryMiB ? `, ${spec.memoryMiB} MiB` : ''}${spec.constraint ? `, constraint ${spec.constraint}` : ''}); its output: ${path.relative(root, outputFile)}`);
      },
      onOutput: (text) => process.stdout.write(text),
    });
  } catch (e) {
    if (!(e instanceof SlurmError)) throw e;
    logger.error(`${what}: cannot build on the Slurm cluster (${loadedTarget.file}, execution): ${e.message}`);
    return { success: false };
  }
  const summary = `${what}: ${jobSummary(result, (Date.now() - submittedAt) / 1000)}`;
  await fs.mkdir(outDir, { recursive: true });
  await fs.appendFile(path.join(outDir, 'build.log'), `# ${summary}\n`);
  if (result.success) {
    logger.info(summary);
    return { success: true };
  }
  logger.error(`${summary}; the job's output is above and in ${path.relative(root, outputFile)}`);
  return { success: false };
}

/**
 * The placement of a recipe's build for `buildRecipe` (pipeline/build-recipe.ts): one Slurm job
 * ({@link buildOnSlurm}) when its system target runs builds on Slurm ({@link executionKind}: the
 * target's `execution.kind: slurm`, or `NX_DISTRO_EXECUTION=slurm`), else here. The job itself
 * (`nx-distro build-job`) builds with no placement, so it never submits again.
 * @param mode the mode the executor asked for (`nx-distro:cross` or `nx-distro:native`)
 */
export function slurmPlacement(options: BuildExecutorOptions, context: ExecutorContext, mode: BuildMode): BuildPlacement {
  return {
    elsewhere: ({ loadedTarget, recipe, what, outDir }) =>
      executionKind(loadedTarget.target, loadedTarget.file) === 'slurm' ? buildOnSlurm(options, context, mode, loadedTarget, recipe, what, outDir) : undefined,
  };
}
