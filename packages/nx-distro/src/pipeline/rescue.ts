import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD_TARGET, buildOfTarget, nodeKey } from '../model/dependency-ref';
import { quote } from '../model/errors';
import type { SandboxBind, SandboxSpec } from '../sandbox/spec';
import { SANDBOX } from '../sandbox/layout';
import type { PackagingInput } from './package-build';
import type { PlannedStep, StepSandbox } from './run-step';

/**
 * The file in a build's work folder (`tmp/build/<system target>/<node>/`) that says how its
 * steps were sandboxed, so that `nx-distro shell` can open a shell in the same sandbox: the
 * Gentoo build-helper's rescue shell, cbuild's `-D`.
 */
export const RESCUE_FILE = 'sandbox.json';

/** What {@link RESCUE_FILE} holds (JSON). */
export interface RescueRecord {
  readonly format: 1;
  /** The build node: `zlib`, or `gcc@stage1`. */
  readonly node: string;
  /** The system target's name (`aarch64`: `targets/aarch64.yaml`). */
  readonly systemTarget: string;
  /** How the steps ran: `cross` (the build machine's root, read-only) or `native` (the build root in `root`). */
  readonly mode: 'cross' | 'native';
  /** The phase that failed (`configure`, `build`, ...), or absent while the build runs and after it succeeded. */
  readonly failedPhase?: string;
  /**
   * The steps' sandbox without its command: the binds (absolute host paths, all inside the work
   * folder but the system target's own folder, read-only), the native build's staged root, the
   * exact environment and the working folder inside (`/build/src`).
   */
  readonly sandbox: StepSandbox;
  /** The host folder mounted at `$pkgdir` (`/build/pkg`; writable during `install`). */
  readonly pkgdir: string;
  /** The steps the build runs, in order, as it resolved them (style, recipe, arch overrides, snippets). */
  readonly steps: readonly PlannedStep[];
  /** What becomes of `$pkgdir` after the steps (pipeline/package-build.ts). */
  readonly packaging: PackagingInput;
}

/**
 * Writes the record into the work folder, through a temporary file and a rename (a reader never
 * sees half of it).
 * @param work absolute path of the build's work folder
 */
export async function writeRescueRecord(work: string, record: RescueRecord): Promise<void> {
  const file = path.join(work, RESCUE_FILE);
  await fs.writeFile(`${file}.tmp`, JSON.stringify(record, null, 1) + '\n');
  await fs.rename(`${file}.tmp`, file);
}

/**
 * The work folder of a build node: `<workspace>/tmp/build/<system target>/<node>` (what
 * pipeline/build-recipe.ts makes and removes at the start of the next build of the same node).
 * @param node `zlib` or `gcc@stage1`
 * @returns an absolute path
 */
export function workFolder(workspaceRoot: string, systemTarget: string, node: string): string {
  return path.join(workspaceRoot, 'tmp', 'build', systemTarget, node);
}

/**
 * Reads a work folder's record back.
 * @param work absolute path of the build's work folder
 * @returns the record, or undefined when the folder has none (never built, or removed)
 * @throws Error `<file>: not a sandbox record of nx-distro (...)` when the file is damaged
 */
export function readRescueRecord(work: string): RescueRecord | undefined {
  const file = path.join(work, RESCUE_FILE);
  if (!existsSync(file)) return undefined;
  let data: RescueRecord;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as RescueRecord;
  } catch (e) {
    throw new Error(`${file}: not a sandbox record of nx-distro (${(e as Error).message.split('\n')[0]}); rebuild the task to write it again`);
  }
  const binds = data?.sandbox?.binds;
  if (data?.format !== 1 || !Array.isArray(binds) || typeof data.sandbox.cwd !== 'string' || typeof data.pkgdir !== 'string' || typeof data.sandbox.env !== 'object') {
    throw new Error(`${file}: not a sandbox record of nx-distro (format ${JSON.stringify(data?.format)}); rebuild the task to write it again`);
  }
  return data;
}

/**
 * The sandbox of a rescue shell: the steps' own binds, root and environment, `$pkgdir` writable
 * (as during `install`), `PS1` naming the node, in `$srcdir`; the command runs bash (or sh where
 * the sandbox has no bash: a native build root without it) through util-linux's `script`, which
 * gives the shell a pseudo-terminal of its own inside the sandbox (bwrap's `--new-session`
 * leaves the caller's terminal without a controlling process there), so job control and Ctrl-C
 * work as in any terminal and nothing typed inside can reach the caller's terminal.
 * @param hasBash whether `/bin/bash` exists in the sandbox's root
 * @param term the caller's `TERM` (the steps ran with `dumb`)
 */
export function rescueShellSpec(record: RescueRecord, hasBash: boolean, term = 'xterm'): SandboxSpec {
  const binds: SandboxBind[] = [...record.sandbox.binds, { src: record.pkgdir, dest: SANDBOX.pkgdir, writable: true }];
  const shell = hasBash ? '/bin/bash --noprofile --norc -i' : '/bin/sh -i';
  return {
    binds,
    ...(record.sandbox.root ? { root: record.sandbox.root } : {}),
    env: { ...record.sandbox.env, PS1: `[nx-distro ${record.node} ${record.systemTarget} \\w]\\$ `, TERM: term },
    cwd: record.sandbox.cwd,
    argv: ['script', '--quiet', '--return', '--command', shell, '/dev/null'],
    logFile: '',
    stdio: 'terminal',
  };
}

/** The parsed arguments of `nx-distro shell`. */
export interface ShellArgs {
  readonly project: string;
  /** The Nx target: `build` or `build--stageN`. */
  readonly target: string;
  /** The build node: `zlib`, or `gcc@stage1` for the target `build--stage1`. */
  readonly node: string;
  readonly systemTarget: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * Parses `PROJECT[:TARGET] -c SYSTEM_TARGET` (also `--configuration SYSTEM_TARGET`,
 * `--configuration=SYSTEM_TARGET`, `-c=SYSTEM_TARGET`).
 * @returns the arguments, or a one-line usage error
 */
export function parseShellArgs(args: readonly string[]): ShellArgs | { error: string } {
  let systemTarget: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = /^(?:-c|--configuration)=(.*)$/.exec(a);
    if (eq) systemTarget = eq[1];
    else if (a === '-c' || a === '--configuration') systemTarget = args[++i];
    else if (a.startsWith('-')) return { error: `unknown option ${quote(a)}` };
    else positional.push(a);
  }
  if (positional.length !== 1) return { error: positional.length ? `one project, got ${positional.map((p) => quote(p)).join(' ')}` : 'no project' };
  if (!systemTarget || !NAME.test(systemTarget)) return { error: systemTarget === undefined ? 'no system target (-c)' : `${quote(systemTarget)} is not a system target name` };
  const [project, target = BUILD_TARGET, extra] = positional[0].split(':');
  if (extra !== undefined || !NAME.test(project)) return { error: `${quote(positional[0])} is not PROJECT or PROJECT:TARGET` };
  const build = buildOfTarget(target);
  if (!build) return { error: `${quote(target)} is not a build target (build, or build--stageN)` };
  return { project, target, node: nodeKey(project, build.stage), systemTarget };
}

/** A work folder opened for `nx-distro shell` or `resume`: the arguments, the folder and its record. */
export interface OpenedWorkFolder {
  readonly parsed: ShellArgs;
  /** Absolute. */
  readonly work: string;
  /** Workspace-relative, for messages. */
  readonly rel: string;
  readonly record: RescueRecord;
}

/**
 * The common start of `nx-distro shell` and `resume`: parses the arguments and reads the work
 * folder's sandbox record, printing the one-line error when either fails.
 * @param command `shell` or `resume`, for the messages
 * @param usage the command's usage (its first line is the fix of a usage error)
 * @param verb what the command does to the build (`open`, `resume`)
 * @returns the opened folder, or the exit status: 2 for a usage error, 1 when there is no record
 */
export function openWorkFolder(command: string, usage: string, verb: string, args: readonly string[], workspaceRoot: string): OpenedWorkFolder | number {
  const parsed = parseShellArgs(args);
  if ('error' in parsed) {
    console.error(`nx-distro ${command}: ${parsed.error}; fix: ${usage.split('\n')[0]}, e.g. nx-distro ${command} zlib -c aarch64`);
    return 2;
  }
  const work = workFolder(workspaceRoot, parsed.systemTarget, parsed.node);
  const rel = path.relative(workspaceRoot, work);
  const record = readRescueRecord(work);
  if (!record) {
    console.error(`nx-distro ${command}: ${rel}: no build of ${quote(parsed.node)} for ${quote(parsed.systemTarget)} to ${verb} (no ${path.basename(work)}/sandbox.json); fix: npx nx run ${parsed.project}:${parsed.target} -c ${parsed.systemTarget}, then ${verb} it again`);
    return 1;
  }
  return { parsed, work, rel, record };
}
