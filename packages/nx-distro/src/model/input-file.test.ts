import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from './errors';
import { inputFileProblem, readInputFile } from './input-file';

describe('input files: regular files inside their own folder only', () => {
  let dir: string;
  let ws: string;
  const SECRET = 'root:$y$j9T$secret-hash:19000:0:99999:7:::\n';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-input-file-'));
    ws = path.join(dir, 'ws');
    mkdirSync(path.join(ws, 'recipes/x/patches'), { recursive: true });
    writeFileSync(path.join(dir, 'shadow'), SECRET);
    writeFileSync(path.join(ws, 'recipes/x/recipe.yaml'), 'name: x\n');
    writeFileSync(path.join(ws, 'recipes/x/ok.patch'), 'a patch\n');
    symlinkSync(path.join(dir, 'shadow'), path.join(ws, 'recipes/x/outside.patch'));
    symlinkSync('ok.patch', path.join(ws, 'recipes/x/inside.patch'));
    execFileSync('mkfifo', [path.join(ws, 'recipes/x/fifo.patch')]);
    mkdirSync(path.join(dir, 'elsewhere'));
    writeFileSync(path.join(dir, 'elsewhere/shadow.patch'), SECRET);
    symlinkSync(path.join(dir, 'elsewhere'), path.join(ws, 'recipes/x/linked'));
    symlinkSync(path.join(dir, 'elsewhere'), path.join(ws, 'recipes/y'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refused = (file: string): string => {
    try {
      readInputFile(ws, file);
    } catch (e) {
      assert.ok(e instanceof InputError, String(e));
      assert.ok(!e.message.includes('secret-hash'), 'nothing of the file is shown');
      return e.message;
    }
    assert.fail(`${file} was read`);
  };

  it('reads a regular file', () => {
    assert.equal(readInputFile(ws, 'recipes/x/recipe.yaml').toString(), 'name: x\n');
    assert.equal(readInputFile(ws, 'recipes/x/./ok.patch').toString(), 'a patch\n');
    assert.equal(inputFileProblem(ws, 'recipes/x/ok.patch'), undefined);
  });

  it('refuses a symbolic link, to a host file or to a file beside it, with one line naming the file', () => {
    assert.equal(refused('recipes/x/outside.patch'), `recipes/x/outside.patch: is a symbolic link, not a regular file; replace it with a regular file inside the workspace (nx-distro reads no link, folder or special file on behalf of a recipe or system target)`);
    assert.match(refused('recipes/x/inside.patch'), /^recipes\/x\/inside\.patch: is a symbolic link, not a regular file; /);
    assert.deepEqual(inputFileProblem(ws, 'recipes/x/outside.patch'), { path: 'recipes/x/outside.patch', what: 'a symbolic link, not a regular file' });
  });

  it('refuses a file behind a linked folder, naming the folder', () => {
    assert.match(refused('recipes/x/linked/shadow.patch'), /^recipes\/x\/linked\/shadow\.patch: recipes\/x\/linked is a symbolic link, not a folder; /);
    assert.match(refused('recipes/y/shadow.patch'), /^recipes\/y\/shadow\.patch: recipes\/y is a symbolic link, not a folder; /);
    assert.deepEqual(inputFileProblem(ws, 'recipes/y/shadow.patch'), { path: 'recipes/y', what: 'a symbolic link, not a folder' });
  });

  it('refuses a FIFO without waiting on it, and a folder', () => {
    assert.match(refused('recipes/x/fifo.patch'), /^recipes\/x\/fifo\.patch: is a FIFO, not a regular file; /);
    assert.match(refused('recipes/x/patches'), /^recipes\/x\/patches: is a folder, not a regular file; /);
    assert.deepEqual(inputFileProblem(ws, 'recipes/x/fifo.patch'), { path: 'recipes/x/fifo.patch', what: 'a FIFO, not a regular file' });
  });

  it('says a missing file is not found, without a fix', () => {
    assert.equal(refused('recipes/x/gone.patch'), 'recipes/x/gone.patch: not found');
    assert.deepEqual(inputFileProblem(ws, 'recipes/none/recipe.yaml'), { path: 'recipes/none', what: 'not found' });
  });

  it('takes only paths inside the workspace (a caller bug otherwise)', () => {
    assert.throws(() => readInputFile(ws, '../shadow'), TypeError);
    assert.throws(() => inputFileProblem(ws, '/etc/shadow'), TypeError);
  });
});
