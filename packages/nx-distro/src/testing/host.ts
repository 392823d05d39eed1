import { execFileSync } from 'node:child_process';

/**
 * Whether the build machine has `program` (on PATH or an absolute path): it runs with `arg`
 * and exits 0. For tests that skip, with a reason, when tools/setup-host's tools are missing.
 *
 * @param program a command name (`aarch64-linux-gnu-gcc`) or an absolute path
 * @param arg the one argument to run it with (`--version`; some tools want `-V` or `--help`)
 */
export function have(program: string, arg = '--version'): boolean {
  try {
    execFileSync(program, [arg], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
