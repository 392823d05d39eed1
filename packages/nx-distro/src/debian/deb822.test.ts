import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Deb822Error, foldedValue, multilineText, parseDeb822 } from './deb822';

const testdata = (...p: string[]) => readFileSync(path.join(__dirname, 'testdata', ...p), 'utf8');

describe('deb822', () => {
  it('reads debian/control: paragraphs, folded fields, comments, field names without case', () => {
    const [source, ...binaries] = parseDeb822(testdata('json-c', 'control'));
    assert.equal(source.get('Source'), 'json-c');
    assert.equal(source.get('homepage'), 'https://github.com/json-c/json-c/wiki');
    assert.equal(foldedValue(source.get('Build-Depends')!), 'debhelper-compat (= 13), cmake, doxygen,');
    assert.deepEqual(binaries.map((b) => b.get('Package')), ['libjson-c5', 'libjson-c-dev', 'libjson-c-doc', 'libjson-c5-udeb']);
    const text = multilineText(binaries[1].get('Description')!);
    assert.equal(text[0], 'JSON manipulation library - development files');
    assert.equal(text[4], '', 'a lone "." is an empty line');
  });

  it('reads a clear-signed .dsc and its checksum list', () => {
    const [dsc] = parseDeb822(testdata('expat', 'expat_2.5.0-1+deb12u2.dsc'));
    assert.equal(dsc.get('Format'), '3.0 (quilt)');
    assert.equal(dsc.get('Version'), '2.5.0-1+deb12u2');
    const sums = dsc.get('Checksums-Sha256')!.split('\n').map((l) => l.split(' ')[2]);
    assert.deepEqual(sums, ['expat_2.5.0.orig.tar.gz', 'expat_2.5.0-1+deb12u2.debian.tar.xz']);
    assert.equal(dsc.has('-----BEGIN PGP SIGNATURE-----'), false);
  });

  it('reads a DEP-5 file with a comment paragraph and long license texts', () => {
    const paragraphs = parseDeb822(testdata('glib2.0', 'control'));
    assert.ok(paragraphs.length > 5);
    assert.ok(parseDeb822(testdata('util-linux', 'copyright')).length > 20);
  });

  it('refuses what is not deb822, with the line', () => {
    assert.throws(() => parseDeb822('Source: x\nnot a field\n'), (e: unknown) => e instanceof Deb822Error && /^line 2: not a "Field: value" line/.test(e.message));
    assert.throws(() => parseDeb822(' continuation\n'), /line 1: continuation line before any field/);
    assert.throws(() => parseDeb822('Source: x\nsource: y\n'), /line 2: field source given twice/);
  });
});
