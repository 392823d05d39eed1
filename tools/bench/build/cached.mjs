#!/usr/bin/env node
// Benchmark of a fully cached build: `nx run-many -t build -c aarch64` when every task's output
// is already in the Nx cache (the second run of a developer, or CI with a warm cache), reported
// as total wall time, number of tasks and time per task (NX_PROFILE, Nx's Chrome trace of task
// starts and durations).
//
// Baseline, in the same workspace and the same run: Nx's own cost for the same task graph made
// of trivial cached targets. The benchmark reads the real task graph (`--graph=<file>`) and
// writes one project per task, `bench-trivial/<project>--<target>/project.json`, with a target
// `trivial` (nx:run-commands writing one small file, cache: true, inputs: its project.json,
// outputs: that file) depending on the twins of the real task's dependencies. So both runs
// schedule the same DAG through the same Nx with every task a cache hit, and the difference is
// what nx-distro's tasks add: their inputs (recipe folders, the target files, the plugin's code
// and the toolchain identity, two runtime inputs that spawn node) and outputs (package folders
// to check or restore). `nx show projects` is timed too: the fixed part of every nx command
// (node start, plugins, project graph from warm workspace data), present in both.
// The three commands alternate; prints the medians and the ratio; never asserts on time.
//
//   node tools/bench/build/cached.mjs [--repeat=5] [--target=aarch64] [--store=tmp/bench-distfiles]
//       [--dir=tmp/bench-build-cached] [--layout=repo|tests]
//
// The first step builds everything once (cold: minutes; reused if a previous run left the
// folder with KEEP=1). KEEP=1 keeps the work folder.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { arg, check, hostLine, median, nx, root, sec, workspace } from './common.mjs';

const repeat = Number(arg('repeat', '5'));
const target = arg('target', 'aarch64');
const store = path.resolve(root, arg('store', 'tmp/bench-distfiles'));
const work = path.resolve(root, arg('dir', 'tmp/bench-build-cached'));

const layout = arg('layout', 'repo');
const ws = workspace(path.join(work, 'ws'), { store, reuse: true, layout });
const real = ['run-many', '-t', 'build', '-c', target];
const trivial = ['run-many', '-t', 'trivial'];
const show = ['show', 'projects'];
const CACHED = /Nx read the output from the cache instead of running the command for (\d+) out of (\d+) tasks/;

console.log(hostLine());
let s = performance.now();
const fill = check(await nx(ws, [...real, '--parallel=2']), 'the first (filling) run');
console.log(`first run (builds what the cache lacks): ${sec(performance.now() - s)} s${CACHED.test(fill.all) ? ` (${CACHED.exec(fill.all)[1]} of ${CACHED.exec(fill.all)[2]} tasks were cached already)` : ''}`);

// The real task graph, and one trivial cached twin per task with the same dependencies.
rmSync(path.join(ws.dir, 'bench-trivial'), { recursive: true, force: true });
check(await nx(ws, [...real, '--graph=bench-tasks.json']), 'nx run-many --graph');
const graph = JSON.parse(readFileSync(path.join(ws.dir, 'bench-tasks.json'), 'utf8'));
const taskGraph = graph.tasks ?? graph;
const taskIds = Object.keys(taskGraph.tasks);
const twin = (id) => `trivial-${id.replace(/[^A-Za-z0-9]+/g, '-')}`;
for (const id of taskIds) {
  const dir = path.join('bench-trivial', twin(id));
  mkdirSync(path.join(ws.dir, dir), { recursive: true });
  const deps = (taskGraph.dependencies[id] ?? []).map((d) => twin(typeof d === 'string' ? d : d.id));
  writeFileSync(path.join(ws.dir, dir, 'project.json'), JSON.stringify({
    name: twin(id),
    root: dir,
    targets: {
      trivial: {
        executor: 'nx:run-commands',
        options: { command: `echo ${id} > ${dir}/out.txt` },
        cache: true,
        inputs: ['{projectRoot}/project.json'],
        outputs: ['{projectRoot}/out.txt'],
        ...(deps.length ? { dependsOn: [{ target: 'trivial', projects: deps }] } : {}),
      },
    },
  }, null, 2));
}
// Untimed: fill the trivial cache, refresh the workspace data after the new projects.
check(await nx(ws, trivial), 'trivial warm-up');
check(await nx(ws, trivial), 'trivial warm-up');
check(await nx(ws, real), 'cached warm-up');
console.log(`${taskIds.length} tasks in \`nx ${real.join(' ')}\` (${taskIds.filter((t) => t.includes(':fetch')).length} fetch, ${taskIds.filter((t) => !t.includes(':fetch')).length} build); the trivial twin graph has as many, with the same edges`);

const runs = { show: [], trivial: [], real: [], firstStart: [], cpu: [] };
const perTask = new Map();
const perTwin = new Map();
for (let i = 0; i < repeat; i++) {
  const a = check(await nx(ws, show), 'nx show projects');
  const b = check(await nx(ws, trivial, { profile: 'bench-trivial.json' }), 'trivial run');
  const c = check(await nx(ws, real, { profile: 'bench-profile.json' }), 'cached run');
  const hit = CACHED.exec(c.all);
  if (!hit || hit[1] !== hit[2]) console.log(`warning: not every task came from the cache: ${hit ? `${hit[1]} of ${hit[2]}` : 'no cache line'}`);
  runs.show.push(a.ms);
  runs.trivial.push(b.ms);
  runs.real.push(c.ms);
  if (c.trace?.length) runs.firstStart.push(Math.min(...c.trace.map((e) => e.startMs)));
  for (const e of c.trace ?? []) perTask.set(e.task, [...(perTask.get(e.task) ?? []), e]);
  for (const e of b.trace ?? []) perTwin.set(e.task, [...(perTwin.get(e.task) ?? []), e]);
  console.log(`rep ${i + 1}: show projects ${sec(a.ms)} s (CPU ${sec(a.cpuMs)}); trivial twins ${sec(b.ms)} s (CPU ${sec(b.cpuMs)}); nx-distro cached ${sec(c.ms)} s (CPU ${sec(c.cpuMs)}; ${c.trace?.length ?? '?'} tasks in the trace)`);
  runs.cpu.push([a.cpuMs, b.cpuMs, c.cpuMs]);
}

const n = taskIds.length;
const [mS, mT, mR] = [median(runs.show), median(runs.trivial), median(runs.real)];
console.log(`nx show projects (fixed cost):              median ${sec(mS)} s  (${runs.show.map(sec).join(' ')})`);
console.log(`trivial cached twins, ${n} tasks (baseline):  median ${sec(mT)} s  (${runs.trivial.map(sec).join(' ')}); ${((mT - mS) / n).toFixed(0)} ms per task above show projects`);
console.log(`nx-distro cached build, ${n} tasks:           median ${sec(mR)} s  (${runs.real.map(sec).join(' ')}); ${((mR - mS) / n).toFixed(0)} ms per task above show projects, ${(mR / n).toFixed(0)} ms per task in all`);
console.log(`ratio nx-distro cached / trivial twins: ${(mR / mT).toFixed(2)}x; per task above the fixed cost: ${((mR - mS) / (mT - mS)).toFixed(2)}x`);
console.log(`CPU time (user+sys, process tree), medians: show projects ${sec(median(runs.cpu.map((c) => c[0])))} s, trivial twins ${sec(median(runs.cpu.map((c) => c[1])))} s, nx-distro cached ${sec(median(runs.cpu.map((c) => c[2])))} s`);

// Nx hands cached tasks to its life cycles in batches (every task whose dependencies are done):
// the trace gives each task of a batch the batch's start and end, so per-task figures are
// batch time and the batch is the unit that means something.
console.log('per task (NX_PROFILE; median ms from task start to end, cache status; tasks of one batch share its time):');
console.log(`  ${'task'.padEnd(36)} ${'nx-distro'.padStart(9)} ${'twin'.padStart(7)}  batch  status`);
const batchOf = new Map();
const firstRep = [...perTask].map(([task, es]) => [task, es[0]]).sort((x, y) => x[1].startMs - y[1].startMs);
for (const [task, e] of firstRep) {
  const key = `${e.startMs.toFixed(1)}/${e.ms.toFixed(1)}`;
  if (!batchOf.has(key)) batchOf.set(key, { n: batchOf.size + 1, tasks: [] });
  batchOf.get(key).tasks.push(task);
}
const batchNo = new Map([...batchOf.values()].flatMap((b) => b.tasks.map((t) => [t, b.n])));
for (const [task, es] of perTask) {
  const ms = median(es.map((e) => e.ms));
  const twinMs = median((perTwin.get(`${twin(task)}:trivial`) ?? []).map((e) => e.ms));
  console.log(`  ${task.padEnd(36)} ${ms.toFixed(0).padStart(9)} ${Number.isFinite(twinMs) ? twinMs.toFixed(0).padStart(7) : '      ?'}  ${String(batchNo.get(task)).padStart(5)}  ${[...new Set(es.map((e) => e.status))].join('/')}`);
}
// Between batches Nx hashes the tasks whose inputs depend on what ran before
// (dependentTasksOutputFiles), outside the batches' times: the gaps below.
let prevEnd = null;
for (const b of batchOf.values()) {
  const ms = median(b.tasks.map((t) => median(perTask.get(t).map((e) => e.ms))));
  const start = median(perTask.get(b.tasks[0]).map((e) => e.startMs));
  console.log(`batch ${b.n}: ${b.tasks.length} task(s), starts at ${sec(start)} s${prevEnd === null ? '' : ` (${sec(start - prevEnd)} s after the previous batch ended)`}, lasts ${ms.toFixed(0)} ms (${(ms / b.tasks.length).toFixed(1)} ms per task)`);
  prevEnd = start + ms;
}
if (prevEnd !== null) console.log(`after the last batch until the command exits: ${sec(mR - prevEnd)} s`);
const firstStart = median(runs.firstStart);
console.log(`first task starts (median) ${sec(firstStart)} s after the command starts (node start, plugins, project graph, task graph, hashing with the runtime inputs); nx show projects takes ${sec(mS)} s`);
if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
else if (existsSync(work)) console.log(`kept ${work}`);
