import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pcRequires, pkgconfigDepends } from './pkgconfig-depends';

describe('pcRequires', () => {
  it('takes Requires and Requires.private, with or without versions and commas, each module once', () => {
    const text = 'prefix=/usr\nName: foo\nRequires: glib-2.0 >= 2.50, gobject-2.0,zlib\nRequires.private: libffi>=3 zlib  libpcre2-8 = 10.42\nLibs: -lfoo\n';
    assert.deepEqual(pcRequires(text), ['glib-2.0', 'gobject-2.0', 'zlib', 'libffi', 'libpcre2-8']);
    assert.deepEqual(pcRequires('Requires:\nRequires.private: ${extra} expat\n'), ['expat']);
    assert.deepEqual(pcRequires('Name: z\nLibs: -lz\n'), []);
  });
});

describe('pkgconfigDepends', () => {
  it('names the staged package holding each required module, a package of the same build by its exact version, and what none provides', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'pcdeps-'));
    try {
      const tree = (name: string, files: Record<string, string>) => {
        const dir = path.join(root, name);
        for (const [rel, text] of Object.entries(files)) {
          mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
          writeFileSync(path.join(dir, rel), text);
        }
        mkdirSync(dir, { recursive: true });
        return { name, dir };
      };
      const dev = tree('foo-dev', { 'usr/lib/pkgconfig/foo.pc': 'Requires: zlib, foo-extra\nRequires.private: nowhere foo\n' });
      const extra = tree('foo-extra', { 'usr/share/pkgconfig/foo-extra.pc': 'Requires: expat\n' });
      const main = tree('foo', {});
      const zlibDev = tree('zlib-dev', { 'usr/lib/pkgconfig/zlib.pc': 'Name: zlib\n' });
      const expatDev = tree('expat-dev', { 'usr/lib/pkgconfig/expat.pc': 'Name: expat\n' });
      const got = await pkgconfigDepends([dev, extra], [main, dev, extra], [tree('zlib', {}), zlibDev, expatDev], (n) => `${n}=1.0-1`);
      assert.deepEqual(got.get('foo-dev'), { depends: ['zlib-dev', 'foo-extra=1.0-1'], unresolved: ['usr/lib/pkgconfig/foo.pc: nowhere'] });
      assert.deepEqual(got.get('foo-extra'), { depends: ['expat-dev'], unresolved: [] });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
