#!/usr/bin/env node
// Seeds a distfiles mirror folder from Debian source packages: for every recipe source that
// names `apt: NAME=VERSION`, the orig tarball is taken with `apt-get source --download-only`,
// verified against the recipe's sha256 and stored as <mirror>/by-sha256/<sha256>/<filename>
// (the distfiles store's own layout). Serve the folder over http, or point NX_DISTRO_MIRRORS at
// it, to fetch on machines with no access to upstream or Debian.
//
//   node tools/seed-mirror.mjs <mirror-folder> [recipe-name...]
//
// Exit 1 when any file could not be seeded (each failure is one line).
import { createRequire } from 'node:module';
import path from 'node:path';
import { rmdirSync } from 'node:fs';
import fg from 'fast-glob';

const require = createRequire(import.meta.url);
require('@swc-node/register');
const { readRecipe } = require('../packages/nx-distro/src/model/recipe.ts');
const { RECIPE_GLOB } = require('../packages/nx-distro/src/plugin/plugin.ts');
const { DEFAULT_HTTP } = require('../packages/nx-distro/src/sources/providers.ts');
const { distfileRequest, fetchDistfile } = require('../packages/nx-distro/src/sources/fetch.ts');
const { DistfilesStore } = require('../packages/nx-distro/src/sources/store.ts');

const [mirror, ...only] = process.argv.slice(2);
if (!mirror) {
  console.error('usage: node tools/seed-mirror.mjs <mirror-folder> [recipe-name...]');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const store = new DistfilesStore(path.resolve(mirror));
const settings = { mirrors: [], http: DEFAULT_HTTP };
let failed = 0;
let seeded = 0;
for (const file of (await fg(RECIPE_GLOB, { cwd: root })).sort()) {
  let loaded;
  try {
    loaded = readRecipe(root, file);
  } catch (e) {
    console.error(e.message);
    failed++;
    continue;
  }
  const { recipe } = loaded;
  if (only.length && !only.includes(recipe.name)) continue;
  for (const [index, source] of (recipe.sources ?? []).entries()) {
    if (!source.apt) continue;
    try {
      // Only the apt provider: the mirror must hold Debian's bytes, checked against the recipe.
      const got = await fetchDistfile(store, { ...distfileRequest(file, index, source), urls: [] }, settings);
      console.log(`${recipe.name}: ${got.path} (${got.from === 'store' ? 'already there, verified' : `from ${got.from}`})`);
      seeded++;
    } catch (e) {
      console.error(e.message);
      failed++;
    }
  }
}
// The store's working folders are not part of a mirror; left only when another run uses them.
for (const d of ['tmp', 'locks']) try { rmdirSync(path.join(store.root, d)); } catch {}
console.log(`seed-mirror: ${seeded} file(s) in ${store.root}${failed ? `, ${failed} failure(s)` : ''}`);
process.exit(failed ? 1 : 0);
