/**
 * Team builds through the remote cache server (packages/cache-server), end to end on loopback,
 * for aarch64: in the full tier the image (every real recipe, the toolchain runtime, the kernel,
 * rootfs, image: about 7 min of cold builds here), in the quick tier lua's packages (lua,
 * readline, ncurses and the toolchain runtime: the smallest real graph with a task of each kind
 * on each side):
 *
 * 1. Two build agents split the task graph and share nothing but the cache server (what
 *    distributed agents do): agent 1 builds the libraries, agent 2 then builds the image, taking
 *    agent 1's tasks from the server and building and uploading the rest. Each has its own empty
 *    Nx cache (`NX_CACHE_DIRECTORY`, its index in its own workspace data folder).
 * 2. A fresh clone at another path and depth (`machine-two/home/developer/src/distro` in the test's folder),
 *    with an empty Nx cache, an empty distfiles store and a read-only token, runs
 *    the same command as agent 2: every task is a remote hit, nothing is fetched or built, and
 *    its outputs (packages; in the full tier rootfs and image too) are byte-identical to the agents'.
 * 3. The result equals a single workspace's build (the test run's own cache: what
 *    test/image.test.ts built earlier in the run; alone, this file builds it).
 *
 * The server is started with its command (`nx-distro-cache-server`), as a team would.
 * Needs what test/image.test.ts needs (tools/setup-host; root for pacman).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FULL } from './helpers/tier';
import { copyTierRecipes, createWorkspace, digests, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'aarch64';
const WRITE_TOKEN = 'ci-agent-write-token-0123456789';
const READ_TOKEN = 'developer-read-token-0123456789';
const needRoot = process.getuid?.() === 0 ? false : 'pacman installs need root';
/**
 * What the tier builds: agent 1's share of the graph (the libraries, and what they need, which
 * Nx adds), the Nx command of agent 2 and the fresh clone (everything), a task that only agent 2
 * runs, and the folders under `dist/<target>/` compared byte for byte.
 */
const SCOPE = FULL
  ? { agent1: ['zlib', 'xz', 'zstd', 'lz4', 'ncurses', 'readline'], all: ['run', 'system:image'], what: 'the image', agent2Only: [`linux:build:${TARGET}`, `system:image:${TARGET}`], compared: ['packages', 'rootfs', 'image'] }
  : { agent1: ['ncurses'], all: ['run-many', '-t', 'build', '-p', 'lua'], what: "lua's packages", agent2Only: [`readline:build:${TARGET}`, `lua:build:${TARGET}`], compared: ['packages'] };
const AGENT1_PROJECTS = SCOPE.agent1;

/** The task ids Nx printed as restored from the remote cache, and those it ran or read locally. */
function taskLines(all: string): { remote: string[]; other: string[] } {
  const remote: string[] = [];
  const other: string[] = [];
  for (const m of all.matchAll(/^> nx run (\S+)(.*)$/gm)) (/\[remote cache\]/.test(m[2]) ? remote : other).push(m[1]);
  return { remote: remote.sort(), other: other.sort() };
}

/** Starts `nx-distro-cache-server` on a free loopback port; resolves once it listens. */
function startServer(storage: string, tokens: string): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'nx-distro-cache-server');
  const child = spawn(process.execPath, [bin, '--storage', storage, '--tokens', tokens, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cache server did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, log: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`cache server exited with ${code}:\n${out}`)));
  });
}

describe('remote cache: build agents and a fresh clone share only a cache server', { skip: needRoot }, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startServer>>;
  const workspaces: TestWorkspace[] = [];
  const times: string[] = [];

  /**
   * A clone: the real recipes and targets, its own empty Nx cache, the cache server with `token`;
   * at `root` when given (absolute), else in a new `<tmpdir>/nx-distro-ws-XXXXXX`.
   */
  function clone(token: string, distfiles: 'run' | 'own', root?: string): TestWorkspace {
    const ws = createWorkspace(undefined, { root });
    workspaces.push(ws);
    copyTierRecipes(ws);
    ws.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER = server.url;
    ws.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN = token;
    // The agents may share the test run's distfiles store (fetching is not what is tested here);
    // the fresh clone keeps its own, empty one.
    if (distfiles === 'run' && process.env.NX_DISTRO_TEST_RUN_DIR) ws.env.NX_DISTRO_DISTFILES = path.join(process.env.NX_DISTRO_TEST_RUN_DIR, 'distfiles');
    if (process.env.NX_DISTRO_TEST_MIRRORS) ws.env.NX_DISTRO_MIRRORS = process.env.NX_DISTRO_TEST_MIRRORS;
    return ws;
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-remote-'));
    writeFileSync(path.join(dir, 'tokens.yaml'), `write: [${WRITE_TOKEN}]\nread: [${READ_TOKEN}]\n`);
    server = await startServer(path.join(dir, 'store'), path.join(dir, 'tokens.yaml'));
  });
  after(() => {
    server?.child.kill('SIGTERM');
    if (times.length) console.log(`\nremote cache times (this machine, ${new Date().toISOString().slice(0, 10)}):\n${times.map((t) => `  ${t}`).join('\n')}`);
    for (const ws of workspaces) ws.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  let agent2: TestWorkspace;
  let agentTasks: string[];

  it('two agents split the graph: the second takes the first one\'s tasks from the server and uploads the rest', async () => {
    const agent1 = clone(WRITE_TOKEN, 'run');
    let t0 = Date.now();
    const r1 = await agent1.nx('run-many', '-t', 'build', '-c', TARGET, '-p', ...AGENT1_PROJECTS, '--output-style=static');
    times.push(`agent 1 (${AGENT1_PROJECTS.join(', ')}, cold): ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    assert.equal(r1.exitCode, 0, r1.all.slice(-6000));
    const one = taskLines(r1.all);
    assert.deepEqual(one.remote, [], 'agent 1 starts with an empty server');
    for (const p of AGENT1_PROJECTS) assert.ok(one.other.includes(`${p}:build:${TARGET}`), p);

    agent2 = clone(WRITE_TOKEN, 'run');
    t0 = Date.now();
    const r2 = await agent2.nx(...SCOPE.all, '-c', TARGET, '--output-style=static');
    times.push(`agent 2 (the rest and ${SCOPE.what}, taking agent 1's tasks from the server): ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    assert.equal(r2.exitCode, 0, r2.all.slice(-6000));
    const two = taskLines(r2.all);
    // exactly agent 1's tasks came from the server; everything else agent 2 ran itself
    assert.deepEqual(two.remote, [...one.other].sort());
    for (const task of SCOPE.agent2Only) assert.ok(two.other.includes(task), `agent 2 ran ${task}`);
    agentTasks = [...two.remote, ...two.other].sort();
  });

  it('a fresh clone with a read-only token and empty caches restores every task from the server, byte for byte', async () => {
    assert.ok(agent2, 'needs the agents');
    // another machine: another path, at another depth, than the agents' (no key may hold it)
    const fresh = clone(READ_TOKEN, 'own', path.join(dir, 'machine-two', 'home', 'developer', 'src', 'distro'));
    const stored = server.log().split('\n').filter((l) => / PUT \/v1\/cache\/\S+ 200 /.test(l)).length;
    const t0 = Date.now();
    const r = await fresh.nx(...SCOPE.all, '-c', TARGET, '--output-style=static');
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    const lines = taskLines(r.all);
    assert.deepEqual(lines.other, [], 'every task is a remote hit');
    assert.deepEqual(lines.remote, agentTasks);
    times.push(`fresh clone, all ${lines.remote.length} tasks from the server (${stored} entries uploaded by the agents): ${seconds.toFixed(1)} s`);
    // nothing was fetched into its empty distfiles store, nothing uploaded with its read-only token
    assert.ok(!existsSync(fresh.env.NX_DISTRO_DISTFILES!) || readdirSync(fresh.env.NX_DISTRO_DISTFILES!).every((f) => f.startsWith('.')), 'no source fetched');
    assert.equal(server.log().split('\n').filter((l) => / PUT \/v1\/cache\//.test(l)).length, stored);
    for (const sub of SCOPE.compared) {
      const mine = digests(path.join(fresh.root, 'dist', TARGET, sub));
      assert.ok(Object.keys(mine).length > 0, sub);
      const theirs = { ...digests(path.join(agent2.root, 'dist', TARGET, sub)) };
      assert.deepEqual(mine, theirs, `dist/${TARGET}/${sub}`);
    }
  });

  it('the split build equals a single workspace\'s build (the test run\'s own cache)', async () => {
    assert.ok(agent2, 'needs the agents');
    const single = createWorkspace(undefined, { shareRunCache: true });
    workspaces.push(single);
    copyTierRecipes(single);
    const r = await single.nx(...SCOPE.all, '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    const products = (rel: string) => /\.pkg\.tar\.zst$/.test(rel) || !rel.endsWith('.log');
    for (const sub of SCOPE.compared) {
      assert.deepEqual(
        digests(path.join(single.root, 'dist', TARGET, sub), products),
        digests(path.join(agent2.root, 'dist', TARGET, sub), products),
        `dist/${TARGET}/${sub}`,
      );
    }
  });
});
