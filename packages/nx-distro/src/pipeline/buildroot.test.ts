import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildMachineDebianArch, buildrootHostProblems } from './buildroot';

/** A folder holding executable files named `programs`, as a one-entry search path. */
function binDir(t: { after: (fn: () => void) => void }, programs: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-buildroot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const p of programs) {
    writeFileSync(path.join(dir, p), '#!/bin/sh\n');
    chmodSync(path.join(dir, p), 0o755);
  }
  return dir;
}

describe('buildrootHostProblems', () => {
  it('needs mmdebstrap, and arch-test only for a foreign architecture', (t) => {
    const none = binDir(t, []);
    assert.deepEqual(buildrootHostProblems('amd64', none, 'amd64').map((p) => p.what.split(' ')[0]), ['mmdebstrap']);
    const problems = buildrootHostProblems('arm64', none, 'amd64');
    assert.deepEqual(problems.map((p) => p.what.split(' ')[0]), ['mmdebstrap', 'arch-test']);
    assert.match(problems[1].what, /the arm64 build root on this amd64 machine/);
    assert.equal(problems[1].fix, 'run tools/setup-host, or: apt-get install arch-test');
    const onlyMmdebstrap = binDir(t, ['mmdebstrap']);
    assert.deepEqual(buildrootHostProblems('amd64', onlyMmdebstrap, 'amd64'), []);
    assert.deepEqual(buildrootHostProblems('arm64', onlyMmdebstrap, 'amd64').map((p) => p.what.split(' ')[0]), ['arch-test']);
    assert.deepEqual(buildrootHostProblems('arm64', binDir(t, ['mmdebstrap', 'arch-test']), 'amd64'), []);
  });

  it("names this machine's architecture as Debian does", () => {
    const expected = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];
    if (expected) assert.equal(buildMachineDebianArch(), expected);
  });
});
