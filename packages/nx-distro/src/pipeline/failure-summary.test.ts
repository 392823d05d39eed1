import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { failureSummary } from './failure-summary';
import type { PackagingInput } from './package-build';
import { writeRescueRecord, workFolder } from './rescue';

const result = (id: string, status: string, outputs: string[] = []) => {
  const [project, target, configuration] = id.split(':');
  return { task: { id, target: { project, target, configuration }, outputs }, status };
};

describe('failureSummary', () => {
  it('names each failed task: a build\'s step, log and shell; a build that failed outside its steps; any other task', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'summary-'));
    try {
      mkdirSync(path.join(root, 'dist/aarch64/packages/gcc@stage1'), { recursive: true });
      writeFileSync(path.join(root, 'dist/aarch64/packages/gcc@stage1/build.log'), '');
      const work = workFolder(root, 'aarch64', 'gcc@stage1');
      mkdirSync(work, { recursive: true });
      await writeRescueRecord(work, { format: 1, node: 'gcc@stage1', systemTarget: 'aarch64', mode: 'cross', failedPhase: 'configure', sandbox: { binds: [], env: {}, cwd: '/build/src' }, pkgdir: path.join(work, 'pkg'), steps: [], packaging: {} as unknown as PackagingInput });
      const results = Object.fromEntries([
        result('gcc:build--stage1:aarch64', 'failure', ['dist/aarch64/packages/gcc@stage1']),
        result('zlib:build:aarch64', 'failure', ['dist/aarch64/packages/zlib']),
        result('zlib:fetch', 'failure'),
        result('xz:build:aarch64', 'success'),
        result('lua:build:aarch64', 'local-cache'),
      ].map((r) => [r.task.id, r]));
      assert.deepEqual(failureSummary(root, results), [
        'nx-distro: 3 task(s) failed:',
        'nx-distro: failed: aarch64 gcc@stage1: step configure; log dist/aarch64/packages/gcc@stage1/build.log; shell: npx nx-distro shell gcc:build--stage1 -c aarch64',
        'nx-distro: failed: aarch64 zlib: not in a step (sources, lint, an input error or a cluster worker\'s host check: its output above says which)',
        'nx-distro: failed: zlib:fetch (its output above says why)',
      ]);
      assert.deepEqual(failureSummary(root, { 'xz:build:aarch64': result('xz:build:aarch64', 'success') }), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
