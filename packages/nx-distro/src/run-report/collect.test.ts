import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ProjectGraph } from '@nx/devkit';
import { stepEndLine } from './build-log';
import { commandTaskGraph } from './command-graph';
import { collectRun, nxParallelism, taskKind, type RunContextInput, type TaskResultInput } from './collect';

/** A project graph shaped like nx-distro's: recipes with `fetch` and `build` (build depends on its fetch and its makedepends' builds), and `system:build`. */
function graph(): ProjectGraph {
  const configurations = { x86_64: {}, aarch64: {} };
  const recipe = (name: string) => ({
    name,
    type: 'lib' as const,
    data: {
      name,
      root: `recipes/${name}`,
      targets: {
        fetch: { executor: 'nx-distro:fetch' },
        build: { executor: 'nx-distro:cross', dependsOn: ['fetch', '^build'], configurations, defaultConfiguration: 'x86_64', outputs: [`{workspaceRoot}/dist/{options.systemTarget}/packages/${name}`], options: { systemTarget: 'x86_64' } },
      },
    },
  });
  const system = {
    name: 'system',
    type: 'lib' as const,
    data: { name: 'system', root: 'targets', targets: { build: { executor: 'nx-distro:repository', dependsOn: [{ projects: ['zlib', 'zinfo', 'zbroken'], target: 'build', params: 'forward' }], configurations, defaultConfiguration: 'x86_64' } } },
  };
  const edge = (source: string, target: string) => ({ source, target, type: 'static' });
  return {
    nodes: { zlib: recipe('zlib'), zinfo: recipe('zinfo'), zbroken: recipe('zbroken'), system },
    dependencies: { zlib: [], zinfo: [edge('zinfo', 'zlib')], zbroken: [edge('zbroken', 'zlib')], system: [edge('system', 'zlib'), edge('system', 'zinfo'), edge('system', 'zbroken')] },
    externalNodes: {},
  } as unknown as ProjectGraph;
}

const argv = (...args: string[]) => ['/usr/bin/node', '/ws/node_modules/nx/bin/nx.js', ...args];

test("Nx's task graph of run-many, run and the infix form, rebuilt with Nx's own parsing and planning", () => {
  const g = graph();
  const many = commandTaskGraph(argv('run-many', '-t', 'build', '--parallel=2', '--output-style=static'), '/ws', g, {})!;
  assert.deepEqual(Object.keys(many.tasks).sort(), ['system:build:x86_64', 'zbroken:build:x86_64', 'zbroken:fetch', 'zinfo:build:x86_64', 'zinfo:fetch', 'zlib:build:x86_64', 'zlib:fetch']);
  assert.deepEqual([...many.dependencies['zinfo:build:x86_64']].sort(), ['zinfo:fetch', 'zlib:build:x86_64']);
  assert.deepEqual([...many.dependencies['system:build:x86_64']].sort(), ['zbroken:build:x86_64', 'zinfo:build:x86_64', 'zlib:build:x86_64']);
  const excluded = commandTaskGraph(argv('run-many', '-t', 'build', '-c', 'aarch64', '--exclude', 'zinfo,zbroken,system'), '/ws', g, {})!;
  assert.deepEqual(Object.keys(excluded.tasks).sort(), ['zlib:build:aarch64', 'zlib:fetch']);
  const one = commandTaskGraph(argv('run', 'zinfo:build:aarch64'), '/ws', g, {})!;
  assert.deepEqual(Object.keys(one.tasks).sort(), ['zinfo:build:aarch64', 'zinfo:fetch', 'zlib:build:aarch64', 'zlib:fetch']);
  const infix = commandTaskGraph(argv('build', 'zinfo', '--configuration=aarch64'), '/ws', g, {})!;
  assert.deepEqual(Object.keys(infix.tasks).sort(), Object.keys(one.tasks).sort());
  assert.equal(commandTaskGraph(argv('affected', '-t', 'build'), '/ws', g, {}), undefined, 'another command: none');
  assert.throws(() => commandTaskGraph(argv('run', 'nope:build'), '/ws', g, {}));
});

const root = mkdtempSync(path.join(tmpdir(), 'run-report-collect-'));
after(() => rmSync(root, { recursive: true, force: true }));
const T0 = 1_764_000_000_000;

test('a run: Nx timings and statuses, dependencies, the tasks that never started, build steps of the builds that ran', () => {
  // zinfo's build ran with three steps; zbroken's failed; zlib's came from the cache with a log of an earlier run.
  const write = (rel: string, text: string, mtime: number) => {
    const f = path.join(root, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    utimesSync(f, mtime / 1000, mtime / 1000);
  };
  write('dist/x86_64/packages/zinfo/build.log', ['==> prepare\n', stepEndLine('prepare', T0 + 5000, T0 + 5100, 0), '==> build\n', stepEndLine('build', T0 + 5100, T0 + 6000, 0), '==> install\n', stepEndLine('install', T0 + 6000, T0 + 6200, 0)].join(''), T0 + 6300);
  write('dist/x86_64/packages/zbroken/build.log', ['==> build\n', stepEndLine('build', T0 + 5000, T0 + 5200, 3)].join(''), T0 + 5200);
  write('dist/x86_64/packages/zlib/build.log', ['==> build\n', stepEndLine('build', T0 - 90_000, T0 - 60_000, 0)].join(''), T0 + 1000);
  const result = (id: string, status: string, start?: number, end?: number): TaskResultInput => {
    const [project, target, configuration] = id.split(':');
    return {
      task: { id, target: { project, target, ...(configuration ? { configuration } : {}) }, outputs: [`dist/x86_64/packages/${project}`], ...(start === undefined ? {} : { startTime: T0 + start, endTime: T0 + end! }) },
      status,
    };
  };
  const results = [
    result('zlib:fetch', 'local-cache', 0, 10),
    result('zinfo:fetch', 'success', 0, 3000),
    result('zbroken:fetch', 'success', 0, 2000),
    result('zlib:build:x86_64', 'local-cache', 1000, 1010),
    result('zbroken:build:x86_64', 'failure', 4000, 5300),
    result('zinfo:build:x86_64', 'success', 4000, 6400),
  ];
  const context: RunContextInput = {
    workspaceRoot: root,
    argv: argv('run-many', '-t', 'build', '--parallel=2'),
    nxJsonConfiguration: {},
    startTime: T0 - 2000,
    endTime: T0 + 7000,
    taskResults: Object.fromEntries(results.map((r) => [r.task.id, r])),
  };
  const run = collectRun(context, graph(), root);
  assert.equal(run.command, 'run-many -t build --parallel=2');
  assert.equal(run.jobs, 2);
  assert.deepEqual(run.notes, []);
  const byId = Object.fromEntries(run.tasks.map((t) => [t.id, t]));
  assert.deepEqual(Object.keys(byId).sort(), ['system:build:x86_64', 'zbroken:build:x86_64', 'zbroken:fetch', 'zinfo:build:x86_64', 'zinfo:fetch', 'zlib:build:x86_64', 'zlib:fetch']);
  assert.deepEqual(byId['system:build:x86_64'], {
    id: 'system:build:x86_64', project: 'system', target: 'build', configuration: 'x86_64', executor: 'nx-distro:repository', kind: 'package',
    status: 'skipped', cached: false, failed: false, dependencies: ['zbroken:build:x86_64', 'zinfo:build:x86_64', 'zlib:build:x86_64'],
  }, 'never started: its dependency failed');
  assert.deepEqual(byId['zinfo:build:x86_64'].steps?.map((s) => s.phase), ['prepare', 'build', 'install']);
  assert.equal(byId['zinfo:build:x86_64'].log, 'dist/x86_64/packages/zinfo/build.log');
  assert.deepEqual(byId['zinfo:build:x86_64'].dependencies, ['zinfo:fetch', 'zlib:build:x86_64']);
  assert.deepEqual([byId['zinfo:build:x86_64'].start, byId['zinfo:build:x86_64'].end], [T0 + 4000, T0 + 6400]);
  assert.equal(byId['zinfo:build:x86_64'].kind, 'build');
  assert.deepEqual(byId['zbroken:build:x86_64'].steps, [{ phase: 'build', start: T0 + 5000, end: T0 + 5200, ok: false, exit: '3' }]);
  assert.equal(byId['zbroken:build:x86_64'].failed, true);
  assert.equal(byId['zlib:build:x86_64'].cached, true);
  assert.equal(byId['zlib:build:x86_64'].steps, undefined, "a cache hit's log is an earlier run's: no steps");
  assert.equal(byId['zlib:fetch'].kind, 'fetch');
  const reran = collectRun({ ...context, taskResults: { ...context.taskResults, 'zlib:build:x86_64': result('zlib:build:x86_64', 'success', 1000, 1010) } }, graph(), root);
  assert.equal(reran.tasks.find((t) => t.id === 'zlib:build:x86_64')!.steps, undefined, 'steps outside the task\'s own times are an earlier run\'s: none');

  // Without the project graph: the tasks with results only, no dependencies, said so.
  const bare = collectRun(context, undefined, root);
  assert.equal(bare.tasks.length, results.length);
  assert.ok(bare.tasks.every((t) => t.dependencies.length === 0 && t.kind === 'other'));
  assert.match(bare.notes[0], /project graph could not be read/);
  // A command whose task graph is not rebuilt: dependencies from the tasks that ran, the missing ones named in a note.
  const affected = collectRun({ ...context, argv: argv('affected', '-t', 'build') }, graph(), root);
  assert.equal(affected.tasks.length, results.length);
  assert.deepEqual(affected.tasks.find((t) => t.id === 'zinfo:build:x86_64')!.dependencies, ['zinfo:fetch', 'zlib:build:x86_64']);
  assert.match(affected.notes.join('\n'), /tasks that never started .* are not listed/);
});

test("Nx's parallelism: --parallel, its forms and nx.json, as Nx reads them", () => {
  const saved = process.env.NX_PARALLEL;
  delete process.env.NX_PARALLEL;
  try {
    assert.equal(nxParallelism(argv('run-many', '-t', 'build'), undefined), 3);
    assert.equal(nxParallelism(argv('run-many', '-t', 'build'), 5), 5);
    assert.equal(nxParallelism(argv('run-many', '-t', 'build', '--parallel=2'), 5), 2);
    assert.equal(nxParallelism(argv('run-many', '--parallel', '4', '-t', 'build'), undefined), 4);
    assert.equal(nxParallelism(argv('run-many', '-t', 'build', '--parallel=false'), 8), 1);
    assert.equal(nxParallelism(argv('run-many', '-t', 'build', '--parallel'), 8), 3);
    assert.equal(nxParallelism(argv('run-many', '-t', 'build', '--parallel', '--maxParallel=6'), undefined), 6);
    assert.equal(nxParallelism(argv('run', 'zlib:build', '--', '--parallel=9'), undefined), 3, 'after -- it is the executor\'s');
    process.env.NX_PARALLEL = '7';
    assert.equal(nxParallelism(argv('run-many', '-t', 'build'), 2), 7);
  } finally {
    if (saved === undefined) delete process.env.NX_PARALLEL;
    else process.env.NX_PARALLEL = saved;
  }
});

test("kinds by nx-distro's executors; any other is other", () => {
  assert.deepEqual(['nx-distro:fetch', 'nx-distro:native', 'nx-distro:repository', 'nx-distro:boot', 'nx-distro:reproduce', 'nx-distro:buildroot', 'nx:run-commands', undefined].map(taskKind), ['fetch', 'build', 'package', 'image', 'check', 'setup', 'other', 'other']);
});
