import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import recipeSchema from '../model/recipe.schema.json';
import { recipe } from '../testing/recipes';
import { STYLES, resolveSteps } from './index';

describe('build styles', () => {
  it('are exactly the styles the recipe schema allows', () => {
    assert.deepEqual(Object.keys(STYLES).sort(), [...recipeSchema.properties.style.enum].sort());
  });

  it('let recipe steps, then stage steps, override the style phase by phase', () => {
    const r = recipe('zlib', {
      style: 'gnu-configure',
      steps: { configure: './configure --prefix=/usr', check: '' },
      stages: { stage1: { steps: { build: 'make libz.a' } } },
    }).recipe;
    const final = resolveSteps(r);
    assert.equal(final.configure, './configure --prefix=/usr');
    assert.equal(final.build, 'make -j"$JOBS"');
    assert.equal(final.check, undefined, 'an empty step disables the phase');
    assert.equal(final.install, 'make DESTDIR="$pkgdir" install');
    assert.equal(resolveSteps(r, 'stage1').build, 'make libz.a');
  });

  it('give nothing for style none', () => {
    assert.deepEqual(resolveSteps(recipe('x').recipe), {});
  });
});
