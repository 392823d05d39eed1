// The host check before build runs, through the nx CLI on a real temporary workspace.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWorkspace, type TestWorkspace } from './helpers/workspace';

describe('host check before a build run', () => {
  let ws: TestWorkspace;
  before(() => {
    ws = createWorkspace('toolchain');
    // A toolchain no machine has: the check must name it and its packages.
    ws.write('targets/aarch64.yaml', ws.read('targets/aarch64.yaml').replace(/prefix: aarch64-linux-gnu-/, 'prefix: nonexistent-linux-gnu-'));
  });
  after(() => ws.dispose());

  it('refuses to start a build the machine cannot do, one line per problem and no stack trace', async () => {
    for (const args of [['run-many', '-t', 'build', '-c', 'aarch64'], ['run', 'syslinux:build:aarch64']]) {
      const r = await ws.nx(...args);
      assert.notEqual(r.exitCode, 0, r.all);
      assert.match(r.all, /this machine cannot build for aarch64 \(targets\/aarch64\.yaml\) yet:\n/);
      assert.match(
        r.all,
        /^host: nonexistent-linux-gnu-gcc \(the aarch64 toolchain of targets\/aarch64\.yaml\) is not on PATH; fix: run tools\/setup-host, or: apt-get install gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu$/m,
      );
      assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
      assert.doesNotMatch(r.all, /nx run /, 'no task may start');
    }
  });

  it('checks nothing for runs without builds, and nothing with NX_DISTRO_SKIP_HOST_CHECK=1', async () => {
    const graph = await ws.nx('run-many', '-t', 'build', '-c', 'aarch64', '--graph=tasks.json');
    assert.equal(graph.exitCode, 0, graph.all);
    ws.env.NX_DISTRO_SKIP_HOST_CHECK = '1';
    try {
      const r = await ws.nx('run', 'syslinux:build:aarch64', '--exclude-task-dependencies', '--skip-nx-cache');
      assert.doesNotMatch(r.all, /host: /);
      assert.match(r.all, /> nx run syslinux:build:aarch64/, 'the task starts');
    } finally {
      delete ws.env.NX_DISTRO_SKIP_HOST_CHECK;
    }
  });
});
