import type { LoadedRecipe } from '../model/recipe';
import { InputError } from '../model/errors';
import { describeProblem, readInputFile } from '../model/input-file';

/** The workspace folder of shared step snippets (`snippets/<name>.sh`). */
export const SNIPPETS_DIR = 'snippets';

/** Workspace-relative path of a snippet. */
export function snippetFile(name: string): string {
  return `${SNIPPETS_DIR}/${name}.sh`;
}

/**
 * The texts of the snippets a recipe names (`snippets`), in its order, each read under
 * input-file.ts's rule (a regular file, no link on its way).
 * @param workspaceRoot absolute workspace root
 * @throws {InputError} naming the recipe's `snippets[i]` for a missing or refused file
 */
export function readSnippets(workspaceRoot: string, loaded: LoadedRecipe): string[] {
  return (loaded.recipe.snippets ?? []).map((name, i) =>
    readInputFile(workspaceRoot, snippetFile(name), (p) => new InputError(loaded.file, `snippets[${i}]`, `${snippetFile(name)}: ${describeProblem(snippetFile(name), p)}`, p.what === 'not found' ? `add ${snippetFile(name)}, or remove the name` : 'make it a regular file inside the workspace')).toString('utf8'),
  );
}
