// The recipe generator through the real `nx g` command in a temporary workspace.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createWorkspace } from './helpers/workspace';

describe('nx g nx-distro:recipe', () => {
  it('scaffolds a recipe that becomes a project', async () => {
    const ws = createWorkspace('toolchain');
    try {
      const g = await ws.nx('g', 'nx-distro:recipe', 'zlib', '--url', 'https://zlib.net/zlib-1.3.1.tar.xz',
        '--sha256', '38ef96b8dfe510d42707d9c781877914792541133e1870841463bfa73f883e32', '--license', 'Zlib', '--no-interactive');
      assert.equal(g.exitCode, 0, g.all);
      assert.match(ws.read('recipes/zlib/recipe.yaml'), /^version: 1\.3\.1$/m);
      const r = await ws.nx('show', 'project', 'zlib', '--json');
      assert.equal(r.exitCode, 0, r.all);
      assert.deepEqual(Object.keys(JSON.parse(r.stdout).targets).sort(), ['build', 'fetch', 'reproduce', 'reproduce-native']);
    } finally {
      ws.dispose();
    }
  });

  it('takes --upstream-version (Nx keeps --version for itself)', async () => {
    const ws = createWorkspace('toolchain');
    try {
      const g = await ws.nx('g', 'nx-distro:recipe', 'expat', '--url', 'https://github.com/libexpat/libexpat/archive/refs/tags/R_2_5_0.tar.gz',
        '--sha256', 'ab00ee05c7067fd10a35c5d2a4922ebba746ddd50ff83b79c828da17bbdf1757', '--upstream-version=2.5.0', '--no-interactive');
      assert.equal(g.exitCode, 0, g.all);
      assert.match(ws.read('recipes/expat/recipe.yaml'), /^version: 2\.5\.0$/m);
    } finally {
      ws.dispose();
    }
  });

  it('fills the sha256 and apt pin from apt-get source when the upstream file cannot be downloaded', async () => {
    const ws = createWorkspace('toolchain');
    try {
      // No network to GitHub here: Debian's orig tarball of libffi 3.4.4 gives the sum, and the style from its tree.
      const g = await ws.nx('g', 'nx-distro:recipe', 'libffi', '--url', 'https://github.com/libffi/libffi/releases/download/v3.4.4/libffi-3.4.4.tar.gz', '--no-interactive');
      assert.equal(g.exitCode, 0, g.all);
      assert.match(g.all, /libffi: https:\/\/github\.com\/[^ ]+ cannot be downloaded \(.*\): sha256 of Debian's libffi_3\.4\.4\.orig\.tar\.gz \(apt libffi=3\.4\.4-1\)/);
      const text = ws.read('recipes/libffi/recipe.yaml');
      assert.match(text, /^ {4}sha256: d66c56ad259a82cf2a9dfc408b32bf5da52371500b84745f7fb8b645712df676$/m);
      assert.match(text, /^ {4}apt: libffi=3\.4\.4-1$/m);
      assert.match(text, /^version: 3\.4\.4$/m);
      assert.match(text, /^style: gnu-configure$/m);
      const fetched = await ws.nx('run', 'libffi:fetch');
      assert.equal(fetched.exitCode, 0, fetched.all);
      // A repacked Debian tarball cannot stand for upstream's file: one line saying so, nothing written.
      const z = await ws.nx('g', 'nx-distro:recipe', 'zlib', '--url', 'https://github.com/madler/zlib/releases/download/v1.2.13/zlib-1.2.13.tar.gz', '--no-interactive');
      assert.notEqual(z.exitCode, 0, z.all);
      assert.match(z.all, /zlib: https:\/\/github\.com\/\S+ cannot be downloaded here, and Debian's zlib_1\.2\.13\.dfsg\.orig\.tar\.bz2 is a repack \(version 1\.2\.13\.dfsg\), so its sum is not upstream's; pass --sha256 with upstream's sum, or name Debian's file: --url https:\/\/deb\.debian\.org\/debian(?:-security)?\/pool\/\S+\/zlib_1\.2\.13\.dfsg\.orig\.tar\.bz2 --apt zlib=1:1\.2\.13\.dfsg-1/);
      assert.equal(existsSync(path.join(ws.root, 'recipes', 'zlib')), false);
    } finally {
      ws.dispose();
    }
  });
});
