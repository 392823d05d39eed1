#!/usr/bin/env node
// Prints the identity of every external toolchain named by the system targets in the folder
// given as the first argument (default `targets`): one line per target with the compiler's
// `--version` first line and the sha256 of its resolved binary, or `missing`. Nx runs it as a
// runtime input of every build task, so upgrading a cross compiler changes the cache key.
// Bootstrap toolchains print nothing here: their identity is the toolchain recipes' outputs.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CORE_SCHEMA, load } from 'js-yaml';

const dir = process.argv[2] ?? 'targets';

function which(program) {
  for (const d of (process.env.PATH ?? '').split(':')) {
    const p = path.join(d || '.', program);
    try {
      if (statSync(p).isFile()) return p;
    } catch {}
  }
  return undefined;
}

const seen = new Map();
function identity(compiler) {
  if (seen.has(compiler)) return seen.get(compiler);
  const found = which(compiler);
  let id = 'missing';
  if (found) {
    const real = realpathSync(found);
    const version = execFileSync(found, ['--version'], { encoding: 'utf8' }).split('\n')[0];
    id = `${version} sha256:${createHash('sha256').update(readFileSync(real)).digest('hex')}`;
  }
  seen.set(compiler, id);
  return id;
}

let files = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
} catch {} // no targets folder: the plugin reports it
const lines = [];
for (const f of files) {
  let t;
  try {
    t = load(readFileSync(path.join(dir, f), 'utf8'), { schema: CORE_SCHEMA });
  } catch {
    continue; // the plugin reports a broken target file; nothing to identify here
  }
  if (t?.toolchain?.kind === 'external' && typeof t.toolchain.prefix === 'string') {
    lines.push(`${f.slice(0, -5)}: ${t.toolchain.prefix}gcc ${identity(`${t.toolchain.prefix}gcc`)}`);
  }
}
process.stdout.write(lines.join('\n') + '\n');
