import type { Recipe, Stage, Steps } from '../model/recipe.generated';
import { gnuConfigure } from './gnu-configure';
import { make } from './make';

/** Shell text for each phase a style supplies; a phase it leaves out does nothing. */
export type StyleSteps = Readonly<Steps>;

/** The build phases, in the order they run. */
export const PHASES = ['prepare', 'configure', 'build', 'check', 'install'] as const;
export type Phase = (typeof PHASES)[number];

/** Every named build style, by the name a recipe's `style` field uses (recipe.schema.json enum). */
export const STYLES: Readonly<Record<NonNullable<Recipe['style']>, StyleSteps>> = {
  'gnu-configure': gnuConfigure,
  make,
  none: {},
};

/**
 * The steps a build runs: the style's defaults, overridden phase by phase by the recipe's
 * `steps`, then by the stage's `steps` when building a stage.
 * @returns shell text per phase; phases with no text are absent
 */
export function resolveSteps(recipe: Recipe, stage?: string): Partial<Record<Phase, string>> {
  const stageSpec: Stage | undefined = stage ? recipe.stages?.[stage] : undefined;
  const layers = [STYLES[recipe.style ?? 'none'], recipe.steps ?? {}, stageSpec?.steps ?? {}];
  const out: Partial<Record<Phase, string>> = {};
  for (const phase of PHASES) {
    for (const layer of layers) if (layer[phase] !== undefined) out[phase] = layer[phase];
    if (!out[phase]?.trim()) delete out[phase];
  }
  return out;
}
