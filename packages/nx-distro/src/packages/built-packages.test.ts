import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writePackage, type BuildInfo } from './pacman-package';
import { findPackages } from './built-packages';

const EPOCH = 1700000000;
const BI: BuildInfo = { pkgbuildSha256: 'ef'.repeat(32), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: '0.1.0' };

describe('findPackages', () => {
  let tmp: string;
  let packages: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-find-'));
    packages = path.join(tmp, 'dist', 'aarch64', 'packages');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  async function put(folder: string, name: string, arch = 'aarch64', pkgrel = 1): Promise<string> {
    const tree = path.join(tmp, 'trees', `${folder}-${name}-${arch}-${pkgrel}`);
    mkdirSync(path.join(tree, 'usr/share', name), { recursive: true });
    writeFileSync(path.join(tree, 'usr/share', name, 'x'), name);
    const meta = { pkgname: name, pkgbase: name, pkgver: '1.0', pkgrel, pkgdesc: name, url: '', arch, license: ['MIT'], depends: [], packager: 'nx-distro', builddate: EPOCH };
    return (await writePackage(tree, meta, BI, path.join(packages, folder), EPOCH)).file;
  }

  it('is empty when nothing was built', async () => {
    assert.deepEqual(await findPackages(packages, tmp, 'aarch64'), []);
  });

  it('takes each folder\'s packages, skipping stage folders, dot names, build logs and empty folders', async () => {
    const zlib = await put('zlib', 'zlib');
    const rt = await put('toolchain-runtime', 'toolchain-runtime');
    const data = await put('tzdata', 'tzdata', 'any');
    await put('gcc@stage1', 'gcc');
    await put('.toolchain-runtime.123-abc.tmp', 'toolchain-runtime', 'aarch64', 2);
    writeFileSync(path.join(packages, 'zlib', 'build.log'), 'log');
    writeFileSync(path.join(packages, 'zlib', '.zlib-1.0-1-aarch64.pkg.tar.zst.1-x.tmp'), 'partial');
    mkdirSync(path.join(packages, 'gcc'));
    const found = await findPackages(packages, tmp, 'aarch64');
    assert.deepEqual(found.map((p) => p.file), [rt, data, zlib]);
    assert.deepEqual(found.map((p) => `${p.name} ${p.version} ${p.arch}`), ['toolchain-runtime 1.0-1 aarch64', 'tzdata 1.0-1 any', 'zlib 1.0-1 aarch64']);
    assert.equal(found[2].rel, path.join('dist', 'aarch64', 'packages', 'zlib', 'zlib-1.0-1-aarch64.pkg.tar.zst'));
  });

  it('refuses a package of another arch, two of one name, and a file that is no package, naming the files', async () => {
    const other = await put('stray', 'stray', 'x86_64');
    await assert.rejects(findPackages(packages, tmp, 'aarch64'), { message: `${path.relative(tmp, other)}: built for arch x86_64, not aarch64; rebuild it or remove it` });
    rmSync(path.join(packages, 'stray'), { recursive: true });

    await put('zlib-old', 'zlib', 'aarch64', 2);
    await assert.rejects(findPackages(packages, tmp, 'aarch64'), /zlib-old\/zlib-1\.0-2-aarch64\.pkg\.tar\.zst: package zlib also comes from dist\/aarch64\/packages\/zlib\/zlib-1\.0-1-aarch64\.pkg\.tar\.zst; a repository holds one version of each package/);
    rmSync(path.join(packages, 'zlib-old'), { recursive: true });

    mkdirSync(path.join(packages, 'junk'));
    writeFileSync(path.join(packages, 'junk', 'junk-1-1-aarch64.pkg.tar.zst'), 'not zstd');
    await assert.rejects(findPackages(packages, tmp, 'aarch64'), /^Error: dist\/aarch64\/packages\/junk\/junk-1-1-aarch64\.pkg\.tar\.zst: not a readable package \(.*\); rebuild it or remove it$/);
  });
});
