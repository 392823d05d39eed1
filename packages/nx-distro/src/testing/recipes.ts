import type { LoadedRecipe, Recipe } from '../model/recipe';

/** A valid recipe for tests: the required fields plus `extra`. */
export function recipe(name: string, extra: Partial<Recipe> = {}): LoadedRecipe {
  return {
    file: `recipes/${name}/recipe.yaml`,
    root: `recipes/${name}`,
    recipe: {
      name,
      version: '1.0',
      release: 1,
      description: `${name} for tests`,
      license: ['MIT'],
      homepage: `https://example.org/${name}`,
      ...extra,
    },
  };
}
