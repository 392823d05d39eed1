import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputErrors } from '../model/errors';
import { loadRecipe } from '../model/recipe';
import { snippetInputs } from '../plugin/targets';
import { resolveSteps } from './index';
import { readSnippets } from './snippets';

const RECIPE = (extra: string) => `name: a\nversion: "1"\nrelease: 1\ndescription: d\nlicense: [MIT]\nhomepage: https://example.org/\nstyle: cmake\n${extra}`;

describe('shared step snippets', () => {
  it('start every step (after the cd into build_wrksrc) with the named snippets, in order, and are inputs of the builds', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'nx-distro-snippets-'));
    try {
      mkdirSync(path.join(root, 'snippets'));
      writeFileSync(path.join(root, 'snippets/no-werror.sh'), "no_werror() { sed -i 's/-Werror//' CMakeLists.txt; }\n");
      writeFileSync(path.join(root, 'snippets/quiet.sh'), 'export VERBOSE=0');
      const loaded = loadRecipe(root, 'recipes/a/recipe.yaml', RECIPE('build_wrksrc: src\nsnippets: [no-werror, quiet]\nsteps:\n  prepare: no_werror\n'));
      const steps = resolveSteps(loaded.recipe, undefined, readSnippets(root, loaded));
      assert.equal(steps.prepare, "cd src\nno_werror() { sed -i 's/-Werror//' CMakeLists.txt; }\nexport VERBOSE=0\nno_werror");
      assert.ok(steps.install!.startsWith("cd src\nno_werror() {"), 'every phase');
      assert.deepEqual(snippetInputs(loaded), ['{workspaceRoot}/snippets/no-werror.sh', '{workspaceRoot}/snippets/quiet.sh']);

      const errors = (text: string) => {
        try {
          loadRecipe(root, 'recipes/a/recipe.yaml', text);
          return [];
        } catch (e) {
          assert.ok(e instanceof InputErrors);
          return e.errors.map((x) => x.message);
        }
      };
      assert.deepEqual(errors(RECIPE('snippets: [missing]\n')), ['recipes/a/recipe.yaml: snippets[0]: snippets/missing.sh not found; add snippets/missing.sh at the workspace root, or remove the name']);
      symlinkSync('quiet.sh', path.join(root, 'snippets/link.sh'));
      assert.match(errors(RECIPE('snippets: [link]\n'))[0]!, /^recipes\/a\/recipe\.yaml: snippets\[0\]: snippets\/link\.sh.*symbolic link/);
      assert.equal(errors(RECIPE('snippets: ["../x"]\n')).length, 1, 'a name is no path');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
