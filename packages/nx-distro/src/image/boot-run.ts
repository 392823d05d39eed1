import { execa } from 'execa';

/** How one QEMU run ended. */
export interface QemuRun {
  /** Everything the guest wrote to the serial console (and QEMU to stdout/stderr). */
  readonly output: string;
  /** QEMU's exit code, null when it was killed. */
  readonly exitCode: number | null;
  /** Wall-clock seconds from start to exit. */
  readonly seconds: number;
  /** Killed at the time limit. */
  readonly timedOut: boolean;
  /** Killed because the guest finished its checks but did not power off within the grace time. */
  readonly noPowerOff: boolean;
}

/** Options of {@link runQemu}. */
export interface RunQemuOptions {
  /** Kill QEMU after this many seconds. */
  readonly timeoutSeconds: number;
  /** A line that means the guest is done; once seen, QEMU gets `graceSeconds` to exit. */
  readonly doneMarker?: string;
  /** Seconds QEMU may take to exit after `doneMarker` (power off). Default 60. */
  readonly graceSeconds?: number;
  /** Folder QEMU runs in (relative file names are resolved there). */
  readonly cwd?: string;
  /** Called with each chunk of output as it comes (progress). */
  readonly onOutput?: (chunk: string) => void;
}

/**
 * Runs QEMU (argv[0] is the emulator) with stdin closed, collecting the serial console
 * (`-nographic` puts it on stdout), until it exits by itself, the time limit passes or the
 * guest finished but did not power off; then it is killed (SIGKILL).
 * @throws Error when the emulator cannot be started (missing: the message names the Debian
 *   packages qemu-system-arm / qemu-system-x86 and tools/setup-host)
 */
export function runQemu(argv: readonly string[], options: RunQemuOptions): Promise<QemuRun> {
  const started = process.hrtime.bigint();
  return new Promise<QemuRun>((resolve, reject) => {
    // Not buffered by execa: onData keeps the console as it comes.
    const child = execa(argv[0], argv.slice(1), { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', cwd: options.cwd, buffer: false, reject: false });
    let output = '';
    let timedOut = false;
    let noPowerOff = false;
    let grace: NodeJS.Timeout | undefined;
    const onData = (d: Buffer) => {
      const s = d.toString('utf8');
      output += s;
      options.onOutput?.(s);
      if (options.doneMarker && grace === undefined && output.includes(options.doneMarker)) {
        grace = setTimeout(() => {
          noPowerOff = true;
          child.kill('SIGKILL');
        }, (options.graceSeconds ?? 60) * 1000);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const limit = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutSeconds * 1000);
    void child.then((r) => {
      clearTimeout(limit);
      if (grace) clearTimeout(grace);
      // Neither an exit status nor a signal: the emulator could not be started.
      if (r.exitCode === undefined && r.signal === undefined) {
        reject(r.code === 'ENOENT' ? new Error(`cannot run ${argv[0]}: install the Debian packages qemu-system-arm and qemu-system-x86 (tools/setup-host)`) : new Error(r.message ?? `cannot run ${argv[0]}`));
        return;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ output, exitCode: r.exitCode ?? null, seconds, timedOut, noPowerOff: noPowerOff && !timedOut });
    });
  });
}
