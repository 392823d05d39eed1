import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../model/errors';
import type { Recipe } from '../model/recipe.generated';
import { splitPackageProblems, splitPackageSpecs } from '../model/split-packages';
import { splitPackageTree } from './split';

const RECIPE: Recipe = { name: 'zlib', version: '1.3.1', release: 2, description: 'Compression library', license: ['Zlib'], homepage: 'https://zlib.net/' };

/** Every path under a folder (files, links and folders), relative, sorted. */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(path.join(dir, r));
    out.push(st.isDirectory() ? `${r}/` : r);
    if (st.isDirectory()) out.push(...tree(dir, r));
  }
  return out;
}

describe('splitPackageSpecs', () => {
  it('lists subpackages as written, then dev, then doc, whatever the order of split', () => {
    const specs = splitPackageSpecs({ ...RECIPE, split: ['doc', 'dev'], subpackages: [{ name: 'zlib-tools', files: ['usr/bin/*'], depends: ['zlib'] }] });
    assert.deepEqual(specs.map((s) => [s.name, s.field, s.depends, s.description]), [
      ['zlib-tools', 'subpackages[0]', ['zlib'], 'Compression library (zlib-tools)'],
      ['zlib-dev', 'split[1]', ['zlib=1.3.1-2'], 'Compression library (development files)'],
      ['zlib-doc', 'split[0]', [], 'Compression library (documentation)'],
    ]);
    assert.deepEqual(splitPackageSpecs(RECIPE), []);
  });

  it('refuses a split package named as the recipe or as another one, naming the field', () => {
    const errors = splitPackageProblems('recipes/zlib/recipe.yaml', {
      ...RECIPE,
      split: ['dev'],
      subpackages: [{ name: 'zlib', files: ['usr/bin/*'] }, { name: 'zlib-dev', files: ['usr/include/**'] }],
    });
    assert.deepEqual(errors.map((e) => e.message), [
      'recipes/zlib/recipe.yaml: subpackages[0].name: package name "zlib" is also given by name; give each package of the recipe its own name',
      'recipes/zlib/recipe.yaml: split[0]: package name "zlib-dev" is also given by subpackages[1].name; give each package of the recipe its own name',
    ]);
  });
});

describe('splitPackageTree', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  /** A $pkgdir as zlib's install step leaves it, with a plugin .so, an empty folder and docs. */
  function pkgdir(): { pkg: string; work: string } {
    const base = mkdtempSync(path.join(tmpdir(), 'nx-distro-split-'));
    dirs.push(base);
    const pkg = path.join(base, 'pkg');
    const files: Record<string, string | Buffer> = {
      'usr/include/zlib.h': '/* zlib.h */\n',
      'usr/include/zconf.h': '/* zconf.h */\n',
      'usr/lib/libz.so.1.3.1': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]),
      'usr/lib/libunversioned.so': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]),
      'usr/lib/libcurses.so': 'INPUT(-lncursesw)\n',
      'usr/lib/libz.a': '!<arch>\n',
      'usr/lib/pkgconfig/zlib.pc': 'Name: zlib\n',
      'usr/lib/zlib/plugin.so': Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
      'usr/share/man/man3/zlib.3': '.TH ZLIB 3\n',
      'usr/share/man/man1/minigzip.1': '.TH MINIGZIP 1\n',
      'usr/share/doc/zlib/README': 'zlib\n',
      'usr/bin/minigzip': '#!/bin/sh\n',
    };
    for (const [rel, body] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(pkg, rel)), { recursive: true });
      writeFileSync(path.join(pkg, rel), body);
    }
    symlinkSync('libz.so.1.3.1', path.join(pkg, 'usr/lib/libz.so'));
    symlinkSync('libz.so.1.3.1', path.join(pkg, 'usr/lib/libz.so.1'));
    mkdirSync(path.join(pkg, 'var/empty'), { recursive: true });
    chmodSync(path.join(pkg, 'usr/include'), 0o750);
    return { pkg, work: path.join(base, 'split') };
  }

  it('moves the dev and doc files into trees of their own; the main package keeps the runtime files, real .so files and empty folders', async () => {
    const { pkg, work } = pkgdir();
    const trees = await splitPackageTree(pkg, splitPackageSpecs({ ...RECIPE, split: ['dev', 'doc'] }), work, 'recipes/zlib/recipe.yaml');
    assert.deepEqual(trees.map((t) => [t.spec.name, t.taken]), [
      ['zlib-dev', ['usr/include/zconf.h', 'usr/include/zlib.h', 'usr/lib/libcurses.so', 'usr/lib/libz.a', 'usr/lib/libz.so', 'usr/lib/pkgconfig/zlib.pc', 'usr/share/man/man3/zlib.3']],
      ['zlib-doc', ['usr/share/doc/zlib/README', 'usr/share/man/man1/minigzip.1']],
    ]);
    assert.deepEqual(tree(pkg), ['usr/', 'usr/bin/', 'usr/bin/minigzip', 'usr/lib/', 'usr/lib/libunversioned.so', 'usr/lib/libz.so.1', 'usr/lib/libz.so.1.3.1', 'usr/lib/zlib/', 'usr/lib/zlib/plugin.so', 'var/', 'var/empty/']);
    assert.deepEqual(tree(trees[0].dir), ['usr/', 'usr/include/', 'usr/include/zconf.h', 'usr/include/zlib.h', 'usr/lib/', 'usr/lib/libcurses.so', 'usr/lib/libz.a', 'usr/lib/libz.so', 'usr/lib/pkgconfig/', 'usr/lib/pkgconfig/zlib.pc', 'usr/share/', 'usr/share/man/', 'usr/share/man/man3/', 'usr/share/man/man3/zlib.3']);
    assert.equal(readlinkSync(path.join(trees[0].dir, 'usr/lib/libz.so')), 'libz.so.1.3.1', 'links are moved as links');
    assert.equal(lstatSync(path.join(trees[0].dir, 'usr/include')).mode & 0o7777, 0o750, 'folders keep their modes');
    assert.ok(!existsSync(path.join(pkg, 'usr/share')), 'folders the split emptied leave the main package');
  });

  it('gives an entry to the first package whose patterns match it or a folder above it', async () => {
    const { pkg, work } = pkgdir();
    const specs = splitPackageSpecs({ ...RECIPE, split: ['dev'], subpackages: [{ name: 'zlib-headers', files: ['usr/include'] }, { name: 'zlib-tools', files: ['usr/bin/mini*', 'usr/share/man/man1/*.1'] }] });
    const trees = await splitPackageTree(pkg, specs, work, 'recipes/zlib/recipe.yaml');
    assert.deepEqual(trees.map((t) => [t.spec.name, t.taken.length]), [['zlib-headers', 2], ['zlib-tools', 2], ['zlib-dev', 5]]);
  });

  it('refuses a split package that takes nothing, in one line naming the field, and moves nothing', async () => {
    const { pkg, work } = pkgdir();
    const before = tree(pkg);
    await assert.rejects(
      splitPackageTree(pkg, splitPackageSpecs({ ...RECIPE, split: ['dev'], subpackages: [{ name: 'zlib-locale', files: ['usr/share/locale/**'] }] }), work, 'recipes/zlib/recipe.yaml'),
      (e: Error) => e instanceof InputError && e.message === 'recipes/zlib/recipe.yaml: subpackages[0]: zlib-locale: no file of $pkgdir matches "usr/share/locale/**"; fix its files patterns, or remove it',
    );
    await assert.rejects(
      splitPackageTree(pkg, splitPackageSpecs({ ...RECIPE, split: ['doc'], subpackages: [{ name: 'zlib-man', files: ['usr/share/man', 'usr/share/doc'] }] }), work, 'recipes/zlib/recipe.yaml'),
      /split\[0\]: zlib-doc: no file of \$pkgdir matches "usr\/share\/doc", .* that an earlier package did not take; remove it from split$/,
    );
    assert.deepEqual(tree(pkg), before);
  });
});
