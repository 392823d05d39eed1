import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stripNondeterminism } from './strip-nondeterminism';

const dir = mkdtempSync(path.join(tmpdir(), 'strip-nondet-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A tree with a gzip file and an ar archive made at `when` (seconds), as build tools leave them. */
function tree(name: string, when: number): string {
  const root = path.join(dir, name);
  mkdirSync(path.join(root, 'usr/share/man/man1'), { recursive: true });
  mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
  mkdirSync(path.join(dir, `${name}-src`));
  const page = path.join(dir, `${name}-src`, 'tic.1');
  writeFileSync(page, '.TH TIC 1\n');
  utimesSync(page, when, when);
  writeFileSync(path.join(root, 'usr/share/man/man1/tic.1.gz'), execFileSync('gzip', ['-c', page]));
  const obj = path.join(dir, `${name}-src`, 'a.o');
  writeFileSync(obj, 'object');
  utimesSync(obj, when, when);
  execFileSync('ar', ['rcU', path.join(root, 'usr/lib/liba.a'), 'a.o'], { cwd: path.dirname(obj) });
  return root;
}

test('gzip headers and ar members made at different times become byte-identical', async () => {
  const a = tree('a', 1_700_000_000);
  const b = tree('b', 1_700_086_400);
  for (const f of ['usr/share/man/man1/tic.1.gz', 'usr/lib/liba.a']) assert.notDeepEqual(readFileSync(path.join(a, f)), readFileSync(path.join(b, f)), `${f} differs before`);
  await stripNondeterminism(a, 1_600_000_000);
  await stripNondeterminism(b, 1_600_000_000);
  for (const f of ['usr/share/man/man1/tic.1.gz', 'usr/lib/liba.a']) assert.deepEqual(readFileSync(path.join(a, f)), readFileSync(path.join(b, f)), f);
  assert.equal(execFileSync('zcat', [path.join(a, 'usr/share/man/man1/tic.1.gz')], { encoding: 'utf8' }), '.TH TIC 1\n');
});
