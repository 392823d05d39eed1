import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FALLBACK_SOURCE_DATE_EPOCH, sourceDateEpoch } from './source-date-epoch';

describe('sourceDateEpoch', () => {
  it("takes the recipe folder's last commit time, the newest file time of an uncommitted recipe, 1980 outside git", () => {
    const root = mkdtempSync(path.join(tmpdir(), 'nx-distro-sde-'));
    try {
      const env = {};
      mkdirSync(path.join(root, 'recipes/a'), { recursive: true });
      writeFileSync(path.join(root, 'recipes/a/recipe.yaml'), 'name: a\n');
      assert.equal(sourceDateEpoch(root, 'recipes/a', env), FALLBACK_SOURCE_DATE_EPOCH, 'not a git repository');
      const g = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { cwd: root, env: { ...process.env, GIT_COMMITTER_DATE: '1700000000 +0000', GIT_AUTHOR_DATE: '1700000000 +0000' } });
      g('init', '-q');
      g('add', '.');
      g('commit', '-q', '-m', 'a');
      assert.equal(sourceDateEpoch(root, 'recipes/a', env), 1700000000);
      // A new, untracked recipe: its newest file's time, not 1980.
      mkdirSync(path.join(root, 'recipes/b/patches'), { recursive: true });
      writeFileSync(path.join(root, 'recipes/b/recipe.yaml'), 'name: b\n');
      writeFileSync(path.join(root, 'recipes/b/patches/x.patch'), '');
      utimesSync(path.join(root, 'recipes/b/recipe.yaml'), 1750000000, 1750000000);
      utimesSync(path.join(root, 'recipes/b/patches/x.patch'), 1760000000, 1760000000);
      assert.equal(sourceDateEpoch(root, 'recipes/b', env), 1760000000);
      // An edited committed recipe: the edit's time.
      writeFileSync(path.join(root, 'recipes/a/recipe.yaml'), 'name: a\nrelease: 2\n');
      utimesSync(path.join(root, 'recipes/a/recipe.yaml'), 1770000000, 1770000000);
      assert.equal(sourceDateEpoch(root, 'recipes/a', env), 1770000000);
      assert.equal(sourceDateEpoch(root, 'recipes/a', { SOURCE_DATE_EPOCH: '42' }), 42, 'an explicit epoch wins');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
