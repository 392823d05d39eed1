import type { Recipe, Steps } from '../model/recipe.generated';

/** Shell text for each phase a style supplies; a phase it leaves out does nothing. */
export type StyleSteps = Readonly<Steps>;

/**
 * A build style (cports' build_style): the phases it supplies for a recipe, from the recipe's
 * style options (`configure_args`, `cmake_args`, `autoreconf`, ...).
 */
export type Style = (recipe: Recipe) => StyleSteps;
