/**
 * End to end, for aarch64: the real recipes built by `nx run-many -t build -c aarch64` in a fresh
 * workspace (own Nx cache, own empty distfiles store) with Debian's real cross compiler in
 * bubblewrap sandboxes; the packages are checked with bsdtar and installed with real pacman; the
 * binaries are checked for their ELF machine and run under QEMU user emulation.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

interface RecipeHead { name: string; version: string; release: number; style?: string; steps?: { install?: string } }
const TARGET = 'aarch64';
/** Recipes the external toolchain stands in for (targets/aarch64.yaml `provides`), and the source-only kernel recipe. */
const NO_PACKAGE = new Set(['binutils', 'gcc', 'linux']);
const recipes: RecipeHead[] = readdirSync(path.join(REPO_ROOT, 'recipes'))
  .map((d) => load(readFileSync(path.join(REPO_ROOT, 'recipes', d, 'recipe.yaml'), 'utf8')) as RecipeHead)
  .sort((a, b) => a.name.localeCompare(b.name));
const built = recipes.filter((r) => !NO_PACKAGE.has(r.name));

describe(`cross builds for ${TARGET}`, () => {
  let ws: TestWorkspace;
  let rootfs: string;
  const pkgFile = (r: RecipeHead) => path.join(ws.root, 'dist', TARGET, 'packages', r.name, `${r.name}-${r.version}-${r.release}-${TARGET}.pkg.tar.zst`);
  /** Runs a program of the extracted packages under QEMU, with the toolchain's C library. */
  const qemu = (program: string, args: string[], input?: string) =>
    execa('qemu-aarch64-static', [path.join(rootfs, program), ...args], {
      env: { QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu', LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib') },
      input,
      reject: false,
      all: true,
    });

  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    cpSync(path.join(REPO_ROOT, 'recipes'), path.join(ws.root, 'recipes'), { recursive: true });
  });
  after(() => ws.dispose());

  it('builds every real recipe into a pacman package, in dependency order, from an empty cache and store', async () => {
    const run = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '--parallel=2', '--output-style=static');
    assert.equal(run.exitCode, 0, run.all.slice(-6000));
    for (const r of built) assert.ok(existsSync(pkgFile(r)), `${r.name}: no package ${pkgFile(r)}\n${run.all.slice(-3000)}`);
    for (const name of NO_PACKAGE) assert.deepEqual(readdirSync(path.join(ws.root, 'dist', TARGET, 'packages', name)), [], `${name} writes nothing`);
    assert.match(run.all, /gcc: nothing to build for aarch64: its external toolchain \(aarch64-linux-gnu-gcc\) stands in for it/);
    // The sysroot of lua held exactly its declared makedepends (readline) and their runtime depends (ncurses).
    assert.match(readFileSync(path.join(ws.root, 'dist', TARGET, 'packages', 'lua', 'build.log'), 'utf8'), /^# sysroot: readline-8\.2-1-aarch64 ncurses-6\.4-1-aarch64$|^# sysroot: ncurses-6\.4-1-aarch64 readline-8\.2-1-aarch64$/m);
  });

  it('writes packages pacman reads: .PKGINFO first entries, root-owned, metadata and dependencies', async () => {
    const list = (await execa('bsdtar', ['-tvf', pkgFile(built.find((r) => r.name === 'dropbear')!)])).stdout.split('\n');
    assert.deepEqual(list.slice(0, 3).map((l) => l.split(/\s+/).pop()), ['.BUILDINFO', '.MTREE', '.PKGINFO']);
    for (const l of list) assert.match(l, /^\S+\s+\d+\s+root\s+root\s/, l);
    const info = (await execa('bsdtar', ['-xOf', pkgFile(built.find((r) => r.name === 'dropbear')!), '.PKGINFO'])).stdout;
    assert.match(info, /^pkgname = dropbear$/m);
    assert.match(info, /^arch = aarch64$/m);
    assert.match(info, /^depend = zlib$/m);
  });

  it('installs every package with real pacman into an empty root', async () => {
    rootfs = path.join(ws.root, 'rootfs');
    mkdirSync(path.join(rootfs, 'var/lib/pacman'), { recursive: true });
    const conf = path.join(ws.root, 'pacman.conf');
    writeFileSync(conf, `[options]\nArchitecture = ${TARGET}\nSigLevel = Never\nHookDir = ${path.join(ws.root, 'no-hooks')}\n`);
    // Every package depends on the toolchain's C runtime (system:toolchain-runtime), which run-many built too.
    const runtimeDir = path.join(ws.root, 'dist', TARGET, 'packages', 'toolchain-runtime');
    const runtime = readdirSync(runtimeDir).filter((f) => f.endsWith('.pkg.tar.zst')).map((f) => path.join(runtimeDir, f));
    assert.equal(runtime.length, 1, `one toolchain-runtime package in ${runtimeDir}`);
    const r = await execa('pacman', ['--root', rootfs, '--dbpath', path.join(rootfs, 'var/lib/pacman'), '--config', conf, '--arch', TARGET, '--noconfirm', '--noscriptlet', '-U', ...runtime, ...built.map(pkgFile)], { reject: false, all: true });
    assert.equal(r.exitCode, 0, r.all);
    const q = await execa('pacman', ['--root', rootfs, '--dbpath', path.join(rootfs, 'var/lib/pacman'), '--config', conf, '-Q'], { all: true });
    for (const p of built) assert.match(q.stdout, new RegExp(`^${p.name} ${p.version.replace(/\./g, '\\.')}-${p.release}$`, 'm'));
  });

  it('produces aarch64 binaries that run under QEMU: busybox sh, a lua script, xz -t, dropbear', async () => {
    for (const bin of ['usr/bin/lua', 'usr/bin/xz', 'usr/bin/busybox', 'usr/sbin/dropbear', 'usr/bin/zstd', 'usr/bin/lz4', 'usr/bin/make']) {
      const header = readFileSync(path.join(rootfs, bin)).subarray(0, 20);
      assert.equal(header.readUInt16LE(18), 183, `${bin}: e_machine is EM_AARCH64 (183)`);
    }
    const sh = await qemu('usr/bin/busybox', ['sh', '-c', 'x=nx-distro; for i in 1 2 3; do n=$((n + i)); done; echo $((6 * 7)) ${x%-*} $n']);
    assert.equal(sh.stdout, '42 nx 6', sh.all);
    const sum = await qemu('usr/bin/busybox', ['sha256sum'], 'abc');
    assert.match(sum.stdout, /^ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/, sum.all);
    const lua = await qemu('usr/bin/lua', ['-e', 'local t = {} for i = 1, 10 do t[#t + 1] = i * i end print(table.concat(t, ","), _VERSION)']);
    assert.equal(lua.stdout, '1,4,9,16,25,36,49,64,81,100\tLua 5.4', lua.all);
    const data = 'nx-distro '.repeat(10000);
    const compressed = await execa('qemu-aarch64-static', [path.join(rootfs, 'usr/bin/xz'), '-c'], { env: { QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu', LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib') }, input: data, encoding: 'buffer' });
    const xzFile = path.join(ws.root, 'data.xz');
    writeFileSync(xzFile, compressed.stdout);
    assert.equal((await qemu('usr/bin/xz', ['-t', xzFile])).exitCode, 0);
    assert.equal((await execa('xz', ['-dc', xzFile])).stdout, data, 'the host xz reads what the built xz wrote');
    const dropbear = await qemu('usr/bin/dbclient', ['-V']);
    assert.match(dropbear.all, /Dropbear v2022\.83/);
  });

  it('serves everything from the cache on a second run', async () => {
    const run = await ws.nx('run-many', '-t', 'build', '-c', TARGET);
    assert.equal(run.exitCode, 0, run.all.slice(-3000));
    assert.match(run.all, /Nx read the output from the cache instead of running the command for (\d+) out of \1 tasks/);
  });

  it('names the failing step, prints the log tail, and keeps the whole log beside the outputs', async () => {
    ws.write('recipes/broken/recipe.yaml', [
      'name: broken', 'version: "1.0"', 'release: 1', 'description: A recipe whose install step fails', 'license: [MIT]', 'homepage: https://example.org/',
      'steps:', '  build: |', '    echo "compiling for $CHOST with $CC"', '  install: |', '    echo "about to fail" >&2', '    exit 3', '',
    ].join('\n'));
    try {
      const run = await ws.nx('run', 'broken:build', '-c', TARGET);
      assert.notEqual(run.exitCode, 0);
      assert.match(run.all, /compiling for aarch64-linux-gnu with aarch64-linux-gnu-gcc/);
      assert.match(run.all, /about to fail\nbroken: step install failed \(exit 3\) after [\d.]+ s; full log: dist\/aarch64\/packages\/broken\/build\.log/);
      const log = readFileSync(path.join(ws.root, 'dist', TARGET, 'packages', 'broken', 'build.log'), 'utf8');
      assert.match(log, /==> build\ncompiling for aarch64-linux-gnu[\s\S]*==> install\nabout to fail/);
    } finally {
      ws.remove('recipes/broken');
    }
  });
});
