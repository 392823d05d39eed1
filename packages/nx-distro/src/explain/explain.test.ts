import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { explain, explainTask } from './explain';
import { HISTORY, readSignatures, recordRun, type TaskResultLike } from './signatures';

const root = mkdtempSync(path.join(tmpdir(), 'explain-'));
after(() => rmSync(root, { recursive: true, force: true }));
const dir = path.join(root, 'data', 'nx-distro-signatures');
const write = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
};
/** A task result shaped like Nx's (`task.hashDetails` as Nx 24 fills it). */
const result = (id: string, hash: string, status: string, nodes: Record<string, string>, runtime: Record<string, string> = {}): TaskResultLike => ({
  task: { id, projectRoot: 'recipes/zlib', hash, hashDetails: { command: 'c1', nodes, runtime } },
  status,
});

test('a changed recipe file, input and runtime input are named; an unchanged hash that ran is told apart', () => {
  write('recipes/zlib/recipe.yaml', 'release: 1\n');
  write('targets/x86_64.yaml', 'cflags: -O2\n');
  const nodes = { 'zlib:{projectRoot}/**/*': '1', 'env:SOURCE_DATE_EPOCH': '5' };
  recordRun(dir, root, 'targets', [result('zlib:build:x86_64', '100', 'success', nodes, { 'node identity.mjs': 'a' })], 1000);
  assert.deepEqual(explainTask(dir, 'zlib:build:x86_64'), [`zlib:build:x86_64: ${'100'} (${new Date(1000).toISOString()}, success): the first signature recorded; nothing to compare with`]);
  write('recipes/zlib/recipe.yaml', 'release: 2\n');
  write('recipes/zlib/fix.patch', '--- a\n');
  recordRun(dir, root, 'targets', [result('zlib:build:x86_64', '200', 'success', { ...nodes, 'zlib:{projectRoot}/**/*': '2' }, { 'node identity.mjs': 'b' })], 2000);
  const lines = explainTask(dir, 'zlib:build:x86_64');
  assert.match(lines[0], /^zlib:build:x86_64: hash 200 \(.*, success\) differs from the one before, 100 /);
  assert.deepEqual(lines.slice(1), [
    '  changed zlib:{projectRoot}/**/*',
    '  changed runtime: node identity.mjs',
    '  added   file recipes/zlib/fix.patch',
    '  changed file recipes/zlib/recipe.yaml',
  ]);
  // the same hash again, from the cache: nothing recorded; ran again with it: told apart
  recordRun(dir, root, 'targets', [result('zlib:build:x86_64', '200', 'local-cache', nodes)], 3000);
  assert.equal(readSignatures(dir, 'zlib:build:x86_64').length, 2);
  recordRun(dir, root, 'targets', [result('zlib:build:x86_64', '200', 'success', nodes)], 4000);
  assert.match(explainTask(dir, 'zlib:build:x86_64')[0], /ran with the hash it had before, 200 .*: no input changed; the cache had no entry/);
  assert.deepEqual(explainTask(dir, 'lua:build:x86_64'), ['lua:build:x86_64: no signature recorded (it has not run in this workspace since nx-distro records them)']);
});

test('without tasks: every task of the last run that ran; history is bounded', () => {
  const d = path.join(root, 'other');
  for (let i = 0; i < HISTORY + 3; i++) {
    recordRun(d, root, 'targets', [result('a:build:x', `${i}`, 'success', { n: `${i}` }), result('b:build:x', '7', i === 0 ? 'success' : 'local-cache', { n: '7' })], 1000 * (i + 1));
  }
  assert.equal(readSignatures(d, 'a:build:x').length, HISTORY);
  const lines = explain(d, []);
  assert.match(lines[0], /^last run \(.*\): 2 tasks, 1 ran, 1 from a cache or skipped$/);
  assert.match(lines[1], /^a:build:x: hash 10 /);
  assert.equal(lines.filter((l) => l.startsWith('b:')).length, 0);
  assert.deepEqual(explain(path.join(root, 'none'), []), ['no run recorded yet in this workspace']);
});
