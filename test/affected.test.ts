/**
 * `nx affected` on a real git history, planning only (nothing is fetched or built).
 *
 * Six of the repository's real recipes are copied into a fresh workspace and committed: the chain
 * ncurses -> readline -> lua (lua with two patches), zlib -> dropbear, and xz, which nothing
 * depends on. Each case then makes one commit on top of that base commit and reads, for
 * `nx affected -t build -c <target> --base=<base> --head=<commit>`:
 * - with `--explain=<file>`: the affected tasks of the requested target (`affected`: their
 *   hash changes, so they would rebuild) and the tasks whose own inputs matched a changed file
 *   (`touched`, which includes the `fetch` tasks that `-t build` pulls in as dependencies);
 * - with `--graph=<file>`: the task graph the run would execute (the affected tasks plus every
 *   task they depend on, most of them cache hits in a real run).
 *
 * Nx 24's `nx affected -t` is task based (nx/dist/src/project-graph/affected/affected-tasks.js): it
 * plans the whole task graph and matches the changed files against every task's hash plan (its
 * file inputs), then carries a change from a producer to every consumer whose
 * `dependentTasksOutputFiles` input reads the producer's outputs. So a change to a recipe
 * reaches its dependents through the package files, not through Nx's project graph; runtime
 * inputs (the toolchain and, outside a plugin workspace, the plugin identity) never enter it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { commitTargets, createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

/** The real recipes copied from recipes/: ncurses -> readline -> lua, zlib -> dropbear, and xz. */
const RECIPES = ['dropbear', 'lua', 'ncurses', 'readline', 'xz', 'zlib'];
/** Commit time of every commit of the workspace's history. */
const EPOCH = 1714000000; // 2024-04-24T23:06:40Z

/** `<recipe>:build:<target>` for each recipe, plus the system project's repository task. */
function builds(target: string, recipes: readonly string[], repository = true): string[] {
  return [...recipes.map((r) => `${r}:build:${target}`), ...(repository ? [`system:build:${target}`] : [])].sort();
}
const fetches = (recipes: readonly string[]) => recipes.map((r) => `${r}:fetch`).sort();
/** The system target's identity task, which every build of that configuration depends on and reads. */
const identity = (target: string) => `system:system-target:${target}`;

/** git in the workspace with a fixed identity and date (as commitTargets does); returns stdout. */
function git(ws: TestWorkspace, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.org', '-c', 'commit.gpgsign=false', ...args], {
    cwd: ws.root,
    env: { ...process.env, GIT_AUTHOR_DATE: `@${EPOCH} +0000`, GIT_COMMITTER_DATE: `@${EPOCH} +0000` },
    encoding: 'utf8',
  }).trim();
}

/**
 * Checks out `base` (detached), lets `change` edit the working tree, commits everything as one
 * commit whose parent is `base` and leaves it checked out (Nx reads the projects from the
 * working tree, the changed files from `git diff base..head`).
 * @returns the new commit's sha
 */
function commitOnto(ws: TestWorkspace, base: string, message: string, change: () => void): string {
  git(ws, 'checkout', '-q', '--detach', base);
  change();
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', message);
  return git(ws, 'rev-parse', 'HEAD');
}

/** Appends a line to a workspace file. */
function append(ws: TestWorkspace, file: string, text: string): void {
  appendFileSync(path.join(ws.root, file), text);
}

interface Explanation {
  /** Affected tasks of the requested target, sorted. */
  affected: string[];
  /** Tasks whose own inputs matched a changed file (any target), sorted. */
  touched: string[];
}

/** `nx affected -t <target> [-c <configuration>] --base --head --explain=<file>`, read back. */
async function explain(ws: TestWorkspace, base: string, head: string, target: string, configuration?: string): Promise<Explanation> {
  const file = 'tmp/explain.json';
  ws.remove(file);
  mkdirSync(path.join(ws.root, 'tmp'), { recursive: true }); // --explain=<file> does not make its folder
  const r = await ws.nx('affected', '-t', target, ...(configuration ? ['-c', configuration] : []), `--base=${base}`, `--head=${head}`, `--explain=${file}`);
  assert.equal(r.exitCode, 0, r.all);
  const e = ws.readJson(file);
  return { affected: Object.keys(e.affected).sort(), touched: [...e.touched].sort() };
}

/** `nx affected -t build -c <configuration> --base --head --graph=<file> [...extra]`: the whole JSON (tasks, taskPlans). */
async function taskGraph(ws: TestWorkspace, base: string, head: string, configuration: string, ...extra: string[]): Promise<any> {
  const file = 'tmp/tasks.json';
  ws.remove(file);
  const r = await ws.nx('affected', '-t', 'build', '-c', configuration, `--base=${base}`, `--head=${head}`, `--graph=${file}`, ...extra);
  assert.equal(r.exitCode, 0, r.all);
  return ws.readJson(file);
}
const taskIds = (graph: any): string[] => Object.keys(graph.tasks.tasks).sort();

/** `nx show projects --affected --base --head [...extra]`, sorted. */
async function affectedProjects(ws: TestWorkspace, base: string, head: string, ...extra: string[]): Promise<string[]> {
  const r = await ws.nx('show', 'projects', '--affected', `--base=${base}`, `--head=${head}`, '--json', ...extra);
  assert.equal(r.exitCode, 0, r.all);
  return JSON.parse(r.stdout).sort();
}

/**
 * Makes `ws` a git repository: commitTargets' commit of targets/, then one of everything else.
 * Also loads the plugins in the nx process rather than in plugin workers (NX_ISOLATE_PLUGINS):
 * the same projects and plans, a second less per command on a busy machine.
 * @returns the base commit's sha
 */
function commitBase(ws: TestWorkspace): string {
  ws.env.NX_ISOLATE_PLUGINS = 'false';
  commitTargets(ws, EPOCH);
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'recipes');
  assert.equal(git(ws, 'status', '--porcelain'), '', 'everything committed');
  return git(ws, 'rev-parse', 'HEAD');
}

describe('nx affected on a git history of real recipes', () => {
  let ws: TestWorkspace;
  let base: string;
  before(() => {
    ws = createWorkspace();
    for (const r of RECIPES) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    ws.write('README.md', '# A test distribution\n');
    base = commitBase(ws);
  });
  after(() => ws.dispose());

  it('starts from the dependency chains the cases rely on', async () => {
    const r = await ws.nx('graph', '--file=tmp/projects.json');
    assert.equal(r.exitCode, 0, r.all);
    const deps = ws.readJson('tmp/projects.json').graph.dependencies;
    const edges = Object.entries<Array<{ target: string }>>(deps).flatMap(([p, ds]) => ds.map((d) => `${p}->${d.target}`)).sort();
    assert.deepEqual(edges, ['dropbear->zlib', 'lua->readline', 'readline->ncurses']);
  });

  it('1. a field of a leaf library (ncurses release): ncurses, what depends on it, and the repository', async () => {
    const head = commitOnto(ws, base, 'ncurses: release 2', () => {
      ws.write('recipes/ncurses/recipe.yaml', ws.read('recipes/ncurses/recipe.yaml').replace(/^release: 1$/m, 'release: 2'));
    });
    const e = await explain(ws, base, head, 'build', 'x86_64');
    // readline links ncurses, lua links readline: both read the changed package (their build
    // depends on ncurses:build, and `dependentTasksOutputFiles` hashes its package file); the
    // repository (system:build) holds every package. zlib, dropbear and xz do not depend on it.
    assert.deepEqual(e.affected, builds('x86_64', ['lua', 'ncurses', 'readline']));
    // The recipe folder is also the fetch task's input: touched, though not a `build` task.
    assert.deepEqual(e.touched, ['ncurses:build:x86_64', 'ncurses:fetch']);
    // The run: the repository needs every package, so every build task is in it (the six
    // recipes' and toolchain-runtime; the unaffected ones would be cache hits).
    assert.deepEqual(taskIds(await taskGraph(ws, base, head, 'x86_64')), [
      ...builds('x86_64', RECIPES), ...fetches(RECIPES), 'system:toolchain-runtime:x86_64', identity('x86_64'),
    ].sort());
    // Without the repository the run is exactly the chain and its fetch tasks.
    assert.deepEqual(taskIds(await taskGraph(ws, base, head, 'x86_64', '--exclude=system')), [
      ...builds('x86_64', ['lua', 'ncurses', 'readline'], false), ...fetches(['lua', 'ncurses', 'readline']), identity('x86_64'),
    ].sort());
    // `show projects --affected -t build` lists the projects owning an affected build task.
    assert.deepEqual(await affectedProjects(ws, base, head, '-t', 'build'), ['lua', 'ncurses', 'readline', 'system']);
  });

  it('2a. a changed patch of lua: lua and the repository, not the libraries lua links', async () => {
    const head = commitOnto(ws, base, 'lua: patch comment', () => append(ws, 'recipes/lua/cve-2022-28805.patch', '-- a trailing comment line\n'));
    const e = await explain(ws, base, head, 'build', 'x86_64');
    assert.deepEqual(e.affected, builds('x86_64', ['lua']));
    assert.deepEqual(e.touched, ['lua:build:x86_64', 'lua:fetch']);
    // The run still builds (or restores) readline and ncurses: lua's sysroot needs their packages.
    assert.deepEqual(taskIds(await taskGraph(ws, base, head, 'x86_64', '--exclude=system')), [
      ...builds('x86_64', ['lua', 'ncurses', 'readline'], false), ...fetches(['lua', 'ncurses', 'readline']), identity('x86_64'),
    ].sort());
  });

  it('2b. a new patch in readline: readline, lua and the repository', async () => {
    const head = commitOnto(ws, base, 'readline: a patch', () => {
      ws.write('recipes/readline/rl-fix.patch', '--- a/rltty.c\n+++ b/rltty.c\n@@ -1 +1 @@\n-/* rltty.c */\n+/* rltty.c. */\n');
      ws.write('recipes/readline/recipe.yaml', ws.read('recipes/readline/recipe.yaml').replace(/^depends:/m, 'patches:\n  - file: rl-fix.patch\n    upstream: https://ftp.gnu.org/gnu/readline/readline-8.2-patches/readline82-001\ndepends:'));
    });
    const e = await explain(ws, base, head, 'build', 'x86_64');
    assert.deepEqual(e.affected, builds('x86_64', ['lua', 'readline']));
    assert.deepEqual(e.touched, ['readline:build:x86_64', 'readline:fetch']);
  });

  it("3. a source sha256 of zlib: zlib's fetch and build, dropbear, and the repository", async () => {
    const head = commitOnto(ws, base, 'zlib: another sum', () => {
      ws.write('recipes/zlib/recipe.yaml', ws.read('recipes/zlib/recipe.yaml').replace(/sha256: [0-9a-f]{64}/, `sha256: ${'ab'.repeat(32)}`));
    });
    const e = await explain(ws, base, head, 'build', 'x86_64');
    assert.deepEqual(e.affected, builds('x86_64', ['dropbear', 'zlib']));
    assert.deepEqual(e.touched, ['zlib:build:x86_64', 'zlib:fetch']);
    assert.deepEqual((await explain(ws, base, head, 'fetch')).affected, ['zlib:fetch']);
    assert.deepEqual(taskIds(await taskGraph(ws, base, head, 'x86_64', '--exclude=system')), [
      ...builds('x86_64', ['dropbear', 'zlib'], false), ...fetches(['dropbear', 'zlib']), identity('x86_64'),
    ].sort());
  });

  describe('4. a system target file (targets/x86_64.yaml cflags)', () => {
    let head: string;
    before(() => {
      head = commitOnto(ws, base, 'x86_64: -O3', () => {
        ws.write('targets/x86_64.yaml', ws.read('targets/x86_64.yaml').replace(/^cflags: -O2 /m, 'cflags: -O3 '));
      });
    });

    it('touches the identity tasks only, and affects every x86_64 build and the repository through them, and no fetch', async () => {
      const e = await explain(ws, base, head, 'build', 'x86_64');
      assert.deepEqual(e.affected, builds('x86_64', RECIPES));
      // the target files are an input of system:system-target alone; the builds read its output
      assert.deepEqual(e.touched, [identity('x86_64')]);
      assert.deepEqual((await explain(ws, base, head, 'fetch')).affected, []);
    });

    it('touches the aarch64 identity task, and so lists every aarch64 build as affected (planning cannot see the cutoff)', async () => {
      // Observed: system:system-target takes every target file, because Nx 24's inputs are per
      // target, never per configuration (nx/dist/src/hasher/task-hasher.js getInputs reads
      // `targets[target].inputs` only). Its aarch64 output stays the same, so a run rebuilds no
      // aarch64 package (test/mutations.test.ts, "another system target's file"), but nx affected
      // plans without running and carries the touch to every task reading that output.
      const e = await explain(ws, base, head, 'build', 'aarch64');
      assert.deepEqual(e.affected, builds('aarch64', RECIPES));
      assert.deepEqual(e.touched, [identity('aarch64')]);
    });

    // KNOWN LIMITATION, left failing on purpose (reported as TODO, not as a failure): what a
    // distribution builder expects of `nx affected`. Editing x86_64's flags cannot change an
    // aarch64 package; a run rebuilds none (early cutoff through system-target.json), but the
    // plan lists them; see the test above.
    it('affects no aarch64 task', { todo: 'nx affected plans without running: it cannot see that the aarch64 identity (system-target.json) stays the same' }, async () => {
      assert.deepEqual((await explain(ws, base, head, 'build', 'aarch64')).affected, []);
    });
  });

  it('5a. the plugin outside the workspace (node_modules linked): only a runtime input, which nx affected never sees', async () => {
    // This workspace's nx-distro is this repository's packages/nx-distro, outside the
    // workspace's git repository: a change to it is no changed file of `--base..--head` at all,
    // so no commit here can change it. What the plans hold instead is the runtime input
    // `node <plugin>/bin/plugin-identity.mjs` (src/plugin/targets.ts pluginInput), which the
    // cache sees and `nx affected` ignores. So a plugin change is not testable with nx affected
    // in such a workspace; 5b tests a workspace that holds the plugin's code.
    // Planning only: `--graph` writes the task graph and every task's hash plan, and runs nothing.
    git(ws, 'checkout', '-q', '--detach', base);
    const r = await ws.nx('run-many', '-t', 'build', '-c', 'x86_64', '--graph=tmp/all.json');
    assert.equal(r.exitCode, 0, r.all);
    const g = ws.readJson('tmp/all.json');
    assert.deepEqual(Object.keys(g.taskPlans).sort(), [...builds('x86_64', RECIPES), ...fetches(RECIPES), 'system:toolchain-runtime:x86_64', identity('x86_64')].sort());
    for (const [id, plan] of Object.entries<string[]>(g.taskPlans)) {
      assert.ok(plan.some((p) => /^runtime:node \S*packages\/nx-distro\/bin\/plugin-identity\.mjs$/.test(p)), `${id}: ${plan.join(', ')}`);
      assert.ok(!plan.some((p) => p.includes('nx-distro/**')), `${id}: no file input for the plugin`);
    }
  });

  it('6. an unrelated file (README, a new note under docs/): nothing', async () => {
    const head = commitOnto(ws, base, 'docs', () => {
      append(ws, 'README.md', '\nSome words about nothing the builds read.\n');
      ws.write('docs/notes.md', '# Notes\n');
    });
    assert.deepEqual(await explain(ws, base, head, 'build', 'x86_64'), { affected: [], touched: [] });
    assert.deepEqual(taskIds(await taskGraph(ws, base, head, 'x86_64')), []);
    assert.deepEqual(await affectedProjects(ws, base, head), []);
  });
});

describe('nx affected in a workspace that holds the plugin code (as this repository does)', () => {
  let ws: TestWorkspace;
  let base: string;
  const LEAVES = ['xz', 'zlib'];
  before(() => {
    // The plugin's code in the workspace at packages/nx-distro (createWorkspace's ownPlugin, as
    // in this repository): pluginInput is then the fileset `{workspaceRoot}/packages/nx-distro/**/*`.
    ws = createWorkspace(undefined, { ownPlugin: true });
    for (const r of LEAVES) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    base = commitBase(ws);
  });
  after(() => ws.dispose());

  it('5b. a change to the plugin code: every task', async () => {
    const head = commitOnto(ws, base, 'plugin: a comment', () => append(ws, 'packages/nx-distro/src/executors/cross/executor.ts', '// a comment\n'));
    const e = await explain(ws, base, head, 'build', 'x86_64');
    assert.deepEqual(e.affected, builds('x86_64', LEAVES));
    assert.deepEqual(e.touched, [...builds('x86_64', LEAVES), ...fetches(LEAVES), 'system:toolchain-runtime:x86_64', identity('x86_64')].sort());
  });

  // The plugin's unit tests are not its code: the fileset input leaves out `**/*.test.ts`, as
  // bin/plugin-identity.mjs (the identity used outside a plugin workspace) does.
  it("a change to one of the plugin's unit tests: nothing", async () => {
    const head = commitOnto(ws, base, 'plugin: a test comment', () => append(ws, 'packages/nx-distro/src/plugin/requested-configuration.test.ts', '// a comment\n'));
    assert.deepEqual((await explain(ws, base, head, 'build', 'x86_64')).affected, []);
  });
});
