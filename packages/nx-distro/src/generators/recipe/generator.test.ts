import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { loadRecipe } from '../../model/recipe';
import recipeSchema from '../../model/recipe.schema.json';
import recipeGenerator, { guessVersion } from './generator';
import generatorSchema from './schema.json';

const SUM = '38ef96b8dfe510d42707d9c781877914792541133e1870841463bfa73f883e32';

describe('recipe generator', () => {
  it('guesses versions from archive names', () => {
    assert.equal(guessVersion('zlib', 'https://zlib.net/zlib-1.3.1.tar.xz'), '1.3.1');
    assert.equal(guessVersion('lua', 'https://www.lua.org/ftp/lua-5.4.6.tar.gz'), '5.4.6');
    assert.equal(guessVersion('foo', 'https://example.org/archive/v2.5.tar.gz'), '2.5');
    assert.equal(guessVersion('foo', 'https://example.org/latest.tar.gz'), undefined);
  });

  it('offers every style the recipe schema has, and no --version (Nx keeps it)', () => {
    assert.deepEqual(generatorSchema.properties.style.enum, recipeSchema.properties.style.enum);
    assert.equal('version' in generatorSchema.properties, false);
    assert.ok('upstreamVersion' in generatorSchema.properties);
  });

  it('takes the sum and the style from the file when --sha256 is left out', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'recipe-gen-'));
    try {
      // A real archive: a folder with a Makefile only, so the style is make.
      execFileSync('sh', ['-c', 'mkdir -p foo-1.2/src && echo "all:" > foo-1.2/Makefile && tar -czf foo-1.2.tar.gz foo-1.2'], { cwd: dir });
      const sum = execFileSync('sha256sum', [path.join(dir, 'foo-1.2.tar.gz')]).toString().split(' ')[0];
      const tree = createTreeWithEmptyWorkspace();
      await recipeGenerator(tree, { name: 'foo', url: pathToFileURL(path.join(dir, 'foo-1.2.tar.gz')).href, homepage: 'https://example.org/foo/' });
      const { recipe } = loadRecipe(tree.root, 'recipes/foo/recipe.yaml', tree.read('recipes/foo/recipe.yaml', 'utf8')!);
      assert.equal(recipe.version, '1.2');
      assert.equal(recipe.sources![0].sha256, sum);
      assert.equal(recipe.style, 'make');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes a recipe that loads without error', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await recipeGenerator(tree, { name: 'zlib', url: 'https://zlib.net/zlib-1.3.1.tar.xz', sha256: SUM, license: 'Zlib' });
    const text = tree.read('recipes/zlib/recipe.yaml', 'utf8')!;
    const { recipe } = loadRecipe(tree.root, 'recipes/zlib/recipe.yaml', text);
    assert.equal(recipe.version, '1.3.1');
    assert.deepEqual(recipe.sources, [{ url: 'https://zlib.net/zlib-1.3.1.tar.xz', sha256: SUM }]);
    assert.deepEqual(recipe.license, ['Zlib']);
    assert.equal(recipe.homepage, 'https://zlib.net/');
  });

  it('quotes an all-digit sum so YAML keeps it a string', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const digits = '1234567890'.repeat(6) + '1234';
    await recipeGenerator(tree, { name: 'x', url: 'https://example.org/x-1.0.tar.gz', sha256: digits });
    assert.equal(loadRecipe(tree.root, 'recipes/x/recipe.yaml', tree.read('recipes/x/recipe.yaml', 'utf8')!).recipe.sources![0].sha256, digits);
  });

  it('refuses a bad sum with the field and writes nothing', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await assert.rejects(
      recipeGenerator(tree, { name: 'zlib', url: 'https://zlib.net/zlib-1.3.1.tar.xz', sha256: 'abc' }),
      /recipes\/zlib\/recipe\.yaml: sources\[0\]\.sha256: invalid value "abc"/,
    );
    assert.equal(tree.exists('recipes/zlib/recipe.yaml'), false);
  });

  it('refuses to overwrite an existing recipe', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('recipes/zlib/recipe.yaml', 'name: zlib\n');
    await assert.rejects(recipeGenerator(tree, { name: 'zlib', url: 'https://zlib.net/zlib-1.3.1.tar.xz', sha256: SUM }), /already exists/);
  });
});
