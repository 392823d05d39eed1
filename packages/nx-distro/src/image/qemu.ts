import { LAYERS_PARAM } from './init';

/** The two ways an image boots: the initramfs holding the whole system, or a small initramfs stacking the squashfs layers. */
export type BootMode = 'initramfs' | 'layers';
/** Both modes, in the order the boot test runs them. */
export const BOOT_MODES: readonly BootMode[] = ['initramfs', 'layers'];

/** QEMU settings of a system target (its `image:` section, defaults filled in). */
export interface QemuSettings {
  /** The emulator program (`qemu-system-aarch64`). */
  readonly qemuSystem: string;
  /** `-machine` (`virt`, `q35`). */
  readonly machine: string;
  /** `-cpu`, or undefined for the machine's default. */
  readonly cpu?: string;
  /** `-m`, MiB. */
  readonly memoryMib: number;
  /** Serial console device for `console=` (`ttyAMA0`, `ttyS0`). */
  readonly console: string;
}

/** The files one boot uses, as paths QEMU opens (absolute, or relative to where it runs). */
export interface BootFiles {
  readonly kernel: string;
  readonly initrd: string;
  /** Layers bottom first (empty for the initramfs mode): each one a virtio disk, in this order. */
  readonly layers: ReadonlyArray<{ readonly set: string; readonly file: string }>;
}

/**
 * The kernel command line: `console=<console> panic=-1 loglevel=4`, plus
 * `nxdistro.layers=<set>,…` (bottom first) when there are layers, plus `extra`. `panic=-1` makes
 * a panicking kernel reboot at once, which `-no-reboot` turns into QEMU exiting; `loglevel=4`
 * keeps routine kernel messages (still in `dmesg`) from cutting into the init's output lines.
 */
export function kernelCmdline(console: string, layers: readonly string[], extra: readonly string[] = []): string {
  return [`console=${console}`, 'panic=-1', 'loglevel=4', ...(layers.length ? [`${LAYERS_PARAM}=${layers.join(',')}`] : []), ...extra].join(' ');
}

/** A value inside a QEMU `-drive` option list: commas are doubled (QEMU's escaping). */
function optionValue(v: string): string {
  return v.replace(/,/g, ',,');
}

/**
 * The QEMU command line of one boot (argv[0] is the emulator):
 * `<qemu_system> -machine <machine> [-cpu <cpu>] -m <MiB> -smp 1 -nographic -no-reboot -nic none
 * -kernel <kernel> -initrd <initrd> -append <cmdline>` and, per layer in order,
 * `-drive file=<layer>,if=virtio,format=raw,readonly=on`, so the guest sees the layers as
 * `/dev/vda`, `/dev/vdb`, … bottom first. `-nographic` puts the serial console on stdio;
 * `-no-reboot` makes a guest reboot (and a panic, with `panic=-1`) end QEMU; `-nic none`: no
 * network device (and no option ROM for one).
 */
export function qemuArgv(q: QemuSettings, files: BootFiles, cmdline: string): string[] {
  return [
    q.qemuSystem,
    '-machine', q.machine,
    ...(q.cpu ? ['-cpu', q.cpu] : []),
    '-m', String(q.memoryMib),
    '-smp', '1',
    '-nographic', '-no-reboot', '-nic', 'none',
    '-kernel', files.kernel,
    '-initrd', files.initrd,
    '-append', cmdline,
    ...files.layers.flatMap((l) => ['-drive', `file=${optionValue(l.file)},if=virtio,format=raw,readonly=on`]),
  ];
}

/** A command line as a POSIX shell reads it (single quotes where needed). */
export function shellCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
