/**
 * End to end: `system:source-bundle` for a small system target (lua and zlib, so ncurses and
 * readline come along) in a fresh workspace with its own Nx cache and empty distfiles store.
 * The bundle is reproducible, lists its builds in dependency order, and its generated build.sh
 * really builds the packages natively, in order, from the bundle alone (no network, the build
 * machine's root read-only in bubblewrap, as on a target machine the build host cannot reach);
 * the lua it builds runs against the readline it built. A tampered distfile stops the script.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'x86_64-small';
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('source bundle', () => {
  let ws: TestWorkspace;
  let tarball: string;
  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    for (const r of ['binutils', 'gcc', 'linux-headers', 'musl', 'ncurses', 'readline', 'lua', 'zlib']) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    const x86 = ws.read('targets/x86_64.yaml');
    ws.write(`targets/${TARGET}.yaml`, x86.replace(/^package_sets:[\s\S]*?(?=^image:)/m, 'package_sets:\n  base:\n    packages: [zlib]\n  tools:\n    on: base\n    packages: [lua]\n'));
    tarball = path.join(ws.root, 'dist', TARGET, 'source-bundle', `source-bundle-${TARGET}.tar.zst`);
  });
  after(() => ws.dispose());

  it('writes a reproducible bundle with the builds in dependency order', async () => {
    const run = await ws.nx('run', 'system:source-bundle', '-c', TARGET, '--output-style=static');
    assert.equal(run.exitCode, 0, run.all.slice(-4000));
    const first = sha256(tarball);
    const again = await ws.nx('run', 'system:source-bundle', '-c', TARGET, '--output-style=static', '--skip-nx-cache');
    assert.equal(again.exitCode, 0, again.all.slice(-4000));
    assert.equal(sha256(tarball), first, 'a second bundle is byte-identical');
    const list = (await execa('tar', ['-tvf', tarball])).stdout.split('\n');
    for (const l of list) assert.match(l, /^\S+ 0\/0 /, l);
    const order = (await execa('tar', ['-xOf', tarball, `source-bundle-${TARGET}/ORDER`])).stdout.split('\n');
    assert.deepEqual(order, ['ncurses', 'readline', 'lua', 'zlib']);
  });

  it('builds the packages natively, in order, from the bundle alone; a tampered distfile stops it', async () => {
    const dir = path.join(ws.root, 'unpacked');
    mkdirSync(dir);
    await execa('tar', ['-C', dir, '-xf', tarball]);
    const bundle = path.join(dir, `source-bundle-${TARGET}`);
    const rootfs = path.join(dir, 'root');
    mkdirSync(rootfs);
    const sandbox = (...cmd: string[]) => execa('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--bind', dir, dir, '--unshare-all', '--die-with-parent', '--', ...cmd], { reject: false, all: true, env: { PATH: '/usr/bin:/bin', HOME: '/tmp' }, extendEnv: false });
    const started = Date.now();
    const build = await sandbox(path.join(bundle, 'build.sh'), rootfs);
    assert.equal(build.exitCode, 0, build.all.slice(-4000));
    console.log(`# build.sh built ${TARGET}'s 4 packages natively in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    assert.match(build.all, /==> ncurses[\s\S]*==> readline[\s\S]*==> lua[\s\S]*==> zlib[\s\S]*==> built 4 package\(s\) for x86_64-small into/);
    const lua = await execa(path.join(rootfs, 'usr/bin/lua'), ['-e', 'print(6 * 7, _VERSION)'], { env: { LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib') }, reject: false, all: true });
    assert.equal(lua.stdout, '42\tLua 5.4', lua.all);
    const ldd = await execa('ldd', [path.join(rootfs, 'usr/bin/lua')], { env: { LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib') } });
    assert.match(ldd.stdout, new RegExp(`libreadline\\.so\\.8 => ${rootfs.replace(/[.]/g, '\\.')}/usr/lib/libreadline\\.so\\.8`), 'lua links the readline the script built');

    appendFileSync(path.join(bundle, 'distfiles', 'zlib_1.2.13.dfsg.orig.tar.bz2'), 'tampered');
    const bad = await sandbox(path.join(bundle, 'build.sh'), path.join(dir, 'root2'));
    assert.notEqual(bad.exitCode, 0);
    assert.match(bad.all, /zlib_1\.2\.13\.dfsg\.orig\.tar\.bz2: FAILED/);
    assert.doesNotMatch(bad.all, /==> ncurses/, 'nothing is built from unverified sources');
    writeFileSync(path.join(dir, 'done'), '');
  });
});
