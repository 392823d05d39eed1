import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diskFullMessage, isDiskFull } from './disk-full';

describe('isDiskFull', () => {
  it("accepts Node's ENOSPC and a program's 'No space left on device', nothing else", () => {
    assert.equal(isDiskFull(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })), true);
    assert.equal(isDiskFull(new Error('zstd failed (exit 70): zstd: error 70 : Write error : cannot write block : No space left on device')), true);
    assert.equal(isDiskFull(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })), false);
    assert.equal(isDiskFull('No space left on device'), false);
  });
});

describe('diskFullMessage', () => {
  it('is one line naming the task, the cause and where to free space', () => {
    const m = diskFullMessage('zlib', ['tmp/build/x86_64/zlib', 'dist/x86_64/packages/zlib'], new Error('zstd failed (exit 70):\nzstd: error 70 : Write error : cannot write block : No space left on device\n'));
    assert.equal(m, 'zlib: no space left on the device (zstd: error 70 : Write error : cannot write block : No space left on device); nothing was stored under a final name; fix: free space in the file system of tmp/build/x86_64/zlib or dist/x86_64/packages/zlib (df -h shows it) and run the task again');
  });
});
