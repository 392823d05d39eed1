/**
 * What a sandboxed command is: its binds, environment, command and limits, as `runSandboxed`
 * (bwrap.ts) runs it and a build's rescue record (pipeline/rescue.ts) keeps it. Types only, so
 * that what reads a record loads no subprocess code.
 */

/** One mount of a host path into the sandbox. */
export interface SandboxBind {
  /** Absolute host path (folder or file) that must exist. */
  readonly src: string;
  /**
   * Absolute path inside the sandbox. It may lie anywhere except inside an existing host
   * folder of the read-only root (`/usr/x` cannot be created): an existing host path, a new
   * top-level path (`/build/src`: the root is a tmpfs built by bwrap), a path under `/tmp`, or
   * under an earlier bind.
   */
  readonly dest: string;
  /** Read-write when true, read-only otherwise. */
  readonly writable: boolean;
}

/** What to run in a bubblewrap sandbox and how. */
export interface SandboxSpec {
  /** Host paths mounted at the same or another path, applied in order (later binds over earlier ones). */
  readonly binds: readonly SandboxBind[];
  /** Exact environment inside (nothing is inherited): an allowlist built by the caller. bwrap adds only `PWD` (= `cwd`). */
  readonly env: Readonly<Record<string, string>>;
  /** Working directory, a path inside the sandbox (absolute). */
  readonly cwd: string;
  /** The command, e.g. `['/bin/sh', '-e', '-c', script]`; `argv[0]` is looked up on the sandbox's `PATH` (env) if it has no `/`. */
  readonly argv: readonly string[];
  /** Absolute host path; the command's stdout and stderr are appended to it, interleaved in the order written (one shared file description). */
  readonly logFile: string;
  /** Share the host's network (`--share-net`). Default false: a fresh network namespace with only a loopback interface. */
  readonly network?: boolean;
  /** User id inside (default `SANDBOX_UID` (bwrap.ts)). */
  readonly uid?: number;
  /** Group id inside (default `SANDBOX_GID` (bwrap.ts)). */
  readonly gid?: number;
  /** Seconds after which the whole sandbox is killed (SIGKILL); default none. */
  readonly timeoutSeconds?: number;
  /**
   * Absolute host folder shown read-only as the sandbox's root, every entry of it (a native
   * build's staged build root); default `/`, the host's own root, of which only
   * `HOST_ROOT_ENTRIES` (bwrap.ts) and `/etc`'s `HOST_ETC_ENTRIES` are shown.
   */
  readonly root?: string;
  /**
   * Most processes (tasks) the sandbox may hold at once, default `SANDBOX_MAX_PROCESSES` (process-limit.ts):
   * a fork bomb fails instead of exhausting the host's process ids. Enforced with a pids cgroup
   * made for the run (`/sys/fs/cgroup/pids/...` on cgroup v1, `/sys/fs/cgroup/...` on v2) when
   * nx may make one (root, or a delegated cgroup); otherwise, for a user other than root, with
   * RLIMIT_NPROC (`prlimit --nproc`), which then also counts that user's processes outside the
   * sandbox. As root without a usable pids controller there is no limit.
   */
  readonly maxProcesses?: number;
  /**
   * Where the command's standard streams go: `log` (default), stdin from /dev/null and stdout
   * and stderr appended to {@link logFile}; `terminal`, the caller's own stdin, stdout and stderr
   * (an interactive shell, `nx-distro shell`), `logFile` unused. bwrap's `--new-session` holds
   * either way: a command that wants a controlling terminal makes its own pty inside (`script`).
   */
  readonly stdio?: 'log' | 'terminal';
}
