import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { mtreeQuote, mtreeText, type MtreeEntry } from './mtree';

const T = 1700000000;

function file(path: string, mode: number, content: string, gid = 0): MtreeEntry {
  const bytes = Buffer.from(content);
  return {
    path,
    type: 'file',
    mode,
    uid: 0,
    gid,
    mtime: T,
    size: bytes.length,
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
const dir = (path: string, mode: number): MtreeEntry => ({ path, type: 'dir', mode, uid: 0, gid: 0, mtime: T });

describe('mtreeText', () => {
  it('matches bsdtar 3.6 (makepkg options) byte for byte: order, /set changes, quoting, links', () => {
    // The expected text is what `bsdtar --format=mtree --options='!all,use-set,type,uid,gid,mode,
    // time,size,md5,sha256,link'` printed for this very tree on disk (files listed as makepkg does).
    const entries: MtreeEntry[] = [
      file('.PKGINFO', 0o644, 'pkgname = t\n'),
      dir('a-b', 0o755),
      file('a-b/f', 0o644, 'f\n'),
      file('a.c', 0o600, 'c\n'),
      dir('a', 0o750),
      file('a/x', 0o4755, 'x\n'),
      { path: 'a/y', type: 'link', mode: 0o777, uid: 0, gid: 0, mtime: T, link: '../a.c' },
      file('a/z z', 0o644, 'z\n'),
      dir('docs', 0o755),
      file('docs/1', 0o444, '1\n'),
      file('docs/2', 0o444, '2\n'),
      file('docs/3', 0o444, '3\n', 5),
      dir('docs/sub', 0o700),
      file('docs/sub/k', 0o444, 'k\n'),
    ];
    const expected = `#mtree
/set type=file uid=0 gid=0 mode=755
./.PKGINFO time=1700000000.0 mode=644 size=12 md5digest=62ad68d25a4a51af81a990513a7117f8 sha256digest=6a9ee062daa92c2f046bb7f54578737015bbe971750752addcee66ff55a9f7c7
./a.c time=1700000000.0 mode=600 size=2 md5digest=2cd6ee2c70b0bde53fbe6cac3c8b8bb1 sha256digest=a3a5e715f0cc574a73c3f9bebb6bc24f32ffd5b67b387244c2c909da779a1478
./a time=1700000000.0 mode=750 type=dir
./a/x time=1700000000.0 mode=4755 size=2 md5digest=401b30e3b8b5d629635a5c613cdb7919 sha256digest=73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac
./a/y time=1700000000.0 mode=777 type=link link=../a.c
./a/z\\040z time=1700000000.0 mode=644 size=2 md5digest=a8a78d0ff555c931f045b6f448129846 sha256digest=c865f6c5ab8d1b0bcd383a5e1e3879d22681c96bf462c269b7581d523fbe70ab
./a-b time=1700000000.0 type=dir
./a-b/f time=1700000000.0 mode=644 size=2 md5digest=9a8ad92c50cae39aa2c5604fd0ab6d8c sha256digest=092fcfbbcfca3b5be7ae1b5e58538e92c35ab273ae13664fed0d67484c8e78a6
/set mode=444
./docs time=1700000000.0 mode=755 type=dir
./docs/1 time=1700000000.0 size=2 md5digest=b026324c6904b2a9cb4b88d6d61c81d1 sha256digest=4355a46b19d348dc2f57c046f8ef63d4538ebb936000f3c9ee954a27460dd865
./docs/2 time=1700000000.0 size=2 md5digest=26ab0db90d72e28ad0ba1e22ee510510 sha256digest=53c234e5e8472b6ac51c1ae1cab3fe06fad053beb8ebfd8977b010655bfdd3c3
./docs/3 time=1700000000.0 gid=5 size=2 md5digest=6d7fce9fee471194aa8b5b6e47267f03 sha256digest=1121cfccd5913f0a63fec40a6ffd44ea64f9dc135c66634ba001d10bcf4302a2
./docs/sub time=1700000000.0 mode=700 type=dir
./docs/sub/k time=1700000000.0 size=2 md5digest=ccc87e7257869ad33a6a0bd9e28a4ae4 sha256digest=19732980d68fbd00358a0a4d98246c960400b87e4fa2a2e155db98be2b42ed6c
`;
    assert.equal(mtreeText(entries), expected);
    assert.equal(mtreeText([...entries].reverse()), expected, 'input order does not matter');
  });

  it('keeps the value seen first on a tie for /set (libarchive attr_counter order)', () => {
    // Root children: two 0644, two 0755; 0644 is seen first (byte order of names) and stays on top.
    const text = mtreeText([file('a', 0o644, ''), dir('b', 0o755), file('c', 0o644, ''), dir('d', 0o755)]);
    assert.match(text, /^#mtree\n\/set type=file uid=0 gid=0 mode=644\n/);
  });

  it('refuses an entry whose folder is not listed, and a path listed twice', () => {
    assert.throws(() => mtreeText([file('usr/bin/x', 0o755, '')]), /no folder entry for "usr\/bin"/);
    assert.throws(() => mtreeText([file('x', 0o644, ''), file('x', 0o644, '')]), /listed twice/);
  });
});

describe('mtreeQuote', () => {
  it('escapes space, #, =, backslash, control and non-ASCII bytes as three octal digits', () => {
    assert.equal(mtreeQuote('./a b#c=d\\e\tf€'), './a\\040b\\043c\\075d\\134e\\011f\\342\\202\\254');
    assert.equal(mtreeQuote('plain-name_1.2+x~'), 'plain-name_1.2+x~');
  });
});
