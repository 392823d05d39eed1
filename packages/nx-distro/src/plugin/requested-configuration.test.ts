import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestedConfiguration } from './requested-configuration';

const nx = (...args: string[]) => ['/usr/bin/node', '/ws/node_modules/.bin/nx', ...args];

describe('requestedConfiguration', () => {
  it('reads every form nx accepts', () => {
    assert.equal(requestedConfiguration(nx('run-many', '-t', 'build', '-c', 'armv7h')), 'armv7h');
    assert.equal(requestedConfiguration(nx('run-many', '-t', 'build', '--configuration', 'riscv64')), 'riscv64');
    assert.equal(requestedConfiguration(nx('affected', '-t', 'build', '--configuration=aarch64')), 'aarch64');
    assert.equal(requestedConfiguration(nx('run-many', '-t', 'build', '-c=x86_64')), 'x86_64');
    assert.equal(requestedConfiguration(nx('run', 'zlib:build:armv7h')), 'armv7h');
    assert.equal(requestedConfiguration(nx('zlib:build:armv7h', '--verbose')), 'armv7h');
  });
  it('returns undefined when none is given', () => {
    assert.equal(requestedConfiguration(nx('run', 'zlib:build')), undefined);
    assert.equal(requestedConfiguration(nx('run-many', '-t', 'fetch')), undefined);
  });
});
