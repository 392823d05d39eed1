#!/usr/bin/env node
// Slurm benchmark (issue 25): the same real builds on this machine and on the one-machine test
// cluster (test/helpers/slurm-cluster.ts: slurmctld and two slurmd workers, each pinned to one
// CPU and declared CPUs=1), in one run:
//
//   NX_DAEMON=false NX_NO_CLOUD=true SWC_NODE_PROJECT=tsconfig.base.json \
//     node --require @swc-node/register tools/bench/slurm/run.ts [--recipes=zlib,bzip2,lz4,expat,xz,dropbear] [--target=aarch64]
//
// (as root, with tools/setup-host's Slurm packages). Three cold runs of `nx run-many -t build`
// over the same recipes (distfiles fetched first, then `--skip-nx-cache` each time):
// - local: `--parallel=1` (one CPU, `$JOBS` 1), the baseline;
// - one worker: `NX_DISTRO_EXECUTION=slurm`, worker n2 drained, `--parallel=1` (one slot);
// - two workers: both idle, `--parallel=2`.
// nx runs under `taskset -c 0` in all three, on the CPU of worker n1 (n2 has the other one): the
// local run and the one-worker run have the same one CPU for everything.
// For the cluster runs it reads every job's start and end from sacct and prints the wall time
// against the bound max(critical path, work / slots) of those job times (the critical path over
// the recipes' own makedepends edges), and the dispatch overhead per build: each task's wait
// from its submission to the end it read in sacct, less the job's run time (sbatch, the
// scheduler's pass, the task's one-second polls, sacct), beside the wall time difference of
// the serial runs.
// Prints figures and ratios, never asserts.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { startSlurmCluster } from '../../../test/helpers/slurm-cluster';
import { createWorkspace, REPO_ROOT } from '../../../test/helpers/workspace';

const arg = (name: string, def: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def;
const recipes = arg('recipes', 'zlib,bzip2,lz4,expat,xz,dropbear').split(',');
const target = arg('target', 'aarch64');

/** makedepends of each recipe inside the set. */
const deps = Object.fromEntries(
  recipes.map((r) => {
    const y = load(readFileSync(path.join(REPO_ROOT, 'recipes', r, 'recipe.yaml'), 'utf8')) as { makedepends?: string[] };
    return [r, (y.makedepends ?? []).filter((d) => recipes.includes(d))];
  }),
);

(async () => {
  const c = await startSlurmCluster();
  const ws = createWorkspace(undefined, { systemTargets: [target] });
  try {
    ws.write('nx.json', JSON.stringify({ plugins: [{ plugin: 'nx-distro', options: { defaultSystemTarget: target } }] }, null, 2));
    for (const r of recipes) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    Object.assign(ws.env, c.env);
    const projects = recipes.join(',');
    const fetched = await ws.nx('run-many', '-t', 'fetch', '-p', projects);
    if (fetched.exitCode !== 0) throw new Error(`fetch failed:\n${fetched.all.slice(-3000)}`);

    const run = async (label: string, execution: 'local' | 'slurm', parallel: number) => {
      ws.env.NX_DISTRO_EXECUTION = execution;
      const args = ['run-many', '-t', 'build', '-c', target, '-p', projects, `--parallel=${parallel}`, '--skip-nx-cache', '--output-style=static'];
      const started = Date.now();
      // taskset: CPU 0 for nx, its task processes and local builds (availableParallelism() = 1, so $JOBS = 1)
      const out = await execa('taskset', ['-c', '0', path.join(REPO_ROOT, 'node_modules', '.bin', 'nx'), ...args], {
        cwd: ws.root,
        reject: false,
        all: true,
        env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_CACHE_DIRECTORY: path.join(ws.root, '.nx-test', 'cache'), NX_WORKSPACE_DATA_DIRECTORY: path.join(ws.root, '.nx-test', 'data'), NX_TUI: 'false', FORCE_COLOR: '0', ...ws.env },
      });
      const r = { exitCode: out.exitCode ?? 1, all: String(out.all) };
      const wall = (Date.now() - started) / 1000;
      if (r.exitCode !== 0) throw new Error(`${label}: nx failed:\n${r.all.slice(-4000)}`);
      const ids = [...r.all.matchAll(/submitted to the Slurm cluster as job (\d+)/g)].map((m) => m[1]);
      // Each task's own line: the job's run time (sacct, whole seconds) and the task's wait from submission.
      const waits = [...r.all.matchAll(/^\S+: Slurm job \d+ COMPLETED on \S+ in (\d+) s; ([\d.]+) s from submission$/gm)].map((m) => Number(m[2]) - Number(m[1]));
      return { label, wall, ids, waits };
    };
    const jobTimes = async (ids: string[]) => {
      const out = (await c.run('sacct', ['-c', '-P', '-n', '-j', ids.join(','), '-o', 'JobName,State,NodeList,Start,End'])).stdout;
      const times: Record<string, { seconds: number; node: string }> = {};
      for (const l of out.split('\n').filter(Boolean)) {
        const [name, state, node, start, end] = l.split('|');
        if (state !== 'COMPLETED') continue;
        times[name.split(':')[0]] = { seconds: (Date.parse(end) - Date.parse(start)) / 1000, node };
      }
      return times;
    };
    const bound = (times: Record<string, { seconds: number }>, slots: number) => {
      const finish: Record<string, number> = {};
      const cp = (r: string): number => (finish[r] ??= (times[r]?.seconds ?? 0) + Math.max(0, ...deps[r].map(cp)));
      const critical = Math.max(...recipes.map(cp));
      const work = recipes.reduce((a, r) => a + (times[r]?.seconds ?? 0), 0);
      return { critical, work, bound: Math.max(critical, work / slots) };
    };

    const local = await run('local, 1 CPU', 'local', 1);
    execFileSync('scontrol', ['update', 'nodename=n2', 'state=drain', 'reason=bench'], { env: { ...process.env, ...c.env } });
    const one = await run('Slurm, 1 worker', 'slurm', 1);
    execFileSync('scontrol', ['update', 'nodename=n2', 'state=resume'], { env: { ...process.env, ...c.env } });
    await c.waitForNodes(/^idle$/, ['n2'], 60_000);
    const two = await run('Slurm, 2 workers', 'slurm', 2);

    console.log(`# ${recipes.length} builds for ${target}: ${recipes.join(' ')} (makedepends inside the set: ${Object.entries(deps).filter(([, d]) => d.length).map(([r, d]) => `${r} <- ${d.join(',')}`).join('; ') || 'none'})`);
    console.log(`local, 1 CPU (baseline):  wall ${local.wall.toFixed(1)} s`);
    for (const [r, slots] of [[one, 1], [two, 2]] as const) {
      const t = await jobTimes(r.ids);
      const b = bound(t, slots);
      const nodes = [...new Set(Object.values(t).map((x) => x.node))].sort().join(',');
      console.log(`${r.label}: wall ${r.wall.toFixed(1)} s (${(r.wall / local.wall).toFixed(2)}x local); jobs ${Object.keys(t).length} on ${nodes}; work ${b.work.toFixed(0)} s, critical path ${b.critical.toFixed(0)} s, bound max(cp, work/${slots}) ${b.bound.toFixed(0)} s; wall / bound ${(r.wall / b.bound).toFixed(2)}`);
      console.log(`  job seconds: ${recipes.map((x) => `${x} ${t[x]?.seconds ?? '?'}${t[x] ? ` (${t[x].node})` : ''}`).join(', ')}`);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    console.log(`dispatch overhead per build, from each task's line (its wait from submission - the job's run time in sacct, whole seconds): mean ${mean(one.waits).toFixed(1)} s with 1 worker (max ${Math.max(...one.waits).toFixed(1)}), ${mean(two.waits).toFixed(1)} s with 2 (max ${Math.max(...two.waits).toFixed(1)})`);
    console.log(`wall time difference per build, 1 worker - local (both serial on CPU 0; the machine's load shows here): ${((one.wall - local.wall) / recipes.length).toFixed(1)} s`);
    console.log(`speed-up of 2 workers over 1: ${(one.wall / two.wall).toFixed(2)}x`);
  } finally {
    ws.dispose();
    await c.stop();
  }
})().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
