import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import parseSpdx from 'spdx-expression-parse';
import { dep5ToSpdx, mainLicense, parseCopyright, spdxForShortName } from './copyright';

const copyright = (pkg: string) => parseCopyright(readFileSync(path.join(__dirname, 'testdata', pkg, 'copyright'), 'utf8'));

describe('debian/copyright', () => {
  it('gives the Files: * license and Files-Excluded', () => {
    assert.equal(mainLicense(copyright('json-c')), 'Expat');
    assert.equal(mainLicense(copyright('gmp')), 'GPL-2+ or LGPL-3+');
    assert.equal(mainLicense(copyright('libzstd')), 'BSD-3-clause or GPL-2');
    assert.deepEqual(copyright('gmp').filesExcluded, ['doc']);
    assert.ok(copyright('zlib').filesExcluded.includes('contrib/ada'));
    assert.deepEqual(copyright('expat').filesExcluded, []);
    const ffi = copyright('libffi');
    assert.ok(ffi.stanzas.some((s) => s.files.includes('src/dlmalloc.c') && s.license === 'public-domain'));
  });

  it('says when the file is not DEP-5', () => {
    assert.deepEqual(parseCopyright('This package was debianized by someone.\n\nLicense: GPL\n'), { machineReadable: false, filesExcluded: [], stanzas: [] });
  });

  it('maps DEP-5 short names to SPDX', () => {
    const cases: [string, string][] = [
      ['Expat', 'MIT'],
      ['GPL-2', 'GPL-2.0-only'],
      ['GPL-2+', 'GPL-2.0-or-later'],
      ['GPL-2.0+', 'GPL-2.0-or-later'],
      ['LGPL-2.1+', 'LGPL-2.1-or-later'],
      ['LGPL-3', 'LGPL-3.0-only'],
      ['AGPL-3+', 'AGPL-3.0-or-later'],
      ['GFDL-1.3+', 'GFDL-1.3-or-later'],
      ['GFDL-NIV-1.3', 'GFDL-1.3-no-invariants-only'],
      ['BSD-3-clause', 'BSD-3-Clause'],
      ['zlib', 'Zlib'],
      ['Apache-2', 'Apache-2.0'],
      ['MPL-1.1+', 'MPL-1.1+'],
      ['CC0', 'CC0-1.0'],
      ['ISC', 'ISC'],
      ['X11', 'X11'],
    ];
    for (const [dep5, spdx] of cases) assert.equal(spdxForShortName(dep5), spdx, dep5);
    assert.equal(spdxForShortName('public-domain'), undefined);
  });

  it('turns expressions into valid SPDX, LicenseRef- where SPDX has no id', () => {
    const cases: [string, string, string[]][] = [
      ['GPL-2+ or LGPL-3+', 'GPL-2.0-or-later OR LGPL-3.0-or-later', []],
      ['MPL-1.1 or GPL-2+ or LGPL-2.1+', 'MPL-1.1 OR GPL-2.0-or-later OR LGPL-2.1-or-later', []],
      ['GPL-2+ or Artistic, and BSD-3-clause', '(GPL-2.0-or-later OR Artistic-1.0) AND BSD-3-Clause', []],
      ['Perl', '(Artistic-1.0-Perl OR GPL-1.0-or-later)', []],
      ['GPL-3+ with GCC-Runtime-Library exception', 'GPL-3.0-or-later WITH GCC-exception-3.1', []],
      ['GPL-2+ with Autoconf exception', 'GPL-2.0-or-later WITH Autoconf-exception-2.0', []],
      ['public-domain', 'LicenseRef-public-domain', ['public-domain']],
      ['PD', 'LicenseRef-public-domain', ['PD']],
      ['BSD-3-clause-Cambridge with BINARY LIBRARY-LIKE PACKAGES exception', 'LicenseRef-BSD-3-clause-Cambridge-with-BINARY-LIBRARY-LIKE-PACKAGES-exception', ['BSD-3-clause-Cambridge with BINARY LIBRARY-LIKE PACKAGES exception']],
      ['LGPL-2+ and LGPL-2.1+ and FSFULLR and Janik-permissive', 'LGPL-2.0-or-later AND LGPL-2.1-or-later AND FSFULLR AND LicenseRef-Janik-permissive', ['Janik-permissive']],
    ];
    for (const [dep5, spdx, unmapped] of cases) {
      const r = dep5ToSpdx(dep5);
      assert.deepEqual(r, { expression: spdx, unmapped }, dep5);
      assert.doesNotThrow(() => parseSpdx(r.expression));
    }
  });
});
