#!/usr/bin/env node
// Scheduling benchmark: Nx's task runner against GNU make on the same package DAG, in the same
// run, alternating, with the same parallelism (2 jobs: the machines here have 2 cores).
//
//   node tools/bench/schedule/run.mjs [--packages=400] [--repeat=3] [--jobs=2]
//
// The DAG is shaped like a distribution's (as tools/bench/graph/generate.mjs): package i depends
// on up to 6 earlier ones, drawn with a strong preference for early packages (a C library, zlib,
// ncurses get a large fan-in). Each package is one task. Two variants:
// - no-op: every task runs `true`. Wall time / packages is each scheduler's cost per task
//   (process start of the task's command included on both sides).
// - work: every task sleeps a duration drawn from a log-normal distribution (median 200 ms,
//   a few seconds at most), standing in for a build that does not compete for the CPU with the
//   scheduler. The lower bound of any schedule is max(critical path, total work / jobs); each
//   side's wall time is reported against it.
//
// Nx: a throw-away workspace whose local plugin (schedule-plugin.js, written here) makes one
// project per package with a `build` target `nx:run-commands` (`true` or `sleep S`) and
// `dependsOn: ['^build']`, the edges from createDependencies (implicit); `nx run-many -t build
// --parallel=<jobs> --skip-nx-cache`, no daemon, no cloud. make: a Makefile with one phony target
// per package, its prerequisites the same edges, `make -j<jobs>`. Prints medians and ratios,
// never asserts on time.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '../graph/generate.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const arg = (name, def) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def;
const count = Number(arg('packages', '400'));
const repeat = Number(arg('repeat', '3'));
const jobs = Number(arg('jobs', '2'));
const nxBin = path.join(repo, 'node_modules', '.bin', 'nx');

/** The DAG: `deps[i]` (indices < i) and the work of each package in seconds (log-normal, median 0.2 s, at most 3 s). */
function makeDag(n) {
  const rand = rng(n); // seeded by the package count: every run measures the same DAG
  const deps = [];
  const work = [];
  for (let i = 0; i < n; i++) {
    const d = new Set();
    const k = i === 0 ? 0 : Math.min(i, Math.floor(rand() * 7));
    for (let j = 0; j < k; j++) d.add(Math.floor(Math.pow(rand(), 3) * i));
    deps.push([...d].sort((a, b) => a - b));
    // Box-Muller normal, sigma 1 around ln(0.2)
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    work.push(Math.min(3, Math.round(0.2 * Math.exp(z) * 1000) / 1000));
  }
  return { deps, work };
}

const name = (i) => `pkg${String(i).padStart(4, '0')}`;

/** Longest path (seconds) and total work of the DAG. */
function bounds({ deps, work }) {
  const finish = [];
  for (let i = 0; i < work.length; i++) finish.push(work[i] + Math.max(0, ...deps[i].map((d) => finish[d])));
  return { criticalPath: Math.max(...finish), total: work.reduce((a, b) => a + b, 0), edges: deps.reduce((a, d) => a + d.length, 0) };
}

function workspace(dag, variant) {
  const root = mkdtempSync(path.join(tmpdir(), `nx-distro-bench-schedule-${variant}-`));
  symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'));
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'bench-schedule', private: true }));
  const command = (i) => (variant === 'noop' ? 'true' : `sleep ${dag.work[i]}`);
  const packages = dag.deps.map((d, i) => ({ name: name(i), deps: d.map(name), command: command(i) }));
  writeFileSync(path.join(root, 'dag.json'), JSON.stringify(packages));
  // a file in each project root: Nx's task hasher needs every project in its file map
  for (const p of packages) {
    mkdirSync(path.join(root, 'pkgs', p.name), { recursive: true });
    writeFileSync(path.join(root, 'pkgs', p.name, 'package.txt'), `${p.name}\n`);
  }
  writeFileSync(path.join(root, 'schedule-plugin.js'), `// One project per package of dag.json: build = its command, after its dependencies' builds.
const { readFileSync } = require('node:fs');
const path = require('node:path');
exports.createNodes = ['dag.json', (files, _options, context) => {
  const packages = JSON.parse(readFileSync(path.join(context.workspaceRoot, 'dag.json'), 'utf8'));
  const projects = {};
  for (const p of packages) {
    projects['pkgs/' + p.name] = {
      name: p.name,
      root: 'pkgs/' + p.name,
      targets: { build: { executor: 'nx:run-commands', options: { command: p.command }, dependsOn: ['^build'], cache: false } },
    };
  }
  return [['dag.json', { projects }]];
}];
exports.createDependencies = (_options, context) => {
  const packages = JSON.parse(readFileSync(path.join(context.workspaceRoot, 'dag.json'), 'utf8'));
  return packages.flatMap((p) => p.deps.map((d) => ({ source: p.name, target: d, type: 'implicit' })));
};
`);
  writeFileSync(path.join(root, 'nx.json'), JSON.stringify({ plugins: ['./schedule-plugin.js'] }));
  const make = ['.PHONY: all ' + packages.map((p) => p.name).join(' '), `all: ${packages.map((p) => p.name).join(' ')}`];
  for (const p of packages) make.push(`${p.name}: ${p.deps.join(' ')}`, `\t@${p.command}`);
  writeFileSync(path.join(root, 'Makefile'), make.join('\n') + '\n');
  return root;
}

function env(root) {
  return {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NX_WORKSPACE_DATA_DIRECTORY: path.join(root, '.nx', 'workspace-data'),
    NX_CACHE_DIRECTORY: path.join(root, '.nx', 'cache'),
  };
}

function timed(file, args, root) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { cwd: root, env: env(root), encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.status}):\n${(r.stdout + r.stderr).slice(-3000)}`);
  return seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x, d = 2) => x.toFixed(d);

const dag = makeDag(count);
const b = bounds(dag);
const lower = Math.max(b.criticalPath, b.total / jobs);
console.log(`scheduling benchmark: ${count} packages, ${b.edges} edges, ${jobs} jobs, repeat ${repeat}; ${new Date().toISOString().slice(0, 10)}, load ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}`);
console.log(`work variant: total work ${f(b.total)} s, critical path ${f(b.criticalPath)} s, lower bound max(critical path, total / ${jobs}) = ${f(lower)} s`);

for (const variant of ['noop', 'work']) {
  const root = workspace(dag, variant);
  try {
    // untimed: Nx computes and caches the project graph once (both sides then start warm)
    timed(nxBin, ['show', 'projects'], root);
    const nx = [];
    const make = [];
    for (let i = 0; i < repeat; i++) {
      nx.push(timed(nxBin, ['run-many', '-t', 'build', `--parallel=${jobs}`, '--skip-nx-cache', '--output-style=static'], root));
      make.push(timed('make', [`-j${jobs}`, '-s', 'all'], root));
    }
    const n = median(nx);
    const m = median(make);
    console.log(`\n${variant}: nx ${nx.map((x) => f(x)).join(' / ')} s (median ${f(n)}), make ${make.map((x) => f(x)).join(' / ')} s (median ${f(m)}); nx/make ${f(n / m)}x`);
    if (variant === 'noop') {
      console.log(`  per task: nx ${f((n * 1000) / count, 1)} ms, make ${f((m * 1000) / count, 1)} ms (wall time / packages, start-up included)`);
    } else {
      console.log(`  against the lower bound ${f(lower)} s: nx ${f(n / lower)}x, make ${f(m / lower)}x; nx's overhead over the bound ${f(((n - lower) * 1000) / count, 1)} ms per task, make's ${f(((m - lower) * 1000) / count, 1)} ms`);
    }
  } finally {
    if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
  }
}
