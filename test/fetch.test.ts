/**
 * End to end: `nx run-many -t fetch` on the repository's real recipes in a fresh workspace with
 * an empty distfiles store. The real providers run: upstream URLs are tried (and fail here: only
 * Debian's archive is reachable), then Debian's source packages through apt.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { readRecipe } from '../packages/nx-distro/src/model/recipe';
import { prepareSources } from '../packages/nx-distro/src/sources/prepare';
import { fullOnly } from './helpers/tier';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

interface RecipeSources { name: string; sources?: { sha256: string; url?: string; urls?: string[]; filename?: string }[] }

const recipes: RecipeSources[] = readdirSync(path.join(REPO_ROOT, 'recipes'))
  .map((d) => load(readFileSync(path.join(REPO_ROOT, 'recipes', d, 'recipe.yaml'), 'utf8')) as RecipeSources)
  .sort((a, b) => a.name.localeCompare(b.name));
const fileName = (s: NonNullable<RecipeSources['sources']>[number]) => s.filename ?? decodeURIComponent(new URL(s.url ?? s.urls![0]).pathname.split('/').pop()!);

describe('fetch on the real recipes', () => {
  let ws: TestWorkspace;
  before(() => {
    ws = createWorkspace();
    cpSync(path.join(REPO_ROOT, 'recipes'), path.join(ws.root, 'recipes'), { recursive: true });
  });
  after(() => ws.dispose());

  it('gets every source into an empty store and publishes it verified, then a second run is all cache hits', async () => {
    assert.ok(recipes.length >= 12, `expected the real recipe set, found ${recipes.length}`);
    const first = await ws.nx('run-many', '-t', 'fetch', '--parallel=3');
    assert.equal(first.exitCode, 0, first.all);
    for (const r of recipes) {
      const out = path.join(ws.root, 'dist', 'sources', r.name);
      const sums = readFileSync(path.join(out, 'SHA256SUMS'), 'utf8');
      const expected = (r.sources ?? []).map((s) => `${s.sha256}  ${fileName(s)}\n`).sort().join('');
      assert.equal(sums, expected, `${r.name}: SHA256SUMS`);
      // An independent check with coreutils, on the published files.
      if (r.sources?.length) await execa('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: out });
      for (const s of r.sources ?? []) assert.ok(existsSync(path.join(ws.root, '.distfiles', 'by-sha256', s.sha256, fileName(s))), `${r.name}: stored`);
    }
    assert.deepEqual(readdirSync(path.join(ws.root, '.distfiles', 'tmp')), [], 'no partial download left');

    const second = await ws.nx('run-many', '-t', 'fetch');
    assert.equal(second.exitCode, 0, second.all);
    assert.match(second.all, new RegExp(`Nx read the output from the cache instead of running the command for ${recipes.length} out of ${recipes.length} tasks`));
  });

  // The quick tier unpacks and patches every recipe's sources in its builds (test/build.test.ts
  // for x86_64 and aarch64, test/kernel.test.ts for the Linux tree): this pass over all of them at
  // once, recipes no quick-tier target builds included, is the full tier's (about 2 min here).
  it("unpacks and patches every real recipe's sources (the Linux tree included)", fullOnly(), async () => {
    for (const r of recipes) {
      const file = `recipes/${r.name}/recipe.yaml`;
      const loaded = readRecipe(ws.root, file);
      const srcdir = path.join(ws.root, 'tmp', 'prepare-all', r.name);
      const prepared = await prepareSources(ws.root, loaded, path.join(ws.root, 'dist', 'sources', r.name), srcdir);
      assert.equal(prepared.distfiles.length, r.sources?.length ?? 0, r.name);
      if (r.sources?.length) assert.ok(readdirSync(srcdir).length > 0, `${r.name}: srcdir is empty`);
      await fs.rm(srcdir, { recursive: true, force: true });
    }
  });

  it('detects a tampered store file, replaces it and republishes the right bytes', async () => {
    const musl = recipes.find((r) => r.name === 'musl')!.sources![0];
    const stored = path.join(ws.root, '.distfiles', 'by-sha256', musl.sha256, fileName(musl));
    await fs.chmod(stored, 0o644);
    await fs.writeFile(stored, 'not musl');
    const run = await ws.nx('run', 'musl:fetch', '--skip-nx-cache');
    assert.equal(run.exitCode, 0, run.all);
    assert.match(run.all, new RegExp(`stored copy .*${fileName(musl)} is corrupt \\(sha256 [0-9a-f]{64}, expected ${musl.sha256}\\); removed, fetching again`));
    assert.match(run.all, /fetched \d+ bytes from apt musl=/);
    await execa('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: path.join(ws.root, 'dist', 'sources', 'musl') });
  });

  it('refuses bytes whose sum differs from the recipe, names recipe, file and the expected sum (a local file\'s own sum is not shown), and stores nothing', async () => {
    const musl = recipes.find((r) => r.name === 'musl')!.sources![0];
    const wrong = 'ab'.repeat(32);
    ws.write('recipes/badsum/recipe.yaml', [
      'name: badsum', 'version: "1.0"', 'release: 1', 'description: A recipe whose sum is wrong', 'license: [MIT]', 'homepage: https://example.org/',
      'sources:', `  - url: file://${path.join(ws.root, 'dist', 'sources', 'musl', fileName(musl))}`, `    sha256: ${wrong}`, '',
    ].join('\n'));
    const run = await ws.nx('run', 'badsum:fetch');
    assert.notEqual(run.exitCode, 0);
    assert.match(run.all, new RegExp(`recipes/badsum/recipe\\.yaml: sources\\[0\\]: checksum mismatch for ${fileName(musl).replace(/\./g, '\\.')} from file://\\S+: expected sha256 ${wrong}, got a file with another sum \\(a local file's sum is not shown`));
    assert.ok(!run.all.includes(musl.sha256), 'the sum of a local file is not shown');
    assert.ok(!existsSync(path.join(ws.root, '.distfiles', 'by-sha256', wrong)));
    assert.ok(!existsSync(path.join(ws.root, 'dist', 'sources', 'badsum')));
    ws.remove('recipes/badsum');
  });

  it('prepares srcdir: verified, unpacked, patched in order (lua and its two upstream fixes)', async () => {
    const file = 'recipes/lua/recipe.yaml';
    const srcdir = path.join(ws.root, 'tmp/prepare-lua');
    const prepared = await prepareSources(ws.root, readRecipe(ws.root, file), path.join(ws.root, 'dist/sources/lua'), srcdir);
    assert.deepEqual(prepared.patches, ['recipes/lua/cve-2022-28805.patch', 'recipes/lua/cve-2022-33099.patch']);
    assert.match(readFileSync(path.join(srcdir, 'src/lparser.c'), 'utf8'), /luaK_exp2anyregup\(fs, var\);  \/\* but could be a constant \*\//);
    assert.ok(existsSync(path.join(srcdir, 'src/lua.c')) && existsSync(path.join(srcdir, 'Makefile')), 'lua-5.4.4/ stripped');
    await fs.rm(srcdir, { recursive: true, force: true });
  });

  it('fails a build whose patch does not apply, naming the patch and the failed hunk, and leaves no srcdir', async () => {
    const recipe = ws.read('recipes/lua/recipe.yaml');
    ws.write('recipes/lua/stale.patch', '--- a/src/lua.c\n+++ b/src/lua.c\n@@ -1,3 +1,2 @@\n-no such line one\n-no such line two\n+replacement\n context\n');
    ws.write('recipes/lua/recipe.yaml', recipe.replace('patches:\n', 'patches:\n  - file: stale.patch\n    upstream: https://bugs.example.org/1\n'));
    ws.remove('tmp/build/x86_64/lua');
    try {
      const run = await ws.nx('run', 'lua:build', '--exclude-task-dependencies');
      assert.notEqual(run.exitCode, 0);
      assert.match(run.all, /recipes\/lua\/stale\.patch: does not apply: src\/lua\.c: Hunk #1 FAILED at 1; refresh the patch against this version/);
      assert.match(run.all, /rejected hunk\(s\):\n[\s\S]*-no such line one/);
      assert.ok(!existsSync(path.join(ws.root, 'tmp/build/x86_64/lua/src')), 'no half-prepared srcdir');
    } finally {
      ws.write('recipes/lua/recipe.yaml', recipe);
      ws.remove('recipes/lua/stale.patch');
    }
  });

  it("refuses a recipe's file: URL outside the workspace and localSourceDirs (file:///etc/shadow): one line with the fix, nothing stored", async () => {
    ws.write('recipes/hostfile/recipe.yaml', [
      'name: hostfile', 'version: "1.0"', 'release: 1', 'description: A recipe that reads a host file', 'license: [MIT]', 'homepage: https://example.org/',
      'sources:', '  - url: file:///etc/shadow', `    sha256: ${'ab'.repeat(32)}`, '    filename: shadow.tar', '',
    ].join('\n'));
    try {
      const run = await ws.nx('run', 'hostfile:fetch');
      assert.notEqual(run.exitCode, 0);
      assert.match(run.all, /recipes\/hostfile\/recipe\.yaml: sources\[0\]\.url: "file:\/\/\/etc\/shadow" is outside the workspace and the folders of the plugin option localSourceDirs \(symbolic links resolved\); move the file into the workspace, or add its folder to "localSourceDirs"/);
      assert.doesNotMatch(run.all, /checksum mismatch|got [0-9a-f]{64}/);
      assert.ok(!existsSync(path.join(ws.root, 'dist', 'sources', 'hostfile')));
    } finally {
      ws.remove('recipes/hostfile');
    }
  });

  it('refuses a malicious archive fetched with the right sum: one line, nothing written outside', async () => {
    // The fixture is outside the workspace: its folder is allowed by the plugin option localSourceDirs.
    const evil = path.join(REPO_ROOT, 'test/fixtures/malicious-archives/dotdot-path.tar.bz2');
    const nxJson = ws.read('nx.json');
    const config = JSON.parse(nxJson);
    config.plugins[0].options.localSourceDirs = [path.dirname(evil)];
    ws.write('nx.json', JSON.stringify(config, null, 2));
    const sum = (await execa('sha256sum', [evil])).stdout.split(' ')[0];
    ws.write('recipes/evil/recipe.yaml', [
      'name: evil', 'version: "1.0"', 'release: 1', 'description: A recipe whose tarball escapes', 'license: [MIT]', 'homepage: https://example.org/',
      'sources:', `  - url: file://${evil}`, `    sha256: ${sum}`, '    extract: { strip: 0 }', 'steps:', '  install: "true"', '',
    ].join('\n'));
    try {
      const run = await ws.nx('run', 'evil:build');
      assert.notEqual(run.exitCode, 0);
      assert.match(run.all, /dotdot-path\.tar\.bz2: entry "\.\.\/pwned": [^\n]+/);
      assert.doesNotMatch(run.all, /\n\s+at /, 'no stack trace');
      assert.ok(!existsSync(path.join(ws.root, 'tmp/build/x86_64/evil/pwned')));
      assert.ok(!existsSync(path.join(ws.root, 'tmp/build/x86_64/evil/src')));
    } finally {
      ws.remove('recipes/evil');
      ws.write('nx.json', nxJson);
    }
  });

  it('seeds a mirror from Debian source packages, and a machine with an empty store fetches from it', async () => {
    const mirror = path.join(ws.root, 'mirror');
    const seed = await execa(process.execPath, [path.join(REPO_ROOT, 'tools/seed-mirror.mjs'), mirror, 'lua', 'musl'], { cwd: REPO_ROOT, reject: false, all: true });
    assert.equal(seed.exitCode, 0, seed.all);
    const lua = recipes.find((r) => r.name === 'lua')!.sources![0];
    assert.deepEqual(readdirSync(mirror), ['by-sha256']);
    assert.ok(existsSync(path.join(mirror, 'by-sha256', lua.sha256, fileName(lua))));
    ws.env.NX_DISTRO_DISTFILES = path.join(ws.root, '.distfiles-empty');
    ws.env.NX_DISTRO_MIRRORS = mirror;
    try {
      const run = await ws.nx('run', 'lua:fetch', '--skip-nx-cache');
      assert.equal(run.exitCode, 0, run.all);
      assert.match(run.all, new RegExp(`fetched \\d+ bytes from ${mirror}/by-sha256/${lua.sha256}/${fileName(lua).replace(/\./g, '\\.')}, sha256 verified`));
    } finally {
      ws.env.NX_DISTRO_DISTFILES = path.join(ws.root, '.distfiles');
      ws.env.NX_DISTRO_MIRRORS = undefined;
    }
  });
});

