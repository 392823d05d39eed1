import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync, statfsSync } from 'node:fs';
import path from 'node:path';
import type { LoadedSystemTarget } from '../model/system-target';
import { BINFMT_MISC_DIR, buildMachineArch, handlersForArch, readBinfmt, runsNatively, type BinfmtHandler } from './binfmt';
import type { HostNeeds } from './run-needs';

export type { HostNeeds } from './run-needs';

/** One thing the build machine lacks: `what` is wrong, `fix` is the exact remedy. */
export interface HostProblem {
  /** What is wrong, one line, naming the program, file or value (`aarch64-linux-gnu-gcc is not on PATH`). */
  readonly what: string;
  /** The exact fix, one line (`run tools/setup-host, or: apt-get install gcc-aarch64-linux-gnu`). */
  readonly fix: string;
}

/** Free bytes builds need in the workspace's file system by default: 5 GiB. */
export const DEFAULT_MIN_FREE_BYTES = 5 * 1024 ** 3;

/** Whether the build machine has the header `name` in /usr/include or a multiarch folder of it (Debian's `/usr/include/<triplet>/`). */
function hasBuildMachineHeader(name: string): boolean {
  if (existsSync(path.join('/usr/include', name))) return true;
  try {
    return readdirSync('/usr/include').some((d) => /-linux-/.test(d) && existsSync(path.join('/usr/include', d, name)));
  } catch {
    return false;
  }
}

/** Environment variable that turns the host check of {@link assertHostReady} off when set to `1`. */
export const SKIP_HOST_CHECK_ENV = 'NX_DISTRO_SKIP_HOST_CHECK';

/**
 * The arguments bwrap is probed with: the namespaces the build sandbox (src/sandbox/bwrap.ts)
 * creates, the user namespace made mandatory (`--unshare-user`), around `true`.
 */
export const SANDBOX_PROBE_ARGS: readonly string[] = ['--unshare-all', '--unshare-user', '--die-with-parent', '--ro-bind', '/', '/', 'true'];

/** Where {@link checkHost} looks; every field defaults to the real machine (tests inject fakes). */
export interface HostProbe {
  /** The search path for programs, `:`-separated (default `process.env.PATH`). */
  readonly path?: string;
  /** The binfmt_misc mount (default `/proc/sys/fs/binfmt_misc`). */
  readonly binfmtDir?: string;
  /** Where the kernel's sysctls are (default `/proc/sys`), read to explain a bwrap failure. */
  readonly procSysDir?: string;
  /** The build machine's pacman arch (default from `process.arch`, see `buildMachineArch`). */
  readonly buildArch?: string;
  /** Free bytes required in the workspace's file system (default {@link DEFAULT_MIN_FREE_BYTES}). */
  readonly minFreeBytes?: number;
  /**
   * Runs `bwrap` (absolute path) with {@link SANDBOX_PROBE_ARGS}; returns `undefined` when it
   * worked, else its error output (first line used). Default: spawns it (about 5 ms).
   */
  readonly runSandboxProbe?: (bwrap: string) => string | undefined;
}

/** Successful sandbox probes of this process, by bwrap path (failures are never cached: a fix must show at once, also in the Nx daemon). */
const sandboxOk = new Set<string>();

function defaultSandboxProbe(bwrap: string): string | undefined {
  const r = spawnSync(bwrap, SANDBOX_PROBE_ARGS, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status === 0) return undefined;
  return (r.stderr || r.error?.message || `exit status ${r.status ?? r.signal}`).trim();
}

/**
 * The absolute path of a program on a search path, like `command -v`.
 * @param name program name without `/`
 * @param searchPath `:`-separated folders (empty entries ignored)
 * @returns the first executable regular file, or `undefined`
 */
export function findProgram(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function readSysctl(procSysDir: string, name: string): string | undefined {
  try {
    return readFileSync(path.join(procSysDir, ...name.split('.')), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** How to allow user namespaces, from the sysctls that forbid them (user_namespaces(7), Debian's and Ubuntu's knobs). */
function userNamespaceFix(procSysDir: string): string {
  if (readSysctl(procSysDir, 'kernel.unprivileged_userns_clone') === '0') {
    return 'sysctl -w kernel.unprivileged_userns_clone=1 (as root; keep it in /etc/sysctl.d/)';
  }
  if (readSysctl(procSysDir, 'user.max_user_namespaces') === '0') {
    return 'sysctl -w user.max_user_namespaces=15000 (as root; keep it in /etc/sysctl.d/)';
  }
  if (readSysctl(procSysDir, 'kernel.apparmor_restrict_unprivileged_userns') === '1') {
    return 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (as root), or give /usr/bin/bwrap an AppArmor profile with `userns,`';
  }
  return 'allow user namespaces: in a container, run it with --security-opt seccomp=unconfined (or --privileged); see tools/setup-host --check';
}

function checkSandbox(searchPath: string, procSysDir: string, probe: HostProbe['runSandboxProbe']): HostProblem[] {
  const bwrap = findProgram('bwrap', searchPath);
  if (!bwrap) {
    return [{ what: 'bwrap (bubblewrap, the build sandbox) is not on PATH', fix: 'run tools/setup-host, or: apt-get install bubblewrap' }];
  }
  if (sandboxOk.has(bwrap) && !probe) return [];
  const err = (probe ?? defaultSandboxProbe)(bwrap);
  if (err === undefined) {
    if (!probe) sandboxOk.add(bwrap);
    return [];
  }
  const line = err.split('\n')[0];
  return [{ what: `bwrap cannot create the build sandbox's namespaces (${line})`, fix: userNamespaceFix(procSysDir) }];
}

function checkToolchain(st: LoadedSystemTarget, searchPath: string, buildArch: string): HostProblem[] {
  const problems: HostProblem[] = [];
  const programs = [
    ['gcc', 'build-essential', "the build machine's own, for build tools"],
    ['make', 'make', "the build machine's own, for build tools"],
    ['strip-nondeterminism', 'strip-nondeterminism', "normalises archive timestamps in every package's files"],
    ['readelf', 'binutils', "reads the exported symbols of every package's shared libraries"],
  ];
  for (const [program, pkg, why] of programs) {
    if (!findProgram(program, searchPath)) {
      problems.push({ what: `${program} (${why}) is not on PATH`, fix: `run tools/setup-host, or: apt-get install ${pkg}` });
    }
  }
  const tc = st.target.toolchain;
  if (tc.kind === 'bootstrap') {
    // The toolchain recipes are built with the build machine's gcc, against its GMP, MPFR and
    // MPC (gcc's prerequisites), and rebuild their info manuals with makeinfo.
    if (!findProgram('makeinfo', searchPath)) problems.push({ what: `makeinfo (binutils and gcc of the bootstrap toolchain of ${st.file} rebuild their manuals) is not on PATH`, fix: 'run tools/setup-host, or: apt-get install texinfo' });
    const headers = ['gmp.h', 'mpfr.h', 'mpc.h'].filter((h) => !hasBuildMachineHeader(h));
    if (headers.length) problems.push({ what: `${headers.join(', ')} (what gcc of the bootstrap toolchain of ${st.file} is built against) not found in /usr/include`, fix: 'run tools/setup-host, or: apt-get install libgmp-dev libmpfr-dev libmpc-dev' });
    return problems;
  }
  const cc = `${tc.prefix}gcc`;
  if (findProgram(cc, searchPath)) return problems;
  const native = runsNatively(buildArch, st.target.arch) && tc.prefix === `${st.target.triplet}-`;
  // Debian's native gcc provides <triplet>-gcc; the cross packages of the build machine's own
  // triplet (e.g. gcc-x86-64-linux-gnu on amd64) do not exist.
  const packages = native ? ['build-essential'] : (tc.packages ?? []);
  const fix = packages.length
    ? `run tools/setup-host, or: apt-get install ${packages.join(' ')}`
    : `install the toolchain whose compiler is ${cc} and put its bin folder on PATH`;
  problems.push({ what: `${cc} (the ${st.target.arch} toolchain of ${st.file}) is not on PATH`, fix });
  return problems;
}

function handlerProblem(h: BinfmtHandler, dir: string, needsFixBinary: boolean): HostProblem | undefined {
  if (!h.enabled) {
    return { what: `binfmt_misc handler ${h.name} is disabled`, fix: `echo 1 > ${dir}/${h.name} (as root), or run tools/setup-host` };
  }
  const fixBinary = h.flags.includes('F');
  // With F the kernel opened the interpreter when the handler was registered: it need not exist now.
  if (!fixBinary && !existsSync(h.interpreter)) {
    return { what: `binfmt_misc handler ${h.name} runs ${h.interpreter}, which does not exist`, fix: 'run tools/setup-host (installs qemu-user-static and registers it again)' };
  }
  if (needsFixBinary && !fixBinary) {
    return {
      what: `binfmt_misc handler ${h.name} lacks the F (fix binary) flag, so its interpreter is not found inside a native build root`,
      fix: `echo -1 > ${dir}/${h.name} (as root), then run tools/setup-host`,
    };
  }
  return undefined;
}

function checkEmulator(st: LoadedSystemTarget, dir: string, buildArch: string): HostProblem[] {
  const arch = st.target.arch;
  if (runsNatively(buildArch, arch)) return [];
  const state = readBinfmt(dir);
  const why = `so ${arch} programs (${st.target.qemu}) cannot run on this ${buildArch} machine`;
  if (!state.mounted) {
    return [{ what: `binfmt_misc is not mounted at ${dir}, ${why}`, fix: `run tools/setup-host (mounts it and registers QEMU), or: mount -t binfmt_misc binfmt_misc ${dir}` }];
  }
  if (!state.enabled) {
    return [{ what: `binfmt_misc is disabled (${dir}/status), ${why}`, fix: `echo 1 > ${dir}/status (as root)` }];
  }
  const handlers = handlersForArch(state, arch);
  if (!handlers.length) {
    return [{ what: `no binfmt_misc handler for ${arch} executables in ${dir}, ${why}`, fix: 'run tools/setup-host (installs qemu-user-static and registers its handlers)' }];
  }
  const needsFixBinary = st.target.builds === 'native';
  const problems = handlers.map((h) => handlerProblem(h, dir, needsFixBinary));
  if (problems.some((p) => p === undefined)) return [];
  return [problems[0]!];
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function checkDisk(workspaceRoot: string, minFree: number): HostProblem[] {
  let free: number;
  try {
    const s = statfsSync(workspaceRoot);
    free = Number(s.bavail) * Number(s.bsize);
  } catch {
    return [];
  }
  if (free >= minFree) return [];
  return [{
    what: `only ${formatGiB(free)} free in the file system of ${workspaceRoot}; builds need at least ${formatGiB(minFree)}`,
    fix: 'free space there (e.g. remove old dist/ outputs or the Nx cache with `npx nx reset`), or move the workspace to a larger file system',
  }];
}

/**
 * Checks that this machine can build for a system target, quickly (a few ms: it runs before
 * every build run): the bubblewrap sandbox works (bwrap on PATH, user namespaces allowed; probed
 * once per process by running `bwrap --unshare-all --unshare-user ... true`, only a success is
 * remembered), the build machine's `gcc` and `make` are on PATH, an external toolchain's
 * `<prefix>gcc` is on PATH, for a target arch the build machine cannot run natively a
 * binfmt_misc handler that claims the arch's ELF executables is enabled and its interpreter
 * exists (binfmt_misc admin guide; with the F flag the interpreter was opened at registration,
 * and F is required for `builds: native`, whose build root hides the host's files), and the
 * workspace's file system has enough free space (statfs(2) `f_bavail`, what an unprivileged user
 * may use).
 * @param systemTarget the target the run builds for (the requested `-c`, or the default)
 * @param workspaceRoot absolute workspace root (its file system is the one measured)
 * @param needs what the run needs; with `build: false` nothing is checked
 * @param probe where to look (defaults: the real machine); tests inject fake folders
 * @returns every problem found, in the order above, `[]` when the host is ready; never throws
 */
export function checkHost(systemTarget: LoadedSystemTarget, workspaceRoot: string, needs: HostNeeds, probe: HostProbe = {}): HostProblem[] {
  if (!needs.build) return [];
  const searchPath = probe.path ?? process.env.PATH ?? '';
  const buildArch = probe.buildArch ?? buildMachineArch();
  return [
    ...checkSandbox(searchPath, probe.procSysDir ?? '/proc/sys', probe.runSandboxProbe),
    ...checkToolchain(systemTarget, searchPath, buildArch),
    ...checkEmulator(systemTarget, probe.binfmtDir ?? BINFMT_MISC_DIR, buildArch),
    ...checkDisk(workspaceRoot, probe.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES),
  ];
}

/**
 * The build machine is not ready for a run. `message` is a title line naming the system target,
 * then one line per problem, `host: <what>; fix: <fix>`; the error carries no stack trace (Nx
 * prints `message`, its first line after its ` NX ` badge).
 */
export class HostNotReadyError extends Error {
  readonly problems: readonly HostProblem[];
  /**
   * @param systemTarget the target the run was for (its name and file appear in the title)
   * @param problems what {@link checkHost} found, at least one
   */
  constructor(systemTarget: Pick<LoadedSystemTarget, 'name' | 'file'>, problems: readonly HostProblem[]) {
    super([`this machine cannot build for ${systemTarget.name} (${systemTarget.file}) yet:`, ...problems.map((p) => `host: ${p.what}; fix: ${p.fix}`)].join('\n'));
    this.name = 'HostNotReadyError';
    this.problems = problems;
    this.stack = this.message;
  }
}

/**
 * {@link checkHost}, throwing when anything is missing. Skipped entirely when the environment
 * variable `NX_DISTRO_SKIP_HOST_CHECK` is `1` (an escape hatch for a check that is wrong about an
 * unusual machine; the builds then fail later, less clearly, if the host really lacks something).
 * With the Nx daemon the variable still works: Nx sends the client's environment to the daemon.
 * @param env the environment to read the escape hatch from (default `process.env`)
 * @throws {HostNotReadyError} listing every problem, one `host: <what>; fix: <fix>` line each after a title line
 */
export function assertHostReady(
  systemTarget: LoadedSystemTarget,
  workspaceRoot: string,
  needs: HostNeeds,
  env: NodeJS.ProcessEnv = process.env,
  probe: HostProbe = {},
): void {
  if (env[SKIP_HOST_CHECK_ENV] === '1') return;
  const problems = checkHost(systemTarget, workspaceRoot, needs, probe);
  if (problems.length) throw new HostNotReadyError(systemTarget, problems);
}
