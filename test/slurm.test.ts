/**
 * The Slurm mechanics nx-distro's cluster builds will rest on (issue 25), proved with plain shell
 * jobs on a real one-machine cluster (test/helpers/slurm-cluster.ts: Debian 12's Slurm 22.05
 * and MUNGE, slurmctld and two slurmd workers as separate hosts in network namespaces, each
 * worker on one CPU): a job per node runs and `sacct` says COMPLETED with exit code 0; a failing
 * command is FAILED with its exit code in `sacct`; `--dependency=afterok` orders two jobs and
 * never starts one whose dependency failed; killing a worker's slurmd by its PID mid-job
 * requeues the job (`--requeue`) on the other worker, where it completes, and the dead worker
 * returns when started again (ReturnToService=2); `scancel --name` empties `squeue` and ends the
 * jobs' processes; `--constraint` selects a worker by its features, and a worker lacking a host
 * tool is one. Every state and exit code is read from `sacct` (the job completion log), never
 * from `sbatch --wait` alone.
 *
 * Runs only when asked, as root, with the Slurm packages of tools/setup-host (about 1.5 min
 * here, most of it the controller noticing the killed worker):
 *   NX_DISTRO_SLURM=1 NX_DAEMON=false NX_NO_CLOUD=true SWC_NODE_PROJECT=tsconfig.base.json \
 *     node --require @swc-node/register --test test/slurm.test.ts
 * (`npm run test:full` sets it). With NX_DISTRO_SLURM=1 a missing
 * package fails the test with its name instead of skipping it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, processesWith } from './helpers/processes';
import { jobRecords, startSlurmCluster, type JobRecord, type SlurmCluster } from './helpers/slurm-cluster';

const skip =
  process.env.NX_DISTRO_SLURM === '1'
    ? false
    : 'a real Slurm cluster in network namespaces (root, Slurm and munge from tools/setup-host, about 1.5 min): in npm run test:full, or NX_DISTRO_SLURM=1';

/** States after which a job does not run again (squeue's and sacct's names). */
const TERMINAL = /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `sbatch --parsable ...`; returns the job id. */
async function sbatch(c: SlurmCluster, args: string[]): Promise<string> {
  const r = await c.run('sbatch', ['--parsable', ...args]);
  assert.equal(r.exitCode, 0, `sbatch ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim().split(';')[0];
}

/** The job completion records of `ids`, in the log's order. */
const sacct = (c: SlurmCluster, ...ids: string[]) => jobRecords(c, ids);

/** squeue's state of job `id` (`-t all`: finished jobs too, until MinJobAge), or '' once purged. */
async function squeueState(c: SlurmCluster, id: string): Promise<string> {
  const r = await c.run('squeue', ['-h', '-t', 'all', '-j', id, '-o', '%T']);
  return r.exitCode === 0 ? r.stdout.trim() : '';
}

/**
 * Waits until job `id` has ended for good (squeue shows a terminal state, not a requeue) and
 * returns its last sacct record, which must agree with squeue.
 */
async function waitForEnd(c: SlurmCluster, id: string, timeoutMs = 60_000): Promise<JobRecord> {
  const end = Date.now() + timeoutMs;
  let state = '';
  while (Date.now() < end) {
    state = await squeueState(c, id);
    if (state === '' || TERMINAL.test(state)) {
      const records = await sacct(c, id);
      const last = records.at(-1);
      if (last && (state === '' || last.state.startsWith(state))) return last;
    }
    await sleep(300);
  }
  throw new Error(`job ${id} not ended after ${timeoutMs} ms (squeue: '${state}')\n${c.logs()}`);
}

/** Waits until job `id` runs; returns its node. */
async function waitForRunning(c: SlurmCluster, id: string, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = await c.run('squeue', ['-h', '-j', id, '-o', '%T %N']);
    const [state, node] = r.stdout.trim().split(/\s+/);
    if (state === 'RUNNING' && node) return node;
    await sleep(200);
  }
  throw new Error(`job ${id} not running after ${timeoutMs} ms\n${c.logs()}`);
}

describe('Slurm 22.05 on one machine: controller and two workers in network namespaces', { skip }, () => {
  let c: SlurmCluster;
  const out = (name: string) => path.join(c.shared, name);

  before(async () => {
    c = await startSlurmCluster();
  });
  after(async () => {
    await c?.stop();
  });

  it('the workers are hosts of their own: hostname, address, one CPU, the cluster names resolved', async () => {
    const rootAddrs = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
    for (const w of c.workers) {
      assert.ok(!rootAddrs.includes(`${w.address}/`), `the root namespace has no address of ${w.name}`);
      const id = await sbatch(c, [
        `--job-name=host-${w.name}`,
        `--nodelist=${w.name}`,
        `--output=${out(`host-${w.name}.out`)}`,
        '--wrap',
        'echo "host=$(hostname) node=$SLURMD_NODENAME cpus=$(nproc)"; ip -4 -o addr show eth0; getent hosts ctl',
      ]);
      const rec = await waitForEnd(c, id);
      assert.equal(rec.state, 'COMPLETED', JSON.stringify(rec));
      const text = readFileSync(out(`host-${w.name}.out`), 'utf8');
      assert.match(text, new RegExp(`^host=${w.name} node=${w.name} cpus=1$`, 'm'));
      assert.match(text, new RegExp(`inet ${w.address.replaceAll('.', '\\.')}/24`));
      assert.match(text, new RegExp(`^${c.controllerAddress.replaceAll('.', '\\.')}\\s+ctl$`, 'm'));
    }
  });

  it('a job per node runs, COMPLETED with exit code 0 in sacct; two 1-CPU workers run two jobs at once', async () => {
    const ids = await Promise.all(
      c.workers.map((w) =>
        sbatch(c, [`--job-name=per-node-${w.name}`, `--nodelist=${w.name}`, `--output=${out(`per-node-${w.name}.out`)}`, '--wrap', 'echo "ran on $SLURMD_NODENAME"; sleep 2']),
      ),
    );
    for (const [i, w] of c.workers.entries()) {
      const rec = await waitForEnd(c, ids[i]);
      assert.deepEqual([rec.name, rec.state, rec.exitCode, rec.nodes], [`per-node-${w.name}`, 'COMPLETED', '0:0', w.name]);
      assert.equal(readFileSync(out(`per-node-${w.name}.out`), 'utf8'), `ran on ${w.name}\n`);
    }
    // No node named: the scheduler puts them on different workers (CPUs=1 each), side by side.
    const a = await sbatch(c, ['--job-name=spread', `--output=${out('spread-%j.out')}`, '--wrap', 'sleep 3']);
    const b = await sbatch(c, ['--job-name=spread', `--output=${out('spread-%j.out')}`, '--wrap', 'sleep 3']);
    const [ra, rb] = [await waitForEnd(c, a), await waitForEnd(c, b)];
    assert.deepEqual([ra.state, rb.state], ['COMPLETED', 'COMPLETED']);
    assert.notEqual(ra.nodes, rb.nodes, 'one job per worker');
    assert.ok(ra.start < rb.end && rb.start < ra.end, `they overlap: ${JSON.stringify([ra, rb])}`);
  });

  it('a job whose command fails is FAILED with that exit code in sacct', async () => {
    const id = await sbatch(c, ['--job-name=fails', `--output=${out('fails.out')}`, '--wrap', 'echo before the failure; exit 7']);
    const rec = await waitForEnd(c, id);
    assert.deepEqual([rec.state, rec.exitCode], ['FAILED', '7:0']);
    assert.equal(readFileSync(out('fails.out'), 'utf8'), 'before the failure\n');
  });

  it('--dependency=afterok starts a job after its dependency completed, and never after a failed one', async () => {
    const a = await sbatch(c, ['--job-name=dep-a', `--output=${out('dep-a.out')}`, '--wrap', `sleep 3; date +%s.%N > ${out('dep-a.end')}`]);
    const b = await sbatch(c, ['--job-name=dep-b', `--dependency=afterok:${a}`, `--output=${out('dep-b.out')}`, '--wrap', `date +%s.%N > ${out('dep-b.start')}`]);
    const f = await sbatch(c, ['--job-name=dep-f', `--output=${out('dep-f.out')}`, '--wrap', 'exit 1']);
    const g = await sbatch(c, [
      '--job-name=dep-g',
      `--dependency=afterok:${f}`,
      '--kill-on-invalid-dep=yes',
      `--output=${out('dep-g.out')}`,
      '--wrap',
      `touch ${out('dep-g.ran')}`,
    ]);
    const [ra, rb, rf, rg] = [await waitForEnd(c, a), await waitForEnd(c, b), await waitForEnd(c, f), await waitForEnd(c, g)];
    assert.deepEqual([ra.state, rb.state, rf.state, rg.state], ['COMPLETED', 'COMPLETED', 'FAILED', 'CANCELLED']);
    assert.ok(Number(readFileSync(out('dep-b.start'), 'utf8')) >= Number(readFileSync(out('dep-a.end'), 'utf8')), 'dep-b started after dep-a ended');
    assert.ok(rb.start >= ra.end, `sacct agrees: ${JSON.stringify([ra, rb])}`);
    assert.ok(!existsSync(out('dep-g.ran')), 'the job after a failed dependency never ran');
  });

  it("killing a worker's slurmd by its PID mid-job requeues the job on the other worker, where it completes", { timeout: 240_000 }, async (t) => {
    const log = out('requeue.out');
    const id = await sbatch(c, [
      '--job-name=requeue',
      '--requeue',
      '--open-mode=append',
      `--output=${log}`,
      '--wrap',
      'echo "attempt ${SLURM_RESTART_COUNT:-0} on $SLURMD_NODENAME"; sleep 6; echo "done on $SLURMD_NODENAME"',
    ]);
    const first = await waitForRunning(c, id);
    assert.ok(await eventually(() => existsSync(log) && readFileSync(log, 'utf8').includes('attempt 0'), 10_000), 'the job started');
    const other = c.workers.find((w) => w.name !== first)!.name;
    const killedAt = Date.now() / 1000;
    await c.killWorker(first);

    const rec = await waitForEnd(c, id, 180_000);
    const records = await sacct(c, id);
    assert.deepEqual(
      records.map((r) => [r.state, r.nodes]),
      [
        ['NODE_FAIL', first],
        ['COMPLETED', other],
      ],
    );
    assert.equal(rec.exitCode, '0:0');
    assert.equal(readFileSync(log, 'utf8'), `attempt 0 on ${first}\nattempt 1 on ${other}\ndone on ${other}\n`);

    t.diagnostic(
      `${first} killed; NODE_FAIL after ${(records[0].end - killedAt).toFixed(0)} s, ` +
        `restarted on ${other} after ${(records[1].start - killedAt).toFixed(0)} s (SlurmdTimeout=10, cred_expire=10)`,
    );

    await c.waitForNodes(/^down/, [first], 5_000);
    await c.startWorker(first);
  });

  it('scancel --name cancels every job of that name: squeue is empty and their processes are gone', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await sbatch(c, ['--job-name=cancel-me', `--output=${out('cancel-%j.out')}`, '--wrap', 'sleep 317.25']));
    // two run (one per worker), the third waits for a CPU
    assert.ok(
      await eventually(() => processesWith('sleep 317.25').length === 2, 20_000),
      `two jobs running: ${processesWith('sleep 317.25').join('; ')}\n${c.logs()}`,
    );
    const r = await c.run('scancel', ['--name=cancel-me']);
    assert.equal(r.exitCode, 0, r.stderr);
    const end = Date.now() + 15_000;
    let queued = '';
    do {
      queued = (await c.run('squeue', ['-h', '--name=cancel-me'])).stdout.trim();
      if (!queued) break;
      await sleep(200);
    } while (Date.now() < end);
    assert.equal(queued, '', 'squeue is empty');
    for (const id of ids) assert.equal((await waitForEnd(c, id)).state, 'CANCELLED');
    assert.ok(await eventually(() => processesWith('sleep 317.25').length === 0, 15_000), processesWith('sleep 317.25').join('; '));
  });
});

describe('Slurm workers chosen by their features; a worker without a host tool', { skip }, () => {
  let c: SlurmCluster;
  const out = (name: string) => path.join(c.shared, name);

  before(async () => {
    const arch = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
    c = await startSlurmCluster({ workers: [{ features: [arch, 'host-tools'] }, { features: [arch], hide: ['/usr/bin/bwrap'] }] });
  });
  after(async () => {
    await c?.stop();
  });

  it('--constraint runs a job on the worker with that feature; an unknown feature is refused at submission', async () => {
    const check = 'test -x /usr/bin/bwrap || { echo "no bwrap on $(hostname)"; exit 3; }; echo "bwrap on $(hostname)"';
    const ok = await sbatch(c, ['--job-name=tools', '--constraint=host-tools', `--output=${out('tools.out')}`, '--wrap', check]);
    const rec = await waitForEnd(c, ok);
    assert.deepEqual([rec.state, rec.nodes], ['COMPLETED', 'n1']);
    assert.equal(readFileSync(out('tools.out'), 'utf8'), 'bwrap on n1\n');

    const missing = await sbatch(c, ['--job-name=no-tools', '--nodelist=n2', `--output=${out('no-tools.out')}`, '--wrap', check]);
    const rm = await waitForEnd(c, missing);
    assert.deepEqual([rm.state, rm.exitCode, rm.nodes], ['FAILED', '3:0', 'n2']);
    assert.equal(readFileSync(out('no-tools.out'), 'utf8'), 'no bwrap on n2\n');

    const refused = await c.run('sbatch', ['--parsable', '--constraint=riscv64', '--wrap', 'true']);
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr, /Invalid feature specification/);
  });
});
