import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cacheEntryNames, recordCacheEntries, unservedEntries, unservedHint } from './unindexed';

describe('entries of the cache folder that Nx did not serve', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-unindexed-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cache = path.join(dir, 'cache');
  const sigs = path.join(dir, 'data', 'nx-distro-signatures');
  for (const n of ['111', '222', 'terminalOutputs']) mkdirSync(path.join(cache, n), { recursive: true });
  writeFileSync(path.join(cache, 'run.json'), '{}');
  const results = [
    { task: { id: 'zlib:build:x86_64', hash: '111' }, status: 'success' },
    { task: { id: 'zlib:fetch', hash: '222' }, status: 'local-cache' },
    { task: { id: 'hello:build:x86_64', hash: '333' }, status: 'success' },
    { task: { id: 'xz:build:x86_64', hash: '222' }, status: 'failure' },
  ];

  it('names the task entries only (hashes)', () => {
    assert.deepEqual(cacheEntryNames(cache).sort(), ['111', '222']);
    assert.deepEqual(cacheEntryNames(path.join(dir, 'none')), []);
  });

  it('names the tasks that ran although the folder held their hash before the run', () => {
    recordCacheEntries(sigs, cache);
    assert.deepEqual(unservedEntries(sigs, cache, results, ['node', 'nx', 'run-many'], {}), ['xz:build:x86_64', 'zlib:build:x86_64']);
  });

  it('names none for another cache folder, a run that skipped the cache, or without a record', () => {
    recordCacheEntries(sigs, cache);
    assert.deepEqual(unservedEntries(sigs, path.join(dir, 'other'), results, [], {}), []);
    assert.deepEqual(unservedEntries(sigs, cache, results, ['node', 'nx', 'run-many', '--skip-nx-cache'], {}), []);
    assert.deepEqual(unservedEntries(sigs, cache, results, [], { NX_SKIP_NX_CACHE: 'true' }), []);
    assert.deepEqual(unservedEntries(path.join(dir, 'nothing'), cache, results, [], {}), []);
  });

  it('the hint names the folders and both ways to share', () => {
    const hint = unservedHint(['a', 'b', 'c', 'd', 'e'], '/c', '/w/.nx/workspace-data');
    assert.match(hint, /^nx-distro: 5 tasks ran although the cache folder \/c held entries with the same hash \(a, b, c, and 2 more\)/);
    assert.match(hint, /workspace data folder \(\/w\/\.nx\/workspace-data\)/);
    assert.match(hint, /remote cache \(docs\/remote-cache\.md\)/);
    assert.match(hint, /NX_WORKSPACE_DATA_DIRECTORY/);
    assert.match(unservedHint(['a'], '/c', '/d'), /^nx-distro: 1 task ran although the cache folder \/c held an entry with the same hash \(a\)/);
  });
});
