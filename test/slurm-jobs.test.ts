/**
 * The submit-and-wait module (packages/nx-distro/src/cluster/slurm.ts) against a real cluster
 * (test/helpers/slurm-cluster.ts: slurmctld and two one-CPU slurmd workers in network
 * namespaces): a job named like an Nx task runs with its CPUs, memory and arch constraint, its
 * output streamed while it runs; a failing job's status; what sbatch refuses; cancelling through
 * an AbortSignal and through SIGTERM of the waiting process (squeue empty after); a worker
 * killed mid-job, the job requeued on the other and the wait ending with its success.
 *
 * Runs only when asked, like test/slurm.test.ts (root, the Slurm packages of tools/setup-host,
 * about 1.5 min here):
 *   NX_DISTRO_SLURM=1 NX_DAEMON=false NX_NO_CLOUD=true SWC_NODE_PROJECT=tsconfig.base.json \
 *     node --require @swc-node/register --test test/slurm-jobs.test.ts
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { jobRecordSource, queueState, runJob, SlurmError, type SlurmJobSpec, type SlurmWaitOptions } from '../packages/nx-distro/src/cluster/slurm';
import { eventually, processesWith } from './helpers/processes';
import { startSlurmCluster, type SlurmCluster } from './helpers/slurm-cluster';
import { REPO_ROOT } from './helpers/workspace';

const skip =
  process.env.NX_DISTRO_SLURM === '1'
    ? false
    : 'a real Slurm cluster in network namespaces (root, Slurm and munge from tools/setup-host, about 1.5 min): in npm run test:full, or NX_DISTRO_SLURM=1';
const ARCH = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();

describe('cluster/slurm: one build as one Slurm job, on a real cluster', { skip }, () => {
  let c: SlurmCluster;
  let opts: SlurmWaitOptions;
  const job = (name: string, body: string, more: Partial<SlurmJobSpec> = {}): SlurmJobSpec => ({
    name,
    script: `#!/bin/sh\n${body}\n`,
    outputFile: path.join(c.shared, `${name.replaceAll(':', '_')}.out`),
    cwd: c.shared,
    ...more,
  });

  before(async () => {
    c = await startSlurmCluster();
    opts = { client: { env: c.env }, pollMs: 200 };
  });
  after(async () => {
    await c?.stop();
  });

  it('finds where the cluster keeps its job records (the job completion log)', async () => {
    assert.equal(await jobRecordSource({ env: c.env }), 'jobcomp');
  });

  it('runs a job named like its Nx task with CPUs, memory and the arch constraint, streaming its output while it runs', async () => {
    const chunks: { at: number; text: string }[] = [];
    const spec = job(`demo:build:${ARCH}`, 'echo "start on $SLURMD_NODENAME cpus=$(nproc) pwd=$(pwd)"; sleep 2; echo halfway; sleep 2; echo done', {
      cpus: 1,
      memoryMiB: 512,
      constraint: ARCH,
    });
    let id = '';
    const r = await runJob(spec, { ...opts, onSubmitted: (j) => (id = j), onOutput: (text) => chunks.push({ at: Date.now(), text }) });
    const resolvedAt = Date.now();
    assert.deepEqual([r.success, r.state, r.exitStatus, r.signal, r.name, r.jobId, r.runs.length], [true, 'COMPLETED', 0, 0, spec.name, id, 1]);
    const text = chunks.map((ch) => ch.text).join('');
    assert.equal(text, readFileSync(spec.outputFile, 'utf8'));
    assert.match(text, new RegExp(`^start on ${r.nodes} cpus=1 pwd=${c.shared}\nhalfway\ndone\n$`));
    assert.ok(chunks.length >= 2 && chunks[0].at + 2500 < resolvedAt, `the first line came while the job ran: ${JSON.stringify(chunks)}`);
  });

  it("a failing job ends with success false, FAILED and the script's exit status", async () => {
    const out: string[] = [];
    const r = await runJob(job('fails:build', 'echo "configure: error: no C compiler"; exit 5'), { ...opts, onOutput: (t) => out.push(t) });
    assert.deepEqual([r.success, r.state, r.exitStatus, r.signal], [false, 'FAILED', 5, 0]);
    assert.equal(out.join(''), 'configure: error: no C compiler\n');
  });

  it('what sbatch refuses is one SlurmError line naming it: too many CPUs or too much memory, an unknown feature, a bad name', async () => {
    await assert.rejects(runJob(job('big:build', 'true', { cpus: 2 }), opts), (e: Error) => e instanceof SlurmError && /sbatch of 'big:build' failed: CPU count per node can not be satisfied; Batch job submission failed: Requested node configuration is not available$/.test(e.message) && !e.message.includes('\n'));
    await assert.rejects(runJob(job('mem:build', 'true', { memoryMiB: 1_000_000 }), opts), /Requested node configuration is not available/);
    await assert.rejects(runJob(job('arch:build', 'true', { constraint: 'riscv64' }), opts), /Invalid feature specification/);
    await assert.rejects(runJob(job('has space', 'true'), opts), /job name 'has space' has whitespace/);
  });

  it('an aborted wait cancels its job: CANCELLED, squeue empty, its processes gone', async () => {
    const ac = new AbortController();
    const spec = job('abort:build', 'echo started; sleep 313.5');
    const r = await runJob(spec, { ...opts, signal: ac.signal, onOutput: (t) => t.includes('started') && ac.abort() });
    assert.deepEqual([r.success, r.state], [false, 'CANCELLED']);
    assert.equal((await c.run('squeue', ['-h', `--name=${spec.name}`])).stdout.trim(), '');
    assert.ok(await eventually(() => processesWith('sleep 313.5').length === 0, 15_000), processesWith('sleep 313.5').join('; '));
  });

  it('SIGTERM to the waiting process cancels its job before it goes (scancel), and it dies of SIGTERM', async () => {
    const spec = job('sigterm:build', 'echo started; sleep 312.5');
    const child = execa(process.execPath, ['--require', '@swc-node/register', path.join(REPO_ROOT, 'test/fixtures/slurm/run-job.ts'), JSON.stringify(spec)], {
      cwd: REPO_ROOT,
      env: { ...c.env, SWC_NODE_PROJECT: 'tsconfig.base.json' },
      all: true,
      reject: false,
    });
    let all = '';
    child.all!.on('data', (d) => (all += d));
    assert.ok(await eventually(() => /^started$/m.test(all), 30_000), all);
    const id = /^submitted (\d+)$/m.exec(all)![1];
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.signal, 'SIGTERM', all);
    assert.ok(!all.includes('result '), 'it did not wait for the end');
    assert.ok(await eventually(() => processesWith('sleep 312.5').length === 0, 15_000), processesWith('sleep 312.5').join('; '));
    // A cancelled job shows COMPLETING while slurmd reaps its steps, then CANCELLED (or is purged).
    let state = await queueState(id, { env: c.env });
    for (const end = Date.now() + 15_000; state === 'COMPLETING' && Date.now() < end; state = await queueState(id, { env: c.env })) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(state ?? '', /^(CANCELLED|)$/);
    assert.equal((await c.run('squeue', ['-h', `--name=${spec.name}`])).stdout.trim(), '');
  });

  it('a worker killed mid-job: the wait goes on through the requeue and ends with the run on the other worker', { timeout: 240_000 }, async () => {
    let out = '';
    let killed = '';
    const spec = job('requeue:build', 'echo "attempt ${SLURM_RESTART_COUNT:-0} on $SLURMD_NODENAME"; sleep 6; echo "done on $SLURMD_NODENAME"');
    const r = await runJob(spec, {
      ...opts,
      onOutput: (t) => {
        out += t;
        const m = /^attempt 0 on (\S+)$/m.exec(out);
        if (m && !killed) {
          killed = m[1];
          void c.killWorker(killed);
        }
      },
    });
    const other = c.workers.find((w) => w.name !== killed)!.name;
    assert.deepEqual([r.success, r.state, r.nodes], [true, 'COMPLETED', other]);
    assert.deepEqual(
      r.runs.map((x) => [x.state, x.nodes]),
      [
        ['NODE_FAIL', killed],
        ['COMPLETED', other],
      ],
    );
    assert.equal(out, `attempt 0 on ${killed}\nattempt 1 on ${other}\ndone on ${other}\n`);
    await c.startWorker(killed);
  });
});
