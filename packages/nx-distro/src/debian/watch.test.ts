import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { mangle, parseMangle, parseWatch, watchUrl } from './watch';

const url = (pkg: string, version: string, topFolder: string, extension: string) => {
  const w = parseWatch(readFileSync(path.join(__dirname, 'testdata', pkg, 'watch'), 'utf8'), pkg);
  const spellings = [topFolder.replace(/^.*?[-_](?=v?\d)/, '')];
  for (const e of w.entries) {
    const got = watchUrl(e, { packageName: pkg, version, spellings, topFolder, extension });
    if (got) return got;
  }
  return undefined;
};

describe('debian/watch', () => {
  it('parses options, continuation lines, single-token URLs and substitutions', () => {
    const w = parseWatch(readFileSync(path.join(__dirname, 'testdata', 'expat', 'watch'), 'utf8'), 'expat');
    assert.equal(w.version, 4);
    assert.equal(w.entries.length, 1);
    assert.equal(w.entries[0].url, 'http://sf.net/expat/');
    assert.match(w.entries[0].pattern, /^expat-\[vV\]\?\(\\d\\S\*\)\(\?i\)/);
    assert.equal(w.entries[0].opts.get('dversionmangle'), 's/\\+(debian|dfsg|ds|deb)(\\.?\\d+)?$//i');
    const glib = parseWatch(readFileSync(path.join(__dirname, 'testdata', 'glib2.0', 'watch'), 'utf8'), 'glib2.0');
    assert.equal(glib.entries.length, 2);
    assert.equal(glib.entries[1].opts.get('component'), 'unicode-data');
  });

  it('applies uscan mangling rules as Perl would', () => {
    const expat = parseWatch(readFileSync(path.join(__dirname, 'testdata', 'expat', 'watch'), 'utf8'), 'expat').entries[0];
    assert.equal(mangle(expat.opts.get('uversionmangle'), 'R_2_5_0'), 'R_2.5.0');
    assert.equal(mangle(expat.opts.get('uversionmangle'), '2.5.0rc1'), '2.5.0~rc1');
    assert.equal(mangle(expat.opts.get('dversionmangle'), '2.5.0+dfsg1'), '2.5.0');
    assert.equal(mangle('s/(\\d+\\.\\d+(\\.\\d+)?)-\\d+/$1/', '0.16-20220414'), '0.16');
    assert.equal(mangle('auto', '2.9.14+dfsg'), '2.9.14');
    assert.equal(mangle('s%\\.xz$%.sign%', 'a.tar.xz'), 'a.tar.sign');
    assert.throws(() => parseMangle('x/a/b/'), /not a s\/pattern\/replacement/);
  });

  it('gives the download URL for a version from real watch files', () => {
    const cases: [string, string, string, string, string, string?][] = [
      ['expat', '2.5.0', 'expat-2.5.0', '.tar.gz', 'https://downloads.sourceforge.net/expat/expat-2.5.0.tar.gz'],
      ['readline', '8.2', 'readline-8.2', '.tar.gz', 'http://ftp.gnu.org/gnu/readline/readline-8.2.tar.gz'],
      ['xz-utils', '5.4.1', 'xz-5.4.1', '.tar.xz', 'https://tukaani.org/xz/xz-5.4.1.tar.xz'],
      ['json-c', '0.16', 'json-c-json-c-0.16-20220414', '.tar.gz', 'https://github.com/json-c/json-c/archive/refs/tags/json-c-0.16-20220414.tar.gz'],
      ['lz4', '1.9.4', 'lz4-1.9.4', '.tar.gz', 'https://github.com/lz4/lz4/archive/refs/tags/v1.9.4.tar.gz'],
      ['libffi', '3.4.4', 'libffi-3.4.4', '.tar.gz', 'https://github.com/libffi/libffi/releases/download/v3.4.4/libffi-3.4.4.tar.gz', 'the release tag'],
      ['pcre2', '10.42', 'pcre2-10.42', '.tar.gz', 'https://github.com/PCRE2Project/pcre2/releases/download/v10.42/pcre2-10.42.tar.gz', 'the release tag'],
      ['libzstd', '1.5.4', 'zstd-1.5.4', '.tar.gz', 'https://github.com/facebook/zstd/releases/download/v1.5.4/zstd-1.5.4.tar.gz', 'the release tag'],
      ['util-linux', '2.38.1', 'util-linux-2.38.1', '.tar.xz', 'https://www.kernel.org/pub/linux/utils/util-linux/v2.38/util-linux-2.38.1.tar.xz', 'the version folder'],
      ['glib2.0', '2.74.6', 'glib-2.74.6', '.tar.xz', 'https://download.gnome.org/sources/glib/2.74/glib-2.74.6.tar.xz', 'the version folder'],
      ['libxml2', '2.9.14', 'libxml2-2.9.14', '.tar.xz', 'https://download.gnome.org/sources/libxml2/2.9/libxml2-2.9.14.tar.xz', 'the version folder'],
      ['gmp', '6.2.1', 'gmp-6.2.1', '.tar.xz', 'https://gmplib.org/gmp-6.2.1.tar.xz', 'the folder (the page may link into another one)'],
    ];
    for (const [pkg, version, top, ext, expected, guessed] of cases) {
      const got = url(pkg, version, top, ext);
      assert.equal(got?.url, expected, pkg);
      assert.equal(got?.guessed, guessed, `${pkg}: what is guessed`);
      assert.equal(got?.sameExtension, true, pkg);
    }
  });

  it('gives none for a version the pattern cannot produce, and for component lines', () => {
    const kmod = parseWatch('version=3\nhttps://www.kernel.org/pub/linux/utils/kernel/kmod/kmod-(\\d+)\\.tar\\.xz\n', 'kmod').entries[0];
    assert.equal(watchUrl(kmod, { packageName: 'kmod', version: '30+20221128', spellings: [], extension: '.tar.xz' }), undefined);
    assert.equal(watchUrl(kmod, { packageName: 'kmod', version: '30', spellings: [], extension: '.tar.xz' })?.url, 'https://www.kernel.org/pub/linux/utils/kernel/kmod/kmod-30.tar.xz');
    const glib = parseWatch(readFileSync(path.join(__dirname, 'testdata', 'glib2.0', 'watch'), 'utf8'), 'glib2.0').entries[1];
    assert.equal(watchUrl(glib, { packageName: 'glib2.0', version: '15.0.0', spellings: [], extension: '.tar.xz' }), undefined);
  });

  it('says when upstream compresses otherwise than the orig tarball', () => {
    const got = url('xz-utils', '5.4.1', 'xz-5.4.1', '.tar.gz');
    assert.equal(got?.sameExtension, false);
  });
});
