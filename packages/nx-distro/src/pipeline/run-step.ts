import { promises as fs } from 'node:fs';
import { runSandboxed, type SandboxResult } from '../sandbox/bwrap';
import type { SandboxSpec } from '../sandbox/spec';
import { stepEndLine } from '../run-report/build-log';
import { SANDBOX } from '../sandbox/layout';

/** File mode creation mask of every build step (octal), makepkg's: packages keep file modes, so the caller's umask must not reach them. */
export const STEP_UMASK = '0022';

/** One step of a build as it runs: its phase (`configure`) and its shell text. */
export interface PlannedStep {
  readonly phase: string;
  readonly script: string;
}

/** The sandbox every step of one build shares (pipeline/rescue.ts keeps it in the work folder). */
export type StepSandbox = Pick<SandboxSpec, 'binds' | 'env' | 'cwd' | 'root'>;

/**
 * Runs one build step in its sandbox: `==> <phase>` and, after it, the machine-readable end line
 * (run-report/build-log.ts: the run report reads the step times) appended to the log; the step
 * under `/bin/sh -e` with {@link STEP_UMASK}; `$pkgdir` (absolute host path, mounted at
 * `/build/pkg`) writable only for `install`.
 * @returns how the sandbox ended, with the step's start (milliseconds since the epoch)
 */
export async function runStep(step: PlannedStep, sandbox: StepSandbox, pkgdir: string, logFile: string): Promise<SandboxResult & { started: number }> {
  await fs.appendFile(logFile, `\n==> ${step.phase}\n`);
  const started = Date.now();
  const r = await runSandboxed({
    ...sandbox,
    binds: [...sandbox.binds, { src: pkgdir, dest: SANDBOX.pkgdir, writable: step.phase === 'install' }],
    // makepkg's umask: file modes, which packages keep, never depend on the caller's.
    argv: ['/bin/sh', '-e', '-c', `umask ${STEP_UMASK}\n${step.script}`],
    logFile,
  });
  await fs.appendFile(logFile, stepEndLine(step.phase, started, Date.now(), r.signal ?? r.exitCode));
  return { ...r, started };
}
