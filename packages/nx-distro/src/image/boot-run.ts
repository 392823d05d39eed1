import { spawn } from 'node:child_process';

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
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
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
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(limit);
      if (grace) clearTimeout(grace);
      reject(e.code === 'ENOENT' ? new Error(`cannot run ${argv[0]}: install the Debian packages qemu-system-arm and qemu-system-x86 (tools/setup-host)`) : e);
    });
    child.on('close', (code) => {
      clearTimeout(limit);
      if (grace) clearTimeout(grace);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ output, exitCode: code, seconds, timedOut, noPowerOff: noPowerOff && !timedOut });
    });
  });
}
