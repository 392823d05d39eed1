import { logger, type Tree } from '@nx/devkit';
import { stringify } from 'yaml';
import { InputErrors } from '../../model/errors';
import { RECIPE_FILE, loadRecipe, type Recipe } from '../../model/recipe';
import type { RecipeGeneratorOptions } from './schema';

const ARCHIVE_SUFFIX = /\.(tar\.(gz|bz2|xz|zst|lz)|tgz|tbz2|txz|zip)$/;

/**
 * Guesses the upstream version from an archive URL: `.../zlib-1.3.1.tar.xz` -> `1.3.1`,
 * `.../v2.5.tar.gz` -> `2.5`.
 * @returns the version, or `undefined` when the file name has none
 */
export function guessVersion(name: string, url: string): string | undefined {
  const file = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '').replace(ARCHIVE_SUFFIX, '');
  const m = new RegExp(`^(?:${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[-_]|v)?([0-9][A-Za-z0-9._+~]*)$`).exec(file);
  return m?.[1];
}

/** The recipe document the generator writes (without defaults that equal the schema's). */
export function scaffoldRecipe(o: RecipeGeneratorOptions): Recipe {
  const version = o.version ?? guessVersion(o.name, o.url);
  if (!version) throw new Error(`cannot guess the version from ${o.url}: pass --version`);
  return {
    name: o.name,
    version,
    release: 1,
    description: o.description ?? `${o.name} (describe me)`,
    license: (o.license ?? 'LicenseRef-Unknown').split(',').map((l) => l.trim()).filter(Boolean) as [string, ...string[]],
    homepage: o.homepage ?? `${new URL(o.url).origin}/`,
    sources: [{ url: o.url, sha256: o.sha256.toLowerCase(), ...(o.apt ? { apt: o.apt } : {}) }],
    style: o.style ?? 'gnu-configure',
  };
}

/**
 * `nx g nx-distro:recipe NAME --url URL --sha256 SUM`: writes `recipes/[<category>/]NAME/recipe.yaml`,
 * checked against the recipe schema before anything is written.
 * @throws Error (one line) when the recipe exists or the options make an invalid recipe
 */
export default async function recipeGenerator(tree: Tree, options: RecipeGeneratorOptions): Promise<void> {
  const dir = ['recipes', options.category, options.name].filter(Boolean).join('/');
  const file = `${dir}/${RECIPE_FILE}`;
  if (tree.exists(file)) throw new Error(`${file} already exists: edit it, or bump its version`);
  const text = `# Scaffolded by nx g nx-distro:recipe; fields: docs/recipe-format.md\n${stringify(scaffoldRecipe(options), { lineWidth: 0 })}`;
  try {
    loadRecipe(tree.root, file, text);
  } catch (e) {
    if (e instanceof InputErrors) throw new Error(`the options give an invalid recipe:\n${e.message}`);
    throw e;
  }
  tree.write(file, text);
  logger.info(`wrote ${file}; next: describe it, set its license and steps, then nx run ${options.name}:fetch`);
}
