#!/usr/bin/env node
// Benchmark of the warm fetch path: every real recipe's sources taken from the distfiles store
// (lock, re-verify the sha256, publish hard links and SHA256SUMS: exactly what the fetch executor
// does on a store hit) against `sha256sum` over the same files, measured alternately in the same
// run. Prints the medians and their ratio; the bar is at most 1.5x.
//
//   node tools/bench/fetch/run.mjs [--repeat=5] [--store=tmp/bench-distfiles]
//
// The first pass fills the store (cold: upstream URLs, then Debian source packages) and is
// reported for information only.
import { createRequire } from 'node:module';
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import fg from 'fast-glob';

const require = createRequire(import.meta.url);
require('@swc-node/register');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const ts = (m) => require(path.join(root, 'packages/nx-distro/src', m));
const { readRecipe } = ts('model/recipe.ts');
const { RECIPE_GLOB } = ts('plugin/plugin.ts');
const { DEFAULT_HTTP } = ts('sources/providers.ts');
const { distfileRequest, fetchDistfile } = ts('sources/fetch.ts');
const { publishDistfiles } = ts('sources/distfiles-output.ts');
const { DistfilesStore } = ts('sources/store.ts');

const arg = (name, def) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def;
const repeat = Number(arg('repeat', '5'));
const store = new DistfilesStore(path.resolve(root, arg('store', 'tmp/bench-distfiles')));
const outRoot = path.join(root, 'tmp', 'bench-fetch-out');
const settings = { mirrors: [], http: DEFAULT_HTTP };

const recipes = (await fg(RECIPE_GLOB, { cwd: root })).sort().map((f) => readRecipe(root, f));
const requests = recipes.map(({ file, recipe }) => ({
  name: recipe.name,
  sources: (recipe.sources ?? []).map((s, index) => distfileRequest(file, index, s)),
}));

async function fetchAll() {
  const files = [];
  for (const r of requests) {
    const published = [];
    for (const req of r.sources) {
      const got = await fetchDistfile(store, req, settings);
      published.push({ filename: req.filename, sha256: req.sha256, path: got.path });
      files.push(got.path);
    }
    await publishDistfiles(path.join(outRoot, r.name), published);
  }
  return files;
}

let t = performance.now();
const files = await fetchAll();
const cold = (performance.now() - t) / 1000;
const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
console.log(`${requests.length} recipes, ${files.length} distfiles, ${(bytes / 2 ** 20).toFixed(1)} MiB; first pass (fills the store if empty): ${cold.toFixed(2)} s`);

const ours = [];
const base = [];
const ossl = [];
for (let i = 0; i < repeat; i++) {
  t = performance.now();
  await execa('sha256sum', files);
  base.push((performance.now() - t) / 1000);
  // A second reference: OpenSSL's sha256 (uses the CPU's SHA extensions, as Node's crypto does).
  t = performance.now();
  await execa('openssl', ['dgst', '-sha256', ...files]);
  ossl.push((performance.now() - t) / 1000);
  t = performance.now();
  await fetchAll();
  ours.push((performance.now() - t) / 1000);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [m1, m0] = [median(ours), median(base)];
console.log(`sha256sum (baseline):      median ${m0.toFixed(3)} s  (${base.map((x) => x.toFixed(3)).join(' ')})`);
console.log(`openssl dgst -sha256:       median ${median(ossl).toFixed(3)} s  (${ossl.map((x) => x.toFixed(3)).join(' ')})`);
console.log(`nx-distro fetch, warm:     median ${m1.toFixed(3)} s  (${ours.map((x) => x.toFixed(3)).join(' ')})`);
console.log(`ratio fetch/sha256sum:     ${(m1 / m0).toFixed(2)}x  (bar: at most 1.5x)`);
console.log(`ratio fetch/openssl:       ${(m1 / median(ossl)).toFixed(2)}x`);
rmSync(outRoot, { recursive: true, force: true });
