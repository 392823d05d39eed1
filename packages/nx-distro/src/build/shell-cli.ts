import { existsSync } from 'node:fs';
import path from 'node:path';
import { BUILD_TARGET, buildOfTarget, nodeKey } from '../model/dependency-ref';
import { quote } from '../model/errors';
import { runSandboxed } from '../sandbox/bwrap';
import { readRescueRecord, rescueShellSpec, workFolder, type RescueRecord } from './rescue';

/** Usage of `nx-distro shell`. */
export const SHELL_USAGE = `nx-distro shell PROJECT[:TARGET] -c SYSTEM_TARGET
  Opens an interactive shell in the sandbox of a build's steps (a failed one's, typically): the
  same bubblewrap mounts, environment and root (a native build's build root, under QEMU where
  foreign), in $srcdir as the steps left it, with $srcdir and $pkgdir writable. TARGET is build
  (default) or a stage's build--stageN. Leaving the shell changes nothing outside the build's work
  folder (tmp/build/SYSTEM_TARGET/NODE/), which the next build of the task replaces.`;

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

/**
 * `nx-distro shell`, run in the workspace root: reads the work folder's sandbox record
 * (build/rescue.ts) and runs the rescue shell in the caller's terminal.
 * @param workspaceRoot absolute workspace root (default: the current folder)
 * @returns the shell's exit status, 1 when there is nothing to open, 2 for a usage error
 */
export async function shellCommand(args: readonly string[], workspaceRoot = process.cwd()): Promise<number> {
  const opened = openWorkFolder('shell', SHELL_USAGE, 'open', args, workspaceRoot);
  if (typeof opened === 'number') return opened;
  const { record, rel } = opened;
  const hostRoot = record.sandbox.root ?? '/';
  const spec = rescueShellSpec(record, existsSync(path.join(hostRoot, 'bin', 'bash')), process.env.TERM || 'xterm');
  const state = record.failedPhase ? `its ${record.failedPhase} step failed` : 'its last build did not fail';
  console.error(`nx-distro shell: ${record.node} for ${record.systemTarget} (${record.mode}), ${state}; in $srcdir (/build/src = ${path.join(rel, 'src')}), $pkgdir writable; exit to leave`);
  const r = await runSandboxed(spec);
  return r.exitCode;
}
