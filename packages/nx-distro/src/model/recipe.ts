import path from 'node:path';
import parseSpdx from 'spdx-expression-parse';
import { InputError, InputErrors, quote } from './errors';
import { splitPackageProblems, splitPackageSpecs } from './split-packages';
import { describeProblem, INPUT_FILE_FIX, inputFileProblem, readInputFile } from './input-file';
import { distfileName } from './distfile';
import { MAX_PACKAGE_FILE_NAME_BYTES, packageFileName } from './package-layout';
import recipeSchema from './recipe.schema.json';
import targetSchema from './target.schema.json';
import { validateRecipeData } from './validate';
import { parseYamlFile } from './yaml-file';
import type { Recipe, Stage } from './recipe.generated';

export type { Recipe, Stage } from './recipe.generated';

/** What a distfile's name must match: the schema's `filename` pattern, for names taken from a URL too. */
const DISTFILE_NAME = new RegExp(recipeSchema.definitions.source.properties.filename.pattern, 'u');

/** The longest arch a system target may name (target.schema.json), reserved in a recipe's package file name. */
const MAX_ARCH = targetSchema.properties.arch.maxLength;

/** File name of a recipe inside its folder. */
export const RECIPE_FILE = 'recipe.yaml';

/** A recipe read from disk and validated on its own (cross-recipe checks are in graph.ts). */
export interface LoadedRecipe {
  /** Workspace-relative path of recipe.yaml, forward slashes (`recipes/zlib/recipe.yaml`). */
  readonly file: string;
  /** Workspace-relative recipe folder, the Nx project root (`recipes/zlib`). */
  readonly root: string;
  /** The validated recipe; fields keep the document's values, defaults are applied by readers. */
  readonly recipe: Recipe;
}

/** The dependency lists a build uses: the recipe's own, or a stage's with the recipe's as default. */
export interface BuildSpec {
  readonly depends: readonly string[];
  readonly makedepends: readonly string[];
  readonly makedepends_build: readonly string[];
}

/**
 * Dependency lists of a recipe's final build (`stage` undefined) or of one of its stages.
 * A field a stage leaves out is inherited from the recipe.
 */
export function buildSpec(recipe: Recipe, stage: string | undefined): BuildSpec {
  const s: Stage = (stage && recipe.stages?.[stage]) || {};
  return {
    depends: s.depends ?? recipe.depends ?? [],
    makedepends: s.makedepends ?? recipe.makedepends ?? [],
    makedepends_build: s.makedepends_build ?? recipe.makedepends_build ?? [],
  };
}

/** The dependency lists an `arch_overrides` entry may add to. */
const DEPENDENCY_FIELDS = ['depends', 'makedepends', 'makedepends_build'] as const;

/** `base` followed by the entries of `more` it does not already hold. */
function appendNew(base: readonly string[] | undefined, more: readonly string[]): string[] {
  const out = [...(base ?? [])];
  for (const e of more) if (!out.includes(e)) out.push(e);
  return out;
}

/**
 * The recipe as a build for a system target of `arch` sees it: its `arch_overrides[arch]` applied
 * (`env` and `steps` merged key by key, the arch's word winning; `configure_args`, `make_args`,
 * `cmake_args`, `meson_args` appended; `autoreconf` replaced; `depends`, `makedepends` and
 * `makedepends_build` extended with the arch's entries not already listed, as makepkg's
 * `depends_<arch>` arrays extend `depends`), `arch_overrides` itself removed. Stages that set
 * no list of their own inherit the extended one ({@link buildSpec}).
 * The input is not changed; without an override for `arch` the same fields come back.
 * @param recipe a validated recipe
 * @param arch the system target's pacman arch name (`riscv64`)
 */
export function recipeForArch(recipe: Recipe, arch: string): Recipe {
  const { arch_overrides: overrides, ...rest } = recipe;
  const o = overrides && Object.hasOwn(overrides, arch) ? overrides[arch] : undefined;
  if (!o) return rest;
  const out: Recipe = { ...rest };
  if (o.env) out.env = { ...(rest.env ?? {}), ...o.env };
  if (o.steps) out.steps = { ...(rest.steps ?? {}), ...o.steps };
  for (const field of ['configure_args', 'make_args', 'cmake_args', 'meson_args'] as const) {
    if (o[field]) out[field] = [...(rest[field] ?? []), ...o[field]!];
  }
  if (o.autoreconf !== undefined) out.autoreconf = o.autoreconf;
  for (const field of DEPENDENCY_FIELDS) if (o[field]) out[field] = appendNew(rest[field], o[field]!);
  return out;
}

/**
 * The recipe's dependency lists as the one Nx graph every arch shares needs them: each of
 * `depends`, `makedepends` and `makedepends_build` extended with the entries every
 * `arch_overrides` entry adds (in the overrides' key order), every other field unchanged
 * (`arch_overrides` kept). Nx's task dependencies are per project, not per configuration
 * (`dependsOn` has no configuration form), so a build for any arch is ordered after what any
 * arch's build needs; {@link recipeForArch} says what one arch's build stages.
 * @param recipe a validated recipe
 */
export function recipeForAnyArch(recipe: Recipe): Recipe {
  const overrides = Object.values(recipe.arch_overrides ?? {});
  if (!overrides.some((o) => DEPENDENCY_FIELDS.some((f) => o[f]))) return recipe;
  const out: Recipe = { ...recipe };
  for (const field of DEPENDENCY_FIELDS) {
    for (const o of overrides) if (o[field]) out[field] = appendNew(out[field], o[field]!);
  }
  return out;
}

function checkLicense(file: string, index: number, expr: string): InputError | undefined {
  try {
    parseSpdx(expr);
    return undefined;
  } catch {
    return new InputError(
      file,
      `license[${index}]`,
      `${quote(expr)} is not an SPDX license identifier or expression`,
      'use an id from https://spdx.org/licenses/ (e.g. GPL-2.0-or-later) or LicenseRef-<name>',
    );
  }
}

/**
 * Parses and validates one recipe file on its own: YAML syntax, recipe.schema.json, `name`
 * equal to the folder name, a package file name short enough for any system target's arch,
 * SPDX licenses, patch files present in the recipe folder as regular files (input-file.ts's
 * rule: no link, folder or special file).
 * @param workspaceRoot absolute workspace root (used to check patch files)
 * @param file workspace-relative path of recipe.yaml
 * @param text the file's contents
 * @throws {InputErrors} with every problem found in this file
 */
export function loadRecipe(workspaceRoot: string, file: string, text: string): LoadedRecipe {
  const data = asInputErrors(() => parseYamlFile(file, text));
  const errors = validateRecipeData(file, data);
  if (errors.length) throw new InputErrors(errors);
  const recipe = data as Recipe;
  const root = path.posix.dirname(file);
  const folder = path.posix.basename(root);
  if (recipe.name !== folder) {
    errors.push(
      new InputError(file, 'name', `${quote(recipe.name)} differs from the folder name ${quote(folder)}`, `rename one to match`),
    );
  }
  // The longest package name of the recipe: its own or a split package's (`<name>-dev`).
  const pkgname = [recipe.name, ...splitPackageSpecs(recipe).map((s) => s.name)].reduce((a, b) => (b.length > a.length ? b : a));
  const longest = Buffer.byteLength(packageFileName({ pkgname, pkgver: recipe.version, pkgrel: recipe.release, arch: 'a'.repeat(MAX_ARCH) }));
  if (longest > MAX_PACKAGE_FILE_NAME_BYTES) {
    errors.push(
      new InputError(file, 'version', `the package file name <name>-<version>-<release>-<arch>.pkg.tar.zst would be up to ${longest} bytes (arch names up to ${MAX_ARCH} characters); at most ${MAX_PACKAGE_FILE_NAME_BYTES} fit (255 with the temporary name it is written under)`, 'shorten the version (or the name)'),
    );
  }
  recipe.license.forEach((l, i) => {
    const err = checkLicense(file, i, l);
    if (err) errors.push(err);
  });
  (recipe.patches ?? []).forEach((p, i) => {
    if (p.file.split('/').includes('..')) {
      errors.push(new InputError(file, `patches[${i}].file`, `${quote(p.file)} leaves ${root}/`, 'keep the patch file in the recipe folder and give its path without `..`'));
    } else {
      const problem = inputFileProblem(workspaceRoot, `${root}/${p.file}`);
      if (problem?.what === 'not found') errors.push(new InputError(file, `patches[${i}].file`, `${quote(p.file)} not found in ${root}/`, 'add the patch file beside recipe.yaml'));
      else if (problem) errors.push(new InputError(file, `patches[${i}].file`, `${quote(p.file)}: ${describeProblem(`${root}/${p.file}`, problem)}`, INPUT_FILE_FIX));
    }
  });
  (recipe.patches ?? []).forEach((p, i) => {
    if (!isHttpUrl(p.upstream)) {
      errors.push(new InputError(file, `patches[${i}].upstream`, `${quote(p.upstream)} is not a valid http(s) URL`, 'link the bug report or commit that carries the change'));
    }
  });
  (recipe.snippets ?? []).forEach((n, i) => {
    const snippet = `snippets/${n}.sh`;
    const problem = inputFileProblem(workspaceRoot, snippet);
    if (problem?.what === 'not found') errors.push(new InputError(file, `snippets[${i}]`, `${snippet} not found`, `add ${snippet} at the workspace root, or remove the name`));
    else if (problem) errors.push(new InputError(file, `snippets[${i}]`, `${snippet}: ${describeProblem(snippet, problem)}`, INPUT_FILE_FIX));
  });
  const names = new Map<string, number>();
  (recipe.sources ?? []).forEach((s, i) => {
    // A name taken from the URL passes the schema's rule for `filename` too (`..%2F..%2Fx`
    // decodes to `../../x`, which would be written outside the distfiles store).
    const name = distfileName(s);
    if (!DISTFILE_NAME.test(name)) {
      errors.push(new InputError(file, `sources[${i}]`, name ? `the URL's last segment ${quote(name)} is not a file name` : 'the URL does not end with a file name', 'add `filename:`'));
    } else if (names.has(name)) {
      errors.push(new InputError(file, `sources[${i}]`, `distfile name ${quote(name)} is also used by sources[${names.get(name)}]`, 'give one of them another `filename:`'));
    } else names.set(name, i);
    const into = typeof s.extract === 'object' ? s.extract.into : undefined;
    if (into !== undefined && into.split('/').some((c) => c === '..')) {
      errors.push(new InputError(file, `sources[${i}].extract.into`, `${quote(into)} leaves srcdir`, 'use a folder inside srcdir, without `..`'));
    }
  });
  errors.push(...splitPackageProblems(file, recipe));
  if (errors.length) throw new InputErrors(errors);
  return { file, root, recipe };
}

/**
 * Reads and validates one recipe file: the file is read under input-file.ts's rule (a regular
 * file, no link on its way from the workspace root), then {@link loadRecipe}. What every reader
 * of a recipe on disk calls (the plugin, the executors, the build's dependency walk).
 * @param workspaceRoot absolute workspace root
 * @param file workspace-relative path of recipe.yaml
 * @throws {InputErrors} with every problem found in this file, the refused file included
 */
export function readRecipe(workspaceRoot: string, file: string): LoadedRecipe {
  const bytes = asInputErrors(() => readInputFile(workspaceRoot, file));
  return loadRecipe(workspaceRoot, file, bytes.toString('utf8'));
}

/** `read()`, an {@link InputError} it throws turned into {@link InputErrors} (what the loaders throw). */
function asInputErrors<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof InputError) throw new InputErrors([e]);
    throw e;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
