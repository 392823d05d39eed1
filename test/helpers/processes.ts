import { readdirSync, readFileSync } from 'node:fs';

/**
 * Host processes whose command line contains `token`, as `<pid>: <command line>` (from
 * `/proc/<pid>/cmdline`), leaving out this process and bwrap's own processes: what outlived a
 * sandbox. Processes that end while being read are skipped.
 * @param except more substrings that exclude a process (e.g. `nx run`, the caller's own command)
 */
export function processesWith(token: string, except: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(token) && !cmd.includes('bwrap') && !except.some((e) => cmd.includes(e))) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return found;
}

/**
 * Polls `check` every 50 ms until it is true or `ms` milliseconds have passed.
 * @returns the last result of `check`
 */
export async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
