import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildMachineArch, elfHeaderOf, handlerMatches, handlersForArch, parseBinfmtHandler, readBinfmt, runsNatively } from './binfmt';

/** What Debian 12's qemu-user-static registers, as /proc/sys/fs/binfmt_misc/<name> shows it. */
const DEBIAN_HANDLERS: Record<string, string> = {
  'qemu-aarch64': 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n',
  'qemu-arm': 'enabled\ninterpreter /usr/libexec/qemu-binfmt/arm-binfmt-P\nflags: POF\noffset 0\nmagic 7f454c4601010100000000000000000002002800\nmask ffffffffffffff00fffffffffffffffffeffffff\n',
  'qemu-riscv64': 'enabled\ninterpreter /usr/libexec/qemu-binfmt/riscv64-binfmt-P\nflags: POF\noffset 0\nmagic 7f454c460201010000000000000000000200f300\nmask ffffffffffffff00fffffffffffffffffeffffff\n',
};

describe('binfmt_misc handlers', () => {
  it('parses a handler file as the kernel writes it', () => {
    const h = parseBinfmtHandler('qemu-aarch64', DEBIAN_HANDLERS['qemu-aarch64']);
    assert.equal(h.enabled, true);
    assert.equal(h.interpreter, '/usr/libexec/qemu-binfmt/aarch64-binfmt-P');
    assert.equal(h.flags, 'POF');
    assert.equal(h.kind, 'magic');
    assert.equal(h.offset, 0);
    assert.equal(h.magic.length, 20);
    assert.equal(h.mask.length, 20);
    const ext = parseBinfmtHandler('jar', 'disabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar\n');
    assert.equal(ext.enabled, false);
    assert.equal(ext.kind, 'extension');
    assert.equal(handlerMatches(ext, elfHeaderOf('aarch64')!), false);
  });

  it("matches Debian's QEMU handlers to exactly their arch's ELF executables", () => {
    const expected: Record<string, string> = { aarch64: 'qemu-aarch64', armv7h: 'qemu-arm', riscv64: 'qemu-riscv64' };
    const handlers = Object.entries(DEBIAN_HANDLERS).map(([n, t]) => parseBinfmtHandler(n, t));
    for (const arch of ['aarch64', 'armv7h', 'riscv64', 'x86_64', 'i686']) {
      const matching = handlers.filter((h) => handlerMatches(h, elfHeaderOf(arch)!)).map((h) => h.name);
      assert.deepEqual(matching, expected[arch] ? [expected[arch]] : [], arch);
    }
    assert.equal(elfHeaderOf('mips'), undefined);
  });

  it('reads a binfmt_misc folder, and reports an unmounted one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-binfmt-'));
    try {
      assert.deepEqual(readBinfmt(dir), { mounted: false, enabled: false, handlers: [] });
      assert.equal(readBinfmt(path.join(dir, 'missing')).mounted, false);
      writeFileSync(path.join(dir, 'register'), '');
      writeFileSync(path.join(dir, 'status'), 'enabled\n');
      for (const [n, t] of Object.entries(DEBIAN_HANDLERS)) writeFileSync(path.join(dir, n), t);
      const state = readBinfmt(dir);
      assert.equal(state.mounted, true);
      assert.equal(state.enabled, true);
      assert.deepEqual(state.handlers.map((h) => h.name), ['qemu-aarch64', 'qemu-arm', 'qemu-riscv64']);
      assert.deepEqual(handlersForArch(state, 'armv7h').map((h) => h.name), ['qemu-arm']);
      writeFileSync(path.join(dir, 'status'), 'disabled\n');
      assert.equal(readBinfmt(dir).enabled, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the build machine's arch as pacman does", () => {
    assert.equal(buildMachineArch('x64'), 'x86_64');
    assert.equal(buildMachineArch('arm64'), 'aarch64');
    assert.equal(buildMachineArch('arm'), 'armv7h');
    assert.equal(buildMachineArch('riscv64'), 'riscv64');
    assert.equal(runsNatively('x86_64', 'x86_64'), true);
    assert.equal(runsNatively('x86_64', 'i686'), true);
    assert.equal(runsNatively('x86_64', 'aarch64'), false);
    assert.equal(runsNatively('aarch64', 'x86_64'), false);
  });
});
