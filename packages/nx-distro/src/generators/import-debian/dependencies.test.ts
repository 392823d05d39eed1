import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { binaryPackages } from '../../debian/apt';
import { parseDeb822 } from '../../debian/deb822';
import { parseRelations } from '../../debian/relations';
import { isDebianTooling, mapBuildDepends, type RecipeIndex } from './dependencies';

const relations = (pkg: string) => parseRelations(parseDeb822(readFileSync(path.join(__dirname, '..', '..', 'debian', 'testdata', pkg, 'control'), 'utf8'))[0].get('Build-Depends')!);

// The repository's recipes that matter here: readline and ncurses by name, zlib by its apt pin.
const index: RecipeIndex = {
  files: new Map([
    ['readline', 'recipes/readline/recipe.yaml'],
    ['ncurses', 'recipes/ncurses/recipe.yaml'],
    ['zlib', 'recipes/zlib/recipe.yaml'],
    ['xz', 'recipes/xz/recipe.yaml'],
  ]),
  byDebianSource: new Map([
    ['readline', 'readline'],
    ['ncurses', 'ncurses'],
    ['zlib', 'zlib'],
    ['xz-utils', 'xz'],
  ]),
};

describe('Build-Depends mapped to recipes (through the machine\'s apt)', () => {
  it('maps util-linux: libraries to makedepends, tools to the build machine, profiles and tooling left out', async () => {
    const r = relations('util-linux');
    const packages = await binaryPackages([...new Set(r.flatMap((rel) => rel.map((a) => a.name)))]);
    const m = mapBuildDepends(r, packages, index, 'util-linux', new Set(['nocheck']));
    assert.deepEqual(m.makedepends.sort(), ['ncurses', 'readline', 'zlib']);
    assert.deepEqual(m.makedepends_build, []);
    assert.ok(m.mapped.some((d) => d.dependency === 'libncursesw5-dev' && d.source === 'ncurses' && d.recipe === 'ncurses'));
    const unmapped = new Map(m.unmapped.map((u) => [u.dependency, u]));
    assert.equal(unmapped.get('bison')?.list, 'makedepends_build');
    assert.equal(unmapped.get('bison')?.source, 'bison');
    assert.equal(unmapped.get('libcap-ng-dev')?.list, 'makedepends');
    assert.equal(unmapped.get('libcap-ng-dev')?.source, 'libcap-ng');
    assert.equal(unmapped.has('debhelper-compat (= 13)'), false, 'Debian tooling is dropped');
    assert.equal(unmapped.has('dh-exec'), false);
    assert.ok(m.skipped.some((s) => s.dependency === 'bc' && /<!stage1 !nocheck>/.test(s.reason)));
  });

  it('maps a virtual package through its provider, and picks the alternative that has a recipe', async () => {
    const r = parseRelations('libz-dev, mawk | awk, gcc-multilib [amd64 i386] <!nobiarch>, libbsd-dev [kfreebsd-amd64 hurd-i386], liblzma-dev | libfoo-dev');
    const packages = await binaryPackages(['libz-dev', 'mawk', 'awk', 'gcc-multilib', 'libbsd-dev', 'liblzma-dev', 'libfoo-dev']);
    const m = mapBuildDepends(r, packages, index, 'x', new Set(['nocheck', 'nobiarch']));
    assert.deepEqual(m.makedepends, ['zlib', 'xz']);
    assert.equal(packages.get('libz-dev')?.providedBy, 'zlib1g-dev');
    assert.equal(m.unmapped[0].dependency, 'mawk | awk');
    assert.deepEqual(m.skipped.map((s) => s.dependency), ['gcc-multilib', 'libbsd-dev']);
  });

  it("skips pkg-config, which the build environment provides, even where a pkgconf recipe exists", async () => {
    const r = parseRelations('pkg-config, pkgconf, libz-dev');
    const packages = await binaryPackages(['pkg-config', 'pkgconf', 'libz-dev']);
    const withPkgconf: RecipeIndex = { files: new Map([...index.files, ['pkgconf', 'recipes/pkgconf/recipe.yaml']]), byDebianSource: new Map([...index.byDebianSource, ['pkgconf', 'pkgconf']]) };
    const m = mapBuildDepends(r, packages, withPkgconf, 'x', new Set(['nocheck']));
    assert.deepEqual([m.makedepends, m.makedepends_build], [['zlib'], []]);
    assert.deepEqual(m.skipped.map((s) => s.dependency), ['pkg-config', 'pkgconf']);
    assert.match(m.skipped[0].reason, /^the build environment's pkg-config/);
  });

  it('drops Debian tooling by name', () => {
    for (const n of ['debhelper', 'debhelper-compat', 'dh-autoreconf', 'dh-sequence-python3', 'dpkg-dev', 'quilt']) assert.equal(isDebianTooling(n), true, n);
    for (const n of ['autoconf', 'cmake', 'libdebian-installer4-dev']) assert.equal(isDebianTooling(n), false, n);
  });
});
