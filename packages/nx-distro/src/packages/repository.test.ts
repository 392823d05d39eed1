import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { writePackage, type BuildInfo, type PackageMeta } from './pacman-package';
import { writeEmptyRepository, writeRepository } from './repository';

const EPOCH = 1700000000;
const BI: BuildInfo = { pkgbuildSha256: 'cd'.repeat(32), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: '0.1.0' };
const needRoot = process.getuid?.() === 0 ? false : 'pacman installs need root';

describe('writeRepository', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-repo-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  async function pkg(name: string, pkgrel: number, depends: string[] = []): Promise<string> {
    const tree = path.join(tmp, 'trees', `${name}-${pkgrel}`);
    mkdirSync(path.join(tree, 'usr/share', name), { recursive: true });
    writeFileSync(path.join(tree, 'usr/share', name, 'release'), `${pkgrel}\n`);
    const meta: PackageMeta = { pkgname: name, pkgbase: name, pkgver: '1.0', pkgrel, pkgdesc: name, url: '', arch: 'x86_64', license: ['MIT'], depends, packager: 'nx-distro', builddate: EPOCH };
    return (await writePackage(tree, meta, BI, path.join(tmp, 'out', `${name}-${pkgrel}`), EPOCH)).file;
  }

  /** pacman on an empty root with the repository as `[<db>]`. */
  async function client(name: string, repoDir: string, db: string) {
    const root = path.join(tmp, 'clients', name);
    mkdirSync(path.join(root, 'var/lib/pacman'), { recursive: true });
    const conf = path.join(tmp, 'clients', `${name}.conf`);
    writeFileSync(conf, `[options]\nArchitecture = x86_64\nSigLevel = Never\nHookDir = ${path.join(tmp, 'no-hooks')}\n\n[${db}]\nServer = file://${repoDir}\n`);
    return (...args: string[]) => execa('pacman', ['--root', root, '--dbpath', path.join(root, 'var/lib/pacman'), '--config', conf, '--noconfirm', ...args], { reject: false, all: true });
  }

  const listing = async (db: string) => (await execa('bsdtar', ['-tf', db])).stdout.split('\n').filter((l) => l.endsWith('/desc')).sort();

  it('holds exactly the packages given: a rebuilt package leaves no older version, a dropped one disappears', async () => {
    const repoDir = path.join(tmp, 'dist', 'x86_64', 'repo');
    await writeRepository(repoDir, 'x86_64', [await pkg('alpha', 1, ['beta']), await pkg('beta', 1), await pkg('gamma', 1)]);
    assert.deepEqual(await listing(path.join(repoDir, 'x86_64.db.tar.zst')), ['alpha-1.0-1/desc', 'beta-1.0-1/desc', 'gamma-1.0-1/desc']);
    assert.equal(readlinkSync(path.join(repoDir, 'x86_64.db')), 'x86_64.db.tar.zst');

    await writeRepository(repoDir, 'x86_64', [await pkg('alpha', 2, ['beta']), await pkg('beta', 1)]);
    assert.deepEqual(await listing(path.join(repoDir, 'x86_64.db.tar.zst')), ['alpha-1.0-2/desc', 'beta-1.0-1/desc']);
    assert.deepEqual(readdirSync(repoDir).filter((f) => f.endsWith('.pkg.tar.zst')).sort(), ['alpha-1.0-2-x86_64.pkg.tar.zst', 'beta-1.0-1-x86_64.pkg.tar.zst']);
    assert.deepEqual(readdirSync(path.dirname(repoDir)), ['repo'], 'no staging, old or lock folder left beside it');
    assert.deepEqual(readdirSync(repoDir).filter((f) => f.startsWith('.')), [], 'no lock or temporary file inside');
  });

  it('serves pacman -Sy / -S with dependency resolution', { skip: needRoot }, async () => {
    const repoDir = path.join(tmp, 'dist', 'x86_64', 'repo');
    const pacman = await client('deps', repoDir, 'x86_64');
    const sy = await pacman('-Sy');
    assert.equal(sy.exitCode, 0, sy.all);
    const s = await pacman('--noscriptlet', '-S', 'alpha');
    assert.equal(s.exitCode, 0, s.all);
    assert.equal((await pacman('-Q')).stdout.trim(), 'alpha 1.0-2\nbeta 1.0-1');
  });

  it('writes an empty repository for no package, as repo-remove leaves one, which pacman -Sy accepts', { skip: needRoot }, async () => {
    const repoDir = path.join(tmp, 'dist', 'empty', 'repo');
    mkdirSync(repoDir, { recursive: true });
    writeFileSync(path.join(repoDir, 'stale-1.0-1-x86_64.pkg.tar.zst'), 'stale');
    await writeRepository(repoDir, 'empty', []);
    assert.deepEqual(readdirSync(repoDir).sort(), ['empty.db', 'empty.db.tar.zst', 'empty.files', 'empty.files.tar.zst']);
    assert.equal(readlinkSync(path.join(repoDir, 'empty.files')), 'empty.files.tar.zst');
    assert.equal((await execa('bsdtar', ['-tf', path.join(repoDir, 'empty.db.tar.zst')])).stdout, '', 'an empty archive');
    const pacman = await client('empty', repoDir, 'empty');
    const sy = await pacman('-Sy');
    assert.equal(sy.exitCode, 0, sy.all);
    const ss = await pacman('-Sl', 'empty');
    assert.equal(ss.exitCode, 0, ss.all);
    assert.equal(ss.stdout.trim(), '');
  });

  it('writes the same database bytes on a later run over the same packages: entries dated by the packages, root-owned, sorted', async () => {
    const files = [await pkg('repro-b', 1, ['repro-a']), await pkg('repro-a', 1)];
    const one = path.join(tmp, 'repro-one');
    const two = path.join(tmp, 'repro-two');
    await writeRepository(one, 'repro', files);
    await new Promise((r) => setTimeout(r, 1100)); // repo-add's bsdtar dates entries by the second
    await writeRepository(two, 'repro', [...files].reverse());
    for (const kind of ['db', 'files']) {
      const a = readFileSync(path.join(one, `repro.${kind}.tar.zst`));
      assert.ok(a.equals(readFileSync(path.join(two, `repro.${kind}.tar.zst`))), `repro.${kind}.tar.zst differs between the runs`);
    }
    const verbose = (await execa('tar', ['--zstd', '-tvf', path.join(one, 'repro.db.tar.zst'), '--numeric-owner', '--full-time'], { env: { TZ: 'UTC', LC_ALL: 'C' } })).stdout.split('\n');
    assert.deepEqual(verbose.map((l) => l.split(/\s+/).pop()), ['repro-a-1.0-1/', 'repro-a-1.0-1/desc', 'repro-b-1.0-1/', 'repro-b-1.0-1/desc']);
    for (const l of verbose) assert.match(l, /^[d-]rw[x-]r-[x-]r-[x-] 0\/0 +\d+ 2023-11-14 22:13:20 /, l);
  });

  it('refuses a bad repository name or a relative path before touching anything', async () => {
    await assert.rejects(writeEmptyRepository(path.join(tmp, 'x'), '-bad'), TypeError);
    await assert.rejects(writeRepository('relative/repo', 'x86_64', []), /repoDir must be absolute/);
    assert.ok(!existsSync(path.join(tmp, 'x')));
  });
});
