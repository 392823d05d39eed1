import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PACKAGE_FILE_NAME_BYTES, packageFileName, packageTempName, pkgnameOfFile } from './package-layout';
import { validateMeta, type PackageMeta } from '../packages/pacman-package';

describe('package file names', () => {
  it('leave room for the temporary name within NAME_MAX (255 bytes)', () => {
    assert.equal(MAX_PACKAGE_FILE_NAME_BYTES, 229);
    const longest = 'a'.repeat(MAX_PACKAGE_FILE_NAME_BYTES);
    assert.equal(packageTempName(longest, 4_194_304, 'f'.repeat(12)).length, 255);
    assert.equal(packageFileName({ pkgname: 'zlib', pkgver: '1.3.1', pkgrel: 2, arch: 'aarch64' }), 'zlib-1.3.1-2-aarch64.pkg.tar.zst');
  });

  it('are checked by writePackage too: a name over the limit is a caller bug', () => {
    const meta: PackageMeta = { pkgname: 'z'.repeat(128), pkgbase: 'z', pkgver: '1'.repeat(100), pkgrel: 1, pkgdesc: 'd', url: 'https://example.org/', arch: 'x86_64', license: ['MIT'], depends: [], packager: 'nx-distro', builddate: 0 };
    assert.throws(() => validateMeta(meta), /meta\.pkgver: the package file name would be 250 bytes, over 229/);
    validateMeta({ ...meta, pkgver: '1'.repeat(79) });
  });
});

describe('pkgnameOfFile', () => {
  it('takes the pkgname back from a package file name, with or without .pkg.tar.zst', () => {
    assert.equal(pkgnameOfFile('zlib-dev-1.2.13-1-aarch64.pkg.tar.zst'), 'zlib-dev');
    assert.equal(pkgnameOfFile('toolchain-runtime-12.2.0-1-riscv64'), 'toolchain-runtime');
    assert.equal(pkgnameOfFile(packageFileName({ pkgname: 'json-c', pkgver: '0.16', pkgrel: 1, arch: 'x86_64' })), 'json-c');
  });
});
