/**
 * Debug packages and debuginfod (issue 22 part 2), end to end on a real recipe: GNU make built for
 * aarch64 ships a stripped `make` whose debug information and sources are in `make-debug`
 * (packages/debug-info.ts); `nx run system:debuginfod -c aarch64` serves the repository with the
 * real debuginfod from elfutils, reading the `.pkg.tar.zst` files; `debuginfod-find` fetches the
 * debug file and a source file by build-id, and gdb (gdb-multiarch) attached to the program under
 * QEMU user emulation downloads them and prints a backtrace with function names, files and lines,
 * which the stripped program alone cannot give. A recipe with `debug: false` ships its files
 * unstripped and writes no `-debug` package.
 * Needs debuginfod, gdb-multiarch and debugedit (tools/setup-host).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { readElf, sectionNames } from '../packages/nx-distro/src/packages/elf';
import { pkgnameOfFile } from '../packages/nx-distro/src/model/package-layout';
import { have } from '../packages/nx-distro/src/testing/host';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'aarch64';
const missing = ['debuginfod', 'debuginfod-find', 'gdb-multiarch', 'debugedit', 'qemu-aarch64-static'].filter((p) => !have(p));
const skip = missing.length ? `not installed: ${missing.join(', ')} (tools/setup-host)` : false;

/** A TCP port nothing listens on now. */
async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('debug packages served by debuginfod', { skip }, () => {
  let ws: TestWorkspace;
  let tmp: string;
  const dist = (...p: string[]) => path.join(ws.root, 'dist', TARGET, ...p);
  /** The package file of `pkgname` in the output folder of the recipe `name`. */
  const pkg = (name: string, pkgname: string) => dist('packages', name, readdirSync(dist('packages', name)).find((f) => f.endsWith('.pkg.tar.zst') && pkgnameOfFile(f) === pkgname)!);

  before(async () => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-debuginfod-'));
    cpSync(path.join(REPO_ROOT, 'recipes', 'make'), path.join(ws.root, 'recipes', 'make'), { recursive: true });
    // The same recipe, its debug packages turned off.
    const nodebug = readFileSync(path.join(REPO_ROOT, 'recipes', 'make', 'recipe.yaml'), 'utf8').replace(/^name: make$/m, 'name: make-nodebug').replace(/^style: gnu-configure$/m, 'style: gnu-configure\ndebug: false');
    ws.write('recipes/make-nodebug/recipe.yaml', nodebug);
    const r = await ws.nx('run', 'system:build', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
  });
  after(() => {
    ws?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('ships make stripped, with its debug file at its build-id and its sources in make-debug', () => {
    const root = path.join(tmp, 'make');
    const debugRoot = path.join(tmp, 'make-debug');
    mkdirSync(root);
    mkdirSync(debugRoot);
    execFileSync('bsdtar', ['-xf', pkg('make', 'make'), '-C', root]);
    execFileSync('bsdtar', ['-xf', pkg('make', 'make-debug'), '-C', debugRoot]);
    const program = path.join(root, 'usr/bin/make');
    const shipped = sectionNames(readFileSync(program), program);
    assert.ok(!shipped.includes('.symtab') && !shipped.some((s) => s.startsWith('.debug_')), shipped.join(' '));
    const id = readElf(program).buildId!;
    assert.match(id, /^[0-9a-f]{40}$/);
    const debugFile = path.join(debugRoot, 'usr/lib/debug/.build-id', id.slice(0, 2), `${id.slice(2)}.debug`);
    const kept = sectionNames(readFileSync(debugFile), debugFile);
    assert.ok(kept.includes('.debug_info') && kept.includes('.symtab'), kept.join(' '));
    assert.equal(readFileSync(path.join(debugRoot, 'usr/src/debug/make/src/main.c'), 'utf8').includes('print_version'), true);
    assert.match(readFileSync(path.join(root, '.BUILDINFO'), 'utf8'), /^options = strip\noptions = debug$/m);
    assert.match(ws.read(`dist/${TARGET}/packages/make/build.log`), /^# CFLAGS=.* -g -ffile-prefix-map=\/build\/src=\/usr\/src\/debug\/make /m);
    // The repository holds it too: what debuginfod reads.
    assert.ok(readdirSync(dist('repo')).some((f) => f.startsWith('make-debug-4.3-1-')), readdirSync(dist('repo')).join(' '));
  });

  it('keeps the files of a debug: false recipe as built, and writes no -debug package', () => {
    assert.deepEqual(readdirSync(dist('packages', 'make-nodebug')).filter((f) => f.endsWith('.pkg.tar.zst')), [`make-nodebug-4.3-1-${TARGET}.pkg.tar.zst`]);
    const root = path.join(tmp, 'make-nodebug');
    mkdirSync(root);
    execFileSync('bsdtar', ['-xf', pkg('make-nodebug', 'make-nodebug'), '-C', root]);
    const program = path.join(root, 'usr/bin/make');
    assert.ok(sectionNames(readFileSync(program), program).includes('.symtab'), 'unstripped');
    assert.ok(!sectionNames(readFileSync(program), program).includes('.debug_info'), 'and compiled without -g');
  });

  it('serves them with debuginfod: debuginfod-find and gdb under QEMU get the debug file and the sources by build-id', async () => {
    const port = await freePort();
    const server = ws.spawn('nx', 'run', 'system:debuginfod', '-c', TARGET, `--port=${port}`, '--output-style=stream');
    let output = '';
    server.all?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    try {
      for (let i = 0; i < 240 && !/debuginfod serves \d+ package\(s\)/.test(output); i++) await sleep(500);
      assert.match(output, /aarch64: debuginfod serves \d+ package\(s\) of dist\/aarch64\/repo on port \d+ \(every interface\); use DEBUGINFOD_URLS=http:\/\/127\.0\.0\.1:\d+/, output.slice(-3000));
      const env = { DEBUGINFOD_URLS: `http://127.0.0.1:${port}`, DEBUGINFOD_CACHE_PATH: path.join(tmp, 'client-cache') };
      const program = path.join(tmp, 'make', 'usr/bin/make');
      const id = readElf(program).buildId!;
      const found = (await execa('debuginfod-find', ['debuginfo', id], { env })).stdout.trim();
      assert.ok(readFileSync(found).equals(readFileSync(path.join(tmp, 'make-debug', 'usr/lib/debug/.build-id', id.slice(0, 2), `${id.slice(2)}.debug`))), 'the debug file of the package');
      const source = (await execa('debuginfod-find', ['source', id, '/usr/src/debug/make/src/main.c'], { env })).stdout.trim();
      assert.equal(readFileSync(source, 'utf8'), readFileSync(path.join(tmp, 'make-debug', 'usr/src/debug/make/src/main.c'), 'utf8'));

      // gdb on the stripped program under QEMU's gdb stub: a breakpoint by function name and a
      // backtrace with files and lines, from what it downloads.
      const gdb = async (withServer: boolean) => {
        const gdbPort = await freePort();
        const inferior = execa('qemu-aarch64-static', ['-L', '/usr/aarch64-linux-gnu', '-g', String(gdbPort), program, '--version'], { reject: false });
        await sleep(500);
        const r = await execa('gdb-multiarch', [
          '-batch', '-nx',
          '-ex', `set debuginfod enabled ${withServer ? 'on' : 'off'}`,
          '-ex', 'set sysroot /usr/aarch64-linux-gnu',
          '-ex', `file ${program}`,
          '-ex', `target remote 127.0.0.1:${gdbPort}`,
          '-ex', 'break print_version',
          '-ex', 'continue',
          '-ex', 'bt',
          '-ex', 'kill',
        ], { env: withServer ? { ...env, DEBUGINFOD_CACHE_PATH: path.join(tmp, `gdb-cache`) } : { DEBUGINFOD_URLS: '' }, reject: false, all: true, timeout: 300_000 });
        inferior.kill('SIGKILL');
        await inferior;
        return r.all ?? '';
      };
      const symbolised = await gdb(true);
      assert.match(symbolised, /^#0 +print_version \(\) at src\/main\.c:\d+$/m, symbolised);
      assert.match(symbolised, /^#1 +0x[0-9a-f]+ in main \(.*\) at src\/main\.c:\d+$/m, symbolised);
      assert.match(symbolised, /^\d+\t.*\S/m, 'gdb shows the source line it stopped at');
      const bare = await gdb(false);
      assert.match(bare, /Function "print_version" not defined|No symbol table is loaded/, `without debuginfod, the stripped program has no symbols: ${bare}`);
    } finally {
      if (server.pid) {
        try {
          process.kill(-server.pid, 'SIGINT');
        } catch {
          // already gone
        }
      }
      await Promise.race([server, sleep(20_000)]);
      if (server.pid) {
        try {
          process.kill(-server.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
});
