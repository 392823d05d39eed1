import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Where the kernel's binfmt_misc file system is mounted (Documentation/admin-guide/binfmt-misc.rst). */
export const BINFMT_MISC_DIR = '/proc/sys/fs/binfmt_misc';

/**
 * One registered binfmt_misc handler, as the kernel shows it in `<binfmt_misc>/<name>`
 * (fs/binfmt_misc.c, `entry_status`):
 * ```
 * enabled
 * interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
 * flags: POF
 * offset 0
 * magic 7f454c460201010000000000000000000200b700
 * mask ffffffffffffff00fffffffffffffffffeffffff
 * ```
 */
export interface BinfmtHandler {
  /** The handler's name, i.e. its file name (`qemu-aarch64`). */
  readonly name: string;
  /** Whether the handler is enabled (first line `enabled` rather than `disabled`). */
  readonly enabled: boolean;
  /** Absolute host path of the interpreter the kernel runs the binary with. */
  readonly interpreter: string;
  /**
   * The registration flags, e.g. `POF`: P preserve argv[0], O open the binary for the
   * interpreter, C credentials from the binary, F fix binary (the interpreter is opened at
   * registration, so it needs not be visible in a chroot, sandbox or other mount namespace).
   */
  readonly flags: string;
  /** `magic` (matched against the file's first bytes) or `extension` (file name suffix). */
  readonly kind: 'magic' | 'extension';
  /** Byte offset of the magic in the file (0 for ELF headers). */
  readonly offset: number;
  /** The magic bytes (empty for an extension handler). */
  readonly magic: Buffer;
  /** The mask applied before comparing, as long as `magic` (all 0xff when none was given). */
  readonly mask: Buffer;
}

/** What the binfmt_misc folder shows. */
export interface BinfmtState {
  /** Whether binfmt_misc is mounted there (its `register` file exists). */
  readonly mounted: boolean;
  /** The global switch (`status` file: `enabled` or `disabled`). */
  readonly enabled: boolean;
  /** Every registered handler, sorted by name. */
  readonly handlers: readonly BinfmtHandler[];
}

/** Parses one handler file's text (see {@link BinfmtHandler}). */
export function parseBinfmtHandler(name: string, text: string): BinfmtHandler {
  const lines = text.split('\n');
  const field = (key: string) => {
    const line = lines.find((l) => l.startsWith(`${key} `));
    return line === undefined ? undefined : line.slice(key.length + 1).trim();
  };
  const magicHex = field('magic');
  const magic = Buffer.from(magicHex ?? '', 'hex');
  const maskHex = field('mask');
  return {
    name,
    enabled: lines[0]?.trim() === 'enabled',
    interpreter: field('interpreter') ?? '',
    flags: field('flags:') ?? '',
    kind: magicHex === undefined ? 'extension' : 'magic',
    offset: Number(field('offset') ?? 0),
    magic,
    mask: maskHex === undefined ? Buffer.alloc(magic.length, 0xff) : Buffer.from(maskHex, 'hex'),
  };
}

/**
 * Reads every handler of a binfmt_misc mount.
 * @param dir absolute path of the mount (default {@link BINFMT_MISC_DIR}; tests pass a fake folder)
 * @returns `mounted: false` and no handler when the folder has no `register` file (not mounted,
 *   as in many containers and machines without systemd-binfmt); never throws for unreadable
 *   entries, which are left out
 */
export function readBinfmt(dir: string = BINFMT_MISC_DIR): BinfmtState {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { mounted: false, enabled: false, handlers: [] };
  }
  if (!names.includes('register')) return { mounted: false, enabled: false, handlers: [] };
  let enabled = true;
  try {
    enabled = readFileSync(path.join(dir, 'status'), 'utf8').trim() === 'enabled';
  } catch {
    // no status file: the kernel always has one; a fake folder may not
  }
  const handlers: BinfmtHandler[] = [];
  for (const name of names.sort()) {
    if (name === 'register' || name === 'status') continue;
    try {
      handlers.push(parseBinfmtHandler(name, readFileSync(path.join(dir, name), 'utf8')));
    } catch {
      // vanished or unreadable: not usable either way
    }
  }
  return { mounted: true, enabled, handlers };
}

/**
 * ELF identification of each pacman arch name: class (1 = 32-bit, 2 = 64-bit), little-endian
 * data, and `e_machine` (from the System V gABI / <elf.h>: EM_386 3, EM_ARM 40, EM_X86_64 62,
 * EM_AARCH64 183, EM_RISCV 243).
 */
const ELF_IDENT: Readonly<Record<string, { cls: 1 | 2; machine: number }>> = {
  x86_64: { cls: 2, machine: 62 },
  i686: { cls: 1, machine: 3 },
  aarch64: { cls: 2, machine: 183 },
  armv7h: { cls: 1, machine: 40 },
  riscv64: { cls: 2, machine: 243 },
};

/** The pacman arch names {@link elfHeaderOf} knows. */
export const KNOWN_ARCHES: readonly string[] = Object.keys(ELF_IDENT);

/**
 * The first 20 bytes of a little-endian ELF executable (`ET_EXEC`, System V ABI) of a pacman
 * arch, what binfmt_misc handlers for QEMU match against.
 * @returns `undefined` for an arch not in {@link KNOWN_ARCHES}
 */
export function elfHeaderOf(arch: string): Buffer | undefined {
  const id = ELF_IDENT[arch];
  if (!id) return undefined;
  const h = Buffer.alloc(20);
  h.set([0x7f, 0x45, 0x4c, 0x46, id.cls, 1, 1], 0); // \x7fELF, class, ELFDATA2LSB, EV_CURRENT
  h.writeUInt16LE(2, 16); // e_type ET_EXEC
  h.writeUInt16LE(id.machine, 18);
  return h;
}

/**
 * Whether a magic handler would claim a file starting with `header` (the kernel's test in
 * fs/binfmt_misc.c: every magic byte equal under the mask).
 */
export function handlerMatches(handler: BinfmtHandler, header: Buffer): boolean {
  if (handler.kind !== 'magic' || handler.magic.length === 0) return false;
  if (handler.offset + handler.magic.length > header.length) return false;
  for (let i = 0; i < handler.magic.length; i++) {
    const m = handler.mask[i] ?? 0xff;
    if (((header[handler.offset + i] ^ handler.magic[i]) & m) !== 0) return false;
  }
  return true;
}

/** The handlers that would run executables of a pacman arch, in name order. */
export function handlersForArch(state: BinfmtState, arch: string): BinfmtHandler[] {
  const header = elfHeaderOf(arch);
  return header ? state.handlers.filter((h) => handlerMatches(h, header)) : [];
}

/**
 * The build machine's arch as a pacman arch name, from Node's `process.arch` (which is the
 * arch Node was built for, i.e. the machine's for any native Node).
 * @returns `x86_64`, `aarch64`, `armv7h`, `riscv64`, `i686`, or `process.arch` itself otherwise
 */
export function buildMachineArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7h', riscv64: 'riscv64', ia32: 'i686' };
  return map[nodeArch] ?? nodeArch;
}

/**
 * Whether the build machine runs executables of `arch` natively, without an emulator
 * (the same arch, or i686 on x86_64, whose kernels run 32-bit x86 code).
 */
export function runsNatively(buildArch: string, arch: string): boolean {
  return arch === buildArch || (buildArch === 'x86_64' && arch === 'i686');
}
