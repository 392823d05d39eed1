import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseDeb822 } from './deb822';
import { RelationError, archApplies, parseRelations, profilesApply } from './relations';

const buildDepends = (pkg: string) => parseDeb822(readFileSync(path.join(__dirname, 'testdata', pkg, 'control'), 'utf8'))[0].get('Build-Depends')!;

describe('build relations', () => {
  it('read versions, architecture lists and build profiles (util-linux)', () => {
    const r = parseRelations(buildDepends('util-linux'));
    const by = (n: string) => r.find((rel) => rel[0].name === n)![0];
    assert.deepEqual(by('debhelper-compat').version, { op: '=', version: '13' });
    assert.deepEqual(by('bc').profiles, [['!stage1', '!nocheck']]);
    assert.deepEqual(by('libaudit-dev').arches, ['linux-any']);
    assert.deepEqual(by('libaudit-dev').profiles, [['!stage1']]);
  });

  it('read alternatives and several profile groups (xz-utils, glib2.0)', () => {
    const xz = parseRelations(buildDepends('xz-utils'));
    assert.deepEqual(xz.find((rel) => rel.length > 1)!.map((a) => a.name), ['autopoint', 'gettext']);
    const glib = parseRelations(buildDepends('glib2.0'));
    assert.deepEqual(glib[0][0].profiles, [['!nocheck'], ['!noinsttest']]);
  });

  it('read architecture qualifiers and old < >', () => {
    const [[a], [b]] = parseRelations('python3:native (>= 3.9), libfoo-dev (> 1) [!hurd-any]');
    assert.equal(a.archQualifier, 'native');
    assert.deepEqual(b.version, { op: '>=', version: '1' });
    assert.deepEqual(b.arches, ['!hurd-any']);
  });

  it('refuse what is not a relation', () => {
    assert.throws(() => parseRelations('foo (>= 1'), RelationError);
    assert.throws(() => parseRelations('${misc:Depends}'), RelationError);
  });

  it('apply build profiles as Policy says: any group, every term', () => {
    const [[bc]] = parseRelations('bc <!stage1 !nocheck>');
    assert.equal(profilesApply(bc, new Set()), true);
    assert.equal(profilesApply(bc, new Set(['nocheck'])), false);
    const [[dbus]] = parseRelations('dbus-daemon <!nocheck> <!noinsttest>');
    assert.equal(profilesApply(dbus, new Set(['nocheck'])), true, 'the second group still holds');
    assert.equal(profilesApply(dbus, new Set(['nocheck', 'noinsttest'])), false);
    const [[s1]] = parseRelations('foo <stage1>');
    assert.equal(profilesApply(s1, new Set()), false);
  });

  it('apply architecture lists with wildcards', () => {
    const [[a], [b], [c], [d]] = parseRelations('aa [linux-any], bb [kfreebsd-amd64 hurd-i386], cc [!armhf], dd [any-arm]');
    assert.equal(archApplies(a, 'riscv64'), true);
    assert.equal(archApplies(b, 'amd64'), false);
    assert.equal(archApplies(c, 'armhf'), false);
    assert.equal(archApplies(c, 'arm64'), true);
    assert.equal(archApplies(d, 'armhf'), true);
    assert.equal(archApplies(d, 'arm64'), false);
  });
});
