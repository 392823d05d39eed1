import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { loadRecipe } from '../../model/recipe';
import recipeGenerator, { guessVersion } from './generator';

const SUM = '38ef96b8dfe510d42707d9c781877914792541133e1870841463bfa73f883e32';

describe('recipe generator', () => {
  it('guesses versions from archive names', () => {
    assert.equal(guessVersion('zlib', 'https://zlib.net/zlib-1.3.1.tar.xz'), '1.3.1');
    assert.equal(guessVersion('lua', 'https://www.lua.org/ftp/lua-5.4.6.tar.gz'), '5.4.6');
    assert.equal(guessVersion('foo', 'https://example.org/archive/v2.5.tar.gz'), '2.5');
    assert.equal(guessVersion('foo', 'https://example.org/latest.tar.gz'), undefined);
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
