import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../model/errors';
import { recipe } from '../testing/recipes';
import { prepareSources, SourceVerificationError } from './prepare';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

// A Debian-style orig tarball (gcc-12's layout): a folder holding the upstream tarball, which
// holds the sources; the recipe's patch applies to the inner tree.
describe('prepareSources with extract.member', () => {
  let dir: string;
  let distfiles: string;
  let sum: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-prepare-'));
    distfiles = path.join(dir, 'distfiles');
    const inner = path.join(dir, 'make-inner', 'pkg-1.0');
    mkdirSync(inner, { recursive: true });
    writeFileSync(path.join(inner, 'Makefile.in'), 'all:\n\tfalse\n');
    const outer = path.join(dir, 'make-outer', 'pkg-1.0-orig');
    mkdirSync(outer, { recursive: true });
    execFileSync('tar', ['-cJf', path.join(outer, 'pkg-1.0-dfsg.tar.xz'), '-C', path.join(dir, 'make-inner'), 'pkg-1.0']);
    writeFileSync(path.join(outer, 'other.tar.xz'), 'not needed');
    mkdirSync(distfiles);
    execFileSync('tar', ['-czf', path.join(distfiles, 'pkg_1.0.orig.tar.gz'), '-C', path.join(dir, 'make-outer'), 'pkg-1.0-orig']);
    sum = sha256(path.join(distfiles, 'pkg_1.0.orig.tar.gz'));
    mkdirSync(path.join(dir, 'ws/recipes/pkg'), { recursive: true });
    writeFileSync(path.join(dir, 'ws/recipes/pkg/fix.diff'), '--- a/Makefile.in\n+++ b/Makefile.in\n@@ -1,2 +1,2 @@\n all:\n-\tfalse\n+\ttrue\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const loaded = (member: string) => recipe('pkg', {
    sources: [{ url: 'https://example.org/pkg_1.0.orig.tar.gz', sha256: sum, extract: { member } }],
    patches: [{ file: 'fix.diff', upstream: 'https://example.org/bug/1' }],
  });

  it('unpacks only the member archive, stripping its folder, then applies the patches to it', async () => {
    const srcdir = path.join(dir, 'src-ok');
    await prepareSources(path.join(dir, 'ws'), loaded('pkg-1.0-orig/pkg-1.0-dfsg.tar.xz'), distfiles, srcdir);
    assert.deepEqual(readdirSync(srcdir), ['Makefile.in']);
    assert.equal(readFileSync(path.join(srcdir, 'Makefile.in'), 'utf8'), 'all:\n\ttrue\n');
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('outer') && f !== 'make-outer'), [], 'the outer archive unpacked aside is removed');
  });

  it('reads each patch as a regular file of the recipe folder: a patch turned into a link is refused, nothing of its target applied', async () => {
    // The recipe was loaded with a regular fix.diff (the graph's check); a link put in its place
    // since, to a file outside the workspace that would apply, is refused when the patch is read.
    const ws = path.join(dir, 'ws-linked');
    mkdirSync(path.join(ws, 'recipes/pkg'), { recursive: true });
    writeFileSync(path.join(dir, 'outside.diff'), readFileSync(path.join(dir, 'ws/recipes/pkg/fix.diff')));
    symlinkSync(path.join(dir, 'outside.diff'), path.join(ws, 'recipes/pkg/fix.diff'));
    const srcdir = path.join(dir, 'src-linked');
    await assert.rejects(prepareSources(ws, loaded('pkg-1.0-orig/pkg-1.0-dfsg.tar.xz'), distfiles, srcdir), (e: Error) => {
      assert.ok(e instanceof InputError, e.message);
      assert.match(e.message, /^recipes\/pkg\/recipe\.yaml: patches\[0\]\.file: "fix\.diff": is a symbolic link, not a regular file; replace it with a regular file/);
      return true;
    });
    assert.equal(existsSync(srcdir), false);
  });

  it('never follows a distfile that is a link (to a host file): refused without its sum', async () => {
    const linked = path.join(dir, 'distfiles-linked');
    mkdirSync(linked);
    symlinkSync('/etc/passwd', path.join(linked, 'pkg_1.0.orig.tar.gz'));
    const srcdir = path.join(dir, 'src-linked-distfile');
    await assert.rejects(prepareSources(path.join(dir, 'ws'), loaded('pkg-1.0-orig/pkg-1.0-dfsg.tar.xz'), linked, srcdir), (e: Error) => {
      assert.ok(e instanceof SourceVerificationError, e.message);
      assert.match(e.message, /^recipes\/pkg\/recipe\.yaml: sources\[0\]: \S+pkg_1\.0\.orig\.tar\.gz is not a regular file; refusing to use it/);
      assert.ok(!e.message.includes(sha256('/etc/passwd')), e.message);
      return true;
    });
    assert.equal(existsSync(srcdir), false);
  });

  it('refuses a member that is not an archive of the outer one, naming the file and field, and leaves no srcdir', async () => {
    const srcdir = path.join(dir, 'src-bad');
    for (const member of ['pkg-1.0-orig/missing.tar.xz', 'pkg-1.0-orig/other.tar.xz', '../pkg_1.0.orig.tar.gz']) {
      await assert.rejects(prepareSources(path.join(dir, 'ws'), loaded(member), distfiles, srcdir), (e: Error) => {
        assert.ok(e instanceof SourceVerificationError, e.message);
        assert.match(e.message, /^recipes\/pkg\/recipe\.yaml: sources\[0\]\.extract\.member: pkg_1\.0\.orig\.tar\.gz holds no archive /);
        return true;
      });
      assert.equal(existsSync(srcdir), false);
    }
  });
});
