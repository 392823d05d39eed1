import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guessVersion, versionFromTag } from './version-guess';

describe('version guesses', () => {
  it('read tag styles', () => {
    const cases: [string, string | undefined, string | undefined][] = [
      ['R_2_5_0', 'expat', '2.5.0'],
      ['json-c-0.16-20220414', 'json-c', '0.16'],
      ['curl-8_5_0', 'curl', '8.5.0'],
      ['v1.9.4', 'lz4', '1.9.4'],
      ['release-1.2.3', undefined, '1.2.3'],
      ['pcre2-10.42', 'pcre2', '10.42'],
      ['libffi-3.4.4', 'libffi', '3.4.4'],
      ['zstd-v1.5.4', 'libzstd', '1.5.4'],
      ['30', 'kmod', '30'],
      ['latest', 'x', undefined],
      ['master', undefined, undefined],
    ];
    for (const [tag, name, version] of cases) assert.equal(versionFromTag(tag, name), version, tag);
  });

  it('read archive URLs, GitHub tag archives and release downloads', () => {
    assert.equal(guessVersion('zlib', 'https://zlib.net/zlib-1.3.1.tar.xz'), '1.3.1');
    assert.equal(guessVersion('lua', 'https://www.lua.org/ftp/lua-5.4.6.tar.gz'), '5.4.6');
    assert.equal(guessVersion('foo', 'https://example.org/archive/v2.5.tar.gz'), '2.5');
    assert.equal(guessVersion('expat', 'https://github.com/libexpat/libexpat/archive/refs/tags/R_2_5_0.tar.gz'), '2.5.0');
    assert.equal(guessVersion('json-c', 'https://github.com/json-c/json-c/archive/refs/tags/json-c-0.16-20220414.tar.gz'), '0.16');
    assert.equal(guessVersion('expat', 'https://github.com/libexpat/libexpat/releases/download/R_2_5_0/expat.tar.gz'), '2.5.0');
    assert.equal(guessVersion('foo', 'https://example.org/latest.tar.gz'), undefined);
  });
});
