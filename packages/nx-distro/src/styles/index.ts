import type { Recipe, Stage } from '../model/recipe.generated';
import { cmake } from './cmake';
import { gnuConfigure } from './gnu-configure';
import { make } from './make';
import { meson } from './meson';
import type { readSnippets } from './snippets';
import type { Style } from './style';

/** The build phases, in the order they run. */
export const PHASES = ['prepare', 'configure', 'build', 'check', 'install'] as const;
export type Phase = (typeof PHASES)[number];

/** Every named build style, by the name a recipe's `style` field uses (recipe.schema.json enum). */
export const STYLES: Readonly<Record<NonNullable<Recipe['style']>, Style>> = {
  cmake,
  'gnu-configure': gnuConfigure,
  make,
  meson,
  none: () => ({}),
};

/** The Debian packages of the build machine's programs each style runs (what `host_tools` adds to). */
export const STYLE_HOST_TOOLS: Readonly<Record<NonNullable<Recipe['style']>, readonly string[]>> = {
  cmake: ['cmake', 'ninja-build'],
  'gnu-configure': [],
  make: [],
  meson: ['meson', 'ninja-build'],
  none: [],
};

/**
 * The Debian packages of the build machine's programs a recipe's build runs: its style's
 * ({@link STYLE_HOST_TOOLS}) and its `host_tools`, sorted, each once.
 */
export function hostTools(recipe: Recipe): string[] {
  return [...new Set([...STYLE_HOST_TOOLS[recipe.style ?? 'none'], ...(recipe.host_tools ?? [])])].sort();
}

/**
 * The steps a build runs: the style's defaults, overridden phase by phase by the recipe's
 * `steps`, then by the stage's `steps` when building a stage. With `build_wrksrc` every step
 * that runs starts with `cd` into that sub-folder of `$srcdir` (the steps start in `$srcdir`),
 * then the texts of the recipe's `snippets` (read by {@link readSnippets}), in order.
 * @param snippets the texts of the recipe's snippets
 * @returns shell text per phase; phases with no text are absent
 */
export function resolveSteps(recipe: Recipe, stage?: string, snippets: readonly string[] = []): Partial<Record<Phase, string>> {
  const prelude = [recipe.build_wrksrc ? `cd ${recipe.build_wrksrc}\n` : '', ...snippets.map((t) => (t.endsWith('\n') ? t : `${t}\n`))].join('');
  const stageSpec: Stage | undefined = stage ? recipe.stages?.[stage] : undefined;
  const layers = [STYLES[recipe.style ?? 'none'](recipe), recipe.steps ?? {}, stageSpec?.steps ?? {}];
  const out: Partial<Record<Phase, string>> = {};
  for (const phase of PHASES) {
    for (const layer of layers) if (layer[phase] !== undefined) out[phase] = layer[phase];
    if (!out[phase]?.trim()) delete out[phase];
    else if (prelude) out[phase] = `${prelude}${out[phase]}`;
  }
  return out;
}
