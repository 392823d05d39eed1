/**
 * A real Slurm cluster on this one machine, for tests: a controller host and worker hosts, each
 * a set of Linux namespaces of its own, running Debian 12's Slurm 22.05 and MUNGE daemons.
 *
 * Layout (`<dir>` is a temporary folder, mode 0755 because munged needs its socket's folder
 * reachable by everyone):
 *
 * - Every host is one `unshare --uts --pid --mount --fork --kill-child --mount-proc` process tree
 *   with its own hostname (`ctl`, `n1`, `n2`...), its own PID namespace (the daemon is PID 1 of
 *   it, so killing a worker's `slurmd` by its PID ends every process of that worker at once, job
 *   steps included, the way a machine that fails ends them) and its own mount namespace, in which:
 *   `<dir>/local` is the host's own folder (`<dir>/hosts/<name>` bound over it: spool, state,
 *   logs, its MUNGE socket; what a real host keeps on its local disk), `/etc/hosts` is
 *   `<dir>/etc/hosts` (every host of the cluster by name; the machine's own /etc/hosts is never
 *   edited, and Slurm itself needs no name resolution: slurm.conf gives every address), and
 *   the paths of {@link SlurmWorkerSpec.hide} are covered (a worker that lacks a host tool).
 * - Every host runs its own `munged` with the same key (`<dir>/etc/munge.key`), as a real cluster
 *   does (the key copied to each host); Slurm finds it at `<dir>/local/munge/munge.socket.2`
 *   (`AuthInfo=socket=`), i.e. at each host's own socket.
 * - The workers live in network namespaces (`ip netns add`), each joined to a bridge in the
 *   root namespace by a veth pair, with only their own address (`10.A.B.11`, `.12`...); the
 *   controller stays in the root network namespace with the bridge's address (`10.A.B.1`), so
 *   the test process (and later `nx`) submits directly: the machine is the cluster's head node.
 *   The test process's `<dir>/local` is the controller's, hence its MUNGE socket and the job
 *   completion log `sacct -c` reads.
 * - `<dir>/shared` is the folder a real cluster shares over NFS or the like (here every host
 *   sees the same file system anyway): job scripts, their output files, the build's inputs.
 * - Each worker is pinned to one CPU (`taskset`, CPU i modulo the machine's count) and declared
 *   with `CPUs=1`, so it runs one job at a time on one CPU.
 *
 * Everything is stopped and removed by {@link SlurmCluster.stop}; daemons also die with the test
 * process (`setpriv --pdeathsig KILL` and `unshare --kill-child`), a process exit removes the
 * namespaces and links synchronously, and {@link startSlurmCluster} first removes what a killed
 * test process left (names carry its PID). Needs root (network namespaces, mounts).
 *
 * What the configuration needs and why: docs/slurm.md.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';

/**
 * Host programs the cluster runs, with the Debian 12 package that has each (tools/setup-host
 * installs them): Slurm's daemons and clients, MUNGE, iproute2's `ip`, util-linux's namespace
 * tools.
 */
export const SLURM_HOST_PROGRAMS: readonly { program: string; pkg: string }[] = [
  { program: 'slurmctld', pkg: 'slurmctld' },
  { program: 'slurmd', pkg: 'slurmd' },
  { program: 'sbatch', pkg: 'slurm-client' },
  { program: 'squeue', pkg: 'slurm-client' },
  { program: 'sacct', pkg: 'slurm-client' },
  { program: 'scancel', pkg: 'slurm-client' },
  { program: 'scontrol', pkg: 'slurm-client' },
  { program: 'sinfo', pkg: 'slurm-client' },
  { program: 'munged', pkg: 'munge' },
  { program: 'ip', pkg: 'iproute2' },
  { program: 'nsenter', pkg: 'util-linux' },
  { program: 'unshare', pkg: 'util-linux' },
  { program: 'setpriv', pkg: 'util-linux' },
  { program: 'taskset', pkg: 'util-linux' },
];

/** The Slurm release the configuration is written for (Debian 12's slurm-wlm). */
export const SLURM_VERSION = '22.05';

/** Absolute path of `program` on PATH (and /usr/sbin, /sbin), or undefined. */
function which(program: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    const p = path.join(d, program);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * What this machine lacks to start a {@link startSlurmCluster} cluster, one line per problem
 * naming the fix (`missing slurmd (Debian package slurmd): tools/setup-host`, `not root: ...`,
 * a Slurm other than 22.05); empty when nothing is missing. Installs nothing.
 */
export function slurmClusterProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('not root: network namespaces and mounts need root');
  const missing = SLURM_HOST_PROGRAMS.filter((p) => !which(p.program));
  const pkgs = [...new Set(missing.map((p) => p.pkg))];
  if (missing.length) {
    problems.push(`missing ${missing.map((p) => p.program).join(', ')} (Debian packages ${pkgs.join(' ')}): run tools/setup-host`);
  }
  // the daemons print their version without a slurm.conf; the client commands need one first
  if (which('slurmd')) {
    let version = '';
    try {
      version = execFileSync('slurmd', ['-V'], { encoding: 'utf8' }).trim();
    } catch (e) {
      version = `slurmd -V failed: ${(e as Error).message.split('\n')[0]}`;
    }
    if (!new RegExp(`^slurm(-wlm)? ${SLURM_VERSION.replace('.', '\\.')}\\.`).test(version)) {
      problems.push(`Slurm ${SLURM_VERSION} wanted (Debian 12), found '${version}'`);
    }
  }
  return problems;
}

/** One worker of {@link SlurmClusterOptions.workers}. */
export interface SlurmWorkerSpec {
  /** Node features (`Features=`, what `sbatch --constraint` selects); default the machine's arch (`uname -m`). */
  readonly features?: readonly string[];
  /**
   * Absolute paths hidden on this worker only (a file becomes /dev/null, a folder an empty
   * tmpfs), e.g. `/usr/bin/bwrap` for a worker without the host tools.
   */
  readonly hide?: readonly string[];
}

/** Options of {@link startSlurmCluster}. */
export interface SlurmClusterOptions {
  /** The workers, `n1`, `n2`... in order; default two with the default features. */
  readonly workers?: readonly SlurmWorkerSpec[];
  /** Memory of each worker (`RealMemory=`), MiB; default 2048. */
  readonly memoryMiB?: number;
  /**
   * `SlurmdTimeout=`, seconds: how long a silent slurmd may stay unanswered before its node is
   * DOWN (and its jobs requeued); Slurm's default 300, here 10 (a node is found dead in about
   * 2-3 times this).
   */
  readonly slurmdTimeoutSeconds?: number;
  /** Keep `<dir>` after stop (for reading logs); default from `NX_DISTRO_SLURM_KEEP=1`. */
  readonly keep?: boolean;
}

/** A worker host of a running {@link SlurmCluster}. */
export interface SlurmWorker {
  /** Node name (`NodeName=`, its hostname too): `n1`, `n2`... */
  readonly name: string;
  /** Its address in its network namespace (`NodeAddr=`). */
  readonly address: string;
  /** Its network namespace (`ip netns` name). */
  readonly netns: string;
  /** The CPU its processes are pinned to. */
  readonly cpu: number;
  /** Its node features. */
  readonly features: readonly string[];
  /** PID of its slurmd in the root PID namespace (PID 1 of the worker's own); 0 when stopped. */
  readonly pid: number;
  /** Its host-local folder as the root mount namespace sees it (`<dir>/hosts/<name>`). */
  readonly localDir: string;
}

/** Result of {@link SlurmCluster.run}: never rejects. */
export interface SlurmCommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running cluster from {@link startSlurmCluster}. */
export interface SlurmCluster {
  /** Absolute path of the cluster's temporary folder. */
  readonly dir: string;
  /** Absolute path of the folder every host shares (`<dir>/shared`). */
  readonly shared: string;
  /** Absolute path of slurm.conf. */
  readonly confPath: string;
  /** Environment the Slurm commands need (`SLURM_CONF`); {@link run} adds it. */
  readonly env: Readonly<Record<string, string>>;
  /** The controller's address (the bridge's, in the root network namespace). */
  readonly controllerAddress: string;
  /** The controller's TCP port (`SlurmctldPort=`, a free one). */
  readonly controllerPort: number;
  /** The workers, in `n1`, `n2`... order. */
  readonly workers: readonly SlurmWorker[];
  /** The worker named `name`; throws for an unknown name. */
  worker(name: string): SlurmWorker;
  /** Runs a Slurm client command (`sbatch`, `sacct`...) on the head node with {@link env}, cwd {@link shared}. */
  run(command: string, args: readonly string[]): Promise<SlurmCommandResult>;
  /**
   * Kills worker `name`'s slurmd with SIGKILL by its PID: PID 1 of the worker's PID namespace,
   * so the whole worker ends with it (its munged, job steps and jobs), and resolves once it is
   * gone. The controller finds the node dead after about 2-3 times SlurmdTimeout.
   */
  killWorker(name: string): Promise<void>;
  /** Starts worker `name` again (after {@link killWorker}) and waits until its node is idle (ReturnToService=2). */
  startWorker(name: string): Promise<void>;
  /** Waits until `sinfo` shows every named node (default all) in a state matching `state`; throws with the logs after `timeoutMs`. */
  waitForNodes(state: RegExp, names?: readonly string[], timeoutMs?: number): Promise<void>;
  /** The last lines of every daemon's log, for an assertion's message. */
  logs(lines?: number): string;
  /** Stops every daemon, deletes the namespaces, links and (unless kept) `<dir>`. Idempotent. */
  stop(): Promise<void>;
}

/** One record of `sacct -c` (the job completion log): a job's run, its last one last. */
export interface JobRecord {
  jobId: string;
  name: string;
  state: string;
  /** `<exit status>:<signal>` */
  exitCode: string;
  nodes: string;
  /** Seconds since the epoch (sacct prints whole seconds, local time). */
  start: number;
  end: number;
}

/**
 * The job completion records of `ids` (`sacct -c`), in the log's order; `[]` for no id.
 * @throws Error with sacct's error output when it fails
 */
export async function jobRecords(c: Pick<SlurmCluster, 'run'>, ids: readonly string[]): Promise<JobRecord[]> {
  if (!ids.length) return [];
  const r = await c.run('sacct', ['-c', '-P', '-n', '-j', ids.join(','), '-o', 'JobID,JobName,State,ExitCode,NodeList,Start,End']);
  if (r.exitCode !== 0) throw new Error(`sacct: ${r.stderr}`);
  // sacct prints local time without a zone, which Date.parse reads as local time too
  const secs = (t: string) => (t && t !== 'Unknown' ? Date.parse(t) / 1000 : NaN);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [jobId, name, state, exitCode, nodes, start, end] = l.split('|');
      return { jobId, name, state, exitCode, nodes, start: secs(start), end: secs(end) };
    });
}

/** Prefix of every name (netns, links) a cluster makes; followed by its owner's PID. */
const PREFIX = 'nxs';
let sequence = 0;

/** Resource names of cluster `seq` of process `pid`; ≤ 15 bytes for links (IFNAMSIZ). */
function names(pid: number, seq: number) {
  const id = `${PREFIX}${pid.toString(36)}${(seq % 36).toString(36)}`;
  return { id, bridge: `${id}b`, veth: (i: number) => `${id}v${i}`, netns: (host: string) => `${PREFIX}-${pid}-${seq % 36}-${host}` };
}

/** Whether process `pid` is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `ip ...` synchronously, ignoring failure (cleanup of what may already be gone). */
function ipQuiet(...args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/**
 * Deletes the network namespaces, links and temporary folders (`nx-distro-slurm-<pid>-*`, unless
 * kept: a `KEEP` file) of clusters whose owner process is dead: what a test process killed
 * before its cleanup left behind.
 */
export function removeStaleSlurmClusters(): void {
  const netnsList = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const m of netnsList.matchAll(new RegExp(`^(${PREFIX}-(\\d+)-\\w+-\\w+)\\b`, 'gm'))) {
    if (!alive(Number(m[2]))) ipQuiet('netns', 'del', m[1]);
  }
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  for (const m of links.matchAll(new RegExp(`^\\d+: (${PREFIX}([0-9a-z]+)[0-9a-z](?:b|v\\d+))[@:]`, 'gm'))) {
    if (!alive(parseInt(m[2], 36))) ipQuiet('link', 'del', m[1]);
  }
  for (const e of readdirSync(tmpdir())) {
    const m = /^nx-distro-slurm-(\d+)-/.exec(e);
    const d = path.join(tmpdir(), e);
    if (m && !alive(Number(m[1])) && !existsSync(path.join(d, 'KEEP'))) rmSync(d, { recursive: true, force: true });
  }
}

/** A 10.A.B.0/24 that no address or route of this machine overlaps. */
function freeSubnet(): string {
  const routes = execFileSync('ip', ['-4', '-o', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
  const addrs = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  const nets = [...`${routes}\n${addrs}`.matchAll(/\b(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?/g)].map((m) => ({
    ip: ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0,
    bits: m[5] === undefined ? 32 : +m[5],
  }));
  for (let attempt = 0; attempt < 100; attempt++) {
    const [a, b] = randomBytes(2);
    const base = ((10 << 24) | ((64 + (a % 190)) << 16) | (b << 8)) >>> 0;
    const overlaps = nets.some(({ ip, bits }) => {
      const bitsMin = Math.min(bits, 24);
      const mask = bitsMin === 0 ? 0 : (~0 << (32 - bitsMin)) >>> 0;
      return ((ip & mask) >>> 0) === ((base & mask) >>> 0);
    });
    if (!overlaps) return `10.${(base >>> 16) & 255}.${(base >>> 8) & 255}`;
  }
  throw new Error('slurm cluster: no free 10.x.y.0/24 subnet found on this machine');
}

/** A TCP port free on every address right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '0.0.0.0', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * What runs as each host's first process (sh, PID 1 of the host's PID namespace, then the
 * daemon through `exec`): its output into `daemon.out` of its host-local folder (the daemons
 * write there themselves, no pipe through the test process), hostname, the host-local folder, /etc/hosts, binfmt_misc in its own /proc, the hidden paths, its
 * munged (which daemonizes once its socket is ready), then the Slurm daemon.
 * Arguments: name, host-local source, `<dir>/local`, hosts file, munge key, hidden paths..., `--`, daemon argv.
 */
const HOST_SCRIPT = `
name=$1 src=$2 local=$3 hosts=$4 key=$5; shift 5
exec >>"$src/daemon.out" 2>&1
hostname "$name"
[ "$src" = "$local" ] || mount --bind "$src" "$local"
mount --bind "$hosts" /etc/hosts
# --mount-proc gave this host a /proc of its own, without the binfmt_misc mount a real machine
# has after tools/setup-host: mount it (the handlers are the machine's, registered once for all)
[ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
while [ "$1" != -- ]; do
  if [ -d "$1" ]; then mount -t tmpfs -o mode=0755 none "$1"; else mount --bind /dev/null "$1"; fi
  shift
done
shift
munged --key-file="$key" --socket="$local/munge/munge.socket.2" --pid-file="$local/munge/munged.pid" \\
  --log-file="$local/munge/munged.log" --seed-file="$local/munge/munged.seed"
exec "$@"
`;

/** slurm.conf for the cluster; each line is explained in docs/slurm.md. */
function slurmConf(o: {
  dir: string;
  controllerAddress: string;
  port: number;
  workers: readonly { name: string; address: string; features: readonly string[] }[];
  memoryMiB: number;
  slurmdTimeout: number;
}): string {
  const local = path.join(o.dir, 'local');
  const nodes = o.workers.map(
    (w) => `NodeName=${w.name} NodeAddr=${w.address} NodeHostname=${w.name} CPUs=1 RealMemory=${o.memoryMiB}${w.features.length ? ` Features=${w.features.join(',')}` : ''} State=UNKNOWN`,
  );
  return [
    '# Written by test/helpers/slurm-cluster.ts for Slurm 22.05 (Debian 12); see docs/slurm.md.',
    'ClusterName=nxdistro',
    `SlurmctldHost=ctl(${o.controllerAddress})`,
    `SlurmctldPort=${o.port}`,
    'SlurmdPort=6818',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${local}/munge/munge.socket.2,cred_expire=10`,
    'SlurmUser=root',
    'SlurmdUser=root',
    `StateSaveLocation=${local}/state`,
    `SlurmdSpoolDir=${local}/spool`,
    `SlurmctldPidFile=${local}/slurmctld.pid`,
    `SlurmdPidFile=${local}/slurmd.pid`,
    `SlurmctldLogFile=${local}/slurmctld.log`,
    `SlurmdLogFile=${local}/slurmd.log`,
    'SlurmctldDebug=info',
    'SlurmdDebug=info',
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'MpiDefault=none',
    'MailProg=/bin/true',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/filetxt',
    `JobCompLoc=${local}/jobcomp.txt`,
    'SchedulerType=sched/backfill',
    'SchedulerParameters=sched_interval=2,bf_interval=2',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU_Memory',
    'JobRequeue=1',
    'ReturnToService=2',
    `SlurmdTimeout=${o.slurmdTimeout}`,
    'SlurmctldTimeout=10',
    'InactiveLimit=0',
    'KillWait=5',
    'MinJobAge=300',
    ...nodes,
    'PartitionName=build Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n');
}

/** The child process of `pid` (the daemon under an `unshare --fork`), or 0. */
function childOf(pid: number): number {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) return Number(e);
    } catch {
      // gone
    }
  }
  return 0;
}

/** Last `n` lines of a file, or a note that it is missing. */
function tail(file: string, n: number): string {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').split('\n').slice(-n - 1).join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a cluster (see the file comment): munged on every host, slurmctld, then the slurmds,
 * and resolves once every node is idle. Removes stale clusters of dead test processes first.
 * @throws when {@link slurmClusterProblems} names a problem (its lines), or when a daemon does
 *   not come up within 30 s (with the daemons' logs); everything started is stopped first.
 */
export async function startSlurmCluster(options: SlurmClusterOptions = {}): Promise<SlurmCluster> {
  const problems = slurmClusterProblems();
  if (problems.length) throw new Error(`slurm cluster: ${problems.join('; ')}`);
  removeStaleSlurmClusters();

  const arch = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
  const specs = options.workers ?? [{}, {}];
  const n = names(process.pid, sequence++);
  const subnet = freeSubnet();
  const controllerAddress = `${subnet}.1`;
  const port = await freePort();
  const keep = options.keep ?? process.env.NX_DISTRO_SLURM_KEEP === '1';
  const ncpu = Math.max(1, cpus().length);

  const dir = mkdtempSync(path.join(tmpdir(), `nx-distro-slurm-${process.pid}-`));
  if (keep) writeFileSync(path.join(dir, 'KEEP'), 'kept by NX_DISTRO_SLURM_KEEP=1 / keep: true\n');
  chmodSync(dir, 0o755);
  const local = path.join(dir, 'local');
  const shared = path.join(dir, 'shared');
  const etc = path.join(dir, 'etc');
  for (const d of [etc, shared, path.join(dir, 'hosts')]) mkdirSync(d, { recursive: true });
  chmodSync(shared, 0o1777);
  const confPath = path.join(etc, 'slurm.conf');
  const keyFile = path.join(etc, 'munge.key');
  const hostsFile = path.join(etc, 'hosts');

  const workers = specs.map((s, i) => ({
    name: `n${i + 1}`,
    address: `${subnet}.${11 + i}`,
    netns: n.netns(`n${i + 1}`),
    cpu: i % ncpu,
    features: s.features ?? [arch],
    hide: s.hide ?? [],
    pid: 0,
    localDir: path.join(dir, 'hosts', `n${i + 1}`),
    process: undefined as ResultPromise | undefined,
  }));
  /** Makes a host-local folder: munge (0755: munged wants its socket reachable), spool, state. */
  const makeLocal = (d: string) => {
    for (const sub of ['munge', 'spool', 'state']) mkdirSync(path.join(d, sub), { recursive: true });
    chmodSync(path.join(d, 'munge'), 0o755);
  };
  makeLocal(local);
  for (const w of workers) makeLocal(w.localDir);
  writeFileSync(keyFile, randomBytes(1024), { mode: 0o600 });
  writeFileSync(
    hostsFile,
    ['127.0.0.1 localhost', `${controllerAddress} ctl`, ...workers.map((w) => `${w.address} ${w.name}`), ''].join('\n'),
  );
  writeFileSync(
    confPath,
    slurmConf({ dir, controllerAddress, port, workers, memoryMiB: options.memoryMiB ?? 2048, slurmdTimeout: options.slurmdTimeoutSeconds ?? 10 }),
  );
  const env = { SLURM_CONF: confPath };

  let controller: { process?: ResultPromise; pid: number } | undefined;
  let stopped = false;
  const createdNetns: string[] = [];
  const createdLinks: string[] = [];

  /** Synchronous last resort on process exit: kill what runs, delete namespaces and links. */
  const onExit = () => {
    for (const p of [controller?.process, ...workers.map((w) => w.process)]) {
      try {
        p?.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    for (const ns of createdNetns) ipQuiet('netns', 'del', ns);
    for (const l of createdLinks) ipQuiet('link', 'del', l);
  };
  process.once('exit', onExit);

  /** Starts one host (see HOST_SCRIPT) and returns its process and the daemon's PID. */
  const startHost = async (h: { name: string; src: string; hide: readonly string[]; netns?: string; cpu?: number; daemon: string[] }) => {
    const argv = [
      ...(h.netns ? ['nsenter', `--net=/run/netns/${h.netns}`] : []),
      'setpriv',
      '--pdeathsig',
      'KILL',
      ...(h.cpu === undefined ? [] : ['taskset', '-c', String(h.cpu)]),
      'unshare',
      '--uts',
      '--pid',
      '--mount',
      '--fork',
      '--kill-child',
      '--mount-proc',
      'sh',
      '-ec',
      HOST_SCRIPT,
      'sh',
      h.name,
      h.src,
      local,
      hostsFile,
      keyFile,
      ...h.hide,
      '--',
      ...h.daemon,
    ];
    const child = execa(argv[0], argv.slice(1), { env, stdio: 'ignore', reject: false });
    // Reaped on exit; a host's end is seen through sinfo and its logs, never as a rejection.
    void child.catch(() => undefined);
    let pid = 0;
    for (let i = 0; i < 200 && !pid; i++) {
      if (child.exitCode !== null && child.exitCode !== undefined) break;
      const c = childOf(child.pid!);
      // the child is sh, then (exec) the daemon: wait until it is the daemon
      if (c && readFileSync(`/proc/${c}/comm`, 'utf8').trim() === path.basename(h.daemon[0]).slice(0, 15)) pid = c;
      else await sleep(50);
    }
    if (!pid) throw new Error(`slurm cluster: host ${h.name} did not start ${h.daemon[0]}:\n${tail(path.join(h.src, 'daemon.out'), 20)}\n${tail(path.join(h.src, 'munge', 'munged.log'), 10)}`);
    return { process: child, pid };
  };

  const startWorkerHost = async (w: (typeof workers)[number]) => {
    const h = await startHost({ name: w.name, src: w.localDir, hide: w.hide, netns: w.netns, cpu: w.cpu, daemon: ['slurmd', '-D', '-N', w.name, '-f', confPath] });
    w.process = h.process;
    w.pid = h.pid;
  };

  const run = async (command: string, args: readonly string[]): Promise<SlurmCommandResult> => {
    const r = await execa(command, args, { env, cwd: shared, reject: false, stdin: 'ignore' });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  const logs = (lines = 15) =>
    [
      `--- ctl slurmctld.log\n${tail(path.join(local, 'slurmctld.log'), lines)}`,
      `--- ctl daemon.out\n${tail(path.join(local, 'daemon.out'), lines)}`,
      ...workers.flatMap((w) => [
        `--- ${w.name} slurmd.log\n${tail(path.join(w.localDir, 'slurmd.log'), lines)}`,
        `--- ${w.name} daemon.out\n${tail(path.join(w.localDir, 'daemon.out'), lines)}`,
      ]),
    ].join('\n');

  const waitForNodes = async (state: RegExp, which: readonly string[] = workers.map((w) => w.name), timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      const r = await run('sinfo', ['-h', '-N', '-o', '%N %T']);
      last = r.stdout + r.stderr;
      const states = new Map(r.stdout.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/) as [string, string]));
      if (r.exitCode === 0 && which.every((name) => state.test(states.get(name) ?? ''))) return;
      await sleep(250);
    }
    throw new Error(`slurm cluster: nodes ${which.join(',')} not ${state} after ${timeoutMs} ms; sinfo: ${last.trim()}\n${logs()}`);
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // The daemon first (PID 1 of its host: the host's every process ends with it, and its
    // wrapper reaps it), then the wrapper in case the daemon had already gone.
    for (const h of [...workers, controller]) {
      if (!h?.process) continue;
      if (h.pid) {
        try {
          process.kill(h.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      const ended = await Promise.race([h.process.then(() => true, () => true), sleep(3000).then(() => false)]);
      if (!ended) h.process.kill('SIGKILL');
      await h.process.catch(() => undefined);
      h.pid = 0;
    }
    for (const ns of createdNetns) ipQuiet('netns', 'del', ns);
    for (const l of createdLinks) ipQuiet('link', 'del', l);
    process.removeListener('exit', onExit);
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // The network: a bridge in the root namespace with the controller's address; one namespace
    // per worker, joined to it by a veth pair whose inner end is the worker's eth0.
    execFileSync('ip', ['link', 'add', n.bridge, 'type', 'bridge']);
    createdLinks.push(n.bridge);
    execFileSync('ip', ['addr', 'add', `${controllerAddress}/24`, 'dev', n.bridge]);
    execFileSync('ip', ['link', 'set', n.bridge, 'up']);
    for (const [i, w] of workers.entries()) {
      execFileSync('ip', ['netns', 'add', w.netns]);
      createdNetns.push(w.netns);
      const veth = n.veth(i + 1);
      execFileSync('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', w.netns]);
      createdLinks.push(veth);
      execFileSync('ip', ['link', 'set', veth, 'master', n.bridge, 'up']);
      execFileSync('ip', ['-n', w.netns, 'addr', 'add', `${w.address}/24`, 'dev', 'eth0']);
      execFileSync('ip', ['-n', w.netns, 'link', 'set', 'eth0', 'up']);
      execFileSync('ip', ['-n', w.netns, 'link', 'set', 'lo', 'up']);
    }

    controller = await startHost({ name: 'ctl', src: local, hide: [], daemon: ['slurmctld', '-D', '-f', confPath] });
    const end = Date.now() + 30_000;
    for (;;) {
      const r = await run('scontrol', ['ping']);
      if (/is UP/.test(r.stdout)) break;
      if (Date.now() > end) throw new Error(`slurm cluster: slurmctld not up after 30 s: ${r.stdout}${r.stderr}\n${logs()}`);
      await sleep(250);
    }
    for (const w of workers) await startWorkerHost(w);
    await waitForNodes(/^idle$/);
  } catch (e) {
    await stop();
    throw e;
  }

  const worker = (name: string) => {
    const w = workers.find((x) => x.name === name);
    if (!w) throw new Error(`slurm cluster: no worker '${name}' (have ${workers.map((x) => x.name).join(', ')})`);
    return w;
  };
  return {
    dir,
    shared,
    confPath,
    env,
    controllerAddress,
    controllerPort: port,
    workers,
    worker,
    run,
    logs,
    waitForNodes,
    stop,
    async killWorker(name) {
      const w = worker(name);
      if (!w.pid) throw new Error(`slurm cluster: worker ${name} is not running`);
      process.kill(w.pid, 'SIGKILL');
      await w.process?.catch(() => undefined);
      w.pid = 0;
    },
    async startWorker(name) {
      const w = worker(name);
      if (w.pid) throw new Error(`slurm cluster: worker ${name} is running (PID ${w.pid})`);
      await startWorkerHost(w);
      await waitForNodes(/^idle$/, [name], 90_000);
    },
  };
}
