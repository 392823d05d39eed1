import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { PackagingInput } from './package-build';
import { readRescueRecord, rescueShellSpec, writeRescueRecord, type RescueRecord } from './rescue';
import { parseShellArgs } from './rescue';

const RECORD: RescueRecord = {
  format: 1,
  node: 'zlib',
  systemTarget: 'aarch64',
  mode: 'cross',
  failedPhase: 'build',
  sandbox: { binds: [{ src: '/w/tmp/build/aarch64/zlib/src', dest: '/build/src', writable: true }], env: { CC: 'aarch64-linux-gnu-gcc', TERM: 'dumb' }, cwd: '/build/src' },
  pkgdir: '/w/tmp/build/aarch64/zlib/pkg',
  steps: [{ phase: 'configure', script: './configure --prefix=/usr' }, { phase: 'build', script: 'make' }, { phase: 'install', script: 'make DESTDIR="$pkgdir" install' }],
  // Only its JSON round trip matters here (pipeline/package-build.ts reads it).
  packaging: { node: 'zlib', systemTarget: 'aarch64', outDir: '/w/dist/aarch64/packages/zlib' } as unknown as PackagingInput,
};

describe('rescue records', () => {
  it('round-trips through the work folder, and names a damaged one with the fix', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rescue-'));
    try {
      assert.equal(readRescueRecord(dir), undefined);
      await writeRescueRecord(dir, RECORD);
      assert.deepEqual(readRescueRecord(dir), RECORD);
      writeFileSync(path.join(dir, 'sandbox.json'), '{"format": 2}');
      assert.throws(() => readRescueRecord(dir), { message: `${path.join(dir, 'sandbox.json')}: not a sandbox record of nx-distro (format 2); rebuild the task to write it again` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("makes the shell's sandbox: the steps' binds with $pkgdir writable, their environment with the caller's TERM, bash through script", () => {
    const spec = rescueShellSpec(RECORD, true, 'screen');
    assert.deepEqual(spec.binds.at(-1), { src: RECORD.pkgdir, dest: '/build/pkg', writable: true });
    assert.equal(spec.env.CC, 'aarch64-linux-gnu-gcc');
    assert.equal(spec.env.TERM, 'screen');
    assert.equal(spec.env.PS1, '[nx-distro zlib aarch64 \\w]\\$ ');
    assert.deepEqual(spec.argv, ['script', '--quiet', '--return', '--command', '/bin/bash --noprofile --norc -i', '/dev/null']);
    assert.equal(spec.stdio, 'terminal');
    assert.equal(rescueShellSpec(RECORD, false).argv[4], '/bin/sh -i');
  });
});

describe('parseShellArgs', () => {
  it('takes PROJECT[:TARGET] and the system target in every spelling', () => {
    assert.deepEqual(parseShellArgs(['zlib', '-c', 'aarch64']), { project: 'zlib', target: 'build', node: 'zlib', systemTarget: 'aarch64' });
    assert.deepEqual(parseShellArgs(['--configuration=riscv64', 'gcc:build--stage1']), { project: 'gcc', target: 'build--stage1', node: 'gcc@stage1', systemTarget: 'riscv64' });
    assert.deepEqual(parseShellArgs(['-c=x86_64', 'zlib:build']), { project: 'zlib', target: 'build', node: 'zlib', systemTarget: 'x86_64' });
  });

  it('refuses what is not a build, quoting what it was given', () => {
    assert.deepEqual(parseShellArgs(['zlib:fetch', '-c', 'aarch64']), { error: '"fetch" is not a build target (build, or build--stageN)' });
    assert.deepEqual(parseShellArgs(['zlib']), { error: 'no system target (-c)' });
    assert.deepEqual(parseShellArgs(['-c', '../x', 'zlib']), { error: '"../x" is not a system target name' });
    assert.deepEqual(parseShellArgs(['a', 'b', '-c', 'x86_64']), { error: 'one project, got "a" "b"' });
    assert.deepEqual(parseShellArgs(['../../etc', '-c', 'x86_64']), { error: '"../../etc" is not PROJECT or PROJECT:TARGET' });
    assert.deepEqual(parseShellArgs(['zlib', '--resume', '-c', 'x86_64']), { error: 'unknown option "--resume"' });
  });
});
