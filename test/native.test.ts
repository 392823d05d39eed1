/**
 * End to end: `nx-distro:native`. Two real recipes, zlib and lua, marked `cross: false` in a
 * fresh workspace (own Nx cache, own empty distfiles store), are built natively for aarch64
 * (inside an arm64 Debian build root, every compiler run under QEMU user emulation through
 * binfmt_misc) and for x86_64 (an amd64 build root), while their dependencies ncurses and
 * readline are cross-compiled and installed into the build root. The build roots are Nx tasks
 * (`system:buildroot`, mmdebstrap from this machine's apt sources), restored from the cache on
 * the second run. The programs are checked for their ELF machine and run.
 *
 * Needs (tools/setup-host): mmdebstrap, qemu-user-static with binfmt handlers, bubblewrap, the
 * cross compilers, bsdtar; Debian's archive reachable through apt's sources.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { tiered } from './helpers/tier';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';
import { pkgnameOfFile } from '../packages/nx-distro/src/model/package-layout';

/** What each system target checks: ELF e_machine, how to run a program of the staged root. */
const TARGETS = [
  { name: 'aarch64', debianArch: 'arm64', machine: 183, triplet: 'aarch64-linux-gnu' },
  { name: 'x86_64', debianArch: 'amd64', machine: 62, triplet: 'x86_64-linux-gnu' },
] as const;
const RECIPES = ['binutils', 'gcc', 'linux-headers', 'musl', 'ncurses', 'readline', 'lua', 'zlib'];
const NATIVE = ['zlib', 'lua'];

describe('native builds in a Debian build root', () => {
  let ws: TestWorkspace;
  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    for (const r of RECIPES) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    for (const r of NATIVE) {
      const file = `recipes/${r}/recipe.yaml`;
      ws.write(file, ws.read(file).replace(/^release: (\d+)$/m, 'release: $1\ncross: false'));
    }
  });
  after(() => ws.dispose());

  it('gives cross: false recipes the native executor and the build root as a dependency', async () => {
    const r = await ws.nx('show', 'project', 'lua', '--json');
    assert.equal(r.exitCode, 0, r.all);
    const build = JSON.parse(r.stdout).targets.build;
    assert.equal(build.executor, 'nx-distro:native');
    assert.deepEqual(build.dependsOn.find((d: { target: string }) => d.target === 'buildroot'), { target: 'buildroot', projects: ['system'], params: 'ignore' });
    const readline = JSON.parse((await ws.nx('show', 'project', 'readline', '--json')).stdout).targets.build;
    assert.equal(readline.executor, 'nx-distro:cross');
    assert.ok(!readline.dependsOn.some((d: unknown) => typeof d === 'object' && (d as { target: string }).target === 'buildroot'));
  });

  // npm test builds natively for x86_64 (the build machine's arch: an amd64 build root, no emulation);
  // aarch64's build root under QEMU is in npm run test:full.
  for (const { case: t, skip } of tiered(TARGETS, (t) => t.name, ['x86_64'])) {
    it(`builds zlib and lua natively for ${t.name} and the programs run`, { skip }, async () => {
      const started = Date.now();
      const run = await ws.nx('run-many', '-t', 'build', '-c', t.name, '--projects=zlib,lua', '--output-style=static');
      assert.equal(run.exitCode, 0, run.all.slice(-6000));
      console.log(`# native zlib + lua for ${t.name} (build root and the cross-built ncurses and readline included, or from the run cache when an earlier test built them): ${((Date.now() - started) / 1000).toFixed(0)} s`);
      assert.match(run.all, new RegExp(`buildroot: wrote dist/${t.name}/buildroot/buildroot.tar.zst`));
      const packages = readFileSync(path.join(ws.root, 'dist', t.name, 'buildroot', 'packages.txt'), 'utf8');
      assert.match(packages, new RegExp(`^gcc-12 \\S+ ${t.debianArch}$`, 'm'), 'the build root holds its own native gcc');
      assert.match(packages, new RegExp(`^pkgconf \\S+ ${t.debianArch}$`, 'm'), 'and the target file\'s extra packages');

      for (const name of NATIVE) {
        const log = readFileSync(path.join(ws.root, 'dist', t.name, 'packages', name, 'build.log'), 'utf8');
        assert.match(log, new RegExp(`^# ${name} for ${t.name} \\(${t.triplet}\\), built natively in the ${t.debianArch} build root [0-9a-f]{64}`, 'm'));
        assert.match(log, new RegExp(`^# CBUILD=${t.triplet}$`, 'm'));
        assert.match(log, /^# CC=gcc$/m);
        assert.match(log, /^gcc .*-c /m, 'the unprefixed compiler of the build root compiled the sources');
        assert.doesNotMatch(log, /-linux-gnu-gcc /, 'no cross compiler ran');
      }
      const luaLog = readFileSync(path.join(ws.root, 'dist', t.name, 'packages', 'lua', 'build.log'), 'utf8');
      assert.match(luaLog, /^# installed in the build root: (ncurses-6\.4-1-\S+ readline-8\.2-1-\S+|readline-8\.2-1-\S+ ncurses-6\.4-1-\S+)$/m);

      // The programs: ELF machine, then lua run from the build's own staged root (the build root
      // with readline and ncurses installed) with a script using readline's library.
      const root = path.join(ws.root, 'tmp', 'build', t.name, 'lua', 'root');
      const out = path.join(ws.root, 'extracted', t.name);
      for (const name of NATIVE) {
        const dir = path.join(ws.root, 'dist', t.name, 'packages', name);
        const pkg = readdirSync(dir).find((f) => f.endsWith('.pkg.tar.zst') && pkgnameOfFile(f) === name);
        assert.ok(pkg, `${name}: a package in ${dir}`);
        await execa('mkdir', ['-p', out]);
        await execa('bsdtar', ['-xf', path.join(dir, pkg), '-C', out]);
      }
      for (const bin of ['usr/bin/lua', 'usr/lib/libz.so.1.2.13']) {
        assert.equal(readFileSync(path.join(out, bin)).readUInt16LE(18), t.machine, `${bin}: e_machine ${t.machine}`);
      }
      const script = 'local t = {} for i = 1, 10 do t[#t + 1] = i * i end print(#t, t[10], _VERSION)';
      const lua = await execa('bwrap', ['--ro-bind', root, '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--ro-bind', path.join(out, 'usr/bin/lua'), '/tmp/lua', '--unshare-all', '--die-with-parent', '--clearenv', '--setenv', 'PATH', '/usr/bin:/bin', '/tmp/lua', '-e', script], { reject: false, all: true });
      assert.equal(lua.exitCode, 0, lua.all);
      assert.equal(lua.stdout, '10\t100\tLua 5.4');
      const arch = await execa('bwrap', ['--ro-bind', root, '/', '--dev', '/dev', '--proc', '/proc', '--unshare-all', '--die-with-parent', '/usr/bin/uname', '-m'], { reject: false, all: true });
      assert.equal(arch.stdout, t.name, 'the build root runs programs of the target arch');
      assert.ok(existsSync(path.join(root, 'usr/lib/libreadline.so.8')), 'readline is installed in the build root');
    });
  }

  it('serves the build roots and the native builds from the cache on a second run', async () => {
    const run = await ws.nx('run-many', '-t', 'build', '-c', 'x86_64', '--projects=zlib,lua', '--output-style=static');
    assert.equal(run.exitCode, 0, run.all.slice(-3000));
    assert.match(run.all, /Nx read the output from the cache instead of running the command for (\d+) out of \1 tasks/);
  });

  it('refuses a native build for a target without a build root, naming the field', async () => {
    const run = await ws.nx('run', 'system:buildroot', '-c', 'riscv64', '--output-style=static');
    assert.notEqual(run.exitCode, 0);
    assert.match(run.all, /targets\/riscv64\.yaml: buildroot: missing: this target has no build root, so nothing can be built natively for it; add `buildroot: \{ debian_arch: <Debian arch> \}`/);
    assert.doesNotMatch(run.all, /\n\s+at /, 'no stack trace');
  });
});
