// The recipe generator through the real `nx g` command in a temporary workspace.
import assert from 'node:assert/strict';
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
});
