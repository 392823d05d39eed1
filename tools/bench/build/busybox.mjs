#!/usr/bin/env node
// Benchmark of one real cross build through Nx against the same work by hand: busybox built by
// `nx run busybox:build -c aarch64 --skip-nx-cache` (A: Nx, the fetch executor on a distfiles
// store hit, the cross executor: work folder, sysroot, source extraction, each step in a
// bubblewrap sandbox, the pacman package) versus (B) the same tarball unpacked with tar and the
// recipe's own steps (recipes/busybox/recipe.yaml, through the build styles) run with /bin/sh -e
// in a plain folder with exactly the environment the executor gives them (buildEnvironment():
// CC=aarch64-linux-gnu-gcc, the target's CFLAGS/LDFLAGS, the same JOBS), no sandbox, no Nx, no
// package. A and B alternate (A B A B ...); prints every repetition, the medians, the ratio
// against the bar (at most 1.10x) and where Nx's extra time goes. Never asserts on time.
//
//   node tools/bench/build/busybox.mjs [--repeat=3] [--target=aarch64] [--recipe=busybox]
//       [--store=tmp/bench-distfiles] [--dir=tmp/bench-build-busybox] [--layout=repo|tests]
//
// --recipe takes any recipe without makedepends (B has no sysroot to stage). The store is the
// fetch benchmark's by default; a first, untimed `nx run` fills it if needed (and warms the
// workspace data, the page cache and the compiler for both sides). Every timed run starts after `sync`.
// KEEP=1 keeps the work folder.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { arg, check, hostLine, median, nx, root, sec, timed, workspace } from './common.mjs';

const require = createRequire(import.meta.url);
require('@swc-node/register');
const ts = (m) => require(path.join(root, 'packages/nx-distro/src', m));
const { readRecipe } = ts('model/recipe.ts');
const { loadSystemTargets } = ts('model/system-target.ts');
const { buildEnvironment } = ts('pipeline/environment.ts');
const { SANDBOX } = ts('sandbox/layout.ts');
const { sourceDateEpoch } = ts('pipeline/source-date-epoch.ts');
const { PHASES, resolveSteps } = ts('styles/index.ts');
const { distfileName } = ts('model/distfile.ts');
const { extractSettings, prepareSources } = ts('sources/prepare.ts');
const { runSandboxed } = ts('sandbox/bwrap.ts');
const { writePackage } = ts('packages/pacman-package.ts');

const repeat = Number(arg('repeat', '3'));
const target = arg('target', 'aarch64');
const name = arg('recipe', 'busybox');
const store = path.resolve(root, arg('store', 'tmp/bench-distfiles'));
const work = path.resolve(root, arg('dir', 'tmp/bench-build-busybox'));

const layout = arg('layout', 'repo');
const ws = workspace(path.join(work, 'ws'), { store, layout });
const recipeFile = `recipes/${name}/recipe.yaml`;
const loaded = readRecipe(ws.dir, recipeFile);
const { recipe } = loaded;
if ((recipe.makedepends ?? []).length) throw new Error(`${name} has makedepends; the by-hand side stages no sysroot, pick a recipe without`);
const systemTarget = loadSystemTargets(ws.dir, 'targets').find((t) => t.name === target)?.target;
if (!systemTarget) throw new Error(`no targets/${target}.yaml`);
const steps = resolveSteps(recipe, undefined);
const phases = PHASES.filter((p) => steps[p] && p !== 'check');

// --- A: through Nx ---
// --output-style=stream passes each task's output through as it comes (prefixed with the
// project name), so the executor's log lines can be time-stamped on arrival.-----------------------------------------------------------------------
const nxArgs = ['run', `${name}:build`, '-c', target, '--skip-nx-cache', '--output-style=stream'];
const lineAt = (r, re) => r.lines.find((l) => re.test(l.text))?.at;
async function viaNx() {
  spawnSync('sync');
  const r = check(await nx(ws, nxArgs, { profile: 'bench-profile.json' }), `nx ${nxArgs.join(' ')}`);
  const fetch = r.trace?.find((e) => e.task === `${name}:fetch`);
  // Other tasks the build depends on (e.g. the system project's toolchain runtime), if any.
  const others = (r.trace ?? []).filter((e) => e.task !== `${name}:fetch` && !e.task.startsWith(`${name}:build`));
  const firstStart = Math.min(...(r.trace ?? []).map((e) => e.startMs));
  const build = r.trace?.find((e) => e.task.startsWith(`${name}:build`));
  const stepSeconds = Object.fromEntries(phases.map((p) => [p, Number(new RegExp(`${name}: ${p} done in ([\\d.]+) s`).exec(r.all)?.[1] ?? NaN) * 1000]));
  const at = {
    building: lineAt(r, new RegExp(`${name}: building for `)),
    ...Object.fromEntries(phases.map((p) => [p, lineAt(r, new RegExp(`${name}: ${p} done in `))])),
    wrote: lineAt(r, new RegExp(`${name}: wrote `)),
  };
  return { ms: r.ms, fetch, build, others, firstStart, stepSeconds, at };
}

// --- B: by hand -----------------------------------------------------------------------------
const hand = path.join(work, 'hand');
const handDirs = { srcdir: path.join(hand, 'src'), sysroot: path.join(hand, 'sysroot'), pkgdir: path.join(hand, 'pkg') };
const distfiles = path.join(ws.dir, 'dist', 'sources', name);
const epoch = sourceDateEpoch(ws.dir, loaded.root);
// The sandbox's fixed paths mapped to B's folders (the target's own folder, when the plugin
// has one, to targets/<name>/ of the workspace).
const sandboxToHand = [[SANDBOX.srcdir, handDirs.srcdir], [SANDBOX.sysroot, handDirs.sysroot], [SANDBOX.pkgdir, handDirs.pkgdir], [SANDBOX.systemTargetDir, path.join(ws.dir, 'targets', target)]].filter(([from]) => from);
const handEnv = Object.fromEntries(Object.entries(buildEnvironment({ recipe, systemTarget, systemTargetName: target, sourceDateEpoch: epoch })).map(([k, v]) => [
  k,
  sandboxToHand.reduce((text, [from, to]) => text.replaceAll(from, to), v),
]));
/** Runs one command of B with its output appended to the log. */
async function run(cmd, argv, cwd, env, log) {
  const r = await timed(cmd, argv, { cwd, env });
  appendFileSync(log, r.all);
  if (r.exitCode !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.exitCode}); log: ${log}`);
}
async function byHand() {
  spawnSync('sync');
  const log = path.join(work, 'hand.log');
  rmSync(log, { force: true });
  const t = {};
  let s = performance.now();
  const t0 = s;
  await run('rm', ['-rf', hand], work, process.env, log);
  t.clean = performance.now() - s;
  s = performance.now();
  for (const d of Object.values(handDirs)) mkdirSync(d, { recursive: true });
  for (const source of recipe.sources ?? []) {
    const how = extractSettings(source);
    const into = path.join(handDirs.srcdir, how.into ?? '');
    mkdirSync(into, { recursive: true });
    await run('tar', ['-xf', path.join(distfiles, distfileName(source)), `--strip-components=${how.strip}`, '-C', into], hand, process.env, log);
  }
  for (const p of recipe.patches ?? []) await run('patch', ['-p1', '-i', path.join(ws.dir, loaded.root, p.file)], handDirs.srcdir, process.env, log);
  t.extract = performance.now() - s;
  for (const phase of phases) {
    s = performance.now();
    await run('/bin/sh', ['-e', '-c', steps[phase]], handDirs.srcdir, handEnv, log);
    t[phase] = performance.now() - s;
  }
  return { ms: performance.now() - t0, t };
}

// --- the runs -------------------------------------------------------------------------------
console.log(`${name} ${recipe.version} for ${target} (${handEnv.CC}, JOBS=${handEnv.JOBS}), steps: ${phases.join(', ')}; ${repeat} repetitions, Nx and by hand alternately`);
console.log(hostLine());
const warm = performance.now();
check(await nx(ws, ['run', `${name}:build`, '-c', target]), 'warm-up nx run');
console.log(`warm-up nx run (fills the store if empty, then builds): ${sec(performance.now() - warm)} s`);

const A = [];
const B = [];
for (let i = 0; i < repeat; i++) {
  const a = await viaNx();
  A.push(a);
  const b = await byHand();
  B.push(b);
  const steps = (o) => phases.map((p) => `${p} ${sec(o[p])}`).join(', ');
  console.log(`rep ${i + 1}: nx ${sec(a.ms)} s (fetch task ${sec(a.fetch?.ms ?? NaN)}, ${a.others.map((e) => `${e.task} ${sec(e.ms)} [${e.status}], `).join('')}build task ${sec(a.build?.ms ?? NaN)}; steps ${steps(a.stepSeconds)})` +
    `   by hand ${sec(b.ms)} s (rm previous ${sec(b.t.clean)}, extract ${sec(b.t.extract)}, ${steps(b.t)})`);
}

const mA = median(A.map((a) => a.ms));
const mB = median(B.map((b) => b.ms));
console.log(`nx run ${name}:build -c ${target} --skip-nx-cache: median ${sec(mA)} s  (${A.map((a) => sec(a.ms)).join(' ')})`);
console.log(`by hand (tar, steps in sh, no sandbox):  median ${sec(mB)} s  (${B.map((b) => sec(b.ms)).join(' ')})`);
console.log(`ratio nx/by-hand: ${(mA / mB).toFixed(3)}x  (bar: at most 1.10x: ${mA / mB <= 1.1 ? 'met' : 'NOT met'})`);
// The compile steps dominate and swing most with the machine's load; the time outside them is
// what Nx and the sandbox add, so that difference is also shown as a share of the by-hand build,
// and the ratio the medians would give if both sides' steps had taken the by-hand time.
const outsideA = A.map((a) => a.ms - phases.reduce((n, p) => n + a.stepSeconds[p], 0));
const outsideB = B.map((b) => b.ms - phases.reduce((n, p) => n + b.t[p], 0));
const extra = median(outsideA) - median(outsideB);
console.log(`outside the recipe's steps: nx median ${sec(median(outsideA))} s (${outsideA.map(sec).join(' ')}), by hand ${sec(median(outsideB))} s (${outsideB.map(sec).join(' ')}); ` +
  `Nx adds ${sec(extra)} s = ${((100 * extra) / mB).toFixed(1)}% of the by-hand build (ratio with equal steps: ${((mB + extra) / mB).toFixed(3)}x)`);
// No CPU-time comparison: what runs inside a bwrap sandbox is not counted in the caller's
// getrusage(RUSAGE_CHILDREN) (checked: a sandboxed busy loop adds nothing to bash's `times`), so
// the Nx side's process-tree CPU would leave out the compiler.

// --- where Nx's extra time goes -------------------------------------------------------------
// From the NX_PROFILE trace (task start and duration) and the times the executor's log lines
// arrived. When Nx does not pass the task's output through as it comes (all lines arrive
// together), the preparation/packaging split is not available and only the remainder is shown.
const m = (f) => median(A.map(f).filter((x) => Number.isFinite(x)));
const streamed = A.every((a) => a.at.building !== undefined && a.at.wrote !== undefined && a.at.wrote - a.at.building > 0.5 * (a.build?.ms ?? 0));
const rows = [
  ['nx start, project and task graph, hashing (until the first task)', m((a) => a.firstStart), null],
  ['fetch task (distfiles store hit: lock, re-verify sha256, publish)', m((a) => a.fetch?.ms), null],
  ...[...new Set(A.flatMap((a) => a.others.map((e) => e.task)))].map((task) => [`other task ${task}`, m((a) => a.others.find((e) => e.task === task)?.ms), null]),
  ['between the tasks (hashing the next ones, scheduling)', m((a) => a.build.startMs - a.firstStart - (a.fetch?.ms ?? 0) - a.others.reduce((n, e) => n + e.ms, 0)), null],
];
if (streamed) {
  rows.push(['build task: rm previous work folder, sysroot, source extraction, log', m((a) => a.at.building - a.build.startMs), median(B.map((b) => b.t.clean + b.t.extract))]);
  let prev = 'building';
  for (const p of phases) {
    const pr = prev;
    rows.push([`build task: ${p} step in the sandbox`, m((a) => a.at[p] - a.at[pr]), median(B.map((b) => b.t[p]))]);
    prev = p;
  }
  rows.push(['build task: pacman package (.PKGINFO, .MTREE, zstd)', m((a) => a.at.wrote - a.at[prev]), null]);
  rows.push(['build task end, nx cache write and exit', m((a) => a.ms - a.at.wrote), null]);
} else {
  for (const p of phases) rows.push([`build task: ${p} step in the sandbox (the executor's own figure, 0.1 s)`, m((a) => a.stepSeconds[p]), median(B.map((b) => b.t[p]))]);
  rows.push(['build task: the rest (work folder, sysroot, extraction, packaging)', m((a) => a.build.ms - phases.reduce((n, p) => n + a.stepSeconds[p], 0)), median(B.map((b) => b.t.clean + b.t.extract))]);
  rows.push(['after the build task: nx cache write and exit', m((a) => a.ms - a.build.startMs - a.build.ms), null]);
}
console.log(`where the time goes (medians, s)${streamed ? '' : ' (task output was not streamed: coarse split)'}:`);
for (const [what, nxMs, handMs] of rows) console.log(`  ${what.padEnd(72)} nx ${sec(nxMs).padStart(7)}${handMs === null ? '' : `   by hand ${sec(handMs).padStart(7)}`}`);

// The executor's parts on their own, in this process, for the same inputs: sandbox start,
// source preparation (re-verify + unpack in Node), packaging of what B installed.
const sandboxMs = [];
const prepareMs = [];
const packageMs = [];
const scratch = path.join(work, 'parts');
for (let i = 0; i < repeat; i++) {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  let s = performance.now();
  const r = await runSandboxed({ binds: [{ src: scratch, dest: SANDBOX.srcdir, writable: true }], env: { PATH: '/usr/bin:/bin' }, cwd: SANDBOX.srcdir, argv: ['/bin/true'], logFile: path.join(scratch, 'log') });
  sandboxMs.push(performance.now() - s);
  if (r.exitCode !== 0) throw new Error('sandbox /bin/true failed');
  s = performance.now();
  await prepareSources(ws.dir, loaded, distfiles, path.join(scratch, 'src'));
  prepareMs.push(performance.now() - s);
  s = performance.now();
  await writePackage(handDirs.pkgdir, { pkgname: recipe.name, pkgbase: recipe.name, pkgver: recipe.version, pkgrel: recipe.release, pkgdesc: recipe.description, url: recipe.homepage, arch: systemTarget.arch, license: recipe.license, depends: [], packager: 'bench', builddate: epoch },
    { pkgbuildSha256: '0'.repeat(64), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: 'bench' }, path.join(scratch, 'out'), epoch);
  packageMs.push(performance.now() - s);
}
console.log(`the executor's parts alone (medians over ${repeat}): bwrap start+exit of /bin/true ${(median(sandboxMs)).toFixed(1)} ms (x${phases.length} steps), ` +
  `prepareSources ${(median(prepareMs)).toFixed(0)} ms (tar -xf by hand: ${(median(B.map((b) => b.t.extract))).toFixed(0)} ms), writePackage ${(median(packageMs)).toFixed(0)} ms`);
console.log(`${os.availableParallelism()} CPUs; the machine may be shared: compare the ratio, not the seconds`);
if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
