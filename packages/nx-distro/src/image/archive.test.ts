import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newcRecord, writeCpio, writeTar } from './archive';
import { mergeEntries, scanTree, type TreeEntry } from '../util/file-tree';

const EPOCH = 1700000000;
const OLD = 1600000000;
const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const LONG = `usr/share/${'d'.repeat(60)}/${'f'.repeat(70)}.txt`;

describe('image archives: tree scan, tar, cpio newc', () => {
  let tmp: string;
  let tree: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-archive-'));
    tree = path.join(tmp, 'tree');
    for (const d of ['usr/bin', 'usr/lib', path.dirname(LONG), 'etc']) mkdirSync(path.join(tree, d), { recursive: true });
    writeFileSync(path.join(tree, 'usr/bin/tool'), '#!/bin/sh\necho tool\n');
    chmodSync(path.join(tree, 'usr/bin/tool'), 0o4755);
    writeFileSync(path.join(tree, 'usr/lib/libx.so.1'), Buffer.alloc(5000, 7));
    linkSync(path.join(tree, 'usr/bin/tool'), path.join(tree, 'usr/bin/tool2'));
    symlinkSync('usr/lib', path.join(tree, 'lib'));
    symlinkSync('/usr/lib/libx.so.1', path.join(tree, 'usr/lib/libx.so'));
    writeFileSync(path.join(tree, LONG), 'long\n');
    writeFileSync(path.join(tree, 'etc/grüße'), 'utf-8 name\n');
    utimesSync(path.join(tree, 'usr/lib/libx.so.1'), OLD, OLD);
    chmodSync(path.join(tree, 'etc'), 0o750);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('scans in byte order of the path, clamps mtimes, keeps modes and finds hard links', () => {
    const entries = scanTree(tree, EPOCH);
    assert.deepEqual(entries.map((e) => `${e.kind} ${e.rel}`), [
      'dir etc',
      'file etc/grüße',
      'symlink lib',
      'dir usr',
      'dir usr/bin',
      'file usr/bin/tool',
      'hardlink usr/bin/tool2',
      'dir usr/lib',
      'symlink usr/lib/libx.so',
      'file usr/lib/libx.so.1',
      'dir usr/share',
      `dir ${path.dirname(LONG)}`,
      `file ${LONG}`,
    ]);
    const by = new Map(entries.map((e) => [e.rel, e]));
    assert.equal(by.get('usr/bin/tool')!.mode, 0o4755);
    assert.equal(by.get('etc')!.mode, 0o750);
    assert.equal(by.get('usr/bin/tool2')!.target, 'usr/bin/tool');
    assert.equal(by.get('usr/lib/libx.so.1')!.mtime, OLD, 'older mtimes are kept');
    assert.equal(by.get('usr/bin/tool')!.mtime, EPOCH, 'newer mtimes are clamped');
  });

  it('merges in-memory entries, replacing same paths', () => {
    const extra: TreeEntry[] = [
      { rel: 'init', abs: '', kind: 'file', mode: 0o755, mtime: EPOCH, size: 3, data: Buffer.from('hi\n') },
      { rel: 'dev', abs: '', kind: 'dir', mode: 0o755, mtime: EPOCH, size: 0 },
      { rel: 'dev/console', abs: '', kind: 'char', mode: 0o600, mtime: EPOCH, size: 0, rdev: [5, 1] },
      { rel: 'etc', abs: '', kind: 'dir', mode: 0o755, mtime: EPOCH, size: 0 },
    ];
    const merged = mergeEntries(scanTree(tree, EPOCH), extra);
    assert.deepEqual(merged.slice(0, 4).map((e) => e.rel), ['dev', 'dev/console', 'etc', 'etc/grüße']);
    assert.equal(merged.find((e) => e.rel === 'etc')!.mode, 0o755);
    assert.equal(merged.at(-1)!.rel, LONG);
    assert.throws(() => mergeEntries(scanTree(tree, EPOCH), [{ rel: 'lib/x', abs: '', kind: 'dir', mode: 0o755, mtime: 0, size: 0 }]), /lib\/x: cannot be added: lib is a symlink, not a folder/);
  });

  it('writes the same tar bytes twice; bsdtar lists and extracts it as the tree, owned by root', async () => {
    const a = path.join(tmp, 'a.tar.zst');
    const b = path.join(tmp, 'b.tar.zst');
    await writeTar(a, scanTree(tree, EPOCH), 'zstd');
    await writeTar(b, scanTree(tree, EPOCH), 'zstd');
    assert.equal(sha256(a), sha256(b));
    const list = execFileSync('bsdtar', ['-tvf', a, '--numeric-owner'], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(list.length, 13);
    assert.ok(list.every((l) => / 0 +0 /.test(l)), list.join('\n'));
    assert.match(list.find((l) => l.includes('usr/bin/tool2'))!, /usr\/bin\/tool2 link to usr\/bin\/tool$/);
    const out = path.join(tmp, 'tar-out');
    mkdirSync(out);
    execFileSync('bsdtar', ['-xpf', a, '-C', out]);
    assert.equal(readFileSync(path.join(out, LONG), 'utf8'), 'long\n');
    assert.equal(readFileSync(path.join(out, 'etc/grüße'), 'utf8'), 'utf-8 name\n');
    assert.equal(readlinkSync(path.join(out, 'usr/lib/libx.so')), '/usr/lib/libx.so.1');
    assert.equal(lstatSync(path.join(out, 'usr/bin/tool')).mode & 0o7777, 0o4755);
    assert.equal(lstatSync(path.join(out, 'usr/bin/tool2')).ino, lstatSync(path.join(out, 'usr/bin/tool')).ino);
    assert.equal(lstatSync(path.join(out, 'usr/lib/libx.so.1')).mtimeMs, OLD * 1000);
  });

  it('encodes a newc record as GNU cpio does: 6+13*8 header, name with NUL, padding to 4', () => {
    const r = newcRecord('ab', { ino: 1, mode: 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 0x10, filesize: 3, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0 }, Buffer.from('xyz'));
    assert.equal(r.subarray(0, 110).toString('ascii'), `070701${['00000001', '000081A4', '00000000', '00000000', '00000001', '00000010', '00000003', '00000000', '00000000', '00000000', '00000000', '00000003', '00000000'].join('')}`);
    assert.equal(r.length, 116 + 4); // 110 + "ab\0" = 113 → 116; "xyz" → 4
    assert.equal(r.subarray(110, 116).toString('latin1'), 'ab\0\0\0\0');
  });

  it('writes the same cpio bytes twice; GNU cpio lists it with the device and extracts the tree', async () => {
    const extra: TreeEntry[] = [
      { rel: 'dev', abs: '', kind: 'dir', mode: 0o755, mtime: EPOCH, size: 0 },
      { rel: 'dev/console', abs: '', kind: 'char', mode: 0o600, mtime: EPOCH, size: 0, rdev: [5, 1] },
      { rel: 'init', abs: '', kind: 'file', mode: 0o755, mtime: EPOCH, size: 7, data: Buffer.from('#!/bin\n') },
    ];
    const entries = mergeEntries(scanTree(tree, EPOCH), extra);
    const a = path.join(tmp, 'a.cpio.gz');
    const b = path.join(tmp, 'b.cpio.gz');
    const size = await writeCpio(a, entries, 'gzip');
    await writeCpio(b, entries, 'gzip');
    assert.equal(sha256(a), sha256(b));
    const raw = execFileSync('gzip', ['-dc', a]);
    assert.equal(raw.length, size);
    assert.equal(raw.length % 512, 0);
    const list = execFileSync('cpio', ['-itv', '--numeric-uid-gid', '--quiet'], { input: raw, encoding: 'utf8' }).trim().split('\n');
    assert.equal(list.length, 16);
    assert.match(list.find((l) => l.endsWith('dev/console'))!, /^crw------- +1 0 +0 +5, +1 /);
    assert.match(list.find((l) => l.includes(' lib -> '))!, /^lrwxrwxrwx .* lib -> usr\/lib$/);
    const out = path.join(tmp, 'cpio-out');
    mkdirSync(out);
    execFileSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames', '--nonmatching', 'dev/console'], { input: raw, cwd: out });
    assert.equal(readFileSync(path.join(out, 'usr/bin/tool2'), 'utf8'), '#!/bin/sh\necho tool\n', 'a hard link becomes a copy');
    assert.equal(readFileSync(path.join(out, LONG), 'utf8'), 'long\n');
    assert.equal(readFileSync(path.join(out, 'init'), 'utf8'), '#!/bin\n');
    assert.equal(lstatSync(path.join(out, 'usr/bin/tool')).mode & 0o7777, 0o4755);
    assert.equal(lstatSync(path.join(out, 'usr/lib/libx.so.1')).mtimeMs, OLD * 1000);
  });
});
