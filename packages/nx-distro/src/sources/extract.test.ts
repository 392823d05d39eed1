import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import { ArchiveError, detectArchive, extractArchive } from './extract';

// The corpus of hostile archives and its integration test live in test/fixtures/malicious-archives
// and test/malicious-archives.test.ts; these are the finer points, on archives built here.

const MTIME = new Date('2023-01-01T00:00:00Z');

type Entry = Partial<Header> & { name: string; body?: string | Buffer };

/** A plain tar archive of `entries`, through tar-stream's pack (files by default). */
async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const { body, ...e } of entries) {
    const header = { type: 'file' as const, mtime: MTIME, mode: e.type === 'directory' ? 0o755 : 0o644, ...e };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body !== undefined) p.entry(header, Buffer.from(body), cb);
      else p.entry({ ...header, size: 0 }, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

function compressWith(tool: 'bzip2' | 'xz' | 'zstd', bytes: Buffer): Buffer {
  const r = spawnSync(tool, ['-c', '-q'], { input: bytes });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

async function rejection(p: Promise<unknown>): Promise<ArchiveError> {
  const e = await p.then(
    () => assert.fail('expected the extraction to be refused'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof ArchiveError, `expected an ArchiveError, got ${e}`);
  assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
  return e;
}

describe('extract', () => {
  let sandbox: string;
  let dest: string;
  let n = 0;
  /** Writes bytes as an archive file in the sandbox; returns its absolute path. */
  const archive = (bytes: Buffer, ext = 'tar') => {
    const file = path.join(sandbox, `archive-${++n}.${ext}`);
    writeFileSync(file, bytes);
    return file;
  };

  beforeEach(() => {
    sandbox = mkdtempSync(path.join(tmpdir(), 'nx-distro-extract-'));
    dest = path.join(sandbox, 'dest');
    mkdirSync(path.join(sandbox, 'outside'));
  });
  afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

  describe('detectArchive', () => {
    it('tells the compression from magic bytes, a plain tar from ustar at offset 257', async () => {
      const tar = await tarOf([{ name: 'a', body: 'a\n' }]);
      assert.equal(await detectArchive(archive(tar)), 'none');
      assert.equal(await detectArchive(archive(zlib.gzipSync(tar))), 'gzip');
      assert.equal(await detectArchive(archive(compressWith('bzip2', tar))), 'bzip2');
      assert.equal(await detectArchive(archive(compressWith('xz', tar))), 'xz');
      assert.equal(await detectArchive(archive(compressWith('zstd', tar))), 'zstd');
    });

    it('returns null for anything else, short files included', async () => {
      assert.equal(await detectArchive(archive(Buffer.from('just some text, not an archive\n'.repeat(40)))), null);
      assert.equal(await detectArchive(archive(Buffer.from([0x1f]))), null);
      assert.equal(await detectArchive(archive(Buffer.alloc(0))), null);
    });

    it('reports an unreadable file as an ArchiveError', async () => {
      const missing = path.join(sandbox, 'missing.tar');
      const e = await rejection(detectArchive(missing));
      assert.match(e.message, /^\/.*missing\.tar: cannot read: ENOENT/);
    });
  });

  describe('arguments', () => {
    it('refuses a relative destDir and invalid options (programming errors)', async () => {
      const a = archive(await tarOf([{ name: 'a', body: 'a' }]));
      await assert.rejects(extractArchive(a, 'relative/dest'), TypeError);
      for (const into of ['../up', '/abs', 'a/../../b']) await assert.rejects(extractArchive(a, dest, { into }), TypeError, into);
      for (const strip of [-1, 1.5]) await assert.rejects(extractArchive(a, dest, { strip }), TypeError);
    });

    it('refuses a file that is not a tar archive', async () => {
      const a = archive(Buffer.from('<html>404 not found</html>\n'), 'tar.gz');
      const e = await rejection(extractArchive(a, dest));
      assert.equal(e.message, `${a}: not a tar archive (no gzip, bzip2, xz, zstd or ustar signature); the file is damaged or incomplete, fetch it again`);
    });
  });

  describe('names', () => {
    it('counts components like GNU tar --strip-components, "." included', async () => {
      const a = archive(await tarOf([{ name: './', type: 'directory' }, { name: './pkg/a', body: 'a\n' }, { name: 'top', body: 'skipped\n' }]));
      const r = await extractArchive(a, dest, { strip: 1 });
      assert.equal(readFileSync(path.join(dest, 'pkg/a'), 'utf8'), 'a\n');
      assert.deepEqual(readdirSync(dest), ['pkg']);
      assert.deepEqual(r, { files: 1, directories: 0, symlinks: 0, hardlinks: 0, bytes: 2 });
    });

    it('collapses repeated slashes and "." components', async () => {
      const a = archive(await tarOf([{ name: 'pkg//./sub/./f', body: 'f' }]));
      await extractArchive(a, dest);
      assert.equal(readFileSync(path.join(dest, 'pkg/sub/f'), 'utf8'), 'f');
    });

    it('refuses ".." anywhere, even when it would stay inside', async () => {
      const a = archive(await tarOf([{ name: 'pkg/sub/../f', body: 'f' }]));
      const e = await rejection(extractArchive(a, dest));
      assert.equal(e.entry, 'pkg/sub/../f');
    });

    it('keeps the message on one line of plain characters whatever the name holds (quoted, control characters escaped)', async () => {
      // JSON's quoting left the 8-bit CSI, DEL and bidi overrides raw; the shared quote() does not.
      const name = '../evil\nname\u0007\u009b2J\u007f\u202e';
      const a = archive(await tarOf([{ name, body: 'x', pax: { comment: 'force pax' } }]));
      const e = await rejection(extractArchive(a, dest));
      assert.ok(e.message.includes('entry "../evil\\nname\\u0007\\u009b2J\\u007f\\u202e"'), e.message);
      assert.match(e.message, /^[\x20-\x7e]+$/);
      assert.equal(e.entry, name);
    });

    it('refuses a NUL character in a name (possible through pax)', async () => {
      const a = archive(await tarOf([{ name: 'a\0b', body: 'x', pax: { comment: 'force pax' } }]));
      const e = await rejection(extractArchive(a, dest));
      assert.match(e.message, /entry "a\\u0000b": path contains a NUL character/);
    });
  });

  describe('symlinks', () => {
    it('refuses a target leaving the `into` folder, even if it stays in destDir', async () => {
      const a = archive(await tarOf([{ name: 'link', type: 'symlink', linkname: '../sibling' }]));
      const e = await rejection(extractArchive(a, dest, { into: 'src' }));
      assert.match(e.message, /entry "link": symlink to "\.\.\/sibling" leaves the extraction folder/);
      assert.ok(!existsSync(path.join(dest, 'src/link')));
    });

    it('accepts targets that go up and come back inside, and dangling ones', async () => {
      const a = archive(
        await tarOf([
          { name: 'a/b/up', type: 'symlink', linkname: '../../c/d' },
          { name: 'a/dangling', type: 'symlink', linkname: 'nowhere/file' },
          { name: 'self', type: 'symlink', linkname: '.' },
        ]),
      );
      const r = await extractArchive(a, dest);
      assert.equal(r.symlinks, 3);
      assert.equal(readlinkSync(path.join(dest, 'a/b/up')), '../../c/d');
    });

    it('refuses an empty target', async () => {
      const a = archive(await tarOf([{ name: 'link', type: 'symlink', linkname: '' }]));
      const e = await rejection(extractArchive(a, dest));
      assert.match(e.message, /entry "link": symlink has an empty target/);
    });

    it('never writes through a symlink that was already in destDir', async () => {
      mkdirSync(dest);
      symlinkSync(path.join(sandbox, 'outside'), path.join(dest, 'evil'));
      const a = archive(await tarOf([{ name: 'evil/pwned', body: 'pwned' }]));
      const e = await rejection(extractArchive(a, dest));
      assert.match(e.message, /entry "evil\/pwned": it would be written through the symlink "evil"/);
      assert.deepEqual(readdirSync(path.join(sandbox, 'outside')), []);
    });

    it('refuses an `into` folder that is a symlink in destDir', async () => {
      mkdirSync(dest);
      symlinkSync(path.join(sandbox, 'outside'), path.join(dest, 'src'));
      const a = archive(await tarOf([{ name: 'f', body: 'f' }]));
      const e = await rejection(extractArchive(a, dest, { into: 'src/pkg' }));
      assert.match(e.message, /: the extraction folder would be written through the symlink "src"/);
      assert.deepEqual(readdirSync(path.join(sandbox, 'outside')), []);
    });

    it('replaces an existing symlink at the entry path instead of writing through it', async () => {
      mkdirSync(dest);
      const victim = path.join(sandbox, 'outside/victim');
      writeFileSync(victim, 'victim\n');
      symlinkSync(victim, path.join(dest, 'f'));
      const a = archive(await tarOf([{ name: 'f', body: 'new\n' }]));
      await extractArchive(a, dest);
      assert.equal(readFileSync(victim, 'utf8'), 'victim\n');
      assert.ok(lstatSync(path.join(dest, 'f')).isFile());
      assert.equal(readFileSync(path.join(dest, 'f'), 'utf8'), 'new\n');
    });

    it('refuses writing into a folder the archive replaced by a symlink', async () => {
      const a = archive(
        await tarOf([
          { name: 'd', type: 'directory' },
          { name: 'd', type: 'symlink', linkname: '.' },
          { name: 'd/f', body: 'f' },
        ]),
      );
      const e = await rejection(extractArchive(a, dest));
      assert.match(e.message, /entry "d\/f": it would be written through the symlink "d"/);
    });

    it('replaces a symlink by a real folder when a folder entry comes', async () => {
      const a = archive(
        await tarOf([
          { name: 'd', type: 'symlink', linkname: '.' },
          { name: 'd', type: 'directory' },
          { name: 'd/f', body: 'f' },
        ]),
      );
      await extractArchive(a, dest);
      assert.ok(lstatSync(path.join(dest, 'd')).isDirectory());
      assert.equal(readFileSync(path.join(dest, 'd/f'), 'utf8'), 'f');
    });
  });

  describe('hard links', () => {
    it('links to an earlier file, with the target stripped like the name', async () => {
      const a = archive(
        await tarOf([
          { name: 'pkg/a', body: 'a\n' },
          { name: 'pkg/sub/b', type: 'link', linkname: 'pkg/a' },
          { name: 'pkg/c', type: 'link', linkname: 'pkg/sub/b' },
        ]),
      );
      const r = await extractArchive(a, dest, { strip: 1 });
      assert.equal(r.hardlinks, 2);
      const ino = statSync(path.join(dest, 'a')).ino;
      assert.equal(statSync(path.join(dest, 'sub/b')).ino, ino);
      assert.equal(statSync(path.join(dest, 'c')).ino, ino);
    });

    it('refuses a target that is on disk but not from this archive', async () => {
      mkdirSync(dest);
      writeFileSync(path.join(dest, 'old'), 'old\n');
      const a = archive(await tarOf([{ name: 'x', type: 'link', linkname: 'old' }]));
      const e = await rejection(extractArchive(a, dest));
      assert.match(e.message, /entry "x": hard link to "old", which is not a file extracted earlier from this archive/);
    });

    it('refuses a target the archive has since replaced by a symlink', async () => {
      const a = archive(
        await tarOf([
          { name: 'f', body: 'f' },
          { name: 'f', type: 'symlink', linkname: 'g' },
          { name: 'x', type: 'link', linkname: 'f' },
        ]),
      );
      const e = await rejection(extractArchive(a, dest));
      assert.equal(e.entry, 'x');
    });

    it('refuses a folder as target', async () => {
      const a = archive(await tarOf([{ name: 'd', type: 'directory' }, { name: 'x', type: 'link', linkname: 'd' }]));
      const e = await rejection(extractArchive(a, dest));
      assert.equal(e.entry, 'x');
    });
  });

  describe('existing paths', () => {
    it('replaces a file, keeps an existing folder and what it holds', async () => {
      mkdirSync(path.join(dest, 'keep'), { recursive: true });
      writeFileSync(path.join(dest, 'keep/mine'), 'mine\n');
      writeFileSync(path.join(dest, 'f'), 'old\n');
      const a = archive(await tarOf([{ name: 'keep', type: 'directory' }, { name: 'f', body: 'new\n' }]));
      await extractArchive(a, dest);
      assert.equal(readFileSync(path.join(dest, 'keep/mine'), 'utf8'), 'mine\n');
      assert.equal(readFileSync(path.join(dest, 'f'), 'utf8'), 'new\n');
    });

    it('refuses to replace a folder that has contents with a file', async () => {
      const a = archive(await tarOf([{ name: 'd/f', body: 'f' }, { name: 'd', body: 'file now' }]));
      const e = await rejection(extractArchive(a, dest));
      assert.match(e.message, /entry "d": cannot be written: a folder with contents is in the way$/);
    });

    it('refuses a path through a file', async () => {
      const a = archive(await tarOf([{ name: 'f', body: 'f' }, { name: 'f/g', body: 'g' }]));
      const e = await rejection(extractArchive(a, dest));
      assert.match(e.message, /entry "f\/g": it cannot be written: "f" is not a folder$/);
    });
  });

  describe('attributes', () => {
    it('applies permission bits exactly, whatever the umask, and drops setuid/setgid/sticky', async () => {
      const a = archive(
        await tarOf([
          { name: 'group-writable', body: 'x', mode: 0o664 },
          { name: 'suid', body: 'x', mode: 0o4755 },
          { name: 'd', type: 'directory', mode: 0o1777 },
          { name: 'ro', body: 'x', mode: 0o400 },
        ]),
      );
      const old = process.umask(0o077);
      try {
        await extractArchive(a, dest);
      } finally {
        process.umask(old);
      }
      const mode = (f: string) => statSync(path.join(dest, f)).mode & 0o7777;
      assert.equal(mode('group-writable'), 0o664);
      assert.equal(mode('suid'), 0o755);
      assert.equal(mode('d'), 0o777);
      assert.equal(mode('ro'), 0o400);
    });

    it('sets folder mtimes after their contents, and sub-second pax mtimes', async () => {
      const a = archive(
        await tarOf([
          { name: 'd', type: 'directory', mtime: new Date('2020-05-05T00:00:00Z') },
          { name: 'd/f', body: 'f', pax: { mtime: '1600000000.25' } },
          { name: 'd/l', type: 'symlink', linkname: 'f', mtime: new Date('2021-01-01T00:00:00Z') },
        ]),
      );
      await extractArchive(a, dest);
      assert.equal(statSync(path.join(dest, 'd')).mtimeMs, Date.parse('2020-05-05T00:00:00Z'));
      assert.equal(statSync(path.join(dest, 'd/f')).mtimeMs, 1600000000250);
      assert.equal(lstatSync(path.join(dest, 'd/l')).mtimeMs, Date.parse('2021-01-01T00:00:00Z'));
    });

    it('extracts contiguous files (type 7) as regular files', async () => {
      const a = archive(await tarOf([{ name: 'c', type: 'contiguous-file', body: 'contiguous' }]));
      const r = await extractArchive(a, dest);
      assert.equal(r.files, 1);
      assert.equal(readFileSync(path.join(dest, 'c'), 'utf8'), 'contiguous');
    });
  });

  describe('compression and damage', () => {
    let big: Buffer;
    let tar: Buffer;
    beforeEach(async () => {
      big = Buffer.alloc(3 * 1024 * 1024 + 11);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 13)) & 0xff;
      tar = await tarOf([
        { name: 'pkg', type: 'directory' },
        { name: 'pkg/big', body: big },
        { name: 'pkg/small', body: 'small\n' },
      ]);
    });

    for (const kind of ['gzip', 'bzip2', 'xz', 'zstd'] as const) {
      it(`streams a multi-megabyte file out of ${kind}`, async () => {
        const bytes = kind === 'gzip' ? zlib.gzipSync(tar) : compressWith(kind, tar);
        const r = await extractArchive(archive(bytes, 'tar.x'), dest);
        assert.equal(r.bytes, big.length + 6);
        assert.ok(readFileSync(path.join(dest, 'pkg/big')).equals(big));
      });

      it(`reports a truncated ${kind} stream with the decompressor's message`, async () => {
        const bytes = kind === 'gzip' ? zlib.gzipSync(tar) : compressWith(kind, tar);
        const a = archive(bytes.subarray(0, Math.floor(bytes.length * 0.6)), 'tar.x');
        const e = await rejection(extractArchive(a, dest));
        const expected = { gzip: /: gzip: unexpected end of file; /, bzip2: /: bzip2: /, xz: /: xz: .*Unexpected end of input; /, zstd: /: zstd: / }[kind];
        assert.match(e.message, expected);
        assert.match(e.message, /the file is damaged or incomplete, fetch it again$/);
      });
    }

    it('reports a missing decompressor', async () => {
      const a = archive(compressWith('xz', tar), 'tar.xz');
      const old = process.env.PATH;
      process.env.PATH = path.join(sandbox, 'empty-path');
      try {
        const e = await rejection(extractArchive(a, dest));
        assert.match(e.message, /: cannot decompress: the xz tool is not installed/);
      } finally {
        process.env.PATH = old;
      }
    });

    it('reports a tar stream cut inside an entry', async () => {
      const e = await rejection(extractArchive(archive(tar.subarray(0, 512 * 2 + 1000)), dest));
      assert.match(e.message, /: not a valid tar stream \(Unexpected end of data\); the file is damaged or incomplete, fetch it again$/);
    });

    it('reports garbage under a valid compression', async () => {
      const e = await rejection(extractArchive(archive(zlib.gzipSync(Buffer.alloc(4096, 'x')), 'tar.gz'), dest));
      assert.match(e.message, /: not a valid tar stream after gzip decompression \(Invalid tar header/);
    });
  });
});

describe('pre-POSIX archives', () => {
  it('extracts a v7 tar (no ustar magic), as xz 5.4.1 ships', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-v7-'));
    try {
      mkdirSync(path.join(dir, 'in/pkg-1.0'), { recursive: true });
      writeFileSync(path.join(dir, 'in/pkg-1.0/hello.txt'), 'hello\n');
      assert.equal(spawnSync('tar', ['--format=v7', '-cJf', path.join(dir, 'v7.tar.xz'), '-C', path.join(dir, 'in'), 'pkg-1.0']).status, 0);
      await extractArchive(path.join(dir, 'v7.tar.xz'), path.join(dir, 'out'), { strip: 1 });
      assert.equal(readFileSync(path.join(dir, 'out/hello.txt'), 'utf8'), 'hello\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
