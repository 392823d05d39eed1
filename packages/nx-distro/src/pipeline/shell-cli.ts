import { existsSync } from 'node:fs';
import path from 'node:path';
import { runSandboxed } from '../sandbox/bwrap';
import { openWorkFolder, rescueShellSpec } from './rescue';

/** Usage of `nx-distro shell`. */
export const SHELL_USAGE = `nx-distro shell PROJECT[:TARGET] -c SYSTEM_TARGET
  Opens an interactive shell in the sandbox of a build's steps (a failed one's, typically): the
  same bubblewrap mounts, environment and root (a native build's build root, under QEMU where
  foreign), in $srcdir as the steps left it, with $srcdir and $pkgdir writable. TARGET is build
  (default) or a stage's build--stageN. Leaving the shell changes nothing outside the build's work
  folder (tmp/build/SYSTEM_TARGET/NODE/), which the next build of the task replaces.`;

/**
 * `nx-distro shell`, run in the workspace root: reads the work folder's sandbox record
 * (pipeline/rescue.ts) and runs the rescue shell in the caller's terminal.
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
