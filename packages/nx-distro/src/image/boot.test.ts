import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkConsole, markerLines, unameMachine } from './boot-check';
import { initramfsExtras, initScript, stage2Script } from './init';
import { kernelCmdline, qemuArgv, shellCommand } from './qemu';

const Q = { qemuSystem: 'qemu-system-aarch64', machine: 'virt', cpu: 'cortex-a57', memoryMib: 512, console: 'ttyAMA0' };

describe('QEMU command line', () => {
  it('boots the initramfs alone: no disks, no layers parameter', () => {
    assert.deepEqual(qemuArgv(Q, { kernel: 'vmlinuz', initrd: 'initramfs.cpio.zst', layers: [] }, kernelCmdline('ttyAMA0', [])), [
      'qemu-system-aarch64', '-machine', 'virt', '-cpu', 'cortex-a57', '-m', '512', '-smp', '1', '-nographic', '-no-reboot', '-nic', 'none',
      '-kernel', 'vmlinuz', '-initrd', 'initramfs.cpio.zst', '-append', 'console=ttyAMA0 panic=-1 loglevel=4',
    ]);
  });

  it('gives the layers as read-only virtio disks, bottom first, and names them on the kernel command line', () => {
    const layers = [{ set: 'base', file: 'layers/base.squashfs' }, { set: 'tools', file: '/a,b/tools.squashfs' }];
    const argv = qemuArgv({ ...Q, cpu: undefined }, { kernel: 'k', initrd: 'i', layers }, kernelCmdline('ttyS0', ['base', 'tools'], ['nxdistro.shell=1']));
    assert.deepEqual(argv.slice(0, 5), ['qemu-system-aarch64', '-machine', 'virt', '-m', '512']);
    assert.deepEqual(argv.slice(-6), [
      '-append', 'console=ttyS0 panic=-1 loglevel=4 nxdistro.layers=base,tools nxdistro.shell=1',
      '-drive', 'file=layers/base.squashfs,if=virtio,format=raw,readonly=on',
      '-drive', 'file=/a,,b/tools.squashfs,if=virtio,format=raw,readonly=on',
    ]);
  });

  it('quotes for the shell only where needed', () => {
    assert.equal(shellCommand(['qemu', '-append', 'console=ttyS0 panic=-1', "it's", 'file=a,if=virtio']), "qemu -append 'console=ttyS0 panic=-1' 'it'\\''s' file=a,if=virtio");
  });
});

describe('init scripts', () => {
  it('are valid POSIX sh (dash -n) and use busybox by its path', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-init-'));
    try {
      for (const [name, text] of [['init', initScript()], ['stage2', stage2Script('aarch64')]]) {
        const f = path.join(tmp, name);
        writeFileSync(f, text);
        execFileSync('dash', ['-n', f]);
        assert.match(text, /^#!\/usr\/bin\/busybox sh\n/);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    assert.match(stage2Script('x86_64'), /^echo "nx-distro-boot-ok x86_64"$/m);
    assert.throws(() => stage2Script('a b'), TypeError);
    assert.match(initScript(), /switch_root \/newroot \/usr\/bin\/busybox sh \/run\/nx-distro\/stage2 layers/);
    assert.match(initScript(), /lowerdir=\$lower,upperdir=\/run\/nx-distro\/rw\/upper/);
  });

  it('adds /init, stage2, the mount points and dev/console to an initramfs', () => {
    const e = initramfsExtras('aarch64', 1700000000);
    assert.deepEqual(e.map((x) => `${x.kind} ${x.rel} ${x.mode.toString(8)}`), [
      'dir dev 755', 'char dev/console 600', 'file init 755', 'dir newroot 755', 'dir nx-distro 755', 'file nx-distro/stage2 755', 'dir proc 755', 'dir run 755', 'dir sys 755', 'dir tmp 1777',
    ]);
    assert.deepEqual(e[1].rdev, [5, 1]);
    assert.ok(e.every((x) => x.mtime === 1700000000));
  });
});

/** What stage2 prints on a good layered boot (kernel messages and \r included). */
const GOOD = [
  '[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]\r',
  'nx-distro-init: layer base: /dev/vda\r',
  'nx-distro-boot-ok aarch64\r',
  'nx-distro-mode: layers\r',
  'nx-distro-mount: overlay on / type overlay (rw,relatime,lowerdir=/run/nx-distro/layers/tools:/run/nx-distro/layers/base,upperdir=/run/nx-distro/rw/upper,workdir=/run/nx-distro/rw/work)\r',
  'nx-distro-mount: /dev/vda on /run/nx-distro/layers/base type squashfs (ro,relatime)\r',
  'nx-distro-mount: /dev/vdb on /run/nx-distro/layers/tools type squashfs (ro,relatime)\r',
  'nx-distro-uname-m: aarch64\r',
  'nx-distro-which: lua=/usr/bin/lua xz=/usr/bin/xz\r',
  'nx-distro-lua: 42\r',
  '[   12.3] random: crng init done\rnx-distro-xz: ok 108894 -> 21280 bytes\r',
  'nx-distro-pkg: busybox 1.35.0-1\r',
  'nx-distro-pkg: lua 5.4.4-1\r',
  'nx-distro-pkgs: 2\r',
  'nx-distro-pacman-db: lua installed\r',
  'nx-distro-boot-done\r',
].join('\n');
const EXP = { target: 'aarch64', unameM: 'aarch64', packages: ['lua 5.4.4-1', 'busybox 1.35.0-1'], layers: ['base', 'tools'] };

describe('checkConsole', () => {
  it('accepts a good layered boot, reading lines after kernel messages', () => {
    const r = checkConsole(GOOD, 'layers', EXP);
    assert.deepEqual(r.problems, []);
    assert.equal(r.values.xz, 'ok 108894 -> 21280 bytes');
    assert.deepEqual(r.packages, ['busybox 1.35.0-1', 'lua 5.4.4-1']);
    assert.equal(markerLines(GOOD)[0], 'nx-distro-init: layer base: /dev/vda');
  });

  it('names every missing or wrong output', () => {
    const bad = GOOD.replace('nx-distro-lua: 42', 'nx-distro-lua: lua: not found')
      .replace('uname-m: aarch64', 'uname-m: armv7l')
      .replace(/nx-distro-mount: \/dev\/vdb[^\n]*\n/, '')
      .replace('nx-distro-pkg: lua 5.4.4-1\r\n', '')
      .replace('nx-distro-boot-done', '');
    const r = checkConsole(bad, 'layers', EXP);
    assert.deepEqual(r.problems, [
      'nx-distro-uname-m: "armv7l", want aarch64',
      'nx-distro-lua: "lua: not found", want 42',
      'the pacman database lists 1 packages; missing: lua 5.4.4-1',
      'layer tools: no "/dev/vdb on /run/nx-distro/layers/tools type squashfs" mount',
      'no "nx-distro-boot-done" line: the checks did not finish',
    ]);
    assert.deepEqual(checkConsole('Kernel panic - not syncing', 'initramfs', EXP).problems[0], 'no boot marker "nx-distro-boot-ok aarch64"');
  });

  it('wants the overlay in the layered mode only', () => {
    assert.match(checkConsole(GOOD.replace('mode: layers', 'mode: initramfs'), 'initramfs', EXP).problems.join(), /an overlay is mounted on \/ in the initramfs mode/);
    const noOverlay = GOOD.replace(/nx-distro-mount: overlay[^\n]*\n/, '');
    assert.match(checkConsole(noOverlay, 'layers', EXP).problems.join(), /no overlay mounted on \//);
  });

  it('knows what uname -m prints per arch', () => {
    assert.deepEqual(['aarch64', 'x86_64', 'armv7h', 'riscv64'].map(unameMachine), ['aarch64', 'x86_64', 'armv7l', 'riscv64']);
  });
});
