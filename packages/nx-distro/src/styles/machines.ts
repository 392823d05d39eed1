/**
 * How CMake and Meson name a host machine's CPU, by the pacman arch name of a system target
 * (`$CARCH`). CMake's `CMAKE_SYSTEM_PROCESSOR` is what `uname -m` prints on that machine (CMake's
 * own convention for a native build); Meson's `cpu_family` and `cpu` are from its reference
 * tables (docs/markdown/Reference-tables.md, "CPU families"), as cports' cross profiles and
 * Debian's `debcrossgen`/`meson-env2cross` map them.
 */
export interface MachineNames {
  /** `CMAKE_SYSTEM_PROCESSOR` (`uname -m`). */
  readonly cmakeProcessor: string;
  /** Meson `[host_machine] cpu_family`. */
  readonly mesonCpuFamily: string;
  /** Meson `[host_machine] cpu`. */
  readonly mesonCpu: string;
  /** Meson `[host_machine] endian`. */
  readonly endian: 'little' | 'big';
}

/** Every pacman arch a system target may name that the `cmake` and `meson` styles know. */
export const MACHINES: Readonly<Record<string, MachineNames>> = {
  x86_64: { cmakeProcessor: 'x86_64', mesonCpuFamily: 'x86_64', mesonCpu: 'x86_64', endian: 'little' },
  i686: { cmakeProcessor: 'i686', mesonCpuFamily: 'x86', mesonCpu: 'i686', endian: 'little' },
  aarch64: { cmakeProcessor: 'aarch64', mesonCpuFamily: 'aarch64', mesonCpu: 'aarch64', endian: 'little' },
  armv7h: { cmakeProcessor: 'armv7l', mesonCpuFamily: 'arm', mesonCpu: 'armv7', endian: 'little' },
  riscv64: { cmakeProcessor: 'riscv64', mesonCpuFamily: 'riscv64', mesonCpu: 'riscv64', endian: 'little' },
  ppc64le: { cmakeProcessor: 'ppc64le', mesonCpuFamily: 'ppc64', mesonCpu: 'ppc64le', endian: 'little' },
  loong64: { cmakeProcessor: 'loongarch64', mesonCpuFamily: 'loongarch64', mesonCpu: 'loongarch64', endian: 'little' },
};

/**
 * A shell `case` on `$CARCH` that sets the given variables from {@link MACHINES} (`pick` chooses
 * the fields), and fails in one line naming this file for an arch it does not know.
 * @param style the style's name, for the error line
 */
export function machineCase(style: string, pick: (m: MachineNames) => Record<string, string>): string {
  const arms = Object.entries(MACHINES).map(([arch, m]) => `  ${arch}) ${Object.entries(pick(m)).map(([k, v]) => `${k}=${v}`).join(' ')} ;;`);
  return [
    'case $CARCH in',
    ...arms,
    `  *) echo "${style} style: no CPU names for CARCH=$CARCH; add the arch to MACHINES in packages/nx-distro/src/styles/machines.ts" >&2; exit 1 ;;`,
    'esac',
  ].join('\n');
}

/**
 * Flags for programs compiled for the build machine (a `toolchain: true` recipe's own code): no
 * target arch flags, which the build machine's compiler may not even accept.
 */
export const BUILD_MACHINE_CFLAGS = '-O2 -pipe';
