import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkJobName, FileFollower, isTerminalState, parseSacct, sacctArgs, sbatchArgs, SlurmError, type SlurmJobSpec } from './slurm';

// The commands themselves, against a real cluster: test/slurm-jobs.test.ts.

const spec: SlurmJobSpec = { name: 'zlib:build:aarch64', script: '#!/bin/sh\ntrue\n', outputFile: '/shared/logs/zlib.out', cwd: '/shared/ws' };

describe('sbatchArgs', () => {
  it('names the job, appends to the output file, requeues by default, and adds what the spec asks', () => {
    assert.deepEqual(sbatchArgs(spec), ['--parsable', '--job-name=zlib:build:aarch64', '--output=/shared/logs/zlib.out', '--open-mode=append', '--chdir=/shared/ws', '--requeue']);
    assert.deepEqual(sbatchArgs({ ...spec, cpus: 4, memoryMiB: 2048, timeLimitMinutes: 90, constraint: 'aarch64', partition: 'build', requeue: false }).slice(5), [
      '--cpus-per-task=4',
      '--mem=2048M',
      '--time=90',
      '--constraint=aarch64',
      '--partition=build',
      '--no-requeue',
    ]);
  });

  it("writes a % of the output path as %% (sbatch's filename patterns)", () => {
    assert.ok(sbatchArgs({ ...spec, outputFile: '/shared/100%/x.out' }).includes('--output=/shared/100%%/x.out'));
  });

  it('refuses a name with whitespace, a relative path and a non-positive or fractional number, naming it', () => {
    assert.throws(() => sbatchArgs({ ...spec, name: 'has space' }), /job name 'has space' has whitespace/);
    assert.throws(() => sbatchArgs({ ...spec, name: '' }), /empty job name/);
    assert.throws(() => sbatchArgs({ ...spec, cwd: 'ws' }), /cwd 'ws' is not an absolute path/);
    assert.throws(() => sbatchArgs({ ...spec, outputFile: 'x.out' }), /outputFile 'x.out' is not an absolute path/);
    assert.throws(() => sbatchArgs({ ...spec, cpus: 0 }), /cpus 0 is not a positive whole number/);
    assert.throws(() => sbatchArgs({ ...spec, memoryMiB: 1.5 }), /memoryMiB 1.5 is not/);
    assert.throws(() => checkJobName('a\tb'), SlurmError);
    checkJobName('a=b:c');
  });
});

describe('sacct', () => {
  it('reads the job completion log (-c) or the database (allocations, every run)', () => {
    assert.deepEqual(sacctArgs('12', 'jobcomp'), ['-c', '-P', '-n', '-j', '12', '-o', 'JobID,JobName,State,ExitCode,NodeList,Start,End']);
    assert.deepEqual(sacctArgs('12', 'slurmdbd').slice(0, 2), ['-X', '-D']);
  });

  it("parses a requeued job's runs in order, exit status and signal apart, states without their suffix", () => {
    const runs = parseSacct(
      [
        '5|requeue|NODE_FAIL|0:0|n1|2026-12-02T15:52:58|2026-12-02T15:53:27',
        '5|requeue|COMPLETED|0:0|n2|2026-12-02T15:53:59|2026-12-02T15:54:14',
        '6|sig|FAILED|0:9|n1|2026-12-02T15:55:00|2026-12-02T15:55:00',
        '7|cx|CANCELLED by 0|0:0|n1|2026-12-02T15:56:00|Unknown',
        '8|mem|FAILED|0:1|(null)|Unknown|Unknown',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      runs.map((r) => [r.jobId, r.state, r.exitStatus, r.signal, r.nodes]),
      [
        ['5', 'NODE_FAIL', 0, 0, 'n1'],
        ['5', 'COMPLETED', 0, 0, 'n2'],
        ['6', 'FAILED', 0, 9, 'n1'],
        ['7', 'CANCELLED', 0, 0, 'n1'],
        ['8', 'FAILED', 0, 1, '(null)'],
      ],
    );
    assert.equal(runs[1].end - runs[1].start, 15_000);
    assert.ok(Number.isNaN(runs[3].end) && Number.isNaN(runs[4].start));
  });

  it('refuses a line it cannot read, naming it', () => {
    assert.throws(() => parseSacct('5|x|COMPLETED|0:0|n1'), /sacct line '5\|x\|COMPLETED\|0:0\|n1' does not have the 7 fields/);
    assert.throws(() => parseSacct('5|x|COMPLETED|zero|n1|Unknown|Unknown'), /ExitCode 'zero'/);
  });

  it('knows the states after which a job never runs again', () => {
    for (const s of ['COMPLETED', 'FAILED', 'CANCELLED', 'CANCELLED by 0', 'NODE_FAIL', 'TIMEOUT', 'OUT_OF_MEMORY']) assert.ok(isTerminalState(s), s);
    for (const s of ['PENDING', 'RUNNING', 'REQUEUED', 'COMPLETING', 'CONFIGURING', 'SUSPENDED', '']) assert.ok(!isTerminalState(s), s);
  });
});

describe('FileFollower', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-follow-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('hands on what was appended since the last poll, waits for a missing file, restarts after a truncation', async () => {
    const file = path.join(tmp, 'job.out');
    const got: string[] = [];
    const f = new FileFollower(file, (t) => got.push(t));
    await f.poll();
    assert.deepEqual(got, [], 'no file yet');
    writeFileSync(file, 'attempt 0 on n1\n');
    await f.poll();
    await f.poll();
    appendFileSync(file, 'still building\n');
    await f.poll();
    assert.deepEqual(got, ['attempt 0 on n1\n', 'still building\n']);
    truncateSync(file, 0);
    appendFileSync(file, 'attempt 1\n');
    await f.poll();
    assert.deepEqual(got.at(-1), 'attempt 1\n');
  });

  it('never splits a UTF-8 character between two polls', async () => {
    const file = path.join(tmp, 'utf8.out');
    const got: string[] = [];
    const f = new FileFollower(file, (t) => got.push(t));
    const bytes = Buffer.from('größe ✓\n', 'utf8');
    const cut = bytes.indexOf(Buffer.from('✓', 'utf8')) + 1; // inside the 3-byte ✓
    writeFileSync(file, bytes.subarray(0, cut));
    await f.poll();
    appendFileSync(file, bytes.subarray(cut));
    await f.poll();
    assert.equal(got.join(''), 'größe ✓\n');
    assert.ok(!got.some((t) => t.includes('\uFFFD')));
  });

  it('reads a file larger than its buffer whole', async () => {
    const file = path.join(tmp, 'big.out');
    const text = 'x'.repeat(200_000) + '\n';
    writeFileSync(file, text);
    let got = '';
    await new FileFollower(file, (t) => (got += t)).poll();
    assert.equal(got, text);
  });
});
