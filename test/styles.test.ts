/**
 * End to end, the `cmake` and `meson` build styles on real recipes: expat (cmake, its sources in
 * `expat/`: `build_wrksrc`) and fribidi (meson, whose Unicode table generators are compiled for
 * the build machine and run there) cross-built for aarch64 with Debian's cross compiler in the
 * build sandbox, their packages unpacked, and their programs run under qemu-aarch64 with the
 * toolchain's C library (`QEMU_LD_PREFIX`) and the packages' own libraries. One target, the two
 * smallest real recipes of the styles: this file is in `npm test`.
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

describe('cmake and meson styles on real recipes', () => {
  let ws: TestWorkspace;
  let rootfs: string;
  let built = false;
  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true, systemTargets: [TARGET] });
    for (const r of RECIPES) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    rootfs = path.join(ws.root, 'rootfs');
  });
  after(() => ws.dispose());

  /** Runs a program of the unpacked packages under QEMU with the toolchain's C library. */
  const run = (program: string, args: string[], input: string) =>
    execa('qemu-aarch64-static', [path.join(rootfs, program), ...args], { input, reject: false, all: true, env: { QEMU_LD_PREFIX: SYSROOT, LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib'), LC_ALL: 'C' } });

  it(`builds expat (cmake) and fribidi (meson) for ${TARGET} and unpacks their packages`, async () => {
    const started = Date.now();
    const r = await ws.nx('run-many', '-t', 'build', '-c', TARGET, `--projects=${RECIPES.join(',')}`, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    console.log(`# expat + fribidi for ${TARGET}: ${((Date.now() - started) / 1000).toFixed(0)} s (or from the run's cache)`);
    mkdirSync(rootfs);
    for (const name of RECIPES) {
      const dir = path.join(ws.root, 'dist', TARGET, 'packages', name);
      const pkg = readdirSync(dir).find((f) => f.endsWith('.pkg.tar.zst'));
      assert.ok(pkg, `${name}: a package in ${dir}`);
      await execa('bsdtar', ['-xf', path.join(dir, pkg), '-C', rootfs, '--exclude', '.*']);
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
});
