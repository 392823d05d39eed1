import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logger } from '@nx/devkit';
import { InputError, ReportedError } from '../model/errors';
import { taskFailed } from './context';

describe('taskFailed', () => {
  it('logs a user-facing failure as its one line and fails the task', (t) => {
    const errors: string[] = [];
    t.mock.method(logger, 'error', (m: string) => errors.push(m));
    assert.deepEqual(taskFailed(new InputError('targets/aarch64.yaml', 'image', 'missing'), 'image'), { success: false });
    assert.deepEqual(taskFailed(new ReportedError('dist/aarch64/packages/x/x-1-1-aarch64.pkg.tar.zst: not a readable package'), 'repository'), { success: false });
    assert.deepEqual(errors, ['targets/aarch64.yaml: image: missing', 'dist/aarch64/packages/x/x-1-1-aarch64.pkg.tar.zst: not a readable package']);
  });

  it('rethrows a bug by default, and logs it under the subject with otherErrors: log', (t) => {
    const errors: string[] = [];
    t.mock.method(logger, 'error', (m: string) => errors.push(m));
    const bug = new TypeError('x is undefined');
    assert.throws(() => taskFailed(bug, 'repository'), bug);
    assert.deepEqual(errors, []);
    assert.deepEqual(taskFailed(new Error('pacman: error: failed to commit transaction (conflicting files)'), 'rootfs', { otherErrors: 'log' }), { success: false });
    assert.deepEqual(errors, ['rootfs: pacman: error: failed to commit transaction (conflicting files)']);
  });
});
