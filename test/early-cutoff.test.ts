/**
 * Early cutoff on real recipes (aarch64): lua links against readline. A change to readline's
 * code that keeps its ABI rebuilds readline into different bytes, yet lua's build stays in the
 * cache, because a cross build's key reads its dependencies' ABI manifests (`abi.json`), not
 * their packages. A change that adds an exported symbol, or edits an installed header, rebuilds
 * lua too. Reverting the recipe serves both from the cache again.
 *
 * Uses the test run's cache (test/build.test.ts built these earlier in the run; alone, this file
 * builds ncurses, readline and lua first). Needs the host of tools/setup-host.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'aarch64';
const RECIPES = ['ncurses', 'readline', 'lua'];

describe('early cutoff: dependents keyed by their dependencies\' ABI', () => {
  let ws: TestWorkspace;
  let original: string;

  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    for (const r of RECIPES) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    original = ws.read('recipes/readline/recipe.yaml');
    if (process.env.NX_DISTRO_TEST_MIRRORS) ws.env.NX_DISTRO_MIRRORS = process.env.NX_DISTRO_TEST_MIRRORS;
  });
  after(() => ws.dispose());

  /** Builds lua (and what it needs); returns which build tasks ran and which came from the cache. */
  async function buildLua(): Promise<{ ran: string[]; cached: string[] }> {
    const r = await ws.nx('run', `lua:build`, '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    const ran: string[] = [];
    const cached: string[] = [];
    for (const m of r.all.matchAll(/^> nx run (\S+:build:\S+)(.*)$/gm)) (/\[(local|remote) cache\]/.test(m[2]) ? cached : ran).push(m[1].split(':')[0]);
    return { ran: ran.sort(), cached: cached.sort() };
  }
  const file = (recipe: string, suffix: string) => {
    const dir = path.join(ws.root, 'dist', TARGET, 'packages', recipe);
    return readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith(suffix))!));
  };
  /** readline's recipe with one more line in its build step (run before make). */
  const withPrepare = (script: string) =>
    original.replace('  build: |\n', `  prepare: |\n    ${script}\n  build: |\n`);

  it('builds lua on readline and ncurses; each package has its ABI manifest beside it', async () => {
    await buildLua();
    const abi = JSON.parse(file('readline', 'abi.json').toString());
    assert.match(abi.files['usr/lib/libreadline.so.8.2'], /^shlib 0755 soname=libreadline\.so\.8 needed=libncursesw\.so\.6,libc\.so\.6 symbols=[0-9a-f]{64}$/);
    assert.ok(abi.symbols['usr/lib/libreadline.so.8.2'].includes('readline FUNC'));
    assert.match(abi.files['usr/include/readline/readline.h'], /^file 0644 [0-9a-f]{64}$/);
  });

  it('readline rebuilt with other code and the same ABI: lua stays cached', async () => {
    const before = { pkg: file('readline', '.pkg.tar.zst'), abi: file('readline', 'abi.json'), lua: file('lua', '.pkg.tar.zst') };
    // display.c's line buffer grows from 1024 to 2048 bytes: other code, same interface
    ws.write('recipes/readline/recipe.yaml', withPrepare(
      "sed -i 's/^#define DEFAULT_LINE_BUFFER_SIZE\\t1024$/#define DEFAULT_LINE_BUFFER_SIZE\\t2048/' display.c && grep -q 'LINE_BUFFER_SIZE.2048' display.c",
    ));
    const r = await buildLua();
    assert.deepEqual(r.ran, ['readline']);
    assert.deepEqual(r.cached, ['lua', 'ncurses']);
    assert.notDeepEqual(file('readline', '.pkg.tar.zst'), before.pkg, 'readline is really other bytes');
    assert.deepEqual(file('readline', 'abi.json'), before.abi);
    assert.deepEqual(file('lua', '.pkg.tar.zst'), before.lua);
  });

  it('readline exporting one more function: lua is rebuilt', async () => {
    ws.write('recipes/readline/recipe.yaml', withPrepare("printf 'int rl_nx_distro_probe(void) { return 42; }\\n' >> display.c"));
    const r = await buildLua();
    assert.deepEqual(r.ran, ['lua', 'readline']);
    assert.ok(JSON.parse(file('readline', 'abi.json').toString()).symbols['usr/lib/libreadline.so.8.2'].includes('rl_nx_distro_probe FUNC'));
  });

  it('an installed header edited (a macro added): lua is rebuilt', async () => {
    ws.write('recipes/readline/recipe.yaml', withPrepare("printf '#define RL_NX_DISTRO_PROBE 1\\n' >> readline.h"));
    const r = await buildLua();
    assert.deepEqual(r.ran, ['lua', 'readline']);
  });

  it('the recipe reverted: everything from the cache', async () => {
    ws.write('recipes/readline/recipe.yaml', original);
    rmSync(path.join(ws.root, 'dist'), { recursive: true, force: true });
    const r = await buildLua();
    assert.deepEqual(r.ran, []);
    assert.deepEqual(r.cached, RECIPES.slice().sort());
  });
});
