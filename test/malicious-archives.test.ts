// The malicious-archive corpus (test/fixtures/malicious-archives, see its README.md) against
// extractArchive: every unsafe or damaged archive is refused with a one-line ArchiveError naming
// the entry, and nothing is written outside the destination; the good archives extract exactly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ArchiveError, extractArchive, type ExtractOptions } from '../packages/nx-distro/src/sources/extract';

const CORPUS_DIR = path.join(__dirname, 'fixtures/malicious-archives');

interface Corpus {
  escape: string;
  longName: string;
  bigSize: number;
  bigSha256: string;
  bad: { file: string; options: ExtractOptions; entry: string; attack: string }[];
  damaged: { file: string; message: string; attack: string }[];
  good: { file: string }[];
}
const corpus: Corpus = JSON.parse(readFileSync(path.join(CORPUS_DIR, 'corpus.json'), 'utf8'));
const ESCAPE = corpus.escape;
const MTIME = Date.parse('2023-01-01T00:00:00Z');

/** Every path under `root` (relative), with what identifies its content. */
function snapshot(root: string, skip: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (p === skip) continue;
      const st = lstatSync(p);
      const what = st.isSymbolicLink() ? `link:${readlinkSync(p)}` : st.isDirectory() ? 'dir' : `file:${st.ino}:${st.size}:${st.mtimeMs}:${st.nlink}`;
      out.set(path.relative(root, p), what);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

/** Every path under `dir`, absolute. */
function tree(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    out.push(p);
    if (lstatSync(p).isDirectory()) out.push(...tree(p));
  }
  return out;
}

/** Removes a tree even where the archive made folders read-only. */
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const p of [dir, ...tree(dir)]) if (lstatSync(p).isDirectory()) chmodSync(p, 0o755);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A sandbox per test: `<sandbox>/a/b/dest` is the destination; `a/b/victim` (a file) and
 * `a/b/outside/` (a folder) sit next to it for the relative attacks to aim at.
 */
class Sandbox {
  readonly root = mkdtempSync(path.join(tmpdir(), 'nx-distro-malicious-'));
  readonly dest = path.join(this.root, 'a/b/dest');
  private before = new Map<string, string>();

  constructor() {
    mkdirSync(path.join(this.root, 'a/b/outside'), { recursive: true });
    writeFileSync(path.join(this.root, 'a/b/victim'), 'victim\n');
    this.before = snapshot(this.root, this.dest);
  }

  /** Asserts the archive wrote nothing outside `dest`, and left nothing in it pointing outside. */
  assertNothingOutside(): void {
    assert.deepEqual(snapshot(this.root, this.dest), this.before, 'the sandbox around the destination is unchanged');
    assert.ok(!existsSync(path.join(ESCAPE, 'pwned')), `${ESCAPE}/pwned must not exist`);
    if (!existsSync(this.dest)) return;
    const outsideInodes = new Set([statSync('/etc/passwd').ino, statSync(path.join(this.root, 'a/b/victim')).ino]);
    const destReal = realpathSync(this.dest);
    for (const p of tree(this.dest)) {
      const st = lstatSync(p);
      if (st.isFile()) assert.ok(!outsideInodes.has(st.ino), `${p} is a hard link to a file outside`);
      if (st.isSymbolicLink()) {
        let real: string;
        try {
          real = realpathSync(p);
        } catch {
          continue; // dangling or a loop: points nowhere
        }
        assert.ok(real === destReal || real.startsWith(`${destReal}/`), `${p} resolves outside the destination, to ${real}`);
      }
    }
  }

  dispose(): void {
    removeTree(this.root);
  }
}

describe('malicious archive corpus', () => {
  let sandbox: Sandbox;
  before(() => {
    // Absolute attacks aim here: the folder exists, so writing through a symlink to it would work.
    mkdirSync(ESCAPE, { recursive: true });
    rmSync(path.join(ESCAPE, 'pwned'), { force: true });
  });
  after(() => {
    rmSync(path.join(ESCAPE, 'pwned'), { force: true });
    try {
      rmdirSync(ESCAPE);
    } catch {
      // not empty or in use by a concurrent run: leave it
    }
  });
  beforeEach(() => {
    sandbox = new Sandbox();
  });
  afterEach(() => sandbox.dispose());

  it('lists every archive of the fixture folder in corpus.json', () => {
    const listed = [...corpus.bad, ...corpus.damaged, ...corpus.good].map((c) => c.file).sort();
    const present = readdirSync(CORPUS_DIR)
      .filter((f) => /\.tar(\.|$)/.test(f))
      .sort();
    assert.deepEqual(listed, present);
  });

  for (const bad of corpus.bad) {
    it(`refuses ${bad.file}: ${bad.attack}`, async () => {
      const archive = path.join(CORPUS_DIR, bad.file);
      const err = await extractArchive(archive, sandbox.dest, bad.options).then(
        () => assert.fail('the archive was extracted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ArchiveError, `expected an ArchiveError, got ${err}`);
      assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
      assert.ok(err.message.startsWith(`${archive}: entry ${JSON.stringify(bad.entry)}: `), err.message);
      assert.match(err.message, /the archive is unsafe, get it from a trusted source$/);
      assert.equal(err.entry, bad.entry);
      assert.equal(err.archive, archive);
      sandbox.assertNothingOutside();
    });
  }

  for (const damaged of corpus.damaged) {
    it(`refuses ${damaged.file}: ${damaged.attack}`, async () => {
      const archive = path.join(CORPUS_DIR, damaged.file);
      const err = await extractArchive(archive, sandbox.dest).then(
        () => assert.fail('the archive was extracted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ArchiveError, `expected an ArchiveError, got ${err}`);
      assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
      assert.ok(err.message.startsWith(`${archive}: `), err.message);
      assert.ok(err.message.includes(damaged.message), `"${damaged.message}" in: ${err.message}`);
      assert.match(err.message, /the file is damaged or incomplete, fetch it again$/);
      assert.equal(err.entry, undefined);
      sandbox.assertNothingOutside();
    });
  }

  /** Checks the tree of the good archives, found at `root` (`pkg-1.0/` already stripped or not). */
  function assertGoodTree(root: string): void {
    const p = (rel: string) => path.join(root, rel);
    const mode = (rel: string) => lstatSync(p(rel)).mode & 0o7777;
    assert.equal(readFileSync(p('README'), 'utf8'), 'hello\n');
    assert.equal(readFileSync(p('src/deep/nested/file.c'), 'utf8'), 'int main(void) { return 0; }\n');
    assert.equal(readFileSync(p('ro/file'), 'utf8'), 'read-only folder\n');
    assert.equal(readFileSync(p('empty'), 'utf8'), '');
    assert.equal(readFileSync(path.join(root, corpus.longName.slice('pkg-1.0/'.length)), 'utf8'), 'long name\n');
    const big = readFileSync(p('big.bin'));
    assert.equal(big.length, corpus.bigSize);
    assert.equal(createHash('sha256').update(big).digest('hex'), corpus.bigSha256);

    assert.equal(mode('README'), 0o644);
    assert.equal(mode('bin/run.sh'), 0o755);
    assert.equal(mode('bin/suid'), 0o755, 'setuid dropped');
    assert.equal(mode('bin/sticky-setgid'), 0o775, 'setgid and sticky dropped');
    assert.equal(mode('ro'), 0o555, 'a read-only folder, filled first');
    assert.equal(mode('ro/file'), 0o444);
    assert.equal(mode('bin'), 0o755);

    assert.equal(readlinkSync(p('lib/libfoo.so')), 'libfoo.so.1');
    assert.equal(readlinkSync(p('docs/readme-link')), '../README');
    assert.equal(readFileSync(p('docs/readme-link'), 'utf8'), 'hello\n');

    const readme = statSync(p('README'));
    const hard = statSync(p('README.hard'));
    assert.equal(hard.ino, readme.ino, 'the hard link shares the inode');
    assert.equal(readme.nlink, 2);

    for (const rel of ['README', 'bin/run.sh', 'big.bin', 'bin', 'lib', 'ro', 'docs']) {
      assert.equal(lstatSync(p(rel)).mtimeMs, MTIME, `mtime of ${rel}`);
    }
    assert.equal(lstatSync(p('lib/libfoo.so')).mtimeMs, MTIME, 'symlink mtime (lutimes)');
    if (process.getuid) assert.equal(readme.uid, process.getuid(), 'owner is not taken from the archive');
  }

  const GOOD_RESULT = {
    files: 10,
    directories: 5,
    symlinks: 2,
    hardlinks: 1,
    bytes: 6 + 19 + 20 + 2 + 29 + 5 + 17 + corpus.bigSize + 0 + 10,
  };

  for (const good of corpus.good) {
    it(`extracts ${good.file}`, async () => {
      const r = await extractArchive(path.join(CORPUS_DIR, good.file), sandbox.dest);
      assert.deepEqual(r, GOOD_RESULT);
      assert.deepEqual(readdirSync(sandbox.dest), ['pkg-1.0']);
      assertGoodTree(path.join(sandbox.dest, 'pkg-1.0'));
      sandbox.assertNothingOutside();
    });
  }

  it('extracts good.tar.xz with strip 1 (hard link targets stripped too)', async () => {
    const r = await extractArchive(path.join(CORPUS_DIR, 'good.tar.xz'), sandbox.dest, { strip: 1 });
    assert.deepEqual(r, { ...GOOD_RESULT, directories: 4 }); // pkg-1.0/ itself is gone
    assertGoodTree(sandbox.dest);
    sandbox.assertNothingOutside();
  });

  it('extracts good.tar.zst with strip 1 into a sub-folder', async () => {
    const r = await extractArchive(path.join(CORPUS_DIR, 'good.tar.zst'), sandbox.dest, { strip: 1, into: 'src/pkg' });
    assert.deepEqual(r, { ...GOOD_RESULT, directories: 4 });
    assert.deepEqual(readdirSync(sandbox.dest), ['src']);
    assertGoodTree(path.join(sandbox.dest, 'src/pkg'));
    sandbox.assertNothingOutside();
  });

  it('skips entries with no component left after strip', async () => {
    const r = await extractArchive(path.join(CORPUS_DIR, 'good.tar.bz2'), sandbox.dest, { strip: 5 });
    assert.deepEqual(r, { files: 0, directories: 0, symlinks: 0, hardlinks: 0, bytes: 0 });
    assert.deepEqual(readdirSync(sandbox.dest), []);
  });
});
