/**
 * End to end, the `cmake` and `meson` build styles on real recipes: expat (cmake, its sources in
 * `expat/`: `build_wrksrc`) and fribidi (meson, whose Unicode table generators are compiled for
 * the build machine and run there) cross-built for aarch64 with Debian's cross compiler in the
 * build sandbox, their packages unpacked, and their programs run under qemu-aarch64 with the
 * toolchain's C library (`QEMU_LD_PREFIX`) and the packages' own libraries; and a plain Makefile
 * (`make` style) whose default target runs the program it has just built, which works in a cross
 * build through binfmt_misc and the environment's `QEMU_LD_PREFIX`. One target, the two smallest
 * real recipes of the styles: this file is in `npm test`.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'aarch64';
const SYSROOT = '/usr/aarch64-linux-gnu';
const RECIPES = ['expat', 'fribidi'];
/** The test's own small recipes, written into the workspace. */
const EXTRA = ['runs-what-it-built', 'zlib-user-cmake', 'zlib-user-meson'];

/** A CMake and a Meson project finding zlib (a makedepends, staged in the sysroot): CMake's find_package, Meson's pkg-config. */
const ZLIB_USER = (style: 'cmake' | 'meson') => `name: zlib-user-${style}
version: "1"
release: 1
description: A ${style} project that links zlib from the sysroot
license: [MIT]
homepage: https://example.org/zlib-user
makedepends: [zlib]
style: ${style}
steps:
  prepare: |
    printf '#include <zlib.h>\\n#include <stdio.h>\\nint main(void) { puts(zlibVersion()); return 0; }\\n' > z.c
${style === 'cmake'
    ? "    printf 'cmake_minimum_required(VERSION 3.13)\\nproject(z C)\\nfind_package(ZLIB REQUIRED)\\nadd_executable(zlib-user-cmake z.c)\\ntarget_link_libraries(zlib-user-cmake ZLIB::ZLIB)\\ninstall(TARGETS zlib-user-cmake)\\n' > CMakeLists.txt"
    : "    printf \"project('z', 'c')\\nexecutable('zlib-user-meson', 'z.c', dependencies: dependency('zlib'), install: true)\\n\" > meson.build"}
`;

/** A plain Makefile whose default target runs the host machine's program it has just built. */
const RUNS_WHAT_IT_BUILT = `name: runs-what-it-built
version: "1"
release: 1
description: A Makefile whose default target runs the program it has just built
license: [MIT]
homepage: https://example.org/runs-what-it-built
style: make
make_args: [PREFIX=/usr]
steps:
  prepare: |
    printf '#include <stdio.h>\\nint main(void) { puts("built for the host machine, run during the build"); return 0; }\\n' > hello.c
    printf 'all: hello\\n\\t./hello > greeting.txt\\nhello: hello.c\\n\\t$(CC) $(CFLAGS) $(LDFLAGS) -o hello hello.c\\ninstall:\\n\\tinstall -D -m755 hello $(DESTDIR)$(PREFIX)/bin/hello\\n\\tinstall -D -m644 greeting.txt $(DESTDIR)$(PREFIX)/share/hello/greeting.txt\\n' > Makefile
`;

describe('cmake and meson styles on real recipes', () => {
  let ws: TestWorkspace;
  let rootfs: string;
  let built = false;
  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    for (const r of RECIPES) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    ws.write('recipes/runs-what-it-built/recipe.yaml', RUNS_WHAT_IT_BUILT);
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(ws.root, 'recipes', 'zlib'), { recursive: true });
    for (const style of ['cmake', 'meson'] as const) ws.write(`recipes/zlib-user-${style}/recipe.yaml`, ZLIB_USER(style));
    rootfs = path.join(ws.root, 'rootfs');
  });
  after(() => ws.dispose());

  /** Runs a program of the unpacked packages under QEMU with the toolchain's C library. */
  const run = (program: string, args: string[], input: string) =>
    execa('qemu-aarch64-static', [path.join(rootfs, program), ...args], { input, reject: false, all: true, env: { QEMU_LD_PREFIX: SYSROOT, LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib'), LC_ALL: 'C' } });

  it(`builds expat (cmake) and fribidi (meson) for ${TARGET} and unpacks their packages`, async () => {
    const started = Date.now();
    const r = await ws.nx('run-many', '-t', 'build', '-c', TARGET, `--projects=${[...RECIPES, ...EXTRA].join(',')}`, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    console.log(`# expat + fribidi for ${TARGET}: ${((Date.now() - started) / 1000).toFixed(0)} s (or from the run's cache)`);
    mkdirSync(rootfs);
    for (const name of [...RECIPES, ...EXTRA, 'zlib']) {
      const dir = path.join(ws.root, 'dist', TARGET, 'packages', name);
      // Every package of the build: expat's and fribidi's `-dev` split packages too (.pc files, headers).
      const pkgs = readdirSync(dir).filter((f) => f.endsWith('.pkg.tar.zst')).sort();
      assert.ok(pkgs.length, `${name}: a package in ${dir}`);
      for (const pkg of pkgs) await execa('bsdtar', ['-xf', path.join(dir, pkg), '-C', rootfs, '--exclude', '.*']);
    }
    built = true;
  });

  it('expat: the cmake style configured a cross build from its build_wrksrc and installed into lib, not a multiarch folder', (t) => {
    if (!built) return t.skip('the build failed');
    const log = readFileSync(path.join(ws.root, 'dist', TARGET, 'packages', 'expat', 'build.log'), 'utf8');
    assert.match(log, /Check for working C compiler: \/usr\/bin\/aarch64-linux-gnu-gcc/);
    assert.match(log, /Build files have been written to: \/build\/src\/expat\/_build/);
    const libs = readdirSync(path.join(rootfs, 'usr/lib'));
    assert.ok(libs.includes('libexpat.so.1'), libs.join(' '));
    assert.match(readFileSync(path.join(rootfs, 'usr/lib/pkgconfig/expat.pc'), 'utf8'), /^libdir=\$\{exec_prefix\}\/lib$/m);
  });

  it('expat: xmlwf, linked to the built libexpat, checks documents under qemu-aarch64', async (t) => {
    if (!built) return t.skip('the build failed');
    const version = await run('usr/bin/xmlwf', ['-v'], '');
    assert.equal(version.exitCode, 0, version.all);
    assert.match(version.stdout, /^xmlwf using expat_2\.5\.0$/m);
    const good = await run('usr/bin/xmlwf', [], '<a><b c="d"/></a>');
    assert.equal(good.exitCode, 0, good.all);
    assert.equal(good.stdout, '', 'a well-formed document: no output');
    const bad = await run('usr/bin/xmlwf', [], '<a><b></a>');
    assert.match(bad.stdout, /^STDIN:1:\d+: mismatched tag$/m, bad.all);
  });

  it("fribidi: meson compiled the table generators with the build machine's gcc and the library with the cross compiler", (t) => {
    if (!built) return t.skip('the build failed');
    const log = readFileSync(path.join(ws.root, 'dist', TARGET, 'packages', 'fribidi', 'build.log'), 'utf8');
    assert.match(log, /^Build type: cross build$/m);
    assert.match(log, /^C compiler for the host machine: aarch64-linux-gnu-gcc /m);
    assert.match(log, /^C compiler for the build machine: gcc /m);
    assert.match(log, /^Host machine cpu family: aarch64$/m);
    assert.match(log, /^Build machine cpu family: x86_64$/m);
  });

  it('fribidi: the fribidi program reorders right-to-left text under qemu-aarch64', async (t) => {
    if (!built) return t.skip('the build failed');
    // Hebrew alef, bet, gimel (logical order) come out visually reversed, with the Latin text kept.
    const r = await run('usr/bin/fribidi', ['--nopad', '--charset', 'UTF-8'], 'abc \u05d0\u05d1\u05d2\n');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(r.stdout, 'abc \u05d2\u05d1\u05d0');
  });

  it("make: a Makefile's default target ran the aarch64 program it had just built (binfmt_misc, QEMU_LD_PREFIX)", async (t) => {
    if (!built) return t.skip('the build failed');
    assert.equal(readFileSync(path.join(rootfs, 'usr/share/hello/greeting.txt'), 'utf8'), 'built for the host machine, run during the build\n');
    const r = await run('usr/bin/hello', [], '');
    assert.equal(r.stdout, 'built for the host machine, run during the build');
  });

  it('make: an install that writes outside $pkgdir (a Makefile without DESTDIR) fails in one line naming the fix', async () => {
    ws.write('recipes/no-destdir/recipe.yaml', RUNS_WHAT_IT_BUILT.replace('name: runs-what-it-built', 'name: no-destdir').replace(/\$\(DESTDIR\)/g, ''));
    const r = await ws.nx('run', 'no-destdir:build', '-c', TARGET, '--output-style=static');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all, /no-destdir: step install failed \(exit 2\) after [\d.]+ s; full log: dist\/aarch64\/packages\/no-destdir\/build\.log; work folder kept: tmp\/build\/aarch64\/no-destdir; a shell in its sandbox: npx nx-distro shell no-destdir -c aarch64; the install step wrote outside \$pkgdir \(the root is read-only\): if the Makefile has no DESTDIR/);
  });

  it("cmake and meson: a project finds zlib in the sysroot (CMake's find root, Meson's pkg-config with sys_root) and links it", async (t) => {
    if (!built) return t.skip('the build failed');
    const log = (name: string) => readFileSync(path.join(ws.root, 'dist', TARGET, 'packages', name, 'build.log'), 'utf8');
    assert.match(log('zlib-user-cmake'), /^-- Found ZLIB: \/build\/sysroot\/usr\/lib\/libz\.so /m);
    assert.match(log('zlib-user-meson'), /^Run-time dependency zlib found: YES /m);
    const zlibVersion = readFileSync(path.join(REPO_ROOT, 'recipes/zlib/recipe.yaml'), 'utf8').match(/^version: "?([^"\n]+)"?$/m)![1];
    for (const style of ['cmake', 'meson']) {
      const r = await run(`usr/bin/zlib-user-${style}`, [], '');
      assert.equal(r.stdout, zlibVersion, r.all);
    }
  });
});
