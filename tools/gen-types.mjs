#!/usr/bin/env node
// Generates packages/nx-distro/src/model/{recipe,target}.generated.ts from the JSON Schemas,
// which are the single source of truth. `--check` fails when a generated file is stale
// (run by the test suite), without writing anything.
import { compileFromFile } from 'json-schema-to-typescript';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const modelDir = fileURLToPath(new URL('../packages/nx-distro/src/model/', import.meta.url));
const check = process.argv.includes('--check');
let stale = 0;
for (const name of ['recipe', 'target']) {
  const schemaFile = path.join(modelDir, `${name}.schema.json`);
  const outFile = path.join(modelDir, `${name}.generated.ts`);
  const ts = await compileFromFile(schemaFile, {
    cwd: modelDir,
    bannerComment: `/* Generated from ${name}.schema.json by tools/gen-types.mjs: do not edit. */`,
    additionalProperties: false,
    style: { singleQuote: true },
  });
  const current = await readFile(outFile, 'utf8').catch(() => '');
  if (current === ts) continue;
  if (check) {
    console.error(`${path.relative(process.cwd(), outFile)} is stale: run node tools/gen-types.mjs`);
    stale++;
  } else {
    await writeFile(`${outFile}.tmp`, ts);
    await rename(`${outFile}.tmp`, outFile);
    console.log(`wrote ${path.relative(process.cwd(), outFile)}`);
  }
}
process.exit(stale ? 1 : 0);
