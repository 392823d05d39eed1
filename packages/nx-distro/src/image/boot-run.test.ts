import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runQemu } from './boot-run';

// runQemu's process handling, on /bin/sh standing in for the emulator (the real QEMU boots are
// test/image.test.ts's and test/kernel.test.ts's): output from both streams, the exit status,
// the time limit, the grace time after the done marker, a program that does not exist.
describe('runQemu', () => {
  it('collects stdout and stderr and gives the exit status of a guest that powers off', async () => {
    const chunks: string[] = [];
    const r = await runQemu(['/bin/sh', '-c', 'echo console; echo qemu-warning >&2; exit 3'], { timeoutSeconds: 30, onOutput: (c) => chunks.push(c) });
    assert.match(r.output, /console\n/);
    assert.match(r.output, /qemu-warning\n/);
    assert.equal(chunks.join(''), r.output);
    assert.deepEqual([r.exitCode, r.timedOut, r.noPowerOff], [3, false, false]);
  });

  it('kills at the time limit', async () => {
    const r = await runQemu(['/bin/sh', '-c', 'echo booting; exec sleep 30'], { timeoutSeconds: 0.5 });
    assert.deepEqual([r.exitCode, r.timedOut, r.noPowerOff], [null, true, false]);
    assert.ok(r.seconds < 20, `killed after ${r.seconds} s`);
  });

  it('kills a guest that is done but does not power off within the grace time', async () => {
    const r = await runQemu(['/bin/sh', '-c', 'echo nx-distro-boot-ok; exec sleep 30'], { timeoutSeconds: 30, doneMarker: 'nx-distro-boot-ok', graceSeconds: 0.3 });
    assert.deepEqual([r.exitCode, r.timedOut, r.noPowerOff], [null, false, true]);
  });

  it('names the Debian packages when the emulator is not installed', async () => {
    await assert.rejects(runQemu(['/nonexistent/qemu-system-aarch64'], { timeoutSeconds: 5 }), /^Error: cannot run \/nonexistent\/qemu-system-aarch64: install the Debian packages qemu-system-arm and qemu-system-x86 \(tools\/setup-host\)$/);
  });
});
