/**
 * Package builds dispatched to a real Slurm cluster (issue 25; packages/nx-distro/src/cluster/
 * build-job.ts): `nx run-many -t build` with `NX_DISTRO_EXECUTION=slurm` on a one-machine
 * cluster (test/helpers/slurm-cluster.ts: slurmctld and one-CPU slurmd workers as hosts of their
 * own in network namespaces), for a diamond of real builds: zlib (real upstream sources), then
 * zprobe and zcrc (each links zlib), then ztop (needs both). Checks, every state read from sacct:
 * one job per built task, named after it, over both workers; no job starts before its
 * dependencies' jobs end; the packages byte-identical to a local build of the same tasks; a rerun
 * all cache hits with no job submitted; the cluster placement (`execution`) outside the cache
 * keys; a failing build fails its task with the step named; a worker killed mid-job (its slurmd,
 * by PID) and the job requeued on the other, the run completing; Ctrl-C on nx leaving squeue
 * empty; a worker without bubblewrap failing with the host check's line.
 *
 * Runs only when asked, like test/slurm.test.ts (root, the Slurm packages of tools/setup-host):
 *   NX_DISTRO_SLURM=1 node tools/run-tests.mjs test/slurm-builds.test.ts
 * (`npm run test:full` sets it).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { load } from 'js-yaml';
import { eventually } from './helpers/processes';
import { jobRecords, startSlurmCluster, type JobRecord, type SlurmCluster } from './helpers/slurm-cluster';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const skip =
  process.env.NX_DISTRO_SLURM === '1'
    ? false
    : 'a real Slurm cluster in network namespaces (root, Slurm and munge from tools/setup-host): in npm run test:full, or NX_DISTRO_SLURM=1';

const TARGET = 'aarch64';
const DIAMOND = ['zlib', 'zprobe', 'zcrc', 'ztop'];
const task = (p: string) => `${p}:build:${TARGET}`;
/** The build machine's `uname -m`, the default feature of the test cluster's workers. */
const MACHINE = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;

describe('package builds as Slurm jobs: nx keeps the graph and the cache, the cluster runs the builds', { skip, timeout: 1_800_000 }, () => {
  let c: SlurmCluster;
  let ws: TestWorkspace;

  /** Job ids the nx output announced (`submitted to the Slurm cluster as job N`), in order. */
  const submitted = (out: string) => [...out.matchAll(/submitted to the Slurm cluster as job (\d+)/g)].map((m) => m[1]);
  const sacct = (ids: readonly string[]) => jobRecords(c, ids);
  /** The job output file of build `p` so far ('' before its job). */
  const jobOutput = (p: string) => {
    try {
      return readFileSync(path.join(ws.root, 'tmp', 'cluster', TARGET, p, 'job.out'), 'utf8');
    } catch {
      return '';
    }
  };
  /** Every job id the cluster has a record of, sorted. */
  const allJobIds = async () => {
    const r = await c.run('sacct', ['-c', '-P', '-n', '-S', '2000-01-01T00:00:00', '-o', 'JobID']);
    assert.equal(r.exitCode, 0, `sacct: ${r.stderr}`);
    return [...new Set(r.stdout.split('\n').filter(Boolean))].sort((a, b) => Number(a) - Number(b));
  };
  /** sha256 of every package file of the diamond, by file name. */
  const packageDigests = () => {
    const out: Record<string, string> = {};
    for (const p of DIAMOND) {
      const dir = path.join(ws.root, 'dist', TARGET, 'packages', p);
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.pkg.tar.zst'))) out[f] = createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex');
    }
    return out;
  };
  const setExecution = (execution: Record<string, unknown> | undefined) => {
    const file = `targets/${TARGET}.yaml`;
    const target = load(readFileSync(path.join(REPO_ROOT, file), 'utf8')) as Record<string, unknown>;
    ws.write(file, JSON.stringify(execution ? { ...target, execution } : target, null, 2));
  };

  before(async () => {
    // n1, n2: full workers; n3: a worker without bubblewrap, reached only by its own feature.
    c = await startSlurmCluster({ workers: [{ features: [MACHINE] }, { features: [MACHINE] }, { features: ['nobwrap'], hide: ['/usr/bin/bwrap'] }] });
    ws = createWorkspace('slurm-builds', { systemTargets: [TARGET] });
    ws.write('nx.json', JSON.stringify({ plugins: [{ plugin: 'nx-distro', options: { defaultSystemTarget: TARGET } }] }, null, 2));
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(ws.root, 'recipes', 'zlib'), { recursive: true });
    cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'mutations', 'zprobe'), path.join(ws.root, 'recipes', 'zprobe'), { recursive: true });
    cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'run-report', 'zbroken'), path.join(ws.root, 'recipes', 'zbroken'), { recursive: true });
    Object.assign(ws.env, c.env, { NX_DISTRO_EXECUTION: 'slurm' });
    setExecution({ kind: 'local', constraint: MACHINE });
  });
  after(async () => {
    ws?.dispose();
    await c?.stop();
  });

  let cold: JobRecord[];
  it('a cold run-many: one job per build, named after its task, over both workers, none before its dependencies ended', async () => {
    const r = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '-p', DIAMOND.join(','), '--parallel=2', '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    const ids = submitted(r.all);
    cold = await sacct(ids);
    assert.deepEqual(cold.map((j) => j.name).sort(), DIAMOND.map(task).sort(), r.all.slice(-4000));
    assert.ok(cold.every((j) => j.state === 'COMPLETED' && j.exitCode === '0:0'), JSON.stringify(cold));
    assert.deepEqual(new Set(cold.map((j) => j.nodes)), new Set(['n1', 'n2']), `both full workers built (the middle of the diamond side by side): ${JSON.stringify(cold)}`);
    const job = (p: string) => cold.find((j) => j.name === task(p))!;
    for (const [dependent, deps] of [['zprobe', ['zlib']], ['zcrc', ['zlib']], ['ztop', ['zprobe', 'zcrc']]] as const) {
      for (const d of deps) assert.ok(job(dependent).start >= job(d).end, `${dependent} started at ${job(dependent).start}, after ${d} ended at ${job(d).end}`);
    }
    for (const p of DIAMOND) {
      assert.match(r.all, new RegExp(`${task(p)}: building on worker n[12]`), 'the job output reached the task output');
      assert.match(ws.read(`dist/${TARGET}/packages/${p}/build.log`), /^# \S+: Slurm job \d+ COMPLETED on n[12] in \d+ s; [\d.]+ s from submission$/m);
    }
    assert.match(ws.read(`dist/${TARGET}/packages/zlib/build.log`), /==> install/);
  });

  it('a rerun is all cache hits and submits no job; changing where builds run (the target\'s execution) keeps every key', async () => {
    setExecution({ kind: 'slurm', constraint: MACHINE, cpus: 1 });
    const before = await allJobIds();
    const r = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '-p', DIAMOND.join(','), '--parallel=2', '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    assert.deepEqual(await allJobIds(), before, 'no job submitted');
    assert.ok(before.length >= DIAMOND.length, before.join(' '));
    for (const p of DIAMOND) assert.match(r.all, new RegExp(`nx run ${task(p)}\\s+\\[existing outputs match the cache, left as is\\]|nx run ${task(p)}\\s+\\[local cache\\]`), `${p} from the cache`);
  });

  it('the packages are byte-identical to a local build of the same tasks', async () => {
    const fromCluster = packageDigests();
    ws.env.NX_DISTRO_EXECUTION = 'local';
    const r = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '-p', DIAMOND.join(','), '--skip-nx-cache', '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    ws.env.NX_DISTRO_EXECUTION = 'slurm';
    assert.deepEqual(submitted(r.all), [], 'nothing submitted with NX_DISTRO_EXECUTION=local');
    assert.equal(Object.keys(fromCluster).length, DIAMOND.length);
    assert.deepEqual(packageDigests(), fromCluster);
  });

  it('a failing build fails its Nx task, with the failed step named in its output', async () => {
    const r = await ws.nx('run', `zbroken:build:${TARGET}`, '--output-style=static');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all, /zbroken: this build fails on purpose/);
    assert.match(r.all, /zbroken: step build failed \(exit 3\)/);
    assert.match(r.all, /zbroken: Slurm job \d+ FAILED \(exit 1\) on n[12]/);
    const [rec] = await sacct(submitted(r.all).slice(-1));
    assert.deepEqual([rec.name, rec.state, rec.exitCode], [`zbroken:build:${TARGET}`, 'FAILED', '1:0']);
  });

  it('a worker killed mid-job: its job is requeued on the other worker and the run completes', { timeout: 600_000 }, async () => {
    ws.remove(`tmp/cluster/${TARGET}/zslow/job.out`);
    const child = ws.spawn('nx', 'run', task('zslow'), '--output-style=static');
    let all = '';
    child.all!.on('data', (d) => (all += d));
    let killed = '';
    try {
      // The job's output file, not nx's output: nx prints a task's output when the task ends.
      assert.ok(await eventually(() => jobOutput('zslow').includes('zslow: building for'), 120_000), all.slice(-3000));
      killed = /zslow:build:aarch64: building on worker (n[12])/.exec(jobOutput('zslow'))![1];
      await c.killWorker(killed);
      const r = await child;
      const other = killed === 'n1' ? 'n2' : 'n1';
      assert.equal(r.exitCode, 0, all.slice(-4000));
      assert.match(all, new RegExp(`zslow: Slurm job \\d+ COMPLETED on ${other} in \\d+ s, after NODE_FAIL on ${killed}`));
      const recs = await sacct(submitted(all));
      assert.deepEqual(recs.map((x) => [x.name, x.state, x.nodes]), [[task('zslow'), 'NODE_FAIL', killed], [task('zslow'), 'COMPLETED', other]]);
      assert.match(ws.read(`dist/${TARGET}/packages/zslow/build.log`), new RegExp(`^# zslow: Slurm job \\d+ COMPLETED on ${other}`, 'm'));
    } finally {
      if (killed) await c.startWorker(killed);
    }
  });

  it('Ctrl-C on nx cancels its jobs: squeue is empty', async () => {
    ws.remove(`tmp/cluster/${TARGET}/zslow/job.out`);
    const child = ws.spawn('nx', 'run', task('zslow'), '--skip-nx-cache', '--output-style=static');
    let all = '';
    child.all!.on('data', (d) => (all += d));
    assert.ok(await eventually(() => jobOutput('zslow').includes('zslow: building for'), 120_000), all.slice(-3000));
    const id = (await c.run('squeue', ['-h', `--name=${task('zslow')}`, '-o', '%i'])).stdout.trim();
    assert.match(id, /^\d+$/);
    process.kill(-child.pid!, 'SIGINT');
    await child;
    let queue = 'not asked';
    for (let i = 0; i < 60 && queue !== ''; i++) {
      queue = (await c.run('squeue', ['-h'])).stdout.trim();
      if (queue) await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal(queue, '', `squeue empty within 30 s of the Ctrl-C; nx said: ${all.slice(-2000)}`);
    const recs = await sacct([id]);
    assert.deepEqual(recs.map((x) => [x.name, x.state]), [[task('zslow'), 'CANCELLED']], all.slice(-2000));
  });

  it('a worker without the host tools fails the build with the host check\'s line, naming the worker', async () => {
    setExecution({ kind: 'slurm', constraint: 'nobwrap' });
    const r = await ws.nx('run', task('zlib'), '--skip-nx-cache', '--output-style=static');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all, /zlib:build:aarch64: on worker n3: this machine cannot build for aarch64 \(targets\/aarch64.yaml\) yet:\nhost: bwrap/);
    assert.match(r.all, /zlib: Slurm job \d+ FAILED \(exit 1\) on n3/);
  });
});
