// Repository consistency: the TypeScript compiles, and the generated types match their schemas.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { REPO_ROOT } from './helpers/workspace';

describe('repository', () => {
  it('type-checks', async () => {
    const r = await execa(path.join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: REPO_ROOT, reject: false, all: true });
    assert.equal(r.exitCode, 0, String(r.all));
  });

  it('has generated types up to date with the JSON Schemas', async () => {
    const r = await execa(process.execPath, ['tools/gen-types.mjs', '--check'], { cwd: REPO_ROOT, reject: false, all: true });
    assert.equal(r.exitCode, 0, String(r.all));
  });
});
