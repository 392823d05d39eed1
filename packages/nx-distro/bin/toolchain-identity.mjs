#!/usr/bin/env node
// Prints the identity of every external toolchain named by the system targets in the folder
// given as the first argument (default `targets`), or only of the system target named by the
// second argument: one line per target with the compiler's
// `--version` first line and the sha256 of its resolved binary and of the C runtime it links
// against (libc.so.6, libstdc++.so.6 and libgcc_s.so.1 as `-print-file-name` finds them: a
// Debian update of the cross C library changes them, not the compiler) and of the kernel headers'
// linux/version.h, or `missing`. Nx runs it as a
// runtime input of the system-target tasks, whose output (system-target.json, read by every build)
// holds its target's line, so upgrading a cross compiler changes the cache keys of that target's
// builds only.
// A bootstrap toolchain's identity is its recipes' packages (system:toolchain); here it prints the
// build machine's own compiler, which compiles those recipes (`build machine gcc ...`).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CORE_SCHEMA, load } from 'js-yaml';

const dir = process.argv[2] ?? 'targets';
const only = process.argv[3];

function which(program) {
  for (const d of (process.env.PATH ?? '').split(':')) {
    const p = path.join(d || '.', program);
    try {
      if (statSync(p).isFile()) return p;
    } catch {}
  }
  return undefined;
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

const seen = new Map();
function identity(compiler) {
  if (seen.has(compiler)) return seen.get(compiler);
  const found = which(compiler);
  let id = 'missing';
  if (found) {
    const real = realpathSync(found);
    const version = execFileSync(found, ['--version'], { encoding: 'utf8' }).split('\n')[0];
    const sums = [`${path.basename(real)}:${sha256(real)}`];
    for (const lib of ['libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1']) {
      const file = execFileSync(found, [`-print-file-name=${lib}`], { encoding: 'utf8' }).trim();
      // gcc prints the bare name when it finds nothing
      sums.push(`${lib}:${path.isAbsolute(file) ? sha256(realpathSync(file)) : 'none'}`);
    }
    // The kernel headers (toolchain-runtime-dev carries them): linux/version.h names their
    // version, and Debian updates them apart from the C library.
    let versionH = 'none';
    try {
      const deps = execFileSync(found, ['-E', '-M', '-x', 'c', '-'], { input: '#include <linux/version.h>\n', encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
      const file = deps.replace(/\\\n/g, ' ').split(/\s+/).find((d) => d.endsWith('/linux/version.h'));
      if (file) versionH = sha256(realpathSync(file));
    } catch {} // no kernel headers: none
    sums.push(`linux/version.h:${versionH}`);
    id = `${version} ${sums.join(' ')}`;
  }
  seen.set(compiler, id);
  return id;
}

let files = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && (only === undefined || f === `${only}.yaml`)).sort();
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
  } else if (t?.toolchain?.kind === 'bootstrap') {
    lines.push(`${f.slice(0, -5)}: build machine gcc ${identity('gcc')}`);
  }
}
process.stdout.write(lines.join('\n') + '\n');
