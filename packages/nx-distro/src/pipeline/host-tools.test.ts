import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { missingBuildrootPackages, missingHostPackages } from './host-tools';

describe('host tools', () => {
  it("asks dpkg which of a recipe's host tools the build machine lacks", () => {
    // dpkg and coreutils are Essential on every Debian system; the second name is no package.
    assert.deepEqual(missingHostPackages(['dpkg', 'no-such-package-nx-distro', 'coreutils']), ['no-such-package-nx-distro']);
    assert.deepEqual(missingHostPackages([]), []);
  });

  it("reads a build root's package list", () => {
    assert.deepEqual(missingBuildrootPackages(['cmake', 'meson', 'ninja-build'], 'cmake 3.25.1-1 arm64\nninja-build 1.11.1-2~deb12u1 arm64\n'), ['meson']);
  });
});
