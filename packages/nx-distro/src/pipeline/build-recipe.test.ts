import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { installOutsidePkgdirHint } from './build-recipe';

describe('installOutsidePkgdirHint', () => {
  it('names the prefix-under-$pkgdir fix when an install step wrote into the read-only root, nothing otherwise', () => {
    assert.match(installOutsidePkgdirHint('install', "install: cannot create regular file '/usr/bin/hello': Read-only file system"), /^; the install step wrote outside \$pkgdir .*make PREFIX="\$pkgdir\/usr" install/);
    assert.equal(installOutsidePkgdirHint('build', 'Read-only file system'), '');
    assert.equal(installOutsidePkgdirHint('install', 'make: *** No rule to make target'), '');
  });
});
