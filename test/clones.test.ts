/**
 * Two git clones of one commit at different absolute paths (another folder, another depth) share
 * every cache entry (issue 20): zlib and the system project's tasks for x86_64 (the system
 * target's identity, zlib's fetch and build, the toolchain runtime, the repository), built in
 * the first clone, then asked for in the second.
 *
 * 1. Every task has the same hash in both clones (the hashes the plugin records per run,
 *    `<workspace data>/nx-distro-signatures/last-run.json`): no input carries the checkout's path.
 * 2. Through the remote cache server (packages/cache-server), the way two machines share: every
 *    task of the second clone is a remote hit, nothing is fetched, the packages are byte-identical.
 * 3. Through one local cache folder (`NX_CACHE_DIRECTORY`) and one workspace data folder
 *    (`NX_WORKSPACE_DATA_DIRECTORY`), both absolute and the same for both clones: every task is a
 *    local hit. Nx 24 serves a local entry only when its index lists it, a database in the
 *    workspace data folder (`nx/src/utils/db-connection.js`, `getDbConnection`; with
 *    `NX_CACHE_DIRECTORY` set, that folder is each checkout's own, `<root>/.nx/workspace-data`,
 *    unless `NX_WORKSPACE_DATA_DIRECTORY` names another).
 * 4. The cause of the report (0 hits in a copy with the same cache folder): the same cache folder
 *    with each clone's own workspace data folder. Nx then finds no entry (by its design, whatever
 *    the keys), every task runs again, and zlib's rebuilt package is byte for byte the first one's;
 *    the run ends with the plugin's line naming those tasks and the two ways to share.
 *
 * Needs the host of tools/setup-host (the x86_64 cross compiler, bubblewrap, repo-add). About a
 * minute: one cold build of zlib, one rebuild, two restores.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fullOnly } from './helpers/tier';
import { createWorkspace, digests, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'x86_64';
const TOKEN = 'clones-write-token-0123456789';
const TASKS = [`system:build:${TARGET}`, `system:system-target:${TARGET}`, `system:toolchain-runtime:${TARGET}`, 'zlib:fetch', `zlib:build:${TARGET}`].sort();
/** The commit time of the one commit both clones check out. */
const EPOCH = 1_700_000_000;

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.org', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    env: { ...process.env, GIT_AUTHOR_DATE: `@${EPOCH} +0000`, GIT_COMMITTER_DATE: `@${EPOCH} +0000` },
    stdio: 'ignore',
  });
}

/** Each task line Nx printed: the task id and where it came from (`remote`, `local`, or `ran`). */
function taskLines(all: string): Record<string, 'remote' | 'local' | 'ran'> {
  const out: Record<string, 'remote' | 'local' | 'ran'> = {};
  for (const m of all.matchAll(/^> nx run (\S+)(.*)$/gm)) out[m[1]] = /\[remote cache\]/.test(m[2]) ? 'remote' : /\[local cache\]/.test(m[2]) ? 'local' : 'ran';
  return out;
}

/** The hash of every task of the clone's last run, as the plugin recorded it. */
function lastRunHashes(dataDir: string): Record<string, string> {
  const last = JSON.parse(readFileSync(path.join(dataDir, 'nx-distro-signatures', 'last-run.json'), 'utf8')) as { tasks: { id: string; hash: string }[] };
  return Object.fromEntries(last.tasks.map((t) => [t.id, t.hash]));
}

/** Starts `nx-distro-cache-server` on a free loopback port; resolves once it listens. */
function startServer(storage: string, tokens: string): Promise<{ url: string; child: ChildProcess }> {
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'nx-distro-cache-server');
  const child = spawn(process.execPath, [bin, '--storage', storage, '--tokens', tokens, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cache server did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
    child.on('exit', (code) => reject(new Error(`cache server exited with ${code}:\n${out}`)));
  });
}

// In the full tier (about 1 min): the quick tier's two-machine test (test/remote-cache.test.ts)
// already has its second clone at another path and depth, sharing through the cache server.
describe('two clones at different paths share every cache entry', fullOnly(), () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startServer>>;
  let one: TestWorkspace;
  let two: TestWorkspace;
  /** The packages clone one built (sha256 by path under dist/x86_64/packages, logs left out). */
  let packages: Record<string, string>;
  let hashes: Record<string, string>;
  const products = (rel: string) => !rel.endsWith('.log');
  /** Clone two's run of the same command, with the given cache and data folders and server. */
  const runTwo = async (cache: string, data: string, remote: boolean) => {
    two.env.NX_CACHE_DIRECTORY = cache;
    two.env.NX_WORKSPACE_DATA_DIRECTORY = data;
    two.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER = remote ? server.url : undefined;
    two.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN = remote ? TOKEN : undefined;
    const r = await two.nx('run', `system:build`, '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    return { lines: taskLines(r.all), all: r.all };
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-clones-'));
    writeFileSync(path.join(dir, 'tokens.yaml'), `write: [${TOKEN}]\n`);
    server = await startServer(path.join(dir, 'store'), path.join(dir, 'tokens.yaml'));
    // Clone one: a workspace of zlib committed (recipes and targets: SOURCE_DATE_EPOCH is the
    // commit time), its own data folder, the shared local cache folder and the server.
    one = createWorkspace(undefined, { systemTargets: [TARGET] });
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(one.root, 'recipes', 'zlib'), { recursive: true });
    writeFileSync(path.join(one.root, '.gitignore'), 'node_modules\ndist\ntmp\n.nx\n.nx-test\n.distfiles\n');
    git(one.root, 'init', '-q');
    git(one.root, 'add', '-A');
    git(one.root, 'commit', '-q', '-m', 'zlib');
    Object.assign(one.env, {
      SOURCE_DATE_EPOCH: undefined,
      NX_CACHE_DIRECTORY: path.join(dir, 'cache'),
      NX_WORKSPACE_DATA_DIRECTORY: path.join(dir, 'data-one'),
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url,
      NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: TOKEN,
    });
    if (process.env.NX_DISTRO_TEST_RUN_DIR) one.env.NX_DISTRO_DISTFILES = path.join(process.env.NX_DISTRO_TEST_RUN_DIR, 'distfiles');
    if (process.env.NX_DISTRO_TEST_MIRRORS) one.env.NX_DISTRO_MIRRORS = process.env.NX_DISTRO_TEST_MIRRORS;
    // Clone two: the same commit fetched into a folder at another path and depth (what
    // `git clone` does: init, fetch, check out); its own empty distfiles store, with clone one's
    // store as its only mirror, so a rebuild fetches nothing from the network.
    two = createWorkspace(undefined, { systemTargets: [TARGET], root: path.join(dir, 'machine-two', 'home', 'builder', 'src', 'distro') });
    rmSync(path.join(two.root, 'targets'), { recursive: true });
    git(two.root, 'init', '-q');
    git(two.root, 'fetch', '-q', one.root, 'HEAD');
    git(two.root, 'checkout', '-q', '-f', 'FETCH_HEAD');
    Object.assign(two.env, { SOURCE_DATE_EPOCH: undefined, NX_DISTRO_MIRRORS: one.env.NX_DISTRO_DISTFILES });
  });
  after(() => {
    server?.child.kill('SIGTERM');
    one?.dispose();
    two?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clone one builds zlib and the system tasks, uploading them', async () => {
    const r = await one.nx('run', 'system:build', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    assert.deepEqual(Object.keys(taskLines(r.all)).sort(), TASKS);
    packages = digests(path.join(one.root, 'dist', TARGET, 'packages'), products);
    assert.ok(Object.keys(packages).some((p) => /^zlib\/zlib-.*\.pkg\.tar\.zst$/.test(p)), JSON.stringify(packages));
    hashes = lastRunHashes(path.join(dir, 'data-one'));
    assert.deepEqual(Object.keys(hashes).sort(), TASKS);
  });

  it('clone two, at another path, restores every task from the server with the same hashes, byte for byte', async () => {
    assert.ok(hashes, 'needs clone one');
    assert.notEqual(path.dirname(one.root), path.dirname(two.root));
    const data = path.join(two.root, '.nx-test', 'data-remote');
    const { lines } = await runTwo(path.join(two.root, '.nx-test', 'cache'), data, true);
    assert.deepEqual(lines, Object.fromEntries(TASKS.map((t) => [t, 'remote'])), 'every task a remote hit');
    assert.deepEqual(lastRunHashes(data), hashes, 'the same hash for every task in both clones');
    const store = two.env.NX_DISTRO_DISTFILES!;
    assert.ok(!existsSync(store) || readdirSync(store).every((f) => f.startsWith('.')), 'nothing fetched');
    assert.deepEqual(digests(path.join(two.root, 'dist', TARGET, 'packages'), products), packages);
  });

  it('clone two restores every task from the same local cache folder when the workspace data folder is shared too', async () => {
    assert.ok(hashes, 'needs clone one');
    const { lines } = await runTwo(path.join(dir, 'cache'), path.join(dir, 'data-one'), false);
    assert.deepEqual(lines, Object.fromEntries(TASKS.map((t) => [t, 'local'])), 'every task a local hit');
    assert.deepEqual(digests(path.join(two.root, 'dist', TARGET, 'packages'), products), packages);
  });

  it("with its own workspace data folder, Nx finds none of the cache folder's entries: every task reruns, zlib byte for byte", async () => {
    assert.ok(hashes, 'needs clone one');
    const data = path.join(two.root, '.nx-test', 'data-own');
    const { lines, all } = await runTwo(path.join(dir, 'cache'), data, false);
    // Nx 24's design: the entries are in the folder, the index that serves them is not in `data`
    assert.deepEqual(lines, Object.fromEntries(TASKS.map((t) => [t, 'ran'])), 'every task ran');
    assert.deepEqual(lastRunHashes(data), hashes, 'with the same hashes');
    // and the plugin says so, naming the tasks, the two folders and how to share (src/explain/unindexed.ts)
    const hint = new RegExp(`nx-distro: ${TASKS.length} tasks ran although the cache folder ${path.join(dir, 'cache')} held entries with the same hash .*workspace data folder \\(${data}\\)`);
    assert.match(all, hint);
    assert.deepEqual(digests(path.join(two.root, 'dist', TARGET, 'packages'), products), packages, 'the rebuilt packages are the same bytes');
  });
});
