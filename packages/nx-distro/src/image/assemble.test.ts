/**
 * The rootfs and image steps on small made-up packages, with the real tools: pacman installs
 * them (so this needs root), mksquashfs makes the layers, unsquashfs and GNU cpio read them
 * back. No kernel is booted here (test/image.test.ts does that).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writePackage, type BuildInfo } from '../packages/pacman-package';
import { assembleImage } from './assemble-image';
import { BOOT_OPTIONS, LAYER_OPTIONS } from './kernel-config';
import type { RootfsManifest } from './manifest';
import { assembleRootfs, type BuiltPackage } from './rootfs';

const EPOCH = 1700000000;
const ARCH = 'aarch64';
const BI: BuildInfo = { pkgbuildSha256: 'ab'.repeat(32), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: '0.1.0' };
const needRoot = process.getuid?.() === 0 ? false : 'pacman installs only as root';
const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
/** Every file under a folder, relative, with its sha256 (folders and symlinks too). */
function listing(dir: string): string[] {
  return execFileSync('find', ['.', '-mindepth', '1', '-printf', '%y %m %P %l\n'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').sort()
    .map((l) => (l.startsWith('f ') ? `${l} ${sha256(path.join(dir, l.split(' ')[2]))}` : l));
}

describe('rootfs and image from made-up packages (real pacman, mksquashfs)', { skip: needRoot }, () => {
  let tmp: string;
  const built: BuiltPackage[] = [];
  const sets = { base: { packages: ['busybox'] }, tools: { on: 'base', packages: ['app'] }, net: { on: 'base', packages: ['tool'] } };
  let kernelPkg: string;

  async function pkg(name: string, files: Record<string, string>, depends: string[] = [], links: Record<string, string> = {}) {
    const tree = path.join(tmp, 'trees', name);
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
      writeFileSync(path.join(tree, rel), text, { mode: rel.includes('bin/') ? 0o755 : 0o644 });
    }
    for (const [rel, target] of Object.entries(links)) symlinkSync(target, path.join(tree, rel));
    const meta = { pkgname: name, pkgbase: name, pkgver: '1.0', pkgrel: 1, pkgdesc: name, url: '', arch: ARCH, license: ['MIT'], depends, packager: 'test', builddate: EPOCH };
    const w = await writePackage(tree, meta, BI, path.join(tmp, 'dist', ARCH, 'packages', name), EPOCH);
    return { file: w.file, name, version: '1.0-1' };
  }

  async function rootfs(out: string): Promise<RootfsManifest> {
    rmSync(path.join(tmp, 'work'), { recursive: true, force: true });
    mkdirSync(path.join(tmp, 'work'), { recursive: true });
    mkdirSync(out, { recursive: true });
    const r = await assembleRootfs({
      root: tmp, target: ARCH, targetFile: 'targets/aarch64.yaml', arch: ARCH, sets, built, basePackages: ['toolchain-runtime'],
      missing: (n) => `no package ${n}`, repositoryServer: 'https://example.org/repo/aarch64', sourceDateEpoch: EPOCH, work: path.join(tmp, 'work'), out,
    });
    return r.manifest;
  }

  async function image(rootfsDir: string, out: string) {
    rmSync(path.join(tmp, 'work'), { recursive: true, force: true });
    mkdirSync(path.join(tmp, 'work'), { recursive: true });
    mkdirSync(out, { recursive: true });
    return assembleImage({
      root: tmp, target: ARCH, targetFile: 'targets/aarch64.yaml', arch: ARCH,
      qemu: { qemuSystem: 'qemu-system-aarch64', machine: 'virt', cpu: 'cortex-a57', memoryMib: 512, console: 'ttyAMA0' },
      sourceDateEpoch: EPOCH, rootfsDir, kernelPackage: { file: kernelPkg, name: 'linux', version: '6.1-1' }, kernelConfigHint: 'targets/aarch64/linux.config',
      work: path.join(tmp, 'work'), out,
    });
  }

  before(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-assemble-'));
    built.push(await pkg('toolchain-runtime', { 'usr/lib/ld-fake.so.1': 'loader' }, [], { lib: 'usr/lib' }));
    built.push(await pkg('busybox', { 'usr/bin/busybox': '#!/bin/sh\n' }, ['toolchain-runtime']));
    built.push(await pkg('liba', { 'usr/lib/liba.so.1': 'liba', 'usr/share/doc/liba/README': 'a' }, ['toolchain-runtime']));
    built.push(await pkg('app', { 'usr/bin/app': 'app', 'usr/share/doc/app/README': 'app' }, ['liba>=1.0']));
    built.push(await pkg('tool', { 'usr/bin/tool': 'tool' }, ['liba']));
    built.push(await pkg('unused', { 'usr/bin/unused': 'x' }));
    const config = [...BOOT_OPTIONS, ...LAYER_OPTIONS, 'CONFIG_RD_ZSTD', 'CONFIG_SQUASHFS_XZ'].map((o) => `${o}=y`).join('\n');
    kernelPkg = (await pkg('linux', { 'boot/vmlinuz': 'not really a kernel', 'boot/config': `${config}\n` })).file;
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('installs each package once, in the lowest layer under every set that needs it, with a pacman database', async () => {
    const m = await rootfs(path.join(tmp, 'rootfs1'));
    assert.deepEqual(m.layers.map((l) => [l.set, l.on, l.packages.map((p) => `${p.name}${p.explicit ? '' : '*'}`).join(' ')]), [
      ['base', null, 'busybox liba* toolchain-runtime'],
      ['net', 'base', 'tool'],
      ['tools', 'base', 'app'],
    ]);
    assert.equal(m.layers[0].packages[1].file, `dist/${ARCH}/packages/liba/liba-1.0-1-${ARCH}.pkg.tar.zst`);
    const tarball = path.join(tmp, 'rootfs1', 'rootfs.tar.zst');
    const list = execFileSync('bsdtar', ['-tf', tarball], { encoding: 'utf8' }).trim().split('\n');
    for (const f of ['etc/pacman.conf', 'lib', 'usr/bin/app', 'usr/bin/tool', 'var/lib/pacman/local/ALPM_DB_VERSION', 'var/lib/pacman/local/liba-1.0-1/desc', 'var/lib/pacman/local/app-1.0-1/files']) assert.ok(list.includes(f), f);
    assert.ok(!list.some((f) => f.includes('unused')), 'only what the sets need');
    assert.ok(!list.some((f) => /pacman\.log|db\.lck|cache\/pacman/.test(f)), list.filter((f) => f.startsWith('var')).join(' '));
    const desc = execFileSync('bsdtar', ['-xOf', tarball, 'var/lib/pacman/local/liba-1.0-1/desc'], { encoding: 'utf8' });
    assert.match(desc, new RegExp(`^%INSTALLDATE%\\n${EPOCH}$`, 'm'));
    assert.match(desc, /^%REASON%\n1$/m, 'liba was installed as a dependency');
    assert.match(execFileSync('bsdtar', ['-xOf', tarball, 'etc/pacman.conf'], { encoding: 'utf8' }), /^\[aarch64\]\nServer = https:\/\/example\.org\/repo\/aarch64$/m);
    const verbose = execFileSync('bsdtar', ['-tvf', tarball, '--numeric-owner'], { encoding: 'utf8' }).trim().split('\n');
    assert.ok(verbose.every((l) => / 0 +0 /.test(l)), 'owned by 0:0');
  });

  it('writes the same rootfs bytes again', async () => {
    await rootfs(path.join(tmp, 'rootfs2'));
    assert.equal(sha256(path.join(tmp, 'rootfs2', 'rootfs.tar.zst')), sha256(path.join(tmp, 'rootfs1', 'rootfs.tar.zst')));
    assert.equal(readFileSync(path.join(tmp, 'rootfs2', 'rootfs.json'), 'utf8'), readFileSync(path.join(tmp, 'rootfs1', 'rootfs.json'), 'utf8'));
  });

  it('names the set and the package that was not built', async () => {
    const saved = sets.net.packages;
    sets.net.packages = ['nope'];
    try {
      await assert.rejects(rootfs(path.join(tmp, 'rootfs-bad')), { message: 'targets/aarch64.yaml: package_sets.net.packages: "nope": no package nope' });
    } finally {
      sets.net.packages = saved;
    }
  });

  it('splits the root into squashfs layers that stack back into it, and writes both initramfs', async () => {
    const m = await image(path.join(tmp, 'rootfs1'), path.join(tmp, 'image1'));
    const dir = path.join(tmp, 'image1');
    assert.deepEqual(readdirSync(dir).sort(), ['boot.sh', 'initramfs-layers.cpio.zst', 'initramfs.cpio.zst', 'kernel.config', 'layers', 'manifest.json', 'vmlinuz']);
    assert.deepEqual(m.layers.map((l) => [l.set, l.file, l.packages.join(',')]), [
      ['base', 'layers/base.squashfs', 'busybox 1.0-1,liba 1.0-1,toolchain-runtime 1.0-1'],
      ['net', 'layers/net.squashfs', 'tool 1.0-1'],
      ['tools', 'layers/tools.squashfs', 'app 1.0-1'],
    ]);
    assert.equal(m.squashfs.compression, 'xz', 'the kernel has no squashfs zstd');
    assert.equal(m.initramfs.compression, 'zstd');
    assert.deepEqual(m.initramfs.layers.packages, ['busybox', 'toolchain-runtime']);
    assert.deepEqual(m.packages, ['app 1.0-1', 'busybox 1.0-1', 'liba 1.0-1', 'tool 1.0-1', 'toolchain-runtime 1.0-1']);
    assert.equal(m.rootfs.file, '../rootfs1/rootfs.tar.zst');
    assert.equal(readFileSync(path.join(dir, 'vmlinuz'), 'utf8'), 'not really a kernel');

    const files = (layer: string) => execFileSync('unsquashfs', ['-lc', '-d', '', path.join(dir, 'layers', `${layer}.squashfs`)], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(files('tools'), ['/usr/bin/app', '/usr/share/doc/app/README', '/var/lib/pacman/local/app-1.0-1/desc', '/var/lib/pacman/local/app-1.0-1/files', '/var/lib/pacman/local/app-1.0-1/mtree']);
    assert.ok(files('base').includes('/etc/pacman.conf') && files('base').includes('/var/lib/pacman/local/ALPM_DB_VERSION') && files('base').includes('/lib'));
    assert.ok(!files('base').some((f) => /bin\/(app|tool)$|local\/(app|tool)-/.test(f)));

    // Stacked bottom to top, the layers are the root file system.
    const stacked = path.join(tmp, 'stacked');
    for (const l of m.layers) execFileSync('unsquashfs', ['-f', '-q', '-n', '-d', stacked, path.join(dir, l.file)]);
    const unpacked = path.join(tmp, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('bsdtar', ['-xpf', path.join(tmp, 'rootfs1', 'rootfs.tar.zst'), '-C', unpacked]);
    assert.deepEqual(listing(stacked), listing(unpacked));

    const cpio = (f: string) => execFileSync('cpio', ['-it', '--quiet'], { input: execFileSync('zstd', ['-dc', path.join(dir, f)]), encoding: 'utf8' }).trim().split('\n');
    const small = cpio('initramfs-layers.cpio.zst');
    assert.deepEqual(small.sort(), ['dev', 'dev/console', 'init', 'lib', 'newroot', 'nx-distro', 'nx-distro/stage2', 'proc', 'run', 'sys', 'tmp', 'usr', 'usr/bin', 'usr/bin/busybox', 'usr/lib', 'usr/lib/ld-fake.so.1'].sort());
    const full = cpio('initramfs.cpio.zst');
    assert.ok(full.includes('usr/bin/app') && full.includes('var/lib/pacman/local/app-1.0-1/desc') && full.includes('init'));

    const boot = readFileSync(path.join(dir, 'boot.sh'), 'utf8');
    assert.match(boot, /layers\) exec qemu-system-aarch64 -machine virt -cpu cortex-a57 -m 512 -smp 1 -nographic -no-reboot -nic none -kernel vmlinuz -initrd initramfs-layers\.cpio\.zst -append "console=ttyAMA0 panic=-1 loglevel=4 nxdistro\.layers=base,net,tools\$\{\*:\+ \$\*\}" -drive file=layers\/base\.squashfs,if=virtio,format=raw,readonly=on -drive file=layers\/net\.squashfs/);
    execFileSync('dash', ['-n', path.join(dir, 'boot.sh')]);
  });

  it('writes the same image bytes again', async () => {
    await image(path.join(tmp, 'rootfs1'), path.join(tmp, 'image2'));
    assert.deepEqual(listing(path.join(tmp, 'image2')), listing(path.join(tmp, 'image1')));
  });

  it('refuses a kernel that lacks overlayfs, naming the option and where to add it', async () => {
    const config = [...BOOT_OPTIONS, 'CONFIG_RD_GZIP', 'CONFIG_VIRTIO_BLK', 'CONFIG_SQUASHFS'].map((o) => `${o}=y`).join('\n');
    const saved = kernelPkg;
    rmSync(path.join(tmp, 'dist', ARCH, 'packages', 'linux'), { recursive: true });
    kernelPkg = (await pkg('linux', { 'boot/vmlinuz': 'k', 'boot/config': `${config}\n` })).file;
    try {
      await assert.rejects(image(path.join(tmp, 'rootfs1'), path.join(tmp, 'image-bad')), {
        message: `dist/${ARCH}/packages/linux/linux-1.0-1-${ARCH}.pkg.tar.zst: /boot/config: CONFIG_OVERLAY_FS is not set, which the layered image (squashfs layers as an overlay) needs; add CONFIG_OVERLAY_FS=y to targets/aarch64/linux.config and rebuild the kernel`,
      });
    } finally {
      kernelPkg = saved;
    }
  });
});
