import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { replaceFolder, stagingFolderFor } from './replace-folder';

describe('replaceFolder', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-replace-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('puts a staging folder in place of a missing or an existing folder, leaving nothing of the old one', async () => {
    const final = path.join(tmp, 'a', 'repo');
    const s1 = stagingFolderFor(final);
    assert.equal(path.dirname(s1), path.dirname(final));
    assert.match(path.basename(s1), /^\.repo\.\d+-[0-9a-f]{12}\.tmp$/);
    writeFileSync(path.join(s1, 'one-1.pkg'), '1');
    await replaceFolder(s1, final);
    assert.deepEqual(readdirSync(final), ['one-1.pkg']);

    const s2 = stagingFolderFor(final);
    writeFileSync(path.join(s2, 'one-2.pkg'), '2');
    await replaceFolder(s2, final);
    assert.deepEqual(readdirSync(final), ['one-2.pkg']);
    assert.deepEqual(readdirSync(path.dirname(final)), ['repo'], 'no staging, old or lock folder left');
  });

  it('serialises concurrent replacements: one complete tree wins', async () => {
    const final = path.join(tmp, 'b', 'repo');
    const stagings = Array.from({ length: 6 }, (_, i) => {
      const s = stagingFolderFor(final);
      for (let f = 0; f < 20; f++) writeFileSync(path.join(s, `f${f}`), String(i));
      return s;
    });
    await Promise.all(stagings.map((s) => replaceFolder(s, final)));
    const contents = new Set(readdirSync(final).map((f) => readFileSync(path.join(final, f), 'utf8')));
    assert.equal(readdirSync(final).length, 20);
    assert.equal(contents.size, 1, 'the files of one run only');
    assert.deepEqual(readdirSync(path.dirname(final)), ['repo']);
  });

  it('puts the old folder back when the new one cannot be moved in', async () => {
    const final = path.join(tmp, 'c', 'repo');
    mkdirSync(final, { recursive: true });
    writeFileSync(path.join(final, 'kept'), 'old');
    await assert.rejects(replaceFolder(path.join(tmp, 'c', '.missing.tmp'), final), /ENOENT/);
    assert.equal(readFileSync(path.join(final, 'kept'), 'utf8'), 'old');
    assert.ok(!existsSync(path.join(tmp, 'c', '.missing.tmp')));
    assert.deepEqual(readdirSync(path.dirname(final)), ['repo']);
  });
});
