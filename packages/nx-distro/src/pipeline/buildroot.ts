import * as fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { findProgram, type HostProblem } from '../build-machine/requirements';
import { sha256File } from '../util/hash';
import { withFileLock } from '../util/lock';

/** File name of a build root inside its output folder (`<distDir>/<systemTarget>/buildroot/`). */
export const BUILDROOT_TARBALL = 'buildroot.tar.zst';

/** Debian's architecture names of Node's `process.arch` values (dpkg-architecture(1)). */
const DEBIAN_ARCH_OF_NODE: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'armhf', riscv64: 'riscv64', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x' };

/** The build machine's Debian architecture (`amd64`), from Node's `process.arch`; Node's name when Debian has none. */
export function buildMachineDebianArch(): string {
  return DEBIAN_ARCH_OF_NODE[process.arch] ?? process.arch;
}

/**
 * What the build machine lacks to make a build root of `debianArch` with {@link makeBuildroot}:
 * mmdebstrap; and for an architecture other than the build machine's own, arch-test, which
 * mmdebstrap runs to check that the foreign architecture's programs run (through binfmt_misc and
 * QEMU); without it mmdebstrap stops with "E: install arch-test for foreign architecture
 * support" (mmdebstrap(1); arch-test is only its Recommends).
 * @param debianArch the build root's Debian architecture (`arm64`)
 * @param searchPath `:`-separated folders searched for the programs (`process.env.PATH`)
 * @param buildDebianArch the build machine's Debian architecture (default {@link buildMachineDebianArch})
 * @returns one problem per missing program, `[]` when ready
 */
export function buildrootHostProblems(debianArch: string, searchPath: string, buildDebianArch: string = buildMachineDebianArch()): HostProblem[] {
  const problems: HostProblem[] = [];
  if (!findProgram('mmdebstrap', searchPath)) {
    problems.push({ what: 'mmdebstrap (it makes the Debian build roots of native builds) is not on PATH', fix: 'run tools/setup-host, or: apt-get install mmdebstrap' });
  }
  if (debianArch !== buildDebianArch && !findProgram('arch-test', searchPath)) {
    problems.push({ what: `arch-test (mmdebstrap needs it to make the ${debianArch} build root on this ${buildDebianArch} machine) is not on PATH`, fix: 'run tools/setup-host, or: apt-get install arch-test' });
  }
  return problems;
}

/** What {@link makeBuildroot} runs mmdebstrap with. */
export interface BuildrootSpec {
  /** Debian architecture (`arm64`). */
  readonly debianArch: string;
  /** Debian suite (`bookworm`). */
  readonly suite: string;
  /** mmdebstrap `--variant` (`buildd`). */
  readonly variant: string;
  /** Further Debian packages (`--include`). */
  readonly packages: readonly string[];
  /** One-line sources.list text (see apt-sources.ts), mmdebstrap's mirror argument. */
  readonly sourcesList: string;
  /** SOURCE_DATE_EPOCH in seconds since the epoch: mmdebstrap then writes a reproducible tarball. */
  readonly sourceDateEpoch: number;
}

/**
 * Makes a Debian build root tarball with mmdebstrap(1): `mmdebstrap --variant=<variant>
 * --architectures=<arch> [--include=<packages>] <suite> <out>.tar.zst <sources file>`, under
 * `SOURCE_DATE_EPOCH` (mmdebstrap then clamps mtimes and drops machine-specific files, so the
 * same archive state gives the same tarball). A foreign architecture is set up through the
 * machine's binfmt_misc QEMU handlers (qemu-user-static); mmdebstrap checks that they work.
 * Run as root it uses its `root` mode, otherwise `unshare` (which needs subordinate ids,
 * /etc/subuid). Its output goes to `logFile`.
 * @param out absolute path of the tarball to write (written to a temporary name, then renamed)
 * @param logFile absolute path the log is appended to
 * @throws Error naming the last lines of the log when mmdebstrap fails
 */
export async function makeBuildroot(spec: BuildrootSpec, out: string, logFile: string): Promise<void> {
  const dir = path.dirname(out);
  fs.mkdirSync(dir, { recursive: true });
  const sourcesFile = path.join(dir, '.sources.list');
  fs.writeFileSync(sourcesFile, spec.sourcesList);
  const partial = path.join(dir, `.partial-${path.basename(out)}`);
  const args = [
    `--variant=${spec.variant}`,
    `--architectures=${spec.debianArch}`,
    ...(spec.packages.length ? [`--include=${spec.packages.join(',')}`] : []),
    '--format=tar',
    spec.suite,
    partial,
    sourcesFile,
  ];
  fs.appendFileSync(logFile, `# mmdebstrap ${args.join(' ')}\n# sources:\n${spec.sourcesList.replace(/^/gm, '#   ')}\n`);
  try {
    const r = await execa('mmdebstrap', args, {
      reject: false,
      stdin: 'ignore',
      stdout: { file: logFile, append: true },
      stderr: { file: logFile, append: true },
      env: { SOURCE_DATE_EPOCH: String(spec.sourceDateEpoch), LC_ALL: 'C.UTF-8' },
    });
    if (r.exitCode !== 0) {
      const tail = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
      throw new Error(`${tail}\nmmdebstrap failed (exit ${r.exitCode ?? r.signal}); full log: ${logFile}`);
    }
  } finally {
    fs.rmSync(sourcesFile, { force: true });
  }
  // mmdebstrap compresses by the output's extension; a `.partial-` prefix keeps `.tar.zst`.
  fs.renameSync(partial, out);
}

/**
 * The extracted tree of a build root tarball in a content-addressed store, extracting it on
 * first use: `<storeRoot>/<sha256 of the tarball>/`. Concurrent callers (tasks, processes) wait
 * on a proper-lockfile lock per sum; extraction goes to `tmp/` and is renamed into place, so the
 * folder existing means complete. Extracted with GNU tar (`--numeric-owner`, no device nodes:
 * `./dev` is left out, the sandbox mounts its own /dev); the tarball is trusted (our own
 * mmdebstrap output, restored from the Nx cache), so absolute symlinks are kept as a root
 * filesystem needs them. Every folder gets mode 0755 and files lose their write bits, because
 * builds' roots are hard links to these files.
 * @param storeRoot absolute store folder (created if missing)
 * @param tarball absolute path of a `buildroot.tar.zst`
 * @returns the absolute extracted folder
 * @throws Error when tar fails (the message carries tar's error)
 */
export async function extractedBuildroot(storeRoot: string, tarball: string): Promise<string> {
  const sum = await sha256File(tarball);
  const final = path.join(storeRoot, sum);
  if (fs.existsSync(final)) return final;
  fs.mkdirSync(path.join(storeRoot, 'locks'), { recursive: true });
  fs.mkdirSync(path.join(storeRoot, 'tmp'), { recursive: true });
  await withFileLock(path.join(storeRoot, 'locks'), path.join(storeRoot, 'locks', `${sum}.lock`), async () => {
    if (fs.existsSync(final)) return;
    const tmp = fs.mkdtempSync(path.join(storeRoot, 'tmp', `${sum.slice(0, 12)}-`));
    try {
      const r = await execa('tar', ['--extract', '--zstd', '--file', tarball, '--directory', tmp, '--numeric-owner', '--no-same-owner', '--exclude=./dev/*'], { reject: false, all: true });
      if (r.exitCode !== 0) throw new Error(`extracting the build root ${tarball}: ${String(r.all).trim()}`);
      await execa('find', [tmp, '-type', 'd', '-exec', 'chmod', '0755', '{}', '+']);
      await execa('find', [tmp, '-type', 'f', '-exec', 'chmod', 'a-w,u+r', '{}', '+']);
      fs.renameSync(tmp, final);
    } catch (e) {
      await execa('chmod', ['-R', 'u+w', tmp], { reject: false });
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  });
  return final;
}

/**
 * The Debian packages in a build root tarball, `name version arch` per line, sorted, from its
 * `var/lib/dpkg/status` (installed packages only).
 */
export async function buildrootPackageList(tarball: string): Promise<string> {
  const r = await execa('tar', ['--extract', '--zstd', '--to-stdout', '--file', tarball, './var/lib/dpkg/status'], { maxBuffer: 256 << 20 });
  const lines: string[] = [];
  for (const stanza of r.stdout.split(/\n\n+/)) {
    const f = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(stanza)?.[1];
    if (f('Package') && /install ok installed/.test(f('Status') ?? '')) lines.push(`${f('Package')} ${f('Version')} ${f('Architecture')}`);
  }
  return lines.sort().join('\n') + '\n';
}
