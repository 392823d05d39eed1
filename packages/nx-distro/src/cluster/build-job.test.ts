import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../model/errors';
import type { SystemTarget } from '../model/system-target';
import { withoutExecution } from '../model/system-target-identity';
import { buildJobSpec, EXECUTION_ENV, executionKind, jobFolder, jobSummary, taskIdOf } from './build-job';
import { readBuildJobRequest } from './build-job-cli';
import { sbatchArgs, type SlurmJobRun } from './slurm';

const target = (execution?: SystemTarget['execution']) => ({ arch: 'aarch64', triplet: 'aarch64-linux-gnu', ...(execution ? { execution } : {}) }) as unknown as SystemTarget;

describe('cluster/build-job: where a build runs', () => {
  it('local unless the target says slurm; NX_DISTRO_EXECUTION overrides the target for a run', () => {
    assert.equal(executionKind(target(), 'targets/a.yaml', {}), 'local');
    assert.equal(executionKind(target({ kind: 'slurm' }), 'targets/a.yaml', {}), 'slurm');
    assert.equal(executionKind(target({ kind: 'slurm' }), 'targets/a.yaml', { [EXECUTION_ENV]: 'local' }), 'local');
    assert.equal(executionKind(target(), 'targets/a.yaml', { [EXECUTION_ENV]: 'slurm' }), 'slurm');
    assert.equal(executionKind(target({ kind: 'slurm' }), 'targets/a.yaml', { [EXECUTION_ENV]: '' }), 'slurm');
  });

  it('any other value of the variable is one error line naming it and the fix', () => {
    assert.throws(
      () => executionKind(target(), 'targets/a.yaml', { [EXECUTION_ENV]: 'cluster' }),
      (e: Error) => e instanceof InputError && e.message === 'targets/a.yaml: execution.kind: the environment variable NX_DISTRO_EXECUTION is "cluster"; set it to local or slurm, or unset it to use the target\'s execution.kind (local)',
    );
  });

  it('the execution block is no part of the system target identity (so of no cache key)', () => {
    const t = target({ kind: 'slurm', cpus: 4, partition: 'builds' });
    assert.deepEqual(withoutExecution(t), target());
  });
});

describe('cluster/build-job: the job of one build', () => {
  const input = {
    taskId: 'gcc:build--stage1:aarch64',
    workspaceRoot: '/srv/ws',
    requestFile: "/srv/ws/tmp/cluster/aarch64/gcc@stage1/request.json",
    outputFile: '/srv/ws/tmp/cluster/aarch64/gcc@stage1/job.out',
    nodePath: '/usr/bin/node',
    cliPath: "/srv/it's/bin/nx-distro.js",
  };

  it('is named after its task, runs nx-distro build-job on the request with this Node, one CPU by default, requeued on node failure', () => {
    const spec = buildJobSpec({ ...input, execution: undefined, resources: undefined });
    assert.equal(spec.name, 'gcc:build--stage1:aarch64');
    assert.equal(spec.cpus, 1);
    assert.equal(spec.requeue, true);
    assert.equal(spec.cwd, '/srv/ws');
    assert.deepEqual(spec.script.split('\n'), [
      '#!/bin/sh',
      '# nx-distro: gcc:build--stage1:aarch64 as a Slurm job (cluster/build-job.ts)',
      `exec /usr/bin/node '/srv/it'\\''s/bin/nx-distro.js' build-job /srv/ws/tmp/cluster/aarch64/gcc@stage1/request.json`,
      '',
    ]);
    assert.deepEqual(sbatchArgs(spec), [
      '--parsable',
      '--job-name=gcc:build--stage1:aarch64',
      '--output=/srv/ws/tmp/cluster/aarch64/gcc@stage1/job.out',
      '--open-mode=append',
      '--chdir=/srv/ws',
      '--cpus-per-task=1',
      '--requeue',
    ]);
  });

  it("takes the target's execution settings, the recipe's resources over them", () => {
    const execution = { kind: 'slurm' as const, cpus: 2, memory_mib: 4096, partition: 'builds', constraint: 'x86_64', time_limit_minutes: 600 };
    assert.deepEqual(sbatchArgs(buildJobSpec({ ...input, execution, resources: undefined })).slice(5), ['--cpus-per-task=2', '--mem=4096M', '--time=600', '--constraint=x86_64', '--partition=builds', '--requeue']);
    assert.deepEqual(sbatchArgs(buildJobSpec({ ...input, execution, resources: { cpus: 8, memory_mib: 16384 } })).slice(5, 7), ['--cpus-per-task=8', '--mem=16384M']);
  });

  it('its files live in tmp/cluster/<systemTarget>/<node>; the task id is project:target[:configuration]', () => {
    assert.equal(jobFolder('aarch64', 'gcc@stage1'), 'tmp/cluster/aarch64/gcc@stage1');
    assert.equal(taskIdOf({ projectName: 'zlib', targetName: 'build', configurationName: 'aarch64' }), 'zlib:build:aarch64');
    assert.equal(taskIdOf({ projectName: 'zlib', targetName: 'build', configurationName: undefined }), 'zlib:build');
  });

  it('says in one line how the job ended, with the runs before a requeue', () => {
    const run = (state: string, nodes: string, start: number, end: number, exitStatus = 0, signal = 0): SlurmJobRun => ({ jobId: '12', name: 'zlib:build:aarch64', state, exitStatus, signal, nodes, start, end });
    const done = run('COMPLETED', 'n1', 1000, 24_000);
    assert.equal(jobSummary({ ...done, success: true, runs: [done] }), 'Slurm job 12 COMPLETED on n1 in 23 s');
    const lost = run('NODE_FAIL', 'n2', 0, 5000);
    assert.equal(jobSummary({ ...done, success: true, runs: [lost, done] }), 'Slurm job 12 COMPLETED on n1 in 23 s, after NODE_FAIL on n2');
    const failed = run('FAILED', 'n2', NaN, NaN, 1);
    assert.equal(jobSummary({ ...failed, success: false, runs: [failed] }), 'Slurm job 12 FAILED (exit 1) on n2 in ? s');
    assert.equal(jobSummary({ ...done, success: true, runs: [done] }, 25.04), 'Slurm job 12 COMPLETED on n1 in 23 s; 25.0 s from submission');
    const killed = run('CANCELLED', 'n1', 0, 1000, 0, 15);
    assert.equal(jobSummary({ ...killed, success: false, runs: [killed] }), 'Slurm job 12 CANCELLED (signal 15) on n1 in 1 s');
  });
});

describe('cluster/build-job-cli: the request a worker reads', () => {
  it('refuses what is not a format-1 request, naming the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'build-job-'));
    try {
      const file = path.join(dir, 'request.json');
      writeFileSync(file, '{"format": 2}');
      assert.throws(() => readBuildJobRequest(file), { message: `${file}: format: is not a build job request of this nx-distro (format 1); submit the build again from its Nx task` });
      writeFileSync(file, '{');
      assert.throws(() => readBuildJobRequest(file), /request\.json: format: cannot be read as JSON/);
      const ok = { format: 1, taskId: 'zlib:build:aarch64', workspaceRoot: '/srv/ws', projectName: 'zlib', targetName: 'build', projectRoots: { zlib: 'recipes/zlib' }, options: { systemTarget: 'aarch64' }, mode: 'cross' };
      writeFileSync(file, JSON.stringify(ok));
      assert.deepEqual(readBuildJobRequest(file), ok);
      writeFileSync(file, JSON.stringify({ ...ok, workspaceRoot: 'relative' }));
      assert.throws(() => readBuildJobRequest(file), /is not a build job request/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
