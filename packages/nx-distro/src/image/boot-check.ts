import type { BootMode } from './qemu';

/**
 * Reading a boot's serial console: the lines the image's stage2 prints (src/image/init.ts) are
 * checked against what the image should be.
 */

/** What `uname -m` prints on a machine of a pacman arch (armv7h runs as armv7l). */
export function unameMachine(arch: string): string {
  return arch === 'armv7h' ? 'armv7l' : arch;
}

/** What a boot must show. */
export interface BootExpectations {
  /** System target name, in the marker. */
  readonly target: string;
  /** Expected `uname -m`. */
  readonly unameM: string;
  /** Every package the booted root must list, `name version`, no others. */
  readonly packages: readonly string[];
  /** Layers bottom first, for the layered mode (set names). */
  readonly layers: readonly string[];
}

/** The result of a console check. */
export interface BootReport {
  /** Every check passed. */
  readonly ok: boolean;
  /** One line per failed check. */
  readonly problems: readonly string[];
  /** `nx-distro-<key>` values seen, the first of each key (`uname-m`, `lua`, `xz`…). */
  readonly values: Readonly<Record<string, string>>;
  /** `nx-distro-mount:` lines (the guest's `mount` output). */
  readonly mounts: readonly string[];
  /** `nx-distro-pkg:` values (`lua 5.4.4-1`). */
  readonly packages: readonly string[];
}

/** The console's lines from the first `nx-distro-` on each (a kernel message may precede it), `\r` removed. */
export function markerLines(console: string): string[] {
  const out: string[] = [];
  for (const raw of console.split('\n')) {
    const line = raw.replace(/\r/g, '');
    const at = line.indexOf('nx-distro-');
    if (at >= 0) out.push(line.slice(at));
  }
  return out;
}

/**
 * Checks a boot's console output: the marker `nx-distro-boot-ok <target>`, the mode, `uname -m`,
 * lua and xz found in `/usr/bin` and working (`lua: 42`, `xz: ok …`), the package list read from
 * the pacman database equal to `packages` with lua among them, and for the layered mode an
 * overlay mounted on `/` and each layer's squashfs from its disk (`/dev/vda` for the first) at
 * `/run/nx-distro/layers/<set>` (for the initramfs mode: no overlay on `/`); last
 * `nx-distro-boot-done`.
 * @param console the whole serial console output
 */
export function checkConsole(console: string, mode: BootMode, exp: BootExpectations): BootReport {
  const lines = markerLines(console);
  const values: Record<string, string> = {};
  const mounts: string[] = [];
  const packages: string[] = [];
  for (const l of lines) {
    const m = /^nx-distro-([a-z0-9-]+): ?(.*)$/.exec(l);
    if (!m) continue;
    if (m[1] === 'mount') mounts.push(m[2]);
    else if (m[1] === 'pkg') packages.push(m[2].trim());
    else if (!(m[1] in values)) values[m[1]] = m[2].trim();
  }
  const problems: string[] = [];
  const expect = (key: string, ok: (v: string) => boolean, want: string) => {
    const v = values[key];
    if (v === undefined) problems.push(`no "nx-distro-${key}:" line (want ${want})`);
    else if (!ok(v)) problems.push(`nx-distro-${key}: ${JSON.stringify(v)}, want ${want}`);
  };
  if (!lines.includes(`nx-distro-boot-ok ${exp.target}`)) problems.push(`no boot marker "nx-distro-boot-ok ${exp.target}"`);
  expect('mode', (v) => v === mode, mode);
  expect('uname-m', (v) => v === exp.unameM, exp.unameM);
  expect('which', (v) => v === 'lua=/usr/bin/lua xz=/usr/bin/xz', 'lua=/usr/bin/lua xz=/usr/bin/xz (the packages\' programs, not busybox applets)');
  expect('lua', (v) => v === '42', '42');
  expect('xz', (v) => /^ok /.test(v), 'ok (compressed, tested with xz -t, decompressed and compared)');
  expect('pacman-db', (v) => v === 'lua installed', 'lua installed');
  const want = [...exp.packages].sort();
  const got = [...packages].sort();
  const missing = want.filter((p) => !got.includes(p));
  const extra = got.filter((p) => !want.includes(p));
  if (missing.length || extra.length) {
    problems.push(`the pacman database lists ${got.length} packages${missing.length ? `; missing: ${missing.join(', ')}` : ''}${extra.length ? `; unexpected: ${extra.join(', ')}` : ''}`);
  }
  const rootOverlay = mounts.some((m) => /^overlay on \/ type overlay /.test(m));
  if (mode === 'layers') {
    if (!rootOverlay) problems.push('no overlay mounted on / (want "overlay on / type overlay")');
    exp.layers.forEach((set, i) => {
      const dev = `/dev/vd${String.fromCharCode(97 + i)}`;
      if (!mounts.some((m) => m.startsWith(`${dev} on /run/nx-distro/layers/${set} type squashfs `))) problems.push(`layer ${set}: no "${dev} on /run/nx-distro/layers/${set} type squashfs" mount`);
    });
  } else if (rootOverlay) {
    problems.push('an overlay is mounted on / in the initramfs mode');
  }
  if (!lines.includes('nx-distro-boot-done')) problems.push('no "nx-distro-boot-done" line: the checks did not finish');
  return { ok: problems.length === 0, problems, values, mounts, packages };
}
