import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignLanes, criticalPath, durationMs, runTotals, type CountedTask } from './analysis';

const T0 = 1_764_000_000_000; // milliseconds since the epoch, as Nx's task.startTime
/** A task that ran from `start` to `end` seconds after T0. */
const task = (id: string, start: number | undefined, end: number | undefined, dependencies: string[] = [], extra: Partial<CountedTask> = {}): CountedTask => ({
  id,
  start: start === undefined ? undefined : T0 + start * 1000,
  end: end === undefined ? undefined : T0 + end * 1000,
  dependencies,
  cached: false,
  failed: false,
  ...extra,
});

test('the critical path follows the longest chain of dependencies, not the longest task', () => {
  const tasks = [
    task('zlib:fetch', 0, 2),
    task('zlib:build:x86_64', 2, 22, ['zlib:fetch']),
    task('big:build:x86_64', 0, 25), // longest single task, but no chain through it is longer
    task('dropbear:build:x86_64', 22, 52, ['zlib:build:x86_64', 'dropbear:fetch']),
    task('dropbear:fetch', 0, 1),
    task('system:build:x86_64', 52, 53, ['dropbear:build:x86_64', 'big:build:x86_64']),
  ];
  const cp = criticalPath(tasks);
  assert.deepEqual(cp.path, ['zlib:fetch', 'zlib:build:x86_64', 'dropbear:build:x86_64', 'system:build:x86_64']);
  assert.equal(cp.durationMs, (2 + 20 + 30 + 1) * 1000);
});

test('the critical path uses durations, not when tasks happened to start (a task queued for a worker waits off the path)', () => {
  // b waited 100 s for a free worker: the path is a+b's durations, 2 s, not the 102 s until b ended.
  const cp = criticalPath([task('a', 0, 1), task('b', 101, 102, ['a']), task('c', 0, 1.5)]);
  assert.deepEqual(cp.path, ['a', 'b']);
  assert.equal(cp.durationMs, 2000);
});

test('cache hits count with their near-zero restore times; skipped tasks and unknown dependencies are left out', () => {
  const tasks = [
    task('zlib:build:x86_64', 0, 0.004, [], { cached: true }),
    task('lua:build:x86_64', 0, 0.003, [], { cached: true }),
    task('dropbear:build:x86_64', 0.01, 40.01, ['zlib:build:x86_64', 'not-in-this-run:build']),
    task('broken:build:x86_64', 0.01, 3.01, ['zlib:build:x86_64'], { failed: true }),
    task('system:build:x86_64', undefined, undefined, ['dropbear:build:x86_64', 'broken:build:x86_64']),
  ];
  const cp = criticalPath(tasks);
  assert.deepEqual(cp.path, ['zlib:build:x86_64', 'dropbear:build:x86_64']);
  assert.equal(cp.durationMs, 40_004);
  const totals = runTotals(tasks, T0 - 3000, T0 + 41_000, 3);
  assert.equal(totals.workMs, 4 + 3 + 40_000 + 3000);
  assert.equal(totals.criticalPathMs, 40_004);
  assert.equal(totals.boundMs, 40_004);
  assert.equal(totals.boundBy, 'critical path');
  assert.equal(totals.wallMs, 44_000);
  assert.equal(totals.spanMs, 40_010);
  assert.deepEqual([totals.tasks, totals.cacheHits, totals.ran, totals.failed, totals.notRun], [5, 2, 2, 1, 1]);
});

test('the bound is work / jobs when the work is wide: four independent 10 s tasks on 2 workers take at least 20 s', () => {
  const tasks = ['a', 'b', 'c', 'd'].map((id, i) => task(id, i < 2 ? 0 : 10, i < 2 ? 10 : 20));
  const totals = runTotals(tasks, T0, T0 + 20_500, 2);
  assert.equal(totals.criticalPathMs, 10_000);
  assert.equal(totals.workMs, 40_000);
  assert.equal(totals.boundMs, 20_000);
  assert.equal(totals.boundBy, 'work / jobs');
  assert.equal(runTotals(tasks, T0, T0 + 20_500, 8).boundMs, 10_000, 'with enough workers the critical path is the bound');
  assert.equal(runTotals(tasks, T0, T0 + 20_500, 0).jobs, 1, 'never fewer than one worker');
});

test('ties are broken by task id, so the same run gives the same path', () => {
  const tasks = [task('b', 0, 5), task('a', 0, 5), task('z', 5, 6, ['b', 'a'])];
  assert.deepEqual(criticalPath(tasks).path, ['a', 'z']);
  assert.deepEqual(criticalPath([...tasks].reverse()).path, ['a', 'z']);
  assert.deepEqual(criticalPath([task('y', 0, 1), task('x', 0, 1)]).path, ['x']);
});

test('no tasks, no path; a cycle is an error naming its tasks', () => {
  assert.deepEqual(criticalPath([]), { path: [], durationMs: 0 });
  assert.equal(runTotals([], T0, T0 + 100, 3).boundMs, 0);
  assert.throws(() => criticalPath([task('a', 0, 1, ['b']), task('b', 1, 2, ['a']), task('c', 0, 1)]), /cycle through a, b$/);
});

test('a duration is never negative and is 0 without timings', () => {
  assert.equal(durationMs({ start: 10, end: 5 }), 0);
  assert.equal(durationMs({ start: 10 }), 0);
  assert.equal(durationMs({ start: 10, end: 25 }), 15);
});

test("lanes: the lowest free worker when a task starts, as Nx's slots; a bulk of cache hits shares one", () => {
  const lanes = assignLanes([
    task('a', 0, 10),
    task('b', 0, 4),
    task('c', 4, 6), // b's lane is free again at 4 (end == start)
    task('d', 5, 8), // a and c busy: a third lane
    task('e', 10, 13), // the lowest free one at 10 is a's
    // three cache hits restored together (same start and end), and a later one
    task('h1', 12, 12.001, [], { cached: true }),
    task('h2', 12, 12.001, [], { cached: true }),
    task('h3', 12, 12.001, [], { cached: true }),
    task('h4', 12.5, 12.501, [], { cached: true }),
    task('skipped', undefined, undefined),
  ]);
  assert.deepEqual(Object.fromEntries(lanes), { a: 0, b: 1, c: 1, d: 2, e: 0, h1: 1, h2: 1, h3: 1, h4: 1 });
});

test('lanes: two tasks that start and end in the same millisecond still get two lanes', () => {
  const lanes = assignLanes([task('x', 1, 1), task('y', 1, 1)]);
  assert.deepEqual(Object.fromEntries(lanes), { x: 0, y: 1 });
});
