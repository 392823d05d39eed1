#!/usr/bin/env node
// Benchmark of sysroot staging: 50 generated, realistic library packages (about 200 entries each:
// headers, a versioned shared library with its .so symlinks, a .pc file, tools, man pages,
// translations, docs) are written as real pacman packages (writePackage), extracted into the
// package store (extractedPackage), then staged into a fresh sysroot (stageSysroot) N times.
// Baseline measured alternately in the same run: one `cp -al <pkg1>/. … <pkg50>/. <dest>/` of
// the same store trees (process start included). Prints the medians against the bar: under
// 200 ms.
//
//   node tools/bench/sysroot/run.mjs [--packages=50] [--files=200] [--repeat=15] [--dir=tmp/bench-sysroot]
//
// Each timed run starts after `sync`, so the removal of the previous tree (ext4 journal work)
// is not charged to the next measurement. KEEP=1 keeps the work folder.
import { createRequire } from 'node:module';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
require('@swc-node/register');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const ts = (m) => require(path.join(root, 'packages/nx-distro/src', m));
const { writePackage } = ts('packages/pacman-package.ts');
const { extractedPackage, stageSysroot } = ts('packages/package-store.ts');

const arg = (name, def) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def;
const packages = Number(arg('packages', '50'));
const filesPer = Number(arg('files', '200'));
const repeat = Number(arg('repeat', '15'));
const work = path.resolve(root, arg('dir', 'tmp/bench-sysroot'));
const EPOCH = 1700000000;

/** Deterministic pseudo-random bytes of a given size (content does not matter, size does). */
function bytes(seed, size) {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** One library package tree with about `filesPer` entries. */
function generate(dir, name, i) {
  const w = (rel, content, mode = 0o644) => {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
    chmodSync(p, mode);
  };
  const headers = Math.max(1, Math.round(filesPer * 0.55));
  for (let h = 0; h < headers; h++) {
    const sub = h % 4 === 0 ? 'detail/' : '';
    w(`usr/include/${name}/${sub}${name}_part${h}.h`, `#pragma once\n/* ${name} ${h} */\n${'int f(void);\n'.repeat(40 + ((h * 37) % 400))}`);
  }
  const so = `lib${name}.so.${1 + (i % 3)}.${i % 10}.0`;
  w(`usr/lib/${so}`, bytes(`${name}-so`, 64 * 1024 + ((i * 7919) % 200) * 1024), 0o755);
  symlinkSync(so, path.join(dir, `usr/lib/lib${name}.so.${1 + (i % 3)}`));
  symlinkSync(`lib${name}.so.${1 + (i % 3)}`, path.join(dir, `usr/lib/lib${name}.so`));
  w(`usr/lib/pkgconfig/${name}.pc`, `prefix=/usr\nlibdir=\${prefix}/lib\nincludedir=\${prefix}/include\n\nName: ${name}\nVersion: 1.${i}\nDescription: ${name}\nLibs: -L\${libdir} -l${name}\nCflags: -I\${includedir}/${name}\n`);
  for (let t = 0; t < 4; t++) w(`usr/bin/${name}-tool${t}`, bytes(`${name}-bin${t}`, 16 * 1024), 0o755);
  const mans = Math.round(filesPer * 0.2);
  for (let m = 0; m < mans; m++) w(`usr/share/man/man3/${name}_part${m}.3`, `.TH ${name} 3\n.SH NAME\n${name}_part${m}\n${'.PP\ntext\n'.repeat(30)}`);
  const langs = ['de', 'es', 'fr', 'it', 'ja', 'nl', 'pl', 'pt_BR', 'ru', 'sv', 'tr', 'uk', 'zh_CN', 'zh_TW', 'cs', 'da', 'fi', 'hu', 'ko', 'ro'];
  const mos = Math.max(0, filesPer - headers - mans - 3 - 1 - 4 - 3);
  for (let l = 0; l < mos; l++) w(`usr/share/locale/${langs[l % langs.length]}${l >= langs.length ? `@v${l}` : ''}/LC_MESSAGES/${name}.mo`, bytes(`${name}-mo${l}`, 2048));
  for (const doc of ['README', 'COPYING', 'NEWS']) w(`usr/share/doc/${name}/${doc}`, `${doc} of ${name}\n`.repeat(50));
}

function count(dir) {
  let n = 0;
  for (const d of readdirSync(dir, { withFileTypes: true })) n += d.isDirectory() ? count(path.join(dir, d.name)) : 1;
  return n;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

rmSync(work, { recursive: true, force: true });
const trees = path.join(work, 'trees');
const pkgs = path.join(work, 'pkgs');
const store = path.join(work, 'store');
mkdirSync(pkgs, { recursive: true });

let t = performance.now();
const files = [];
for (let i = 0; i < packages; i++) {
  const name = `lib${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}xyz`;
  const dir = path.join(trees, name);
  generate(dir, name, i);
  const meta = { pkgname: name, pkgbase: name, pkgver: `1.${i}`, pkgrel: 1, pkgdesc: `bench library ${name}`, url: 'https://example.org', arch: 'x86_64', license: ['MIT'], depends: [], packager: 'nx-distro bench', builddate: EPOCH };
  const bi = { pkgbuildSha256: '0'.repeat(64), builddir: '/build', startdir: '/recipes', buildenv: [], options: [], installed: [], buildtoolver: 'bench' };
  files.push((await writePackage(dir, meta, bi, pkgs, EPOCH, { zstdLevel: 3 })).file);
}
const writeSeconds = (performance.now() - t) / 1000;

t = performance.now();
const dirs = [];
for (const f of files) dirs.push(await extractedPackage(store, f));
const extractSeconds = (performance.now() - t) / 1000;
t = performance.now();
for (const f of files) await extractedPackage(store, f);
const hitMs = performance.now() - t;

const entries = dirs.reduce((n, d) => n + count(d), 0);
const dirCount = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((n, d) => n + (d.isDirectory() ? 1 + dirCount(path.join(dir, d.name)) : 0), 0);
console.log(`${packages} packages, ${entries} files and symlinks (${(entries / packages).toFixed(0)} per package), ${dirs.reduce((n, d) => n + dirCount(d), 0)} folders in the packages`);
console.log(`writePackage (zstd -3): ${writeSeconds.toFixed(2)} s for all; extractedPackage: ${extractSeconds.toFixed(2)} s cold, ${hitMs.toFixed(1)} ms for all ${packages} hits`);

const sysroot = path.join(work, 'sysroot');
const baseline = path.join(work, 'cp-al');
const ours = [];
const theirs = [];
for (let r = 0; r < repeat; r++) {
  rmSync(sysroot, { recursive: true, force: true });
  spawnSync('sync');
  let s = performance.now();
  const result = await stageSysroot(sysroot, dirs);
  ours.push(performance.now() - s);
  if (result.conflicts.length !== 0 || result.files !== entries) throw new Error(`unexpected staging result: ${result.files} files, ${result.conflicts.length} conflicts`);

  rmSync(baseline, { recursive: true, force: true });
  mkdirSync(baseline);
  spawnSync('sync');
  s = performance.now();
  const cp = spawnSync('cp', ['-al', ...dirs.map((d) => `${d}/.`), `${baseline}/`], { stdio: 'inherit' });
  theirs.push(performance.now() - s);
  if (cp.status !== 0) throw new Error('cp -al failed');
}
const m = median(ours);
const b = median(theirs);
console.log(`stageSysroot: median ${m.toFixed(1)} ms over ${repeat} runs (min ${Math.min(...ours).toFixed(1)}, max ${Math.max(...ours).toFixed(1)})`);
console.log(`cp -al baseline: median ${b.toFixed(1)} ms (min ${Math.min(...theirs).toFixed(1)}, max ${Math.max(...theirs).toFixed(1)})`);
console.log(`bar: under 200 ms: ${m < 200 ? 'met' : 'NOT met'}; stageSysroot / cp -al = ${(m / b).toFixed(2)}`);
console.log(`host: ${execFileSync('nproc').toString().trim()} CPUs, node ${process.version}, ${execFileSync('df', ['-T', work]).toString().split('\n')[1]?.split(/\s+/)[1] ?? '?'} filesystem`);
if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
