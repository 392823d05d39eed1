// The patch this repository carries for Nx (patches/nx+24.0.0.patch, applied by patch-package on
// `npm install`), six changes (docs/benchmarks-scale.md):
// - Nx's findMatchingProjects, called for every dependsOn entry that names `projects` while a
//   task graph is built, listed every project before looking exact names up, which made planning
//   cost tasks x projects;
// - `--graph=<file>.json` built the whole file as one string, longer than V8 allows for a
//   distribution-sized task graph ("Invalid string length"): it is written in pieces.
// - Nx's native walk reused a file's archived hash whenever its modification time was unchanged,
//   so a file replaced by one keeping the old time (cp -a, tar -x, rsync -a) kept its old hash: a
//   stale project graph and stale task hashes. Each walk records the files' (device, inode, size,
//   mtime, ctime) beside the archive, and a file whose mtime is the recorded one while anything
//   else differs drops the archive before the next walk (nx/src/utils/workspace-context.js).
// - a target's dependsOn is one list for every configuration: an entry may now name the
//   configurations of the depending task it is for (`configurations`), so system:toolchain waits
//   for musl and gcc's stages only for the targets that bootstrap them (create-task-graph.js).
// - a cold run planned each task that reads its dependencies' outputs on its own, with the whole
//   task graph (and the graph's fingerprint once per call): quadratic in the tasks (issue 23).
//   Every task is planned once, up front; the planner's deferred ones hash later from those plans
//   (nx/src/hasher/hash-task.js, native-task-hasher-impl.js).
// - the schedule rebuilt its graph of not-yet-scheduled tasks on every completion (every remaining
//   task): it is kept up to date in place (nx/src/tasks-runner/tasks-schedule.js).
// These tests check that the installed Nx carries the patch and that it answers what unpatched Nx
// answers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/workspace';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { WorkspaceContext, hashFile } = require('nx/src/native') as {
  WorkspaceContext: { fromArchive(root: string, dataDir: string): { allFileData(): Array<{ file: string; hash: string }> } };
  hashFile(file: string): string;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { dropStaleFilesArchive } = require('nx/src/utils/workspace-context') as {
  dropStaleFilesArchive?: (workspaceRoot: string, dataDir: string) => boolean;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findMatchingProjects } = require('nx/src/utils/find-matching-projects') as {
  findMatchingProjects: (patterns: string[], projects: Record<string, { name: string; type: string; data: { root: string; tags?: string[] } }>) => string[];
};

/** Projects `names`, in a proxy that counts how often every project is listed (`Object.keys`). */
function projectsOf(names: string[]) {
  const nodes = Object.fromEntries(names.map((n) => [n, { name: n, type: 'lib', data: { root: `recipes/${n}`, tags: n.startsWith('lib') ? ['library'] : [] } }]));
  const listings = { count: 0 };
  const proxy = new Proxy(nodes, {
    ownKeys(target) {
      listings.count++;
      return Reflect.ownKeys(target);
    },
  });
  return { proxy, listings };
}

describe('Nx patch: findMatchingProjects', () => {
  const names = ['zlib', 'libffi', 'libxml2', 'system', 'gcc', 'musl', 'xz'];

  it('resolves exact project names without listing every project', () => {
    const { proxy, listings } = projectsOf(names);
    assert.deepEqual(findMatchingProjects(['zlib', 'xz', 'zlib', 'system'], proxy), ['zlib', 'xz', 'system']);
    assert.equal(listings.count, 0, 'patches/nx+24.0.0.patch is not applied: run npm install (its postinstall runs patch-package)');
  });

  it('answers patterns, tags, exclusions and unknown names as before (listing the projects)', () => {
    const { proxy, listings } = projectsOf(names);
    assert.deepEqual(findMatchingProjects(['lib*'], proxy).sort(), ['libffi', 'libxml2']);
    assert.deepEqual(findMatchingProjects(['tag:library'], proxy).sort(), ['libffi', 'libxml2']);
    assert.deepEqual(findMatchingProjects(['!tag:library'], proxy).sort(), ['gcc', 'musl', 'system', 'xz', 'zlib']);
    assert.deepEqual(findMatchingProjects(['zlib', '!zlib'], proxy), []);
    assert.deepEqual(findMatchingProjects(['zlib', 'nonexistent'], proxy), ['zlib']);
    assert.deepEqual(findMatchingProjects([], proxy), []);
    assert.ok(listings.count >= 4, 'the general path still lists the projects');
  });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeJsonFileInPieces } = require('nx/src/command-line/graph/graph') as {
  writeJsonFileInPieces?: (path: string, value: unknown) => void;
};

describe('Nx patch: --graph=<file>.json written in pieces', () => {
  it('writes what JSON.stringify(value, null, 2) writes', (t) => {
    assert.equal(typeof writeJsonFileInPieces, 'function', 'patches/nx+24.0.0.patch is not applied: run npm install (its postinstall runs patch-package)');
    const dir = mkdtempSync(join(tmpdir(), 'nx-distro-nx-patch-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'graph.json');
    const samples: unknown[] = [
      {},
      [],
      { graph: { nodes: { zlib: { name: 'zlib', type: 'lib', data: { root: 'recipes/zlib', targets: {} } } }, dependencies: { zlib: [] } }, tasks: { roots: ['zlib:build:aarch64'], tasks: {}, dependencies: { 'zlib:build:aarch64': [] } }, taskPlans: { 'zlib:build:aarch64': ['env:CC', 'recipes/zlib/recipe.yaml'] } },
      { skipped: undefined, fn: () => 1, list: [1, undefined, () => 1, null], empty: { a: {}, b: [] }, deep: { a: { b: { c: [1, { d: 'line\nbreak \u2028' }] } } }, 'quo"te': 'é', when: new Date(0), yes: true },
      [[[[1, 2]]], 'x'],
    ];
    for (const sample of samples) {
      writeJsonFileInPieces!(file, sample);
      assert.equal(readFileSync(file, 'utf8'), JSON.stringify(sample, null, 2));
    }
  });

  it('writes a graph longer than V8 strings may be, whole, under the final name only when done', (t) => {
    assert.equal(typeof writeJsonFileInPieces, 'function', 'patches/nx+24.0.0.patch is not applied: run npm install (its postinstall runs patch-package)');
    const dir = mkdtempSync(join(tmpdir(), 'nx-distro-nx-patch-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'graph.json');
    // 520 plans of 1 MiB each (one string shared, so the value itself is small): 545 MB of JSON,
    // past V8's longest string (2^29 - 24 characters), which JSON.stringify cannot return.
    const plan = 'p'.repeat(1 << 20);
    const taskPlans: Record<string, string> = {};
    for (let i = 0; i < 520; i++) taskPlans[`pkg${i}:build`] = plan;
    const members = Object.keys(taskPlans).map((key) => `\n    ${JSON.stringify(key)}: `.length + plan.length + 2);
    const expectedSize = '{\n  "taskPlans": {'.length + members.reduce((sum, size) => sum + size, 0) + members.length - 1 + '\n  }\n}'.length;
    assert.ok(expectedSize > 2 ** 29 - 24);
    writeJsonFileInPieces!(file, { taskPlans });
    assert.equal(statSync(file).size, expectedSize);
    const fd = openSync(file, 'r');
    const expectedHead = '{\n  "taskPlans": {\n    "pkg0:build": "pppp';
    const expectedTail = 'ppp"\n  }\n}';
    const head = Buffer.alloc(expectedHead.length);
    const tail = Buffer.alloc(expectedTail.length);
    readSync(fd, head, 0, head.length, 0);
    readSync(fd, tail, 0, tail.length, expectedSize - tail.length);
    closeSync(fd);
    assert.equal(head.toString(), expectedHead);
    assert.equal(tail.toString(), expectedTail);
    assert.deepEqual(readdirSync(dir), ['graph.json'], 'no temporary file left beside it');
  });
});

/**
 * Runs, in a process of its own (the workspace context is module state), Nx's workspace context
 * on `root` without the daemon, and returns each file's hash as Nx has it.
 */
function nxFileHashes(root: string, dataDir: string): Record<string, string> {
  const script = `const c = require('nx/src/utils/workspace-context');
c.getAllFileDataInContext(process.argv[1]).then((d) => process.stdout.write(JSON.stringify(Object.fromEntries(d.map((f) => [f.file, f.hash])))));`;
  const out = execFileSync(process.execPath, ['-e', script, root], {
    cwd: REPO_ROOT,
    env: { ...process.env, NX_DAEMON: 'false', NX_WORKSPACE_DATA_DIRECTORY: dataDir },
    encoding: 'utf8',
  });
  return JSON.parse(out) as Record<string, string>;
}

/** Replaces `file` by one with `text`, keeping its modification time (what cp -a, tar -x, rsync -a do). */
function replaceKeepingMtime(file: string, text: string): void {
  const before = statSync(file, { bigint: true });
  writeFileSync(`${file}.new`, text);
  execFileSync('touch', ['-r', file, `${file}.new`]);
  renameSync(`${file}.new`, file);
  assert.equal(statSync(file, { bigint: true }).mtimeNs, before.mtimeNs);
}

describe('Nx patch: a file replaced with its old modification time is hashed again', () => {
  // Nx's native walk reuses the archived hash of a file whose mtime is unchanged, whatever its
  // size: a recipe replaced by `cp -a` kept its old hash, so the graph and the tasks' hashes were stale.
  for (const [name, text] of [
    ['same size', 'name: zz-two\n'],
    ['another size', 'not: [valid\n'],
  ] as const) {
    it(`${name}: the new content's hash, in the next run and in the archive plugin workers load`, (t) => {
      const root = mkdtempSync(join(tmpdir(), 'nx-distro-nx-patch-'));
      t.after(() => rmSync(root, { recursive: true, force: true }));
      const dataDir = mkdtempSync(join(tmpdir(), 'nx-distro-nx-patch-data-'));
      t.after(() => rmSync(dataDir, { recursive: true, force: true }));
      const file = join(root, 'recipes', 'zz', 'recipe.yaml');
      mkdirSync(join(root, 'recipes', 'zz'), { recursive: true });
      writeFileSync(file, 'name: zz-one\n');
      writeFileSync(join(root, 'recipes', 'zz', 'other.patch'), 'unchanged\n');
      // an mtime well before the walk: the native walk then trusts it (no racy window)
      execFileSync('touch', ['-d', '2020-01-01 00:00:00', file]);
      const first = nxFileHashes(root, dataDir);
      assert.equal(first['recipes/zz/recipe.yaml'], hashFile(file));
      replaceKeepingMtime(file, text);
      const second = nxFileHashes(root, dataDir);
      assert.equal(second['recipes/zz/recipe.yaml'], hashFile(file), 'patches/nx+24.0.0.patch is not applied: run npm install (its postinstall runs patch-package)');
      assert.notEqual(second['recipes/zz/recipe.yaml'], first['recipes/zz/recipe.yaml']);
      assert.equal(second['recipes/zz/other.patch'], first['recipes/zz/other.patch']);
      // a plugin worker loads the archive the walk wrote instead of walking
      assert.equal(WorkspaceContext.fromArchive(root, dataDir).allFileData().find((f) => f.file === 'recipes/zz/recipe.yaml')?.hash, hashFile(file));
      assert.deepEqual(nxFileHashes(root, dataDir), second);
    });
  }

  it('keeps the archive for files that did not change or changed with a new mtime', (t) => {
    assert.equal(typeof dropStaleFilesArchive, 'function', 'patches/nx+24.0.0.patch is not applied: run npm install (its postinstall runs patch-package)');
    const root = mkdtempSync(join(tmpdir(), 'nx-distro-nx-patch-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const dataDir = mkdtempSync(join(tmpdir(), 'nx-distro-nx-patch-data-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const file = join(root, 'a.txt');
    writeFileSync(file, 'one\n');
    execFileSync('touch', ['-d', '2020-01-01 00:00:00', file]);
    nxFileHashes(root, dataDir);
    assert.equal(dropStaleFilesArchive!(root, dataDir), false, 'nothing changed');
    writeFileSync(file, 'two\n');
    assert.equal(dropStaleFilesArchive!(root, dataDir), false, 'a new mtime: the walk hashes the file again itself');
    nxFileHashes(root, dataDir);
    execFileSync('touch', ['-d', '2020-01-01 00:00:00', file]);
    nxFileHashes(root, dataDir);
    replaceKeepingMtime(file, 'three\n');
    assert.equal(dropStaleFilesArchive!(root, dataDir), true, 'same mtime, new ctime and inode');
    assert.equal(dropStaleFilesArchive!(root, dataDir), false, 'the archive is gone: nothing to drop');
  });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createTaskGraph } = require('nx/src/tasks-runner/create-task-graph') as {
  createTaskGraph: (graph: unknown, extra: object, projects: string[], targets: string[], configuration: string | undefined, overrides: object) => { tasks: Record<string, unknown>; dependencies: Record<string, string[]> };
};

describe('Nx patch: a dependsOn entry for some configurations only', () => {
  const target = (dependsOn: unknown[] = []) => ({ executor: 'nx:noop', dependsOn, configurations: { a: {}, b: {} }, defaultConfiguration: 'a' });
  const node = (name: string, targets: Record<string, unknown>) => ({ name, type: 'lib', data: { root: name, targets } });
  const graph = {
    nodes: {
      app: node('app', { build: target([{ target: 'build', projects: ['tool'], configurations: ['b'] }, { target: 'build', projects: ['lib'] }]) }),
      tool: node('tool', { build: target() }),
      lib: node('lib', { build: target() }),
    },
    dependencies: { app: [], tool: [], lib: [] },
  };
  const edges = (configuration: string | undefined) => {
    const g = createTaskGraph(graph, {}, ['app'], ['build'], configuration, {});
    return Object.fromEntries(Object.entries(g.dependencies).map(([k, v]) => [k, v.map((d: string | { id: string }) => (typeof d === 'string' ? d : d.id)).sort()]));
  };

  it('is left out for a task of another configuration, kept for its own, and entries without the field apply to all', () => {
    assert.deepEqual(edges('a'), { 'app:build:a': ['lib:build:a'], 'lib:build:a': [] }, 'patches/nx+24.0.0.patch is not applied: run npm install (its postinstall runs patch-package)');
    assert.deepEqual(edges('b'), { 'app:build:b': ['lib:build:b', 'tool:build:b'], 'lib:build:b': [], 'tool:build:b': [] });
    // no configuration asked for: the default one's (a) decides
    assert.deepEqual(edges(undefined), edges('a'));
  });
});

describe('Nx patch: a cold run plans every task once', () => {
  it('hashes every task, the deferred ones after their dependencies wrote outputs, with one planning pass, to the hashes unpatched Nx computes one task at a time', (t) => {
    const root = mkdtempSync(join(tmpdir(), 'nx-distro-hash-plans-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    // The scale benchmark's baseline plugin (one project per recipe; each build depends on its
    // fetch and its makedepends' builds, and reads their outputs) on 40 recipes.
    execFileSync('ln', ['-s', join(REPO_ROOT, 'node_modules'), join(root, 'node_modules')]);
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'hash-plans', private: true }));
    writeFileSync(join(root, 'nx.json'), JSON.stringify({ plugins: ['./direct-plugin.js'] }));
    writeFileSync(join(root, 'direct-plugin.js'), readFileSync(join(REPO_ROOT, 'tools/bench/scale/direct-plugin.js')));
    mkdirSync(join(root, 'targets'));
    writeFileSync(join(root, 'targets/aarch64.yaml'), 'arch: aarch64\n');
    for (let i = 0; i < 40; i++) {
      const makedepends = [...new Set([i - 1, Math.floor(i / 2), Math.floor(i / 3)].filter((d) => d >= 0 && d < i))].map((d) => `pkg${d}`);
      mkdirSync(join(root, `recipes/all/pkg${i}`), { recursive: true });
      writeFileSync(join(root, `recipes/all/pkg${i}/recipe.yaml`), `name: pkg${i}\nmakedepends: [${makedepends.join(', ')}]\n`);
    }
    const out = execFileSync(process.execPath, [join(REPO_ROOT, 'test/helpers/hash-plans.cjs'), 'aarch64'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_WORKSPACE_DATA_DIRECTORY: join(root, '.nx/workspace-data'), NX_CACHE_DIRECTORY: join(root, '.nx/cache') },
    });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { tasks: number; deferred: number; plannerCalls: number; referencePlannerCalls: number; mismatches: string[] };
    assert.equal(r.tasks, 80, out);
    assert.equal(r.deferred, 39, 'every build but the first reads a dependency build\'s outputs');
    assert.equal(r.plannerCalls, 1, `one planning pass for the whole run (unpatched Nx: 1 + one per deferred task); ${out}`);
    assert.equal(r.referencePlannerCalls, 80, 'the reference plans each task on its own');
    assert.deepEqual(r.mismatches, [], 'every hash equals the one-task-at-a-time hash');
  });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TasksSchedule } = require('nx/src/tasks-runner/tasks-schedule') as {
  TasksSchedule: new (projectGraph: unknown, projects: unknown, taskGraph: unknown, options: object) => {
    scheduleNextTasks(): Promise<void>;
    complete(ids: string[]): void;
    hasTasks(): boolean;
    getAllScheduledTasks(): { scheduledTasks: string[] };
    nextTask(): { id: string } | null;
    notScheduledTaskGraph: SimpleTaskGraph;
  };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { removeTasksFromTaskGraph } = require('nx/src/tasks-runner/utils') as { removeTasksFromTaskGraph: (graph: SimpleTaskGraph, ids: string[]) => SimpleTaskGraph };
interface SimpleTaskGraph {
  tasks: Record<string, unknown>;
  dependencies: Record<string, { id: string }[]>;
  continuousDependencies: Record<string, { id: string }[]>;
  roots: string[];
}

describe('Nx patch: the schedule keeps its not-scheduled tasks up to date in place', () => {
  it('holds, after every scheduling and completion of a run, what rebuilding it with removeTasksFromTaskGraph gives', async () => {
    // 60 projects, each build depending on up to three earlier ones' builds, run two at a time
    // with completions in a shuffled order.
    const random = (() => {
      let seed = 7;
      return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    })();
    const nodes: Record<string, unknown> = {};
    const dependencies: Record<string, unknown[]> = {};
    for (let i = 0; i < 60; i++) {
      const deps = [...new Set([0, 1, 2].map(() => Math.floor(random() * i)).filter((d) => d < i))].map((d) => `p${d}`);
      nodes[`p${i}`] = { name: `p${i}`, type: 'lib', data: { root: `p${i}`, targets: { build: { executor: 'nx:noop', dependsOn: deps.length ? [{ target: 'build', projects: deps }] : [] } } } };
      dependencies[`p${i}`] = [];
    }
    const graph = { nodes, dependencies };
    const projects = Object.fromEntries(Object.entries(nodes).map(([k, v]) => [k, (v as { data: unknown }).data]));
    const taskGraph = createTaskGraph(graph, {}, Object.keys(nodes), ['build'], undefined, {}) as unknown as SimpleTaskGraph;
    const schedule = new TasksSchedule(graph, projects, taskGraph, {});
    let shadow: SimpleTaskGraph = taskGraph;
    const inPlace = schedule.notScheduledTaskGraph;
    const ids = (g: SimpleTaskGraph) => ({ tasks: Object.keys(g.tasks), roots: g.roots, dependencies: Object.fromEntries(Object.entries(g.dependencies).map(([k, v]) => [k, v.map((d) => d.id)])) });
    const running: string[] = [];
    let steps = 0;
    while (schedule.hasTasks() || running.length) {
      const before = new Set(schedule.getAllScheduledTasks().scheduledTasks);
      await schedule.scheduleNextTasks();
      const scheduled = schedule.getAllScheduledTasks().scheduledTasks.filter((id) => !before.has(id));
      if (scheduled.length) shadow = removeTasksFromTaskGraph(shadow, scheduled);
      assert.deepEqual(ids(schedule.notScheduledTaskGraph), ids(shadow), `after scheduling ${scheduled.join(' ')}`);
      for (let t = schedule.nextTask(); t && running.length < 2; t = running.length < 2 ? schedule.nextTask() : null) running.push(t.id);
      const done = running.splice(Math.floor(random() * running.length), 1);
      schedule.complete(done);
      shadow = removeTasksFromTaskGraph(shadow, done);
      assert.deepEqual(ids(schedule.notScheduledTaskGraph), ids(shadow), `after completing ${done.join(' ')}`);
      assert.ok(++steps < 1000, 'the run ends');
    }
    assert.equal(Object.keys(shadow.tasks).length, 0);
    assert.equal(schedule.notScheduledTaskGraph, inPlace, 'one object, kept up to date: patches/nx+24.0.0.patch is not applied otherwise (npm install)');
  });
});
