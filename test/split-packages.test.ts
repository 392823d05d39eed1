/**
 * Split packages end to end (issue 20 part 2), for aarch64: the real zlib recipe with
 * `split: [dev]` writes `zlib` and `zlib-dev` from one build; zprobe (a program linking zlib,
 * test/fixtures/mutations) builds against the headers and the `libz.so` link that only
 * `zlib-dev` carries, so its sysroot must get both; the repository lists both, and pacman's
 * `-S zlib-dev` pulls `zlib`; a rootfs whose base set names zprobe installs zlib without its
 * headers, and a layer naming `zlib-dev` adds them. Real builds with Debian's cross compiler in
 * bubblewrap, real pacman; the test run's Nx cache and distfiles store.
 * Needs the host of tools/setup-host; root for pacman.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';
import { pkgnameOfFile } from '../packages/nx-distro/src/model/package-layout';

/**
 * A library wrapping zlib, split into zwrap and zwrap-dev, whose zwrap.pc requires zlib (so
 * zwrap-dev needs zlib-dev: Alpine's `pc:` dependencies) and whose zwrap-extra.pc requires
 * zwrap (its own package) and a module nothing provides (a warning).
 */
const ZWRAP = `name: zwrap
version: '1.0'
release: 1
description: A library wrapping zlib, whose pkg-config file requires zlib
license: [MIT]
homepage: https://example.org/zwrap
sources: []
depends: [zlib]
makedepends: [zlib]
split: [dev]
steps:
  build: |
    printf '#include <zlib.h>\\nconst char *zwrap_version(void) { return zlibVersion(); }\\n' > zwrap.c
    $CC $CFLAGS $CPPFLAGS -fPIC -c zwrap.c -o zwrap.o
    $CC $LDFLAGS -shared -Wl,-soname,libzwrap.so.1 -o libzwrap.so.1 zwrap.o -lz
  install: |
    install -Dm755 libzwrap.so.1 "$pkgdir/usr/lib/libzwrap.so.1"
    ln -s libzwrap.so.1 "$pkgdir/usr/lib/libzwrap.so"
    printf 'const char *zwrap_version(void);\\n' | install -Dm644 /dev/stdin "$pkgdir/usr/include/zwrap.h"
    printf 'Name: zwrap\\nDescription: zlib wrapped\\nVersion: 1.0\\nLibs: -lzwrap\\nRequires.private: zlib >= 1.2\\n' | install -Dm644 /dev/stdin "$pkgdir/usr/lib/pkgconfig/zwrap.pc"
    printf 'Name: zwrap-extra\\nDescription: more\\nVersion: 1.0\\nRequires: zwrap, nowhere-module\\n' | install -Dm644 /dev/stdin "$pkgdir/usr/lib/pkgconfig/zwrap-extra.pc"
`;

/** A system target of its own (aarch64's file with other package sets), so its rootfs is small. */
const TARGET = 'aarch64-split';
const needRoot = process.getuid?.() === 0 ? false : 'pacman installs need root';

describe('split packages: zlib and zlib-dev from one build', { skip: needRoot }, () => {
  let ws: TestWorkspace;
  const dist = (...p: string[]) => path.join(ws.root, 'dist', TARGET, ...p);
  const files = (pkg: string) => execa('bsdtar', ['-tf', pkg]).then((r) => r.stdout.split('\n').filter((l) => !l.startsWith('.')).sort());
  const pkginfo = (pkg: string) => execa('bsdtar', ['-xOf', pkg, '.PKGINFO']).then((r) => r.stdout);
  const zlibDir = () => dist('packages', 'zlib');

  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(ws.root, 'recipes', 'zlib'), { recursive: true });
    cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'mutations', 'zprobe'), path.join(ws.root, 'recipes', 'zprobe'), { recursive: true });
    ws.write('recipes/zlib/recipe.yaml', ws.read('recipes/zlib/recipe.yaml').replace(/^style: /m, 'split: [dev]\nstyle: '));
    ws.write('recipes/zwrap/recipe.yaml', ZWRAP);
    const aarch64 = ws.read('targets/aarch64.yaml');
    ws.write(`targets/${TARGET}.yaml`, aarch64.replace(/^package_sets:[\s\S]*?(?=^image:)/m, 'package_sets:\n  base:\n    packages: [zprobe]\n  dev:\n    on: base\n    packages: [zlib-dev]\n'));
  });
  after(() => ws.dispose());

  it('writes zlib (the library) and zlib-dev (headers, .so link, static library, pkg-config, man3) from one build', async () => {
    assert.match(ws.read('recipes/zlib/recipe.yaml'), /^split: \[dev\]$/m);
    const r = await ws.nx('run', 'zlib:build', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    // And zlib-debug, the debug information of both (docs/debug-packages.md).
    assert.deepEqual(readdirSync(zlibDir()).filter((f) => f.endsWith('.pkg.tar.zst')).sort(), ['zlib-1.2.13-1-aarch64.pkg.tar.zst', 'zlib-debug-1.2.13-1-aarch64.pkg.tar.zst', 'zlib-dev-1.2.13-1-aarch64.pkg.tar.zst']);
    assert.match(r.all, /zlib: wrote dist\/aarch64-split\/packages\/zlib\/zlib-dev-1\.2\.13-1-aarch64\.pkg\.tar\.zst \(split\[0\]: \d+ file\(s\)/);
    const main = await files(path.join(zlibDir(), 'zlib-1.2.13-1-aarch64.pkg.tar.zst'));
    const dev = await files(path.join(zlibDir(), 'zlib-dev-1.2.13-1-aarch64.pkg.tar.zst'));
    assert.deepEqual(main.filter((f) => !f.endsWith('/')), ['usr/lib/libz.so.1', 'usr/lib/libz.so.1.2.13']);
    for (const f of ['usr/include/zlib.h', 'usr/include/zconf.h', 'usr/lib/libz.so', 'usr/lib/libz.a', 'usr/lib/pkgconfig/zlib.pc', 'usr/share/man/man3/zlib.3']) assert.ok(dev.includes(f), `zlib-dev has ${f}: ${dev.join(' ')}`);
    assert.deepEqual(main.filter((f) => dev.includes(f) && !f.endsWith('/')), [], 'no file is in both');
    const info = await pkginfo(path.join(zlibDir(), 'zlib-dev-1.2.13-1-aarch64.pkg.tar.zst'));
    assert.match(info, /^pkgname = zlib-dev$/m);
    assert.match(info, /^pkgbase = zlib$/m);
    assert.match(info, /^pkgdesc = .* \(development files\)$/m);
    assert.deepEqual(info.split('\n').filter((l) => l.startsWith('depend = ')), ['depend = zlib=1.2.13-1'], 'the headers need the library of the same build; no ELF file, so no C runtime');
    // One ABI manifest for the recipe, over both packages (dependents' keys read it).
    const abi = JSON.parse(readFileSync(path.join(zlibDir(), 'abi.json'), 'utf8')) as { files: Record<string, string> };
    assert.ok(abi.files['usr/include/zlib.h'] && abi.files['usr/lib/libz.so.1.2.13'], Object.keys(abi.files).join(' '));
  });

  it("stages both into a dependent's sysroot: zprobe compiles against zlib.h and links -lz", async () => {
    const r = await ws.nx('run', 'zprobe:build', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    const log = readFileSync(dist('packages', 'zprobe', 'build.log'), 'utf8');
    const sysroot = /^# sysroot: (.*)$/m.exec(log)?.[1]?.split(' ').filter((p) => !p.startsWith('toolchain-runtime-')).sort();
    assert.deepEqual(sysroot, ['zlib-1.2.13-1-aarch64', 'zlib-dev-1.2.13-1-aarch64'], log.slice(0, 2000));
    const info = await pkginfo(path.join(dist('packages', 'zprobe'), readdirSync(dist('packages', 'zprobe')).find((f) => f.endsWith('.pkg.tar.zst') && pkgnameOfFile(f) === 'zprobe')!));
    assert.match(info, /^depend = zlib$/m, 'a program needs the library, not its headers');
  });

  it("gives a -dev package the packages its pkg-config files require: zwrap-dev depends on zlib-dev, and warns of a module nothing provides", async () => {
    const r = await ws.nx('run', 'zwrap:build', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    const dev = await pkginfo(path.join(dist('packages', 'zwrap'), 'zwrap-dev-1.0-1-aarch64.pkg.tar.zst'));
    assert.deepEqual(dev.split('\n').filter((l) => l.startsWith('depend = ')), ['depend = zwrap=1.0-1', 'depend = zlib-dev']);
    assert.match(r.all, /^zwrap: zwrap-dev: usr\/lib\/pkgconfig\/zwrap-extra\.pc: nowhere-module: a pkg-config requirement no package of this build or its makedepends provides/m);
    const main = await pkginfo(path.join(dist('packages', 'zwrap'), 'zwrap-1.0-1-aarch64.pkg.tar.zst'));
    assert.deepEqual(main.split('\n').filter((l) => l.startsWith('depend = ')), ['depend = toolchain-runtime', 'depend = zlib'], 'the library needs no headers');
  });

  it('puts both in the repository; pacman -S zlib-dev pulls zlib, and zprobe installed with pacman runs under QEMU', async () => {
    const r = await ws.nx('run', 'system:build', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    const entries = (await execa('bsdtar', ['-tf', dist('repo', `${TARGET}.db.tar.zst`)])).stdout.split('\n').filter((l) => l.endsWith('/desc')).sort();
    assert.ok(entries.includes('zlib-1.2.13-1/desc') && entries.includes('zlib-dev-1.2.13-1/desc'), entries.join(' '));
    const root = path.join(ws.root, 'roots', 'dev');
    mkdirSync(path.join(root, 'var/lib/pacman'), { recursive: true });
    const conf = path.join(ws.root, 'roots', 'pacman.conf');
    writeFileSync(conf, `[options]\nArchitecture = aarch64\nSigLevel = Never\nHookDir = ${path.join(ws.root, 'no-hooks')}\n[${TARGET}]\nServer = file://${dist('repo')}\n`);
    const pacman = (...args: string[]) => execa('pacman', ['--root', root, '--dbpath', path.join(root, 'var/lib/pacman'), '--cachedir', path.join(ws.root, 'roots', 'cache'), '--config', conf, '--arch', 'aarch64', '--noconfirm', ...args], { reject: false, all: true });
    for (const args of [['-Sy'], ['--noscriptlet', '-S', 'zlib-dev'], ['--noscriptlet', '-S', 'zprobe']]) {
      const p = await pacman(...args);
      assert.equal(p.exitCode, 0, `pacman ${args.join(' ')}: ${p.all}`);
    }
    assert.deepEqual((await pacman('-Qq')).stdout.split('\n').sort(), ['toolchain-runtime', 'zlib', 'zlib-dev', 'zprobe']);
    assert.match((await pacman('-Qi', 'zlib')).stdout, /^Install Reason\s+: Installed as a dependency for another package$/m);
    // From the root alone: no QEMU_LD_PREFIX, no library path of the build machine.
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.QEMU_LD_PREFIX;
    delete env.LD_LIBRARY_PATH;
    const run = await execa('qemu-aarch64-static', ['-L', root, path.join(root, 'usr/bin/zprobe')], { env, extendEnv: false, reject: false, all: true });
    assert.equal(run.stdout, '1.2.13', run.all);
    // pacman follows the pkg-config dependency: zwrap-dev brings zlib-dev's headers along.
    const zroot = path.join(ws.root, 'roots', 'zwrap');
    mkdirSync(path.join(zroot, 'var/lib/pacman'), { recursive: true });
    const zpacman = (...args: string[]) => execa('pacman', ['--root', zroot, '--dbpath', path.join(zroot, 'var/lib/pacman'), '--cachedir', path.join(ws.root, 'roots', 'cache'), '--config', conf, '--arch', 'aarch64', '--noconfirm', ...args], { reject: false, all: true });
    for (const args of [['-Sy'], ['--noscriptlet', '-S', 'zwrap-dev']]) assert.equal((await zpacman(...args)).exitCode, 0, args.join(' '));
    assert.deepEqual((await zpacman('-Qq')).stdout.split('\n').sort(), ['toolchain-runtime', 'zlib', 'zlib-dev', 'zwrap', 'zwrap-dev']);
  });

  it('installs no headers in an image layer unless its package set names zlib-dev', async () => {
    const r = await ws.nx('run', 'system:rootfs', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    const manifest = JSON.parse(readFileSync(dist('rootfs', 'rootfs.json'), 'utf8')) as { layers: { set: string; packages: { name: string }[] }[] };
    const layer = (set: string) => manifest.layers.find((l) => l.set === set)!.packages.map((p) => p.name).sort();
    assert.deepEqual(layer('base'), ['toolchain-runtime', 'zlib', 'zprobe']);
    assert.deepEqual(layer('dev'), ['zlib-dev']);
    const list = (await execa('bsdtar', ['-tf', dist('rootfs', 'rootfs.tar.zst')], { maxBuffer: 64 * 2 ** 20 })).stdout.split('\n');
    assert.ok(list.some((l) => /(^|\/)usr\/include\/zlib\.h$/.test(l)), 'the dev layer has the header');
  });

  it('names the recipe to build when a set names a split package that was not built', async () => {
    rmSync(path.join(zlibDir(), 'zlib-dev-1.2.13-1-aarch64.pkg.tar.zst'));
    const r = await ws.nx('run', 'system:rootfs', '-c', TARGET, '--exclude-task-dependencies', '--skip-nx-cache', '--output-style=static');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all, /^targets\/aarch64-split\.yaml: package_sets\.dev\.packages: "zlib-dev": no package built for aarch64-split \(dist\/aarch64-split\/packages\/zlib\/\); run nx run zlib:build -c aarch64-split$/m, r.all.slice(-3000));
  });
});
