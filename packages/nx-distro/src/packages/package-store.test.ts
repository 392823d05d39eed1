import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { stageSysroot } from './package-store';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-stage-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A fake extracted package: `files` maps relative paths to contents, or `{ link }` for symlinks. */
function pkg(name: string, files: Record<string, string | { link: string }>): string {
  const dir = path.join(tmp, 'store', name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    if (typeof content === 'string') {
      writeFileSync(p, content);
      chmodSync(p, 0o444);
    } else symlinkSync(content.link, p);
  }
  return dir;
}

describe('stageSysroot', () => {
  it('merges folders, hard-links files (same inode as the store), recreates symlinks', async () => {
    const a = pkg('a', { 'usr/lib/liba.so.1': 'A', 'usr/lib/liba.so': { link: 'liba.so.1' }, 'usr/include/a.h': 'a' });
    const b = pkg('b', { 'usr/lib/libb.so.1': 'B', 'usr/include/b/b.h': 'b', 'lib/ld.so': { link: '/usr/lib/libc.so' } });
    const sysroot = path.join(tmp, 'sysroots', 'x86_64');
    const r = await stageSysroot(sysroot, [a, b]);
    assert.deepEqual(r, { files: 6, conflicts: [] });
    assert.equal(statSync(path.join(sysroot, 'usr/lib/liba.so.1')).ino, statSync(path.join(a, 'usr/lib/liba.so.1')).ino);
    assert.equal(readFileSync(path.join(sysroot, 'usr/include/b/b.h'), 'utf8'), 'b');
    assert.equal(readlinkSync(path.join(sysroot, 'usr/lib/liba.so')), 'liba.so.1');
    assert.equal(readlinkSync(path.join(sysroot, 'lib/ld.so')), '/usr/lib/libc.so', 'absolute symlinks kept verbatim');
    assert.ok(lstatSync(path.join(sysroot, 'usr/lib')).isDirectory());
    assert.notEqual(statSync(path.join(sysroot, 'usr/lib')).ino, statSync(path.join(a, 'usr/lib')).ino, 'folders are the sysroot’s own');
  });

  it('reports a file provided twice and keeps the first package’s', async () => {
    const a = pkg('a', { 'usr/include/common.h': 'from a', 'usr/bin/tool': { link: 'a-tool' } });
    const b = pkg('b', { 'usr/include/common.h': 'from b', 'usr/bin/tool': { link: 'b-tool' }, 'usr/include/b.h': 'b' });
    const sysroot = path.join(tmp, 'sysroot');
    const r = await stageSysroot(sysroot, [a, b]);
    assert.equal(r.files, 3);
    assert.deepEqual(r.conflicts, [`usr/bin/tool: ${a}, also in ${b}`, `usr/include/common.h: ${a}, also in ${b}`]);
    assert.equal(readFileSync(path.join(sysroot, 'usr/include/common.h'), 'utf8'), 'from a');
    assert.equal(readlinkSync(path.join(sysroot, 'usr/bin/tool')), 'a-tool');
  });

  it('never writes through a symlink: a folder where an earlier package has a symlink is one conflict, its subtree skipped', async () => {
    const outside = path.join(tmp, 'outside');
    mkdirSync(outside);
    const a = pkg('a', { lib: { link: outside } });
    const b = pkg('b', { 'lib/libb.so': 'B', 'usr/lib/x': 'x' });
    const sysroot = path.join(tmp, 'sysroot');
    const r = await stageSysroot(sysroot, [a, b]);
    assert.deepEqual(r.conflicts, [`lib: ${a}, also in ${b}`]);
    assert.equal(r.files, 2);
    assert.equal(existsSync(path.join(outside, 'libb.so')), false);
  });

  it('reports a file where an earlier package has a folder', async () => {
    const a = pkg('a', { 'usr/share/x/f': 'f' });
    const b = pkg('b', { 'usr/share/x': 'a file' });
    const r = await stageSysroot(path.join(tmp, 'sysroot'), [a, b]);
    assert.deepEqual(r.conflicts, [`usr/share/x: ${a}, also in ${b}`]);
  });

  it('replaces an existing sysroot without touching the store', async () => {
    const a = pkg('a', { 'usr/lib/liba.so': 'A' });
    const b = pkg('b', { 'usr/lib/libb.so': 'B' });
    const sysroot = path.join(tmp, 'sysroot');
    await stageSysroot(sysroot, [a, b]);
    writeFileSync(path.join(sysroot, 'stray'), 'left by a build');
    const r = await stageSysroot(sysroot, [a]);
    assert.deepEqual(r, { files: 1, conflicts: [] });
    assert.equal(existsSync(path.join(sysroot, 'stray')), false);
    assert.equal(existsSync(path.join(sysroot, 'usr/lib/libb.so')), false);
    assert.equal(readFileSync(path.join(b, 'usr/lib/libb.so'), 'utf8'), 'B');
    assert.equal(statSync(path.join(a, 'usr/lib/liba.so')).nlink, 2, 'one link in the store, one in the new sysroot');
  });

  it('takes the entries from the <dir>.files manifest when there is one', async () => {
    const a = pkg('a', { 'usr/lib/liba.so.1': 'A', 'usr/lib/unlisted': 'not in the manifest' });
    writeFileSync(`${a}.files`, ['d', 'usr', 'd', 'usr/lib', 'f', 'usr/lib/liba.so.1', 'l', 'usr/lib/liba.so', 'liba.so.1', ''].join('\0'));
    const sysroot = path.join(tmp, 'sysroot');
    assert.deepEqual(await stageSysroot(sysroot, [a]), { files: 2, conflicts: [] });
    assert.equal(readlinkSync(path.join(sysroot, 'usr/lib/liba.so')), 'liba.so.1', 'symlink target from the manifest');
    assert.equal(existsSync(path.join(sysroot, 'usr/lib/unlisted')), false);
  });

  it('refuses relative paths, a missing package folder and a sysroot inside a package folder', async () => {
    const a = pkg('a', { f: 'f' });
    await assert.rejects(stageSysroot('sysroot', [a]), /sysroot must be absolute/);
    await assert.rejects(stageSysroot(path.join(tmp, 's'), ['store/a']), /package folders must be absolute/);
    await assert.rejects(stageSysroot(path.join(tmp, 's'), [path.join(tmp, 'nope')]), /no such extracted package folder/);
    await assert.rejects(stageSysroot(path.join(a, 'sub'), [a]), /is inside the package folder/);
    await assert.rejects(stageSysroot(a, [a]), /is inside the package folder/);
    assert.equal(readFileSync(path.join(a, 'f'), 'utf8'), 'f');
  });
});
