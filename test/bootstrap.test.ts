/**
 * The greenfield bootstrap end to end, for aarch64-musl (issue 6): in a fresh workspace (every
 * real recipe, the repo's target files, its own empty Nx cache; the distfiles of the test run)
 * `nx run system:toolchain -c aarch64-musl` builds binutils, gcc's stage1, musl, the kernel
 * headers and the final gcc from source with the build machine's compiler; then
 * `nx run-many -t build -c aarch64-musl` (the command of the issue's done-when) builds every
 * package of the system with that toolchain and its repository, and `nx run system:boot -c
 * aarch64-musl` writes the image and boots it in QEMU. Proofs: every package of the target's system
 * (`dist/aarch64-musl/packages/`; the toolchain's own build-machine packages are in
 * `dist/aarch64-musl/build-machine/`) passes the greenfield checks
 * (src/packages/greenfield.ts: musl's loader, no glibc, no Debian compiler in `.comment`, no
 * build-machine paths), and each build log shows the bootstrap toolchain on its PATH. Then
 * the toolchain is served from Nx's cache after `rm -rf dist/aarch64-musl`, and both times are
 * printed (the figures of docs/bootstrap.md).
 *
 * About an hour on 2 cores (gcc's two builds), so it runs only when asked:
 *   NX_DISTRO_BOOTSTRAP=1 node tools/run-tests.mjs --test-name-pattern=greenfield
 * Needs on the host (tools/setup-host): build-essential, libgmp-dev, libmpfr-dev, libmpc-dev,
 * texinfo, bubblewrap, qemu-user-static, qemu-system-arm, pacman, squashfs-tools; root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readElf } from '../packages/nx-distro/src/packages/elf';
import { pkgnameOfFile } from '../packages/nx-distro/src/model/package-layout';
import { elfComments, greenfieldProblems } from '../packages/nx-distro/src/packages/greenfield';
import { createWorkspace, EXTERNAL_SYSTEM_TARGETS, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'aarch64-musl';
const LOADER = '/lib/ld-musl-aarch64.so.1';
const skip = !process.env.NX_DISTRO_BOOTSTRAP
  ? 'the toolchain bootstrap takes about an hour here: in npm run test:full, or NX_DISTRO_BOOTSTRAP=1 (see the README)'
  : process.getuid?.() !== 0
    ? 'pacman installs need root'
    : false;
const seconds = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

describe(`greenfield bootstrap (${TARGET}): toolchain from source, the system on it, boot`, { skip }, () => {
  let ws: TestWorkspace;
  const times: string[] = [];
  const dist = (...p: string[]) => path.join(ws.root, 'dist', TARGET, ...p);

  before(() => {
    ws = createWorkspace(undefined, { systemTargets: [...EXTERNAL_SYSTEM_TARGETS, TARGET], commandTimeoutMs: 3 * 3_600_000 });
    rmSync(path.join(ws.root, 'recipes'), { recursive: true });
    cpSync(path.join(REPO_ROOT, 'recipes'), path.join(ws.root, 'recipes'), { recursive: true });
    if (process.env.NX_DISTRO_TEST_MIRRORS) ws.env.NX_DISTRO_MIRRORS = process.env.NX_DISTRO_TEST_MIRRORS;
  });
  after(() => {
    if (times.length) console.log(`\n${TARGET} bootstrap times (this machine, ${new Date().toISOString().slice(0, 10)}):\n${times.map((t) => `  ${t}`).join('\n')}`);
    ws.dispose();
  });

  it('builds the toolchain from source through its stages (nx run system:toolchain)', async () => {
    const t0 = Date.now();
    const r = await ws.nx('run', 'system:toolchain', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-8000));
    times.push(`toolchain from source (binutils, linux-headers, gcc stage1, musl, gcc): ${seconds(Date.now() - t0)}`);
    const order = [...r.all.matchAll(/> nx run ([\w-]+:build(?:--stage1)?):aarch64-musl/g)].map((m) => m[1]);
    for (const [before, later] of [['binutils:build', 'gcc:build--stage1'], ['gcc:build--stage1', 'musl:build'], ['musl:build', 'gcc:build']]) {
      assert.ok(order.indexOf(before) >= 0 && order.indexOf(before) < order.indexOf(later), `${before} before ${later}: ${order.join(', ')}`);
    }
    const manifest = ws.readJson(`dist/${TARGET}/toolchain/toolchain.json`);
    assert.deepEqual(manifest.packages.map((p: { recipe: string }) => p.recipe), ['binutils', 'gcc', 'linux-headers', 'musl']);
    // binutils and gcc run on the build machine: their packages are kept apart from the target's.
    assert.deepEqual(readdirSync(dist('build-machine')).sort(), ['binutils', 'gcc', 'gcc@stage1']);
    assert.deepEqual(readdirSync(dist('packages')).sort(), ['linux-headers', 'musl']);
  });

  it('builds the whole system with it (nx run-many -t build) and boots the image in QEMU (nx run system:boot)', async () => {
    const t0 = Date.now();
    const build = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '--output-style=static');
    assert.equal(build.exitCode, 0, build.all.slice(-8000));
    times.push(`every package of the system and its repository (run-many -t build): ${seconds(Date.now() - t0)}`);
    assert.match(build.all, new RegExp(`${TARGET}: repository dist/${TARGET}/repo/${TARGET}\\.db\\.tar\\.zst with \\d+ packages: `));
    const t1 = Date.now();
    const r = await ws.nx('run', 'system:boot', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-8000));
    times.push(`image and boots: ${seconds(Date.now() - t1)}`);
    assert.match(r.all, /boot initramfs: ok in [\d.]+ s: nx-distro-boot-ok aarch64-musl; uname -m aarch64; lua 42; xz ok /);
    assert.match(r.all, /boot layers: ok in [\d.]+ s: nx-distro-boot-ok aarch64-musl; uname -m aarch64; lua 42; xz ok /);
    const zlibLog = ws.read(`dist/${TARGET}/packages/zlib/build.log`);
    assert.match(zlibLog, /^# toolchain \(\/build\/toolchain\): binutils-2\.40-1-x86_64 gcc-12\.2\.0-1-x86_64$/m);
    assert.match(zlibLog, /^# sysroot: linux-headers-[^ ]+ musl-[^ ]+$/m);
    assert.match(zlibLog, /^# CC=aarch64-linux-musl-gcc$/m);
  });

  it("proves every package of the system greenfield: musl's loader, no glibc, no Debian compiler, no build machine paths", async () => {
    const unpacked = path.join(ws.root, 'unpacked');
    const checked: string[] = [];
    const problems: string[] = [];
    for (const name of readdirSync(dist('packages')).sort()) {
      // Every package the system installs: the recipe's own and its splits (-dev...), not its
      // -debug package (separate debug files hold no program; their dynamic sections are empty).
      for (const file of readdirSync(dist('packages', name)).filter((f) => f.endsWith('.pkg.tar.zst') && pkgnameOfFile(f) !== `${name}-debug`).sort()) {
        const pkgname = pkgnameOfFile(file);
        const dir = path.join(unpacked, pkgname);
        mkdirSync(dir, { recursive: true });
        execFileSync('bsdtar', ['-xf', dist('packages', name, file), '-C', dir]);
        checked.push(pkgname);
        for (const p of await greenfieldProblems(dir, { loader: LOADER })) problems.push(`${pkgname}: ${p.file}: ${p.problem}`);
      }
    }
    assert.ok(checked.includes('busybox') && checked.includes('musl') && checked.includes('zlib') && checked.includes('lua'), checked.join(' '));
    assert.deepEqual(problems, []);
    // What the check read: the bootstrap gcc's own identification, and musl's loader.
    assert.ok(elfComments(path.join(unpacked, 'zstd', 'usr/bin/zstd')).includes('GCC: (GNU) 12.2.0'), 'zstd was compiled by the bootstrap gcc');
    assert.equal(readElf(path.join(unpacked, 'busybox', 'usr/bin/busybox')).interpreter, LOADER);
  });

  it('serves the whole toolchain from the Nx cache after rm -rf dist/aarch64-musl', async () => {
    rmSync(dist(), { recursive: true, force: true });
    const t0 = Date.now();
    const r = await ws.nx('run', 'system:toolchain', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    const hit = /Nx read the output from the cache instead of running the command for (\d+) out of (\d+) tasks/.exec(r.all);
    assert.ok(hit && hit[1] === hit[2], r.all.slice(-2000));
    times.push(`toolchain from the Nx cache (${hit![2]} tasks): ${seconds(Date.now() - t0)}`);
  });
});
