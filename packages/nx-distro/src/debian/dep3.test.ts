import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parsePatchHeader, parseSeries, upstreamLink } from './dep3';

const patch = (name: string) => parsePatchHeader(readFileSync(path.join(__dirname, 'testdata', 'patches', name), 'utf8'));

describe('DEP-3 patch headers', () => {
  it('take Forwarded when Origin is vendor (attr gettext-musl)', () => {
    const h = patch('gettext-musl.patch');
    assert.equal(h.summary, 'Fix cross-compilation on musl-based systems.');
    assert.deepEqual(upstreamLink(h), { url: 'https://lists.nongnu.org/archive/html/acl-devel/2022-12/msg00003.html', field: 'Forwarded' });
  });

  it('take Bug-Debian when that is the only link (e2fsprogs), and read Forwarded: not-needed', () => {
    const h = patch('e2fsprogs-disable-metadata_csum_seed.patch');
    assert.equal(h.fields.get('forwarded'), 'not-needed');
    assert.deepEqual(upstreamLink(h), { url: 'https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=1031622', field: 'Bug-Debian' });
  });

  it('find no link in a commit-only Applied-Upstream (attr syscalls-linux)', () => {
    const h = patch('syscalls-linux.patch');
    assert.equal(h.fields.get('applied-upstream'), '2.5.1+, commit:7b3423dcbf6775539124c52a59e8bc76e33596f6');
    assert.equal(upstreamLink(h), undefined);
  });

  it('read git format-patch and git show headers (expat)', () => {
    const fp = patch('CVE-2024-45490.patch');
    assert.equal(fp.commit, '5c1a31642e243f4870c0bd1f2afc7597976521bf');
    assert.equal(fp.summary, 'lib: Reject negative len for XML_ParseBuffer');
    assert.equal(upstreamLink(fp), undefined);
    const show = patch('expat-2.5.0-CVE-2024-50602.patch');
    assert.equal(show.commit, '38905b99bb78a6a691ed8358f30030116783656c');
    assert.equal(show.textUrl, 'https://github.com/libexpat/libexpat/pull/915');
    assert.equal(upstreamLink(show), undefined, 'a URL in free text is a hint, not a DEP-3 field');
    const noconfig = patch('fix-expat-noconfig.patch');
    assert.match(noconfig.summary!, /^libexpat\.so\.X\.Y\.Z is installed/);
    assert.equal(noconfig.fields.get('forwarded'), 'not-needed');
  });

  it('read a patch with no header at all (libffi)', () => {
    const h = patch('no-toolexeclibdir.diff');
    assert.equal(h.fields.size, 0);
    assert.equal(h.summary, undefined);
  });

  it('prefer Applied-Upstream, then upstream Origin, Bug, Forwarded, vendor bugs', () => {
    const link = (text: string) => upstreamLink(parsePatchHeader(`${text}\n--- a/x\n+++ b/x\n`));
    assert.deepEqual(link('Origin: upstream, https://git.example.org/commit/1\nBug: https://bugs.example.org/2'), { url: 'https://git.example.org/commit/1', field: 'Origin' });
    assert.deepEqual(link('Origin: vendor, https://vendor.example.org/3\nBug: https://bugs.example.org/2'), { url: 'https://bugs.example.org/2', field: 'Bug' });
    assert.deepEqual(link('Origin: vendor, https://vendor.example.org/3'), { url: 'https://vendor.example.org/3', field: 'Origin' });
    assert.deepEqual(link('Bug-Ubuntu: https://launchpad.net/4\nBug-Debian: https://bugs.debian.org/5'), { url: 'https://bugs.debian.org/5', field: 'Bug-Debian' });
    assert.deepEqual(link('Applied-Upstream: 1.2, https://git.example.org/commit/6\nOrigin: upstream, https://x.example.org/7'), { url: 'https://git.example.org/commit/6', field: 'Applied-Upstream' });
  });

  it('read quilt series files: comments and options', () => {
    const series = parseSeries(readFileSync(path.join(__dirname, 'testdata', 'patches', 'expat.series'), 'utf8'));
    assert.equal(series.length, 8);
    assert.deepEqual(series[0], { name: 'fix-expat-noconfig.patch', options: [], line: 1 });
    assert.deepEqual(parseSeries('# comment\na.patch -p0 # why\n\nb.patch\n'), [
      { name: 'a.patch', options: ['-p0'], line: 2 },
      { name: 'b.patch', options: [], line: 4 },
    ]);
  });
});
