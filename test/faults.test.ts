/**
 * Faults during real builds (x86_64): a `run-many` of zlib, zprobe (links it) and hello is killed
 * with SIGKILL, its whole process group at once (what a crash, an OOM kill of the session or a
 * power cut does), at a random moment, many times. After each kill: nothing of the run is left
 * running (sandboxes included), every file of the distfiles store still has the bytes its name
 * says, and every package under a final name is a complete archive. Then a rerun completes, and
 * its packages are byte-identical to a clean build's in another workspace; a third run, with
 * `dist/` removed, takes everything from the cache and restores the same bytes.
 *
 * The count is `NX_DISTRO_FAULT_ITERATIONS` (default 6, what CI runs; the documented long run is
 * 50) and the kill moments come from `NX_DISTRO_FAULT_SEED` (printed, so a failure can be
 * replayed) as a share (5% to 95%) of the time a clean build of the same recipes takes in another
 * workspace first (the reference). A run that completes before its kill is started over from an
 * empty Nx cache and `dist/`, so kills keep falling into real work, and does not count: the loop
 * goes on until that many runs were killed (and fails after three times as many runs).
 *
 * Also a network failure during fetch: a server that closes the connection halfway through the
 * body, then no server at all, each give one clear error and leave nothing in the store. And a
 * full disk (small tmpfs mounts, so this part needs root; skipped otherwise): the build's work
 * folder full while unpacking, the output folder full while writing the package; each gives one
 * clear line, leaves no package under its final name and no cache entry, and the same command
 * succeeds once there is room.
 *
 * Needs the host of tools/setup-host.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { pkgnameOfFile } from '../packages/nx-distro/src/model/package-layout';
import { createWorkspace, digests, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'x86_64';
const PROJECTS = ['zlib', 'zprobe', 'hello'];
const ITERATIONS = Number(process.env.NX_DISTRO_FAULT_ITERATIONS ?? 6);
const SEED = Number(process.env.NX_DISTRO_FAULT_SEED ?? Date.now() % 1_000_000_007);

/** mulberry32: a small seeded PRNG, so a failing sequence of kill moments can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every process descending from `pid` (itself included), from /proc/<pid>/stat's parent field. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** `<pid>: <command line>`, for messages. */
const commandLine = (pid: number) => {
  try {
    return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')}`;
  } catch {
    return `${pid}: (gone)`;
  }
};

/** Whether a process is one of Nx's isolated plugin workers (nx/src/project-graph/plugins/isolation/plugin-worker.js). */
const isPluginWorker = (pid: number) => commandLine(pid).includes('plugins/isolation/plugin-worker.js');

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Every file under `by-sha256/<sum>/` of a distfiles store has that sum; returns how many. */
function checkStore(store: string): number {
  const base = path.join(store, 'by-sha256');
  if (!existsSync(base)) return 0;
  let n = 0;
  for (const sum of readdirSync(base)) {
    for (const name of readdirSync(path.join(base, sum))) {
      assert.equal(sha256(path.join(base, sum, name)), sum, `store file ${sum}/${name} holds other bytes`);
      n++;
    }
  }
  return n;
}

/** Every `*.pkg.tar.zst` under `dist/<target>/packages` is a complete zstd tar with its .PKGINFO; returns how many. */
async function checkPackages(root: string): Promise<number> {
  const base = path.join(root, 'dist', TARGET, 'packages');
  if (!existsSync(base)) return 0;
  let n = 0;
  for (const name of readdirSync(base)) {
    for (const f of readdirSync(path.join(base, name)).filter((x) => x.endsWith('.pkg.tar.zst'))) {
      const file = path.join(base, name, f);
      const r = await execa('bsdtar', ['-tf', file], { reject: false });
      assert.equal(r.exitCode, 0, `${name}/${f} is not a complete archive: ${r.stderr}`);
      assert.match(r.stdout, /^\.PKGINFO$/m, `${name}/${f} has no .PKGINFO`);
      n++;
    }
  }
  return n;
}

describe('faults: SIGKILL at random moments during a real build', () => {
  let ws: TestWorkspace;
  let clean: TestWorkspace;
  const setup = (w: TestWorkspace) => {
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(w.root, 'recipes', 'zlib'), { recursive: true });
    // each workspace its own empty store, filled from the test run's store (a mirror) when there is one
    const mirrors = [process.env.NX_DISTRO_TEST_RUN_DIR && path.join(process.env.NX_DISTRO_TEST_RUN_DIR, 'distfiles'), process.env.NX_DISTRO_TEST_MIRRORS].filter(Boolean).join(' ');
    if (mirrors) w.env.NX_DISTRO_MIRRORS = mirrors;
  };
  before(() => {
    ws = createWorkspace('mutations');
    setup(ws);
    clean = createWorkspace('mutations');
    setup(clean);
  });
  after(() => {
    ws.dispose();
    clean.dispose();
  });

  const packageDigests = (w: TestWorkspace) => digests(path.join(w.root, 'dist', TARGET, 'packages'), (rel) => /\.pkg\.tar\.zst$|abi\.json$/.test(rel));

  it(`survives ${ITERATIONS} kills, then completes with the bytes of a clean build`, async () => {
    // The reference: a clean build in another workspace. Its duration sets the kill moments, so
    // that they fall into the work on any machine (5% to 95% of it).
    const t0 = Date.now();
    const reference = await clean.nx('run-many', '-t', 'build', '-c', TARGET, '-p', ...PROJECTS, '--output-style=static');
    assert.equal(reference.exitCode, 0, reference.all.slice(-6000));
    const cleanMs = Date.now() - t0;
    const expected = packageDigests(clean);
    // Each project's package, its -debug package and its ABI manifest.
    assert.equal(Object.keys(expected).length, 3 * PROJECTS.length, Object.keys(expected).join(' '));

    const random = prng(SEED);
    const log: string[] = [`seed ${SEED} (NX_DISTRO_FAULT_SEED), ${ITERATIONS} iterations, a clean build takes ${cleanMs} ms`];
    let kills = 0;
    const workers: number[] = [];
    // A run that completes before its kill moment is no kill: the loop goes on until ITERATIONS
    // runs were killed, and fails when the kills keep missing the work (3 × ITERATIONS runs).
    for (let i = 0; kills < ITERATIONS; i++) {
      assert.ok(i < 3 * ITERATIONS, `${kills} of ${ITERATIONS} kills in ${i} runs: the others completed before their kill moment\n${log.join('\n')}`);
      const delay = Math.round(cleanMs * (0.05 + 0.9 * random()));
      const child = ws.spawn('nx', 'run-many', '-t', 'build', '-c', TARGET, '-p', ...PROJECTS, '--output-style=static');
      const exited = await Promise.race([child.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), delay))]);
      if (exited) {
        const r = await child;
        assert.equal(r.exitCode, 0, `run ${i} ended by itself with a failure:\n${String(r.all).slice(-4000)}`);
        log.push(`${i}: completed within ${delay} ms; starting over from an empty cache`);
        for (const d of ['dist', 'tmp', '.nx-test']) ws.remove(d);
        continue;
      }
      const tree = descendants(child.pid!);
      process.kill(-child.pid!, 'SIGKILL');
      const r = await child;
      kills++;
      const running = [...String(r.all).matchAll(/^> nx run (\S+)/gm)].map((m) => m[1]);
      log.push(`${i}: killed after ${delay} ms (${tree.length} processes), during ${running.at(-1) ?? 'start-up'}`);
      // nothing of the run outlives it: bwrap dies with its parent, the sandbox with bwrap. Nx's
      // own plugin workers (own process groups) are the exception: killed before they were
      // connected to, they wait for Nx's connect timeout (30 s) and then exit; checked below.
      const ours = tree.filter((p) => !isPluginWorker(p));
      workers.push(...tree.filter(isPluginWorker));
      const deadline = Date.now() + 10_000;
      while (ours.some(alive) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual(ours.filter(alive).map(commandLine), [], 'processes left running');
      checkStore(ws.env.NX_DISTRO_DISTFILES!);
      await checkPackages(ws.root);
    }
    console.log(`\nfault loop (${new Date().toISOString().slice(0, 10)}): ${kills} kills, ${workers.length} Nx plugin workers orphaned\n${log.map((l) => `  ${l}`).join('\n')}`);
    assert.ok(kills > 0, 'at least one run was killed');
    assert.equal(kills, ITERATIONS, `${ITERATIONS} runs killed`);

    const done = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '-p', ...PROJECTS, '--output-style=static');
    assert.equal(done.exitCode, 0, done.all.slice(-6000));
    assert.ok(checkStore(ws.env.NX_DISTRO_DISTFILES!) >= 1);
    assert.equal(await checkPackages(ws.root), 2 * PROJECTS.length, 'each project\'s package and its -debug package');

    assert.deepEqual(packageDigests(ws), expected, 'the packages after the kills equal a clean build');

    // Nx's orphaned plugin workers are gone too, by Nx's own timeouts (connect 30 s, load 60 s)
    const workersDeadline = Date.now() + 75_000;
    while (workers.some(alive) && Date.now() < workersDeadline) await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(workers.filter(alive).map(commandLine), [], 'Nx plugin workers left running');

    // what the cache serves is whole: restored from it, the same bytes
    ws.remove('dist');
    const restored = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '-p', ...PROJECTS, '--output-style=static');
    assert.equal(restored.exitCode, 0, restored.all.slice(-6000));
    assert.doesNotMatch(restored.all, /^> nx run \S+:build:\S+\s*$/m, 'every build came from the cache');
    assert.deepEqual(packageDigests(ws), expected);
  });
});

describe('faults: the network fails during a fetch', () => {
  let ws: TestWorkspace;
  let server: http.Server;
  let mode: 'half' | 'whole' = 'half';
  const body = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
  const sum = createHash('sha256').update(body).digest('hex');
  let port = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
      if (mode === 'whole') return void res.end(body);
      // half the body, then the connection is gone
      res.write(body.subarray(0, body.length / 2), () => req.socket.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    ws = createWorkspace();
    ws.write('recipes/netprobe/recipe.yaml', [
      'name: netprobe', "version: '1.0'", 'release: 1', 'description: A source served by a flaky server', 'license: [MIT]', 'homepage: https://example.org/netprobe',
      'sources:', `  - url: http://127.0.0.1:${port}/netprobe-1.0.bin`, `    sha256: ${sum}`, '    extract: false', '',
    ].join('\n'));
  });
  after(() => {
    server.close();
    ws.dispose();
  });

  const store = () => ws.env.NX_DISTRO_DISTFILES!;
  const leftovers = () => (existsSync(path.join(store(), 'tmp')) ? readdirSync(path.join(store(), 'tmp')) : []);

  it('a connection closed halfway through the body: one clear error, nothing stored, no partial file left', async () => {
    mode = 'half';
    const r = await ws.nx('run', 'netprobe:fetch', '--output-style=static');
    assert.notEqual(r.exitCode, 0);
    // retried (fetchRetries, default 2), then one line naming file, field, sum, URL, cause and fix
    assert.match(r.all, new RegExp(`^recipes/netprobe/recipe\\.yaml: sources\\[0\\]: netprobe-1\\.0\\.bin \\(sha256 ${sum}\\) could not be fetched: http://127\\.0\\.0\\.1:${port}/netprobe-1\\.0\\.bin: other side closed \\(UND_ERR_SOCKET\\) \\(after 3 attempts\\); add a mirror`, 'm'));
    assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
    assert.equal(existsSync(path.join(store(), 'by-sha256', sum)), false);
    assert.deepEqual(leftovers(), []);
  });

  it('no server at all (connection refused): one clear error, nothing stored', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    ws.write('recipes/netprobe/recipe.yaml', ws.read('recipes/netprobe/recipe.yaml').replace(`:${port}/`, `:${deadPort}/`));
    try {
      const r = await ws.nx('run', 'netprobe:fetch', '--output-style=static');
      assert.notEqual(r.exitCode, 0);
      assert.match(r.all, /^recipes\/netprobe\/recipe\.yaml: sources\[0\]: netprobe-1\.0\.bin \(sha256 [0-9a-f]{64}\) could not be fetched: .*(ECONNREFUSED|refused)/m);
      assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
      assert.equal(existsSync(path.join(store(), 'by-sha256', sum)), false);
      assert.deepEqual(leftovers(), []);
    } finally {
      ws.write('recipes/netprobe/recipe.yaml', ws.read('recipes/netprobe/recipe.yaml').replace(`:${deadPort}/`, `:${port}/`));
    }
  });

  it('once the network is back, the same fetch stores the verified file', async () => {
    mode = 'whole';
    const r = await ws.nx('run', 'netprobe:fetch', '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    const file = path.join(store(), 'by-sha256', sum, 'netprobe-1.0.bin');
    assert.equal(sha256(file), sum);
    assert.equal(statSync(file).mode & 0o777, 0o444);
    assert.deepEqual(leftovers(), []);
  });
});

describe('faults: a full disk', () => {
  let ws: TestWorkspace;
  let mountable = true;
  const mounted: string[] = [];
  before(() => {
    ws = createWorkspace('mutations');
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(ws.root, 'recipes', 'zlib'), { recursive: true });
    const mirrors = [process.env.NX_DISTRO_TEST_RUN_DIR && path.join(process.env.NX_DISTRO_TEST_RUN_DIR, 'distfiles'), process.env.NX_DISTRO_TEST_MIRRORS].filter(Boolean).join(' ');
    if (mirrors) ws.env.NX_DISTRO_MIRRORS = mirrors;
    try {
      mount('tmp', 1024 * 1024);
      unmount('tmp');
    } catch {
      mountable = false; // not root, or no CAP_SYS_ADMIN: the cases below are skipped
    }
  });
  after(() => {
    for (const m of [...mounted]) unmount(m);
    ws.dispose();
  });

  /** Mounts a tmpfs of `bytes` on a workspace folder (created empty). */
  function mount(folder: string, bytes: number): void {
    const dir = path.join(ws.root, folder);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    mounted.push(folder);
  }
  function unmount(folder: string): void {
    execFileSync('umount', [path.join(ws.root, folder)], { stdio: 'pipe' });
    mounted.splice(mounted.indexOf(folder), 1);
  }
  const build = () => ws.nx('run', 'zlib:build', '-c', TARGET, '--output-style=static');
  const zlibPackages = () => {
    const dir = path.join(ws.root, 'dist', TARGET, 'packages', 'zlib');
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.includes('.pkg.tar')) : [];
  };

  it('the work folder full while unpacking the sources: one line, no package, then a rerun with room succeeds', async (t) => {
    if (!mountable) return t.skip('cannot mount a tmpfs here (needs root)');
    mount('tmp', 1024 * 1024);
    try {
      const r = await build();
      assert.notEqual(r.exitCode, 0);
      assert.match(r.all, /zlib_1\.2\.13\.dfsg\.orig\.tar\.bz2: entry "[^"]+": cannot write it: ENOSPC: no space left on device/);
      assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
      assert.deepEqual(zlibPackages(), []);
    } finally {
      unmount('tmp');
    }
    const again = await build();
    assert.equal(again.exitCode, 0, again.all.slice(-4000));
    assert.doesNotMatch(again.all, /zlib:build:x86_64 +\[local cache\]/, 'the failed run stored nothing in the cache');
    assert.deepEqual(zlibPackages().map(pkgnameOfFile).sort(), ['zlib', 'zlib-debug']);
  });

  it('the output folder full while writing the package: one line naming the folders, nothing under a final name', async (t) => {
    if (!mountable) return t.skip('cannot mount a tmpfs here (needs root)');
    ws.write('recipes/zlib/recipe.yaml', `${ws.read('recipes/zlib/recipe.yaml')}# another key: built again\n`);
    // room for the published sources and the build log, not for the package
    const sources = readdirSync(path.join(ws.root, 'dist', 'sources', 'zlib')).reduce((n, f) => n + statSync(path.join(ws.root, 'dist', 'sources', 'zlib', f)).size, 0);
    rmSync(path.join(ws.root, 'dist'), { recursive: true, force: true });
    mount('dist', Math.ceil((sources + 48 * 1024) / 4096) * 4096);
    try {
      const r = await build();
      assert.notEqual(r.exitCode, 0);
      assert.match(r.all, /^zlib: no space left on the device \(.*No space left on device\); nothing was stored under a final name; fix: free space in the file system of tmp\/build\/x86_64\/zlib or dist\/x86_64\/packages\/zlib \(df -h shows it\) and run the task again$/m);
      assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
      assert.deepEqual(zlibPackages(), []);
    } finally {
      unmount('dist');
    }
    const again = await build();
    assert.equal(again.exitCode, 0, again.all.slice(-4000));
    assert.deepEqual(zlibPackages().map(pkgnameOfFile).sort(), ['zlib', 'zlib-debug']);
    assert.equal(await checkPackages(ws.root), 2);
  });
});
