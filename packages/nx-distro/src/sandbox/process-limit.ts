import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Most processes (tasks: threads count too) one sandbox may hold at once: 4096. A build with
 * `make -j` on a large machine uses a few hundred; a fork bomb hits the limit at once, its fork(2)
 * fails with EAGAIN and the step's shell exits with "Cannot fork" (the sandbox then ends and the
 * kernel kills the rest, see bwrap.ts), long before the host runs out of process ids.
 */
export const SANDBOX_MAX_PROCESSES = 4096;

/** Root of the cgroup file systems. */
const CGROUP_ROOT = '/sys/fs/cgroup';

let sequence = 0;

/** A pids cgroup made for one sandbox run; {@link PidsCgroup.remove} when the run is over. */
export interface PidsCgroup {
  /** Absolute folder of the cgroup (`/sys/fs/cgroup/pids/nx-distro-sandbox-<pid>-<n>` on cgroup v1). */
  readonly dir: string;
  /** The file a process writes its pid into to join the cgroup. */
  readonly procsFile: string;
  /** Kills whatever is still in the cgroup and removes it (best effort, never throws). */
  remove(): Promise<void>;
}

/** The folders where a child pids cgroup may be made, most specific first. */
function candidateParents(): string[] {
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  } catch {
    return [];
  }
  for (const line of lines) {
    // cgroup v1: `8:pids:/some/path`, the pids hierarchy mounted at /sys/fs/cgroup/pids
    const [, controllers, rel] = line.split(':');
    if (controllers?.split(',').includes('pids') && existsSync(path.join(CGROUP_ROOT, 'pids'))) {
      return [...new Set([path.join(CGROUP_ROOT, 'pids', rel), path.join(CGROUP_ROOT, 'pids')])];
    }
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  try {
    if (unified && readFileSync(path.join(CGROUP_ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('pids')) {
      // cgroup v2: below our own cgroup (when its pids controller is enabled for its children,
      // as in a delegated subtree), else below the root cgroup (root only). A cgroup whose
      // children lack pids.max is skipped: nothing of the host's cgroup setup is changed.
      return [...new Set([path.join(CGROUP_ROOT, unified.slice(3)), CGROUP_ROOT])];
    }
  } catch {
    // no cgroup v2
  }
  return [];
}

function tryRemove(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Kills every process of a cgroup (`cgroup.kill` on v2, SIGKILL to each pid on v1). */
function killAll(dir: string): void {
  try {
    writeFileSync(path.join(dir, 'cgroup.kill'), '1');
    return;
  } catch {
    // cgroup v1, or a kernel before 5.14
  }
  try {
    for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  } catch {
    // cgroup gone
  }
}

/**
 * Makes a pids cgroup limited to `max` tasks for one sandbox run, when this process may: root,
 * or a user to whom a cgroup with the pids controller is delegated. The cgroup counts every
 * process of the sandbox whoever owns it, unlike RLIMIT_NPROC, which does not apply to processes
 * of the real root user (the sandbox's uid 1000 is root outside when nx runs as root).
 * @param max most tasks at once
 * @returns the cgroup, or `undefined` when none can be made here (no pids controller, no right)
 */
export function createPidsCgroup(max: number): PidsCgroup | undefined {
  const name = `nx-distro-sandbox-${process.pid}-${++sequence}`;
  for (const parent of candidateParents()) {
    const dir = path.join(parent, name);
    try {
      mkdirSync(dir);
    } catch {
      continue;
    }
    try {
      writeFileSync(path.join(dir, 'pids.max'), String(max));
    } catch {
      tryRemove(dir);
      continue;
    }
    return {
      dir,
      procsFile: path.join(dir, 'cgroup.procs'),
      async remove() {
        // The pid namespace is torn down by the kernel when the sandbox's pid 1 exits; the
        // cgroup can be removed once its last process is reaped.
        for (let i = 0; i < 100 && !tryRemove(dir); i++) {
          if (i === 10) killAll(dir);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
    };
  }
  return undefined;
}
