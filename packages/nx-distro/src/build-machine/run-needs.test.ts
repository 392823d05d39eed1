import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostNeedsOfRun, requestedTargets } from './run-needs';

const nx = (...args: string[]) => ['/usr/bin/node', '/ws/node_modules/.bin/nx', ...args];

describe('requestedTargets', () => {
  it('reads every form nx accepts', () => {
    assert.deepEqual(requestedTargets(nx('run-many', '-t', 'build', '-c', 'armv7h')), ['build']);
    assert.deepEqual(requestedTargets(nx('run-many', '-t', 'fetch', 'build--stage1', '-p', 'gcc')), ['fetch', 'build--stage1']);
    assert.deepEqual(requestedTargets(nx('run-many', '--targets=fetch,build')), ['fetch', 'build']);
    assert.deepEqual(requestedTargets(nx('affected', '--target', 'build')), ['build']);
    assert.deepEqual(requestedTargets(nx('affected', '-t=build')), ['build']);
    assert.deepEqual(requestedTargets(nx('run', 'zlib:build:armv7h')), ['build']);
    assert.deepEqual(requestedTargets(nx('run', 'zlib:fetch')), ['fetch']);
    assert.deepEqual(requestedTargets(nx('zlib:build--stage1', '--verbose')), ['build--stage1']);
    assert.deepEqual(requestedTargets(nx('build', 'zlib', '-c', 'aarch64')), ['build']);
  });
  it('finds no target where there is none', () => {
    assert.deepEqual(requestedTargets(nx()), []);
    assert.deepEqual(requestedTargets(nx('--help')), []);
    assert.deepEqual(requestedTargets(nx('run')), []);
  });
});

describe('hostNeedsOfRun', () => {
  it('needs the build host for build and build--<stage> tasks only', () => {
    assert.equal(hostNeedsOfRun(nx('run-many', '-t', 'build', '-c', 'armv7h')).build, true);
    assert.equal(hostNeedsOfRun(nx('run', 'gcc:build--stage1:riscv64')).build, true);
    assert.equal(hostNeedsOfRun(nx('run-many', '-t', 'fetch', 'build')).build, true);
    assert.equal(hostNeedsOfRun(nx('run-many', '-t', 'build*')).build, true);
    assert.equal(hostNeedsOfRun(nx('run-many', '-t', 'fetch')).build, false);
    assert.equal(hostNeedsOfRun(nx('run', 'zlib:fetch')).build, false);
    assert.equal(hostNeedsOfRun(nx('run-many', '-t', 'builder')).build, false);
    assert.equal(hostNeedsOfRun(nx('show', 'projects')).build, false);
  });
});
