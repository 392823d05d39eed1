// The import direction of packages/nx-distro/src (.dependency-cruiser.cjs): the plugin's own
// modules keep it, and each rule of it refuses a module that breaks it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { REPO_ROOT } from './helpers/workspace';

const CONFIG = path.join(REPO_ROOT, '.dependency-cruiser.cjs');
/** What the plugin loads at run time (type-only imports left out). */
const RUNTIME_CONFIG = path.join(REPO_ROOT, '.dependency-cruiser.runtime.cjs');
const DEPCRUISE = path.join(REPO_ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** dependency-cruiser's violations of the rules of `config` over `dir`, run with `cwd` as the root its paths are relative to. */
async function violations(cwd: string, dir: string, config = CONFIG): Promise<Violation[]> {
  const r = await execa(process.execPath, [DEPCRUISE, dir, '--config', config, '--output-type', 'json'], { cwd, reject: false });
  // Exit status: the number of error-severity violations; the JSON report is on stdout either way.
  assert.ok(r.stdout.startsWith('{'), `dependency-cruiser gave no report (exit ${r.exitCode}): ${r.stderr}`);
  const report = JSON.parse(r.stdout) as { summary: { violations: Violation[] } };
  return report.summary.violations;
}

describe('import direction (.dependency-cruiser.cjs, .dependency-cruiser.runtime.cjs)', () => {
  it('holds for every module of the plugin', async () => {
    const found = [...(await violations(REPO_ROOT, 'packages/nx-distro/src')), ...(await violations(REPO_ROOT, 'packages/nx-distro/src', RUNTIME_CONFIG))];
    assert.deepEqual(found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`), []);
  });

  describe('refuses', () => {
    let ws: string;
    let found: Violation[];
    const write = (rel: string, text: string) => {
      const file = path.join(ws, 'packages/nx-distro/src', rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    };
    before(async () => {
      ws = mkdtempSync(path.join(tmpdir(), 'nx-distro-layers-'));
      writeFileSync(path.join(ws, 'tsconfig.base.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', moduleResolution: 'node', strict: true } }));
      // Allowed: a lower layer, the same folder, a test reaching up, an executor's own preamble.
      write('util/hash.ts', 'export const h = 1;\n');
      write('model/recipe.ts', "import { h } from '../util/hash';\nexport const r = h;\n");
      write('model/recipe.test.ts', "import { p } from '../plugin/plugin';\nexport const t = p;\n");
      write('executors/context.ts', 'export const c = 1;\n');
      write('executors/cross/executor.ts', "import { c } from '../context';\nimport { r } from '../../model/recipe';\nexport default c + r;\n");
      // Refused, one of each rule:
      write('model/graph.ts', "import { p } from '../plugin/plugin';\nexport const g = p;\n"); // layer-model
      write('sources/fetch.ts', "import { b } from '../pipeline/build-recipe';\nexport const f = b;\n"); // layer-services
      write('pipeline/build-recipe.ts', "import { j } from '../cluster/build-job';\nexport const b = j;\n"); // layer-pipeline
      write('cluster/build-job.ts', 'export const j = 1;\n');
      write('util/a.ts', "import { b } from './b';\nexport const a = 1;\nexport const x = b;\n"); // no-circular
      write('util/b.ts', "import { a } from './a';\nexport const b = a;\n");
      write('pipeline/rescue.ts', "import { s } from './shell-cli';\nexport const q = s;\n"); // entries-not-imported
      write('pipeline/shell-cli.ts', 'export const s = 1;\n');
      write('executors/image/executor.ts', "import x from '../cross/executor';\nexport default x;\n"); // executors-apart
      write('generators/recipe/generator.ts', "import { p } from '../../plugin/plugin';\nexport const gen = p;\n"); // plugin-and-generators-apart
      write('testing/host.ts', 'export const th = 1;\n');
      write('image/rootfs.ts', "import { th } from '../testing/host';\nexport const rf = th;\n"); // test-helpers-only-in-tests
      write('pipeline/run-step.ts', "import { spawn } from 'node:child_process';\nexport const run = spawn;\n"); // subprocesses-through-execa
      write('sandbox/bwrap.ts', "import { spawn } from 'node:child_process';\nexport const sb = spawn;\n"); // allowed: an exception
      // plugin-without-execa: the plugin reaches execa through a model module (the repository's node_modules)
      symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(ws, 'node_modules'));
      write('model/yaml-file.ts', "import { execa } from 'execa';\nexport const y = execa;\n");
      write('plugin/plugin.ts', "import { r } from '../model/recipe';\nimport { y } from '../model/yaml-file';\nexport const p = [r, y];\n");
      found = [...(await violations(ws, 'packages/nx-distro/src')), ...(await violations(ws, 'packages/nx-distro/src', RUNTIME_CONFIG))];
    });
    after(() => rmSync(ws, { recursive: true, force: true }));

    const refused = (rule: string, from: string, to: string) => {
      const src = 'packages/nx-distro/src/';
      assert.ok(
        found.some((v) => v.rule.name === rule && v.from === src + from && v.to === src + to),
        `${rule}: ${from} -> ${to} not among: ${found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).join('; ')}`,
      );
    };
    it('a model module importing the plugin', () => refused('layer-model', 'model/graph.ts', 'plugin/plugin.ts'));
    it('a service importing the pipeline', () => refused('layer-services', 'sources/fetch.ts', 'pipeline/build-recipe.ts'));
    it('the pipeline importing the cluster', () => refused('layer-pipeline', 'pipeline/build-recipe.ts', 'cluster/build-job.ts'));
    it('a circular import', () => refused('no-circular', 'util/a.ts', 'util/b.ts'));
    it('a module importing a command', () => refused('entries-not-imported', 'pipeline/rescue.ts', 'pipeline/shell-cli.ts'));
    it('an executor importing another executor', () => refused('executors-apart', 'executors/image/executor.ts', 'executors/cross/executor.ts'));
    it('a generator importing the plugin', () => refused('plugin-and-generators-apart', 'generators/recipe/generator.ts', 'plugin/plugin.ts'));
    it('a module importing a test helper', () => refused('test-helpers-only-in-tests', 'image/rootfs.ts', 'testing/host.ts'));
    it('a module starting a subprocess with node:child_process', () => {
      assert.ok(found.some((v) => v.rule.name === 'subprocesses-through-execa' && v.from === 'packages/nx-distro/src/pipeline/run-step.ts' && v.to === 'child_process'), found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).join('; '));
    });
    it('the plugin reaching execa', () => {
      assert.ok(found.some((v) => v.rule.name === 'plugin-without-execa' && v.from === 'packages/nx-distro/src/plugin/plugin.ts' && /node_modules\/execa\//.test(v.to)), found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).join('; '));
    });
    it('nothing that keeps the direction', () => {
      const allowed = ['model/recipe.ts', 'model/recipe.test.ts', 'executors/cross/executor.ts', 'plugin/plugin.ts', 'sandbox/bwrap.ts'];
      assert.deepEqual(found.filter((v) => v.rule.name !== 'plugin-without-execa' && allowed.some((a) => v.from.endsWith(a))).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`), []);
    });
  });
});
