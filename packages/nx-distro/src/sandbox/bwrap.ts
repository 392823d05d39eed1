import { spawn } from 'node:child_process';
import { existsSync, lchownSync, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { constants as osConstants } from 'node:os';
import { execaSync } from 'execa';
import { findProgram } from '../build-machine/requirements';
import { SANDBOX_MAX_PROCESSES, createPidsCgroup } from './process-limit';
import type { SandboxSpec } from './spec';

export { SANDBOX_MAX_PROCESSES } from './process-limit';

/** How a sandboxed command ended. */
export interface SandboxResult {
  /**
   * The command's exit status (0–255). A command killed by signal N inside reports 128+N (bwrap's
   * pid 1 passes it on like a shell); a sandbox killed from outside (timeout) reports 128+9.
   */
  readonly exitCode: number;
  /** Set when the sandbox itself was ended by a signal (`SIGKILL` on timeout). */
  readonly signal?: string;
  /** Wall-clock milliseconds from spawning bwrap to its exit. */
  readonly durationMs: number;
  /** Whether {@link SandboxSpec.timeoutSeconds} ran out. */
  readonly timedOut: boolean;
}

/**
 * Default user and group id inside: 1000, an ordinary user, not 0. A build as uid 0 would hold
 * every capability in its user namespace (bwrap keeps them for uid 0), could chown freely and
 * would hide `make install` steps that only work as root; configure scripts of some GNU packages
 * refuse to run as root, and makepkg refuses it outright. Outside, files written to writable
 * binds belong to the user running nx (the only mapped id; user_namespaces(7)), or, when that is
 * root, to {@link SANDBOX_HOST_ID} where the host allows it ({@link outsideIdentity}); a fixed
 * id inside keeps builds identical whoever runs them. Package ownership is set when archiving,
 * not here.
 */
export const SANDBOX_UID = 1000;
/** Default group id inside; see {@link SANDBOX_UID}. */
export const SANDBOX_GID = 1000;
/**
 * The unprivileged user and group id outside that the sandbox's user maps to when nx runs as
 * root ({@link outsideIdentity}): an id no account has (it is above every range useradd, Debian's
 * subordinate ids and systemd's dynamic users hand out), so no host process shares it. Files the
 * build writes belong to it outside, and a setuid file it makes is setuid to a nobody, not to
 * root. bwrap is then started as this user (setpriv), in an unprivileged user namespace.
 */
export const SANDBOX_HOST_ID = 2_000_000_000;

/** The sandbox's host name (its own UTS namespace), the same on every machine. */
export const SANDBOX_HOSTNAME = 'nx-distro';

/** Root entries the sandbox gets fresh instead: its own /dev, /proc, /tmp (and /run without network). */
const REPLACED = new Set(['dev', 'proc', 'tmp', 'run']);

/**
 * Root entries shown as empty read-only folders: the users' homes (SSH keys, tokens, shell
 * histories). A build has HOME=/tmp and reads nothing of anyone's home.
 */
const HIDDEN = new Set(['home', 'root']);

/**
 * Files shown empty (`/dev/null` bound over them) when present in a root other than the host's
 * (a native build's staged build root; the host's own /etc is never shown whole, see
 * {@link HOST_ETC_ENTRIES}).
 */
const MASKED_FILES = ['etc/shadow', 'etc/shadow-', 'etc/gshadow', 'etc/gshadow-'];

/**
 * Top-level entries of the host root a sandbox on the host's own root sees (read-only): `/usr`
 * (the compilers, interpreters, libraries and data builds use) and merged /usr's links into it
 * (`/bin`, `/sbin`, `/lib*`; bound as folders on a host without merged /usr). Besides these the
 * sandbox has only `/etc` ({@link HOST_ETC_ENTRIES}), an empty `/var` with a fresh `/var/tmp`,
 * empty `/home` and `/root`, its own `/dev`, `/proc`, `/tmp` and `/run` and the caller's binds:
 * no `/opt`, `/srv`, `/var`'s data, `/boot`, `/sys`, `/mnt`, nor any other folder of the host
 * (a workspace, a cache server's store). When nx runs as root the sandbox's user is root outside,
 * so whatever is shown is readable, whatever its mode.
 */
export const HOST_ROOT_ENTRIES: readonly string[] = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/**
 * The entries of the host's `/etc` a sandbox on the host's root sees (read-only; each only when
 * present): user and group names (`passwd`, `group`: `id`, `ls -l`, `whoami`; never `shadow`),
 * name-service configuration (`nsswitch.conf`, `hosts`, `host.conf`, `networks`, `protocols`,
 * `services`: getaddrinfo, `localhost`, port names), the dynamic loader's cache and configuration
 * (`ld.so.cache`, `ld.so.conf`, `ld.so.conf.d`), Debian's alternatives (`/usr/bin/awk`, `cc`,
 * `yacc`, `lex` are links through `/etc/alternatives`), the XML and SGML catalogs (local DocBook
 * stylesheets for xsltproc, without network), `localtime` and `mtab` (links; `TZ` is `UTC`
 * anyway). With network also `resolv.conf` and `gai.conf`. Nothing else: no tokens or keys
 * (`/etc/nx-distro/`, `ssh/`, `ssl/private/`, `munge/`), no `shadow`.
 */
export const HOST_ETC_ENTRIES: readonly string[] = [
  'alternatives', 'group', 'host.conf', 'hosts', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime',
  'mtab', 'networks', 'nsswitch.conf', 'passwd', 'protocols', 'services', 'sgml', 'xml',
];

/** {@link HOST_ETC_ENTRIES} that a sandbox with network sees besides. */
const HOST_ETC_NETWORK_ENTRIES = ['gai.conf', 'resolv.conf'];

function assertAbsolute(what: string, p: string): void {
  if (!path.isAbsolute(p)) throw new Error(`sandbox: ${what} must be an absolute path, got "${p}"`);
}

function validate(spec: SandboxSpec): void {
  if (!spec.argv.length) throw new Error('sandbox: argv is empty; pass the command to run');
  assertAbsolute('cwd', spec.cwd);
  if (spec.stdio !== 'terminal') assertAbsolute('logFile', spec.logFile);
  for (const b of spec.binds) {
    assertAbsolute('bind src', b.src);
    assertAbsolute('bind dest', b.dest);
    if (!existsSync(b.src)) throw new Error(`sandbox: bind source ${b.src} does not exist; create it before running the sandbox`);
  }
  for (const k of Object.keys(spec.env)) {
    if (!k || k.includes('=') || k.includes('\0')) throw new Error(`sandbox: "${k}" is not a valid environment variable name`);
  }
  if (spec.timeoutSeconds !== undefined && !(spec.timeoutSeconds > 0)) throw new Error(`sandbox: timeoutSeconds must be > 0, got ${spec.timeoutSeconds}`);
}

/** `--symlink` for a link, `--ro-bind` for anything else, nothing for a missing path. */
function showEntry(src: string, dest: string): string[] {
  let st;
  try {
    st = lstatSync(src);
  } catch {
    return []; // not there, or vanished meanwhile
  }
  return st.isSymbolicLink() ? ['--symlink', readlinkSync(src), dest] : ['--ro-bind', src, dest];
}

/**
 * The host's own root, narrowed: {@link HOST_ROOT_ENTRIES}, `/etc` with only
 * {@link HOST_ETC_ENTRIES}, an empty `/var` with a fresh `/var/tmp` (no host socket such as a
 * listener in `/var/tmp` is reachable: a read-only mount does not stop connect(2)), empty
 * `/home` and `/root`; `/run` bound only with network.
 */
function narrowedHostRootArgs(network: boolean): string[] {
  const args: string[] = [];
  for (const name of HOST_ROOT_ENTRIES) args.push(...showEntry(`/${name}`, `/${name}`));
  args.push('--dir', '/etc');
  for (const name of [...HOST_ETC_ENTRIES, ...(network ? HOST_ETC_NETWORK_ENTRIES : [])].sort()) args.push(...showEntry(`/etc/${name}`, `/etc/${name}`));
  for (const name of HIDDEN) args.push('--dir', `/${name}`);
  if (network) args.push(...showEntry('/run', '/run'));
  args.push('--dir', '/var', '--tmpfs', '/var/tmp');
  return args;
}

/**
 * A root other than the host's (a native build's staged build root), read-only, entry by entry:
 * each top-level folder or file bound read-only at its own path, each top-level symlink
 * recreated (Debian's merged /usr: /bin -> usr/bin); /home and /root empty, the shadow password
 * files empty. The root itself is bwrap's tmpfs, remounted read-only after the binds: the same
 * view as `--ro-bind <root> /`, except that binds may then go to new top-level paths such as
 * /build (a read-only root would refuse to create their mount points).
 */
function hostRootArgs(hostRoot: string, network: boolean): string[] {
  if (path.resolve(hostRoot) === '/') return narrowedHostRootArgs(network);
  const args: string[] = [];
  for (const name of readdirSync(hostRoot).sort()) {
    if (REPLACED.has(name) && !(name === 'run' && network)) continue;
    if (HIDDEN.has(name)) {
      args.push('--dir', `/${name}`);
      continue;
    }
    args.push(...showEntry(path.join(hostRoot, name), `/${name}`));
  }
  for (const f of MASKED_FILES) {
    try {
      if (lstatSync(path.join(hostRoot, f)).isFile()) args.push('--ro-bind', '/dev/null', `/${f}`);
    } catch {
      // not there
    }
  }
  return args;
}

/**
 * The bwrap arguments (without `bwrap` itself) that run a spec, in bubblewrap(1)'s terms:
 * `--unshare-all --unshare-user` (user, pid, network, ipc, uts, cgroup namespaces; the user
 * namespace required, for the fixed ids), `--share-net` only with `network`, `--die-with-parent`
 * (the sandbox dies with bwrap's own process: the timeout kills that), `--new-session` (no
 * TIOCSTI into the caller's terminal), `--uid/--gid`, `--hostname`, `--clearenv` then one
 * `--setenv` per variable, the root read-only (see the source: per top-level entry),
 * `--dev /dev`, `--proc /proc`, `--tmpfs /tmp`, `--tmpfs /run` without network (no host sockets
 * such as a Docker or D-Bus socket: a read-only mount does not stop connect(2)), /home and /root
 * as empty folders; of the host's own root only {@link HOST_ROOT_ENTRIES}, `/etc`'s
 * {@link HOST_ETC_ENTRIES} and a fresh `/var/tmp`; for another root (`spec.root`) every entry,
 * /dev/null over its /etc/shadow and the like; the binds in order, `--remount-ro /`, `--chdir`, then `--` and the command. bwrap's own pid 1 runs the
 * command and exits with it; when pid 1 of a pid namespace exits the kernel kills every
 * other process in it (pid_namespaces(7)), so nothing left in the background survives.
 * @param hostRoot the folder shown as the root (default `spec.root`, else `/`)
 * @throws {Error} `sandbox: ...` for a relative path, a missing bind source, an empty argv
 */
export function bwrapArgs(spec: SandboxSpec, hostRoot = spec.root ?? '/'): string[] {
  validate(spec);
  const network = spec.network ?? false;
  const args = ['--unshare-all', '--unshare-user'];
  if (network) args.push('--share-net');
  args.push('--die-with-parent', '--new-session');
  args.push('--uid', String(spec.uid ?? SANDBOX_UID), '--gid', String(spec.gid ?? SANDBOX_GID), '--hostname', SANDBOX_HOSTNAME);
  args.push('--clearenv');
  for (const [k, v] of Object.entries(spec.env)) args.push('--setenv', k, v);
  args.push(...hostRootArgs(hostRoot, network));
  args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  if (!network) args.push('--tmpfs', '/run');
  for (const b of spec.binds) args.push(b.writable ? '--bind' : '--ro-bind', b.src, b.dest);
  args.push('--remount-ro', '/', '--chdir', spec.cwd, '--', ...spec.argv);
  return args;
}

/** Whether the host lets an unprivileged user make a user namespace (probed once per process). */
let unprivilegedUserns: boolean | undefined;

function hostAllowsUnprivilegedUserns(bwrap: string, setpriv: string): boolean {
  if (unprivilegedUserns === undefined) {
    const r = execaSync(setpriv, [...setprivArgs(), bwrap, '--unshare-user', '--ro-bind', '/', '/', '--', '/bin/true'], { stdio: 'ignore', timeout: 20_000, reject: false });
    unprivilegedUserns = r.exitCode === 0;
  }
  return unprivilegedUserns;
}

function setprivArgs(): string[] {
  return [`--reuid=${SANDBOX_HOST_ID}`, `--regid=${SANDBOX_HOST_ID}`, '--clear-groups', '--'];
}

/** The first folder on the way to `p` (its ancestors, `p` itself when a folder) that a user other than its owner cannot pass. */
function untraversable(p: string): string | undefined {
  const parts = path.resolve(p).split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const dir = `/${parts.slice(0, i).join('/')}`;
    let st;
    try {
      st = statSync(dir);
    } catch {
      return dir;
    }
    if (st.isDirectory() && !(st.mode & 0o001) && st.uid !== SANDBOX_HOST_ID) return dir;
  }
  return undefined;
}

/** Gives a tree (no link followed) to {@link SANDBOX_HOST_ID}, unless its top already is. */
function giveToSandboxUser(dir: string): void {
  if (lstatSync(dir).uid === SANDBOX_HOST_ID) return;
  const walk = (p: string) => {
    lchownSync(p, SANDBOX_HOST_ID, SANDBOX_HOST_ID);
    if (lstatSync(p).isDirectory()) for (const name of readdirSync(p)) walk(path.join(p, name));
  };
  walk(dir);
}

/**
 * Who the sandbox's user is outside. As any user but root: that user (the only id an
 * unprivileged user namespace may map). As root, where the host allows it: the unprivileged
 * {@link SANDBOX_HOST_ID} (bwrap started as it through setpriv), so that a build can make
 * nothing of root's; the host must allow unprivileged user namespaces, the sandbox must use the
 * host's own root (a native build's staged root keeps root's ids) and every bind source must be
 * reachable by a user other than its owner (each folder on the way `o+x`; a workspace under a
 * 0700 folder is not). Otherwise root, as before: the build's files are root's outside (the
 * setuid bits are taken off them after a build, see pipeline/build-recipe.ts).
 * @returns `'unprivileged'`, or why root is kept (`'root: <reason>'`), or `'caller'` when nx is not root
 */
export function outsideIdentity(spec: SandboxSpec): 'caller' | 'unprivileged' | `root: ${string}` {
  if (process.getuid?.() !== 0) return 'caller';
  if (process.env.NX_DISTRO_SANDBOX_AS_ROOT === '1') return 'root: NX_DISTRO_SANDBOX_AS_ROOT=1';
  if (spec.root !== undefined && path.resolve(spec.root) !== '/') return 'root: a staged root keeps root\'s ids';
  const bwrap = findProgram('bwrap', process.env.PATH ?? '');
  const setpriv = findProgram('setpriv', process.env.PATH ?? '');
  if (!bwrap || !setpriv) return 'root: no setpriv (Debian package util-linux)';
  for (const b of spec.binds) {
    const blocked = untraversable(b.src);
    if (blocked) return `root: ${blocked} is not reachable by another user (chmod o+x)`;
  }
  if (!hostAllowsUnprivilegedUserns(bwrap, setpriv)) return 'root: the host allows no unprivileged user namespace';
  return 'unprivileged';
}

/** Quotes a word for a POSIX shell, leaving plain words as they are. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_/.,:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The exact command line {@link runSandboxed} runs for a spec, shell-quoted, for a log header:
 * pasted into a shell it reproduces the sandbox (`bwrap --unshare-all ... -- /bin/sh -e -c '...'`).
 * @throws {Error} as {@link bwrapArgs}
 */
export function sandboxCommandLine(spec: SandboxSpec): string {
  return ['bwrap', ...bwrapArgs(spec)].map(shellQuote).join(' ');
}

/**
 * Runs a command in a bubblewrap sandbox ({@link bwrapArgs}), its output appended to
 * `spec.logFile` (bwrap's own errors, e.g. a bind it cannot make, land there too, with exit
 * status 1). Nothing is read from stdin (/dev/null); with `stdio: 'terminal'` the command has
 * the caller's streams instead. With `timeoutSeconds`, bwrap's process is
 * sent SIGKILL when the time is up; `--die-with-parent` then kills the sandbox's pid 1 and the
 * kernel everything else in its pid namespace. As root, where {@link outsideIdentity} says
 * `unprivileged`, the writable binds are first given to {@link SANDBOX_HOST_ID} (lchown, the
 * whole tree, unless its top is already that id's) and bwrap runs as that id (`setpriv`).
 * @returns how it ended; a non-zero exit is a result, not an error
 * @throws {Error} `sandbox: bwrap (bubblewrap) is not on PATH; ...`, a spec error (see
 *   {@link bwrapArgs}), or the log file cannot be opened for appending
 */
export async function runSandboxed(spec: SandboxSpec): Promise<SandboxResult> {
  const bwrap = findProgram('bwrap', process.env.PATH ?? '');
  if (!bwrap) throw new Error('sandbox: bwrap (bubblewrap) is not on PATH; run tools/setup-host, or: apt-get install bubblewrap');
  const args = bwrapArgs(spec);
  const maxProcesses = spec.maxProcesses ?? SANDBOX_MAX_PROCESSES;
  if (!(Number.isInteger(maxProcesses) && maxProcesses > 0)) throw new Error(`sandbox: maxProcesses must be a positive integer, got ${maxProcesses}`);
  const identity = outsideIdentity(spec);
  // As root: the writable binds become the unprivileged sandbox user's, so that it can write them.
  if (identity === 'unprivileged') for (const b of spec.binds) if (b.writable) giveToSandboxUser(b.src);
  const command = identity === 'unprivileged' ? [findProgram('setpriv', process.env.PATH ?? '')!, ...setprivArgs(), bwrap] : [bwrap];
  const terminal = spec.stdio === 'terminal';
  const log = terminal ? undefined : await open(spec.logFile, 'a');
  const started = performance.now();
  let timedOut = false;
  const cgroup = createPidsCgroup(maxProcesses);
  try {
    // bwrap joins the pids cgroup before it starts (a shell writes its own pid, then execs bwrap),
    // so every process of the sandbox is counted; without one, RLIMIT_NPROC for a non-root user.
    const prlimit = cgroup || process.getuid?.() === 0 ? undefined : findProgram('prlimit', process.env.PATH ?? '');
    const [file, argv] = cgroup
      ? ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, ...command, ...args]]
      : prlimit
        ? [prlimit, [`--nproc=${maxProcesses}`, '--', ...command, ...args]]
        : [command[0], [...command.slice(1), ...args]];
    // node:child_process, not execa: the log file's descriptor goes to the sandbox as its stdout
    // and stderr (one open file, so the two stay in order and the output never passes through
    // this process); execa takes no descriptor above 9.
    const child = spawn(file, argv, { stdio: log ? ['ignore', log.fd, log.fd] : 'inherit', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    const timer = spec.timeoutSeconds === undefined
      ? undefined
      : setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, spec.timeoutSeconds * 1000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve([c, s]));
    }).finally(() => clearTimeout(timer));
    const durationMs = Math.round(performance.now() - started);
    if (signal) {
      const n = osConstants.signals[signal] ?? 0;
      return { exitCode: 128 + n, signal, durationMs, timedOut };
    }
    return { exitCode: code ?? 1, durationMs, timedOut };
  } finally {
    await cgroup?.remove();
    await log?.close();
  }
}
