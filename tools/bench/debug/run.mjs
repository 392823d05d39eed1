#!/usr/bin/env node
// What debug packages cost (docs/debug-packages.md): the same system built cold twice, in two
// workspaces made alike (tools/bench/build/common.mjs, the same distfiles store), once as the repo
// has it (every recipe compiled with -g, stripped, a <name>-debug package beside each) and once with
// `debug: false` added to the system target's file. Prints, for each: the cold wall time of
// `nx run-many -t build -c <target>`, the sum of the builds' step times (the `==> <phase> done`
// lines of every build.log: the compiler's share of -g; what the wall time adds beyond it is
// packaging, the debug split among it, and Nx), and the bytes of the packages: the shipped ones (without -debug) and the -debug ones; then the
// ratios, debug against no debug, measured in the same run. Never asserts on time.
//
//   node tools/bench/debug/run.mjs [--target=aarch64] [--projects=zlib,xz,make] [--store=tmp/bench-distfiles]
//       [--dir=tmp/bench-debug] [--order=off-first|on-first]
//
// Without --projects the whole system (every recipe) is built each time: about as long as the
// README's first command, twice. KEEP=1 keeps the work folder.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { arg, check, hostLine, nx, root, sec, workspace } from '../build/common.mjs';

const target = arg('target', 'aarch64');
const projects = arg('projects', '');
const store = path.resolve(root, arg('store', 'tmp/bench-distfiles'));
const work = path.resolve(root, arg('dir', 'tmp/bench-debug'));
const order = arg('order', 'off-first');
if (order !== 'off-first' && order !== 'on-first') throw new Error(`--order must be off-first or on-first, not ${order}`);

/** Every `.pkg.tar.zst` under dist/<target>/packages: bytes of the shipped ones and of the -debug ones. */
function packageBytes(dir) {
  let shipped = 0;
  let debug = 0;
  let debugCount = 0;
  const base = path.join(dir, 'dist', target, 'packages');
  for (const name of readdirSync(base)) {
    for (const f of readdirSync(path.join(base, name))) {
      if (!f.endsWith('.pkg.tar.zst') || f.startsWith('.')) continue;
      const size = statSync(path.join(base, name, f)).size;
      // <pkgname>-<pkgver>-<pkgrel>-<arch>.pkg.tar.zst: the pkgname is what precedes the last three fields.
      const pkgname = f.replace(/\.pkg\.tar\.zst$/, '').split('-').slice(0, -3).join('-');
      if (pkgname === `${name}-debug`) {
        debug += size;
        debugCount++;
      } else shipped += size;
    }
  }
  return { shipped, debug, debugCount };
}

/** The summed step times of every build.log under dist/<target>/packages (run-report/build-log.ts's end lines), in ms, and how many logs there were. */
function stepTimes(dir) {
  let steps = 0;
  let builds = 0;
  const base = path.join(dir, 'dist', target, 'packages');
  for (const name of readdirSync(base)) {
    let log;
    try {
      log = readFileSync(path.join(base, name, 'build.log'), 'utf8');
    } catch {
      continue;
    }
    builds++;
    for (const m of log.matchAll(/^==> \S+ done: [^\n[]*\[start_ms=(\d+) end_ms=(\d+) exit=0\]$/gm)) steps += Number(m[2]) - Number(m[1]);
  }
  return { steps, builds };
}

async function buildOnce(kind) {
  const ws = workspace(path.join(work, kind), { store });
  if (kind === 'off') {
    const file = path.join(ws.dir, 'targets', `${target}.yaml`);
    writeFileSync(file, `${readFileSync(file, 'utf8').trimEnd()}\ndebug: false\n`);
  }
  const args = projects ? ['run-many', '-t', 'build', '-p', ...projects.split(','), '-c', target, '--parallel=2'] : ['run-many', '-t', 'build', '-c', target, '--parallel=2'];
  const s = performance.now();
  check(await nx(ws, [...args, '--output-style=static']), `the cold build (${kind})`);
  const ms = performance.now() - s;
  return { kind, ms, ...packageBytes(ws.dir), ...stepTimes(ws.dir) };
}

console.log(hostLine());
console.log(`target ${target}, ${projects ? `projects ${projects}` : 'every recipe'}; each build cold (its own empty Nx cache), distfiles from ${path.relative(root, store)}`);
const results = {};
for (const kind of order === 'off-first' ? ['off', 'on'] : ['on', 'off']) {
  const r = await buildOnce(kind);
  results[kind] = r;
  console.log(`debug ${kind}: wall ${sec(r.ms)} s; ${r.builds} build log(s), their steps ${sec(r.steps)} s; packages ${r.shipped} bytes shipped${r.debugCount ? `, ${r.debug} bytes in ${r.debugCount} -debug package(s)` : ''}`);
}
const on = results.on;
const off = results.off;
console.log(`debug on / off: wall ${(on.ms / off.ms).toFixed(2)}x, steps ${(on.steps / off.steps).toFixed(2)}x, shipped packages ${(on.shipped / off.shipped).toFixed(2)}x (${off.shipped - on.shipped} bytes less), the -debug packages add ${on.debug} bytes (${(on.debug / on.shipped).toFixed(2)}x the shipped packages' bytes)`);
if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
