/**
 * End to end, for every shipped system target (x86_64, aarch64, armv7h, riscv64): the real
 * recipes built by `nx run-many -t build -c <target>` in a fresh workspace (the test run's Nx
 * cache and distfiles store, empty when the run starts, or the workspace's own empty ones when
 * this file runs alone) with Debian's real cross compilers in bubblewrap sandboxes, none of the
 * builds taken from a cache; the packages are checked with bsdtar and installed with real pacman
 * (with the toolchain's C runtime package) into an empty root; every ELF file
 * installed is checked for the target's class, machine and ABI flags, and the programs run:
 * under the target's QEMU user emulator (`qemu` of targets/<name>.yaml) with the toolchain's C
 * library (`QEMU_LD_PREFIX` = the toolchain's sysroot), or directly when the build machine is
 * of the target's arch. One `describe` per target, built from one table.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, closeSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { FULL, fullOnly, tiered, tierRecipes } from './helpers/tier';
import { copyTierRecipes, createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';
import { pkgnameOfFile } from '../packages/nx-distro/src/model/package-layout';

interface RecipeHead { name: string; version: string; release: number; style?: string; arch?: 'any' | string[]; steps?: { install?: string }; toolchain?: boolean }
interface TargetFile { arch: string; triplet: string; qemu: string; toolchain: { kind: string; prefix?: string; sysroot?: string; provides?: string[] } }

/** What each target's binaries must look like (elf(5); the psABI documents of each arch). */
interface ElfExpectation {
  /** Name of the file in targets/ (the Nx configuration). */
  readonly target: string;
  /** e_machine. */
  readonly machine: number;
  /** EI_CLASS: 1 = 32-bit, 2 = 64-bit. */
  readonly elfClass: 1 | 2;
  /**
   * e_flags of linked programs and libraries, under `mask`: the ABI the target's cflags select;
   * under `objectMask` for relocatable objects (the C library's crt files), which the assembler
   * marks with less (no float-ABI bit on ARM).
   */
  readonly flags?: { readonly mask: number; readonly objectMask: number; readonly value: number; readonly what: string };
  /** PT_INTERP of a dynamically linked program: the C library's loader for this ABI. */
  readonly interpreter: string;
}

/** The table every describe below is built from. */
const TARGETS: readonly ElfExpectation[] = [
  { target: 'x86_64', machine: 62, elfClass: 2, interpreter: '/lib64/ld-linux-x86-64.so.2' },
  { target: 'aarch64', machine: 183, elfClass: 2, interpreter: '/lib/ld-linux-aarch64.so.1' },
  // EF_ARM_EABIMASK 0xff000000 = version 5 (EABI), EF_ARM_ABI_FLOAT_HARD 0x400 (-mfloat-abi=hard).
  { target: 'armv7h', machine: 40, elfClass: 1, flags: { mask: 0xff000400, objectMask: 0xff000000, value: 0x05000400, what: 'EABI version 5, hard-float' }, interpreter: '/lib/ld-linux-armhf.so.3' },
  // EF_RISCV_RVC 0x1 (rv64gc), EF_RISCV_FLOAT_ABI 0x6 = DOUBLE 0x4 (-mabi=lp64d).
  { target: 'riscv64', machine: 243, elfClass: 2, flags: { mask: 0x7, objectMask: 0x7, value: 0x5, what: 'RVC, double-float ABI (lp64d)' }, interpreter: '/lib/ld-linux-riscv64-lp64d.so.1' },
];

/** Programs of the packages whose ELF header and loader are checked by name (beyond the walk over every ELF file). */
const MAIN_PROGRAMS = ['usr/bin/busybox', 'usr/bin/lua', 'usr/bin/luac', 'usr/bin/xz', 'usr/bin/zstd', 'usr/bin/lz4', 'usr/bin/make', 'usr/sbin/dropbear', 'usr/bin/dbclient', 'usr/bin/dropbearkey'];

/** The recipes this tier builds end to end (test/helpers/tier.ts: every one in the full tier). */
const recipes: RecipeHead[] = tierRecipes(REPO_ROOT)
  .map((d) => load(readFileSync(path.join(REPO_ROOT, 'recipes', d, 'recipe.yaml'), 'utf8')) as RecipeHead)
  .sort((a, b) => a.name.localeCompare(b.name));

/** The build machine's pacman arch name. */
const BUILD_ARCH = ({ x64: 'x86_64', arm64: 'aarch64', arm: 'armv7h', riscv64: 'riscv64' } as Record<string, string>)[os.arch()] ?? os.arch();

/** Wall time of each target's cold run-many, printed again at the end of the file. */
const coldTimes = new Map<string, number>();

/** The ELF header fields the checks use, from the first bytes of a file, or null when it is not ELF. */
function elfHeader(file: string): { elfClass: number; data: number; type: number; machine: number; flags: number; interpreter?: string } | null {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 52 || head.readUInt32BE(0) !== 0x7f454c46) return null;
    const elfClass = head[4];
    const data = head[5];
    assert.equal(data, 1, `${file}: EI_DATA is little-endian (1)`);
    const is64 = elfClass === 2;
    const type = head.readUInt16LE(16);
    const machine = head.readUInt16LE(18);
    const flags = is64 ? head.readUInt32LE(48) : head.readUInt32LE(36);
    const phoff = is64 ? Number(head.readBigUInt64LE(32)) : head.readUInt32LE(28);
    const phentsize = head.readUInt16LE(is64 ? 54 : 42);
    const phnum = head.readUInt16LE(is64 ? 56 : 44);
    let interpreter: string | undefined;
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const e = ph.subarray(i * phentsize);
      if (e.readUInt32LE(0) !== 3) continue; // PT_INTERP
      const off = is64 ? Number(e.readBigUInt64LE(8)) : e.readUInt32LE(4);
      const size = is64 ? Number(e.readBigUInt64LE(32)) : e.readUInt32LE(16);
      const s = Buffer.alloc(size);
      readSync(fd, s, 0, size, off);
      interpreter = s.toString('latin1').replace(/\0+$/, '');
    }
    return { elfClass, data, type, machine, flags, interpreter };
  } finally {
    closeSync(fd);
  }
}

/** Regular files under a folder (workspace-relative paths), recursively, skipping `skip`. */
function regularFiles(dir: string, skip: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(dir, rel))) {
    const r = path.join(rel, name);
    if (r === skip) continue;
    const st = lstatSync(path.join(dir, r));
    if (st.isDirectory()) out.push(...regularFiles(dir, skip, r));
    else if (st.isFile()) out.push(r);
  }
  return out;
}

/** Deterministic, compressible but not trivial test data (text with a pseudo-random walk). */
function testData(size: number): Buffer {
  const words = ['nx', 'distro', 'recipe', 'target', 'sandbox', 'pacman', 'qemu', 'cross', 'build', 'package', '\n'];
  let x = 12345;
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const w = `${words[x % words.length]}${x % 7 === 0 ? x.toString(36) : ''} `;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('').slice(0, size));
}

// npm test builds one system target end to end, aarch64 (the README's default, whose kernel and
// image test/image.test.ts and test/kernel.test.ts boot from this run's cache); x86_64, armv7h and
// riscv64 are in npm run test:full. x86_64 builds stay in the quick tier on the smallest real
// recipes (test/mutations.test.ts, test/faults.test.ts, test/escapes.test.ts, test/native.test.ts).
for (const { case: expect, skip } of tiered(TARGETS, (t) => t.target, ['aarch64'])) {
  const TARGET = expect.target;
  const targetFile = load(readFileSync(path.join(REPO_ROOT, 'targets', `${TARGET}.yaml`), 'utf8')) as TargetFile;
  const provides = new Set(targetFile.toolchain.provides ?? []);
  /** Recipes that write no package for this target: toolchain-provided, excluded by `arch`, or without an install step (the source-only kernel). */
  const noPackage = (r: RecipeHead) =>
    provides.has(r.name) || (Array.isArray(r.arch) && !r.arch.includes(targetFile.arch)) || ((r.style ?? 'none') === 'none' && !r.steps?.install);
  const built = recipes.filter((r) => !noPackage(r));
  const silent = recipes.filter(noPackage);
  /** Run directly when the build machine is of the target's arch; else under the target's QEMU. */
  const native = BUILD_ARCH === targetFile.arch;

  describe(`cross builds for ${TARGET}`, { skip }, () => {
    let ws: TestWorkspace;
    let rootfs: string;
    let builtOk = false;
    let installed = false;
    const dist = (...p: string[]) => path.join(ws.root, 'dist', TARGET, ...p);
    const pkgFile = (r: RecipeHead) => dist('packages', r.name, `${r.name}-${r.version}-${r.release}-${targetFile.arch}.pkg.tar.zst`);
    /** The external toolchain's C runtime as a package (the `system` project's `toolchain-runtime` target, which every build depends on). */
    const runtimePackage = () => {
      const dir = dist('packages', 'toolchain-runtime');
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.pkg.tar.zst') && pkgnameOfFile(f) === 'toolchain-runtime') : [];
      assert.equal(files.length, 1, `one toolchain-runtime package in ${dir}: ${files.join(', ')}`);
      return path.join(dir, files[0]);
    };
    /** Runs a program of the installed root with the toolchain's C library and the root's libraries. */
    const exec = (program: string, args: string[], options: { input?: string | Uint8Array; encoding?: 'utf8' | 'buffer' }) => {
      const env: Record<string, string> = { LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib'), LC_ALL: 'C' };
      if (!native) env.QEMU_LD_PREFIX = targetFile.toolchain.sysroot!;
      const [file, argv] = native ? [path.join(rootfs, program), args] : [targetFile.qemu, [path.join(rootfs, program), ...args]];
      return execa(file, argv, { input: options.input, encoding: options.encoding ?? 'utf8', reject: false, all: true, env });
    };
    /** {@link exec} with text output. */
    const run = async (program: string, args: string[], input?: string) => {
      const r = await exec(program, args, { input });
      return { exitCode: r.exitCode, stdout: String(r.stdout), all: String(r.all) };
    };
    /** {@link exec} with bytes in and out; fails on a non-zero exit. */
    const runBytes = async (program: string, args: string[], input?: Uint8Array) => {
      const r = await exec(program, args, { input, encoding: 'buffer' });
      assert.equal(r.exitCode, 0, `${program} ${args.join(' ')}: exit ${r.exitCode}: ${Buffer.from(r.all as Uint8Array).toString().slice(-2000)}`);
      return Buffer.from(r.stdout as Uint8Array);
    };
    /** The host's program with bytes in and out. */
    const hostBytes = async (program: string, args: string[], input: Uint8Array) => Buffer.from((await execa(program, args, { input, encoding: 'buffer' })).stdout);
    const requireBuild = (t: { skip(msg: string): void }) => {
      if (!builtOk) t.skip('the build failed (see the first test)');
      return builtOk;
    };
    const requireInstall = (t: { skip(msg: string): void }) => {
      if (!installed) t.skip('the packages were not installed (see above)');
      return installed;
    };

    before(() => {
      // The test run's shared Nx cache and store (empty at the run's start, and this file runs
      // first): the builds below are cold, and later test files reuse them.
      ws = createWorkspace(undefined, { shareRunCache: true });
      copyTierRecipes(ws);
      rootfs = path.join(ws.root, 'rootfs');
    });
    after(() => ws.dispose());

    it(`builds every real recipe${FULL ? '' : ' of the quick set'} into a pacman package, in dependency order, none from a cache`, async (t) => {
      assert.ok(existsSync(path.join('/usr/bin', targetFile.qemu)) || native, `${targetFile.qemu} is installed (tools/setup-host)`);
      const started = performance.now();
      ws.env.NX_PROFILE = 'nx-profile.json'; // Nx's per-task trace (Chrome trace format), for the timings below
      const r = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '--parallel=2', '--output-style=static');
      delete ws.env.NX_PROFILE;
      const seconds = (performance.now() - started) / 1000;
      coldTimes.set(TARGET, seconds);
      // Tasks Nx took from a cache (`nx run <task>  [local cache]`, `[existing outputs match the
      // cache, left as is]`, `[remote cache]`): only the arch-independent fetch tasks may be, when
      // an earlier target of this file shared the run's cache.
      const cached = [...r.all.matchAll(/nx run (\S+)\s+\[[^\]\n]*cache[^\]\n]*\]/g)].map((m) => m[1]);
      const line = `cold run-many -t build -c ${TARGET}: ${seconds.toFixed(1)} s wall (exit ${r.exitCode}, ${built.length} packages, ${cached.length} fetch tasks from the run's cache, 2 parallel tasks, ${os.availableParallelism()} CPUs)`;
      t.diagnostic(line);
      if (existsSync(path.join(ws.root, 'nx-profile.json'))) {
        const tasks = (JSON.parse(ws.read('nx-profile.json')) as { ph: string; name: string; dur: number }[]).filter((e) => e.ph === 'X').sort((a, b) => b.dur - a.dur);
        t.diagnostic(`tasks by time: ${tasks.filter((e) => e.dur >= 1e6).map((e) => `${e.name} ${(e.dur / 1e6).toFixed(0)} s`).join(', ')}`);
      }
      assert.equal(r.exitCode, 0, r.all.slice(-6000));
      assert.deepEqual(cached.filter((task) => !task.endsWith(':fetch')), [], 'no build came from a cache');
      for (const p of built) assert.ok(existsSync(pkgFile(p)), `${p.name}: no package ${pkgFile(p)}\n${r.all.slice(-3000)}`);
      // A toolchain: true recipe's folder is build-machine/ (model/package-layout.ts), even for its no-op.
      for (const p of silent) assert.deepEqual(readdirSync(dist(p.toolchain ? 'build-machine' : 'packages', p.name)), [], `${p.name} writes nothing for ${TARGET}`);
      for (const p of provides) {
        assert.match(r.all, new RegExp(`${p}: nothing to build for ${TARGET}: its external toolchain \\(${targetFile.toolchain.prefix!.replace(/[.+]/g, '\\$&')}gcc\\) stands in for it`));
      }
      // The sysroot of lua held exactly its declared makedepends (readline) and their runtime
      // depends (ncurses), and the toolchain's runtime package if the plugin stages it.
      const log = readFileSync(dist('packages', 'lua', 'build.log'), 'utf8');
      const sysroot = /^# sysroot: (.*)$/m.exec(log)?.[1]?.split(' ').filter((p) => !p.startsWith('toolchain-runtime-')).sort();
      assert.deepEqual(sysroot, [`ncurses-6.4-1-${targetFile.arch}`, `readline-8.2-1-${targetFile.arch}`], log.slice(0, 2000));
      assert.match(log, new RegExp(`^# CC=${targetFile.toolchain.prefix!.replace(/[.+]/g, '\\$&')}gcc$`, 'm'));
      builtOk = true;
    });

    it('writes packages pacman reads: .PKGINFO first entries, root-owned, metadata and dependencies', async (t) => {
      if (!requireBuild(t)) return;
      const dropbear = pkgFile(built.find((r) => r.name === 'dropbear')!);
      const list = (await execa('bsdtar', ['-tvf', dropbear])).stdout.split('\n');
      assert.deepEqual(list.slice(0, 3).map((l) => l.split(/\s+/).pop()), ['.BUILDINFO', '.MTREE', '.PKGINFO']);
      for (const l of list) assert.match(l, /^\S+\s+\d+\s+root\s+root\s/, l);
      const info = (await execa('bsdtar', ['-xOf', dropbear, '.PKGINFO'])).stdout;
      assert.match(info, /^pkgname = dropbear$/m);
      assert.match(info, new RegExp(`^arch = ${targetFile.arch}$`, 'm'));
      assert.match(info, /^depend = zlib$/m);
      assert.match(info, /^depend = toolchain-runtime$/m, 'built with an external toolchain, it needs its C runtime');
      for (const p of provides) assert.doesNotMatch(info, new RegExp(`^depend = ${p}$`, 'm'), `${p} comes with the external toolchain, not as a package`);
    });

    it('installs every package with real pacman into an empty root', async (t) => {
      if (!requireBuild(t)) return;
      mkdirSync(path.join(rootfs, 'var/lib/pacman'), { recursive: true });
      const conf = path.join(ws.root, 'pacman.conf');
      writeFileSync(conf, `[options]\nArchitecture = ${targetFile.arch}\nSigLevel = Never\nHookDir = ${path.join(ws.root, 'no-hooks')}\n`);
      const db = ['--root', rootfs, '--dbpath', path.join(rootfs, 'var/lib/pacman'), '--config', conf];
      const r = await execa('pacman', [...db, '--arch', targetFile.arch, '--noconfirm', '--noscriptlet', '-U', runtimePackage(), ...built.map(pkgFile)], { reject: false, all: true });
      assert.equal(r.exitCode, 0, r.all);
      const q = await execa('pacman', [...db, '-Q'], { all: true });
      for (const p of built) assert.match(q.stdout, new RegExp(`^${p.name} ${p.version.replace(/\./g, '\\.')}-${p.release}$`, 'm'));
      installed = true;
    });

    it("installs no script that needs the build machine's bash: every #! line names /bin/sh or another interpreter the packages hold", (t) => {
      if (!requireInstall(t)) return;
      const bash: string[] = [];
      for (const f of regularFiles(rootfs, 'var')) {
        const fd = openSync(path.join(rootfs, f), 'r');
        const head = Buffer.alloc(64);
        const n = readSync(fd, head, 0, 64, 0);
        closeSync(fd);
        const line = head.subarray(0, n).toString('latin1').split('\n')[0];
        if (/^#! ?\/(usr\/)?bin\/bash\b/.test(line)) bash.push(`${f}: ${line}`);
      }
      // autoconf's configure reruns itself under bash when /bin/sh is dash, unless CONFIG_SHELL
      // says otherwise (the gnu-configure style sets it): xzdiff, ncursesw6-config.
      assert.deepEqual(bash, []);
    });

    it(`installs ${expect.elfClass === 1 ? '32' : '64'}-bit ELF files for e_machine ${expect.machine}${expect.flags ? ` (${expect.flags.what})` : ''} only`, (t) => {
      if (!requireInstall(t)) return;
      const elves = new Map<string, NonNullable<ReturnType<typeof elfHeader>>>();
      for (const f of regularFiles(rootfs, 'var')) {
        const h = elfHeader(path.join(rootfs, f));
        if (h) elves.set(f, h);
      }
      for (const program of MAIN_PROGRAMS) {
        assert.ok(elves.has(program), `${program} is an installed ELF file`);
        assert.equal(elves.get(program)!.interpreter, expect.interpreter, `${program}: PT_INTERP is the loader of the target's ABI`);
      }
      for (const lib of ['usr/lib/libz.so.1.2.13', 'usr/lib/liblzma.so.5.4.1', 'usr/lib/libzstd.so.1.5.4', 'usr/lib/liblz4.so.1.9.4', 'usr/lib/libreadline.so.8.2', 'usr/lib/libncursesw.so.6.4']) {
        assert.ok(elves.has(lib), `${lib} is an installed ELF file`);
      }
      for (const [f, h] of elves) {
        assert.equal(h.elfClass, expect.elfClass, `${f}: EI_CLASS`);
        assert.equal(h.machine, expect.machine, `${f}: e_machine`);
        if (expect.flags) {
          const mask = h.type === 1 ? expect.flags.objectMask : expect.flags.mask; // ET_REL
          assert.equal((h.flags & mask) >>> 0, (expect.flags.value & mask) >>> 0, `${f}: e_flags 0x${h.flags.toString(16)}: ${expect.flags.what}`);
        }
      }
      t.diagnostic(`${elves.size} ELF files checked`);
    });

    it(`runs the programs ${native ? 'directly (the build machine is ' + BUILD_ARCH + ')' : `under ${targetFile.qemu}`}: busybox sh, lua, make`, async (t) => {
      if (!requireInstall(t)) return;
      if (native) {
        // Run directly only when every library resolves, and the packages' own from the root.
        const ldd = await execa('ldd', [path.join(rootfs, 'usr/bin/lua'), path.join(rootfs, 'usr/bin/xz'), path.join(rootfs, 'usr/sbin/dropbear')], { env: { LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib') }, all: true });
        assert.doesNotMatch(ldd.all, /not found/, ldd.all);
        for (const lib of ['libreadline.so.8', 'libncursesw.so.6', 'liblzma.so.5', 'libz.so.1']) assert.match(ldd.all, new RegExp(`${lib.replace(/\./g, '\\.')} => ${rootfs}/usr/lib/`), ldd.all);
      }
      const sh = await run('usr/bin/busybox', ['sh', '-c', 'x=nx-distro; for i in 1 2 3; do n=$((n + i)); done; case $x in nx-*) y=yes;; esac; set -- a b c; echo $((6 * 7)) ${x%-*} $n $y $# ${#x}']);
      assert.equal(sh.stdout, '42 nx 6 yes 3 9', sh.all);
      const sum = await run('usr/bin/busybox', ['sha256sum'], 'abc');
      assert.match(sum.stdout, /^ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/, sum.all);
      const script = path.join(ws.root, 'check.lua');
      writeFileSync(script, [
        'local n = tonumber(arg[1])',
        'local t = {}',
        'for i = 1, n do t[#t + 1] = i * i end',
        'table.sort(t, function(a, b) return a > b end)',
        'local ok, err = pcall(error, { code = 7 })',
        'io.write(table.concat(t, ","), " ", string.format("%.3f", math.pi), " ", err.code, " ", _VERSION, " ", #arg, "\\n")',
        '',
      ].join('\n'));
      const lua = await run('usr/bin/lua', [script, '10', 'extra']);
      assert.equal(lua.stdout, '100,81,64,49,36,25,16,9,4,1 3.142 7 Lua 5.4 2', lua.all);
      const make = await run('usr/bin/make', ['--version']);
      assert.match(make.stdout, /^GNU Make 4\.3$/m, make.all);
    });

    it('round-trips data through the built xz, zstd and lz4 and the host\'s', async (t) => {
      if (!requireInstall(t)) return;
      const data = testData(300_000);
      // xz -t on a file the host's xz wrote, and on a corrupted copy (must fail).
      const xzFile = path.join(ws.root, 'data.xz');
      writeFileSync(xzFile, await hostBytes('xz', ['-c', '-6'], data));
      const test = await run('usr/bin/xz', ['-t', xzFile]);
      assert.equal(test.exitCode, 0, test.all);
      const bad = readFileSync(xzFile);
      bad[Math.floor(bad.length / 2)] ^= 0x55;
      writeFileSync(`${xzFile}.bad`, bad);
      assert.notEqual((await run('usr/bin/xz', ['-t', `${xzFile}.bad`])).exitCode, 0, 'xz -t rejects a corrupted file');
      assert.ok(data.equals(await runBytes('usr/bin/xz', ['-dc', xzFile])), 'the built xz decompresses what the host xz wrote');
      const ourXz = await runBytes('usr/bin/xz', ['-c'], data);
      assert.ok(data.equals(await hostBytes('xz', ['-dc'], ourXz)), 'the host xz reads what the built xz wrote');

      for (const tool of ['zstd', 'lz4']) {
        const ours = await runBytes(`usr/bin/${tool}`, ['-c'], data);
        assert.ok(ours.length < data.length / 2, `${tool} compresses (${ours.length} of ${data.length} bytes)`);
        assert.ok(data.equals(await runBytes(`usr/bin/${tool}`, ['-dc'], ours)), `${tool} round-trip`);
        assert.ok(data.equals(await hostBytes(tool, ['-dc'], ours)), `the host ${tool} reads what the built ${tool} wrote`);
        const host = await hostBytes(tool, ['-c'], data);
        assert.ok(data.equals(await runBytes(`usr/bin/${tool}`, ['-dc'], host)), `the built ${tool} reads what the host ${tool} wrote`);
      }
    });

    it('runs dropbear: versions, and an ed25519 key made and read back by dropbearkey', async (t) => {
      if (!requireInstall(t)) return;
      for (const program of ['usr/bin/dbclient', 'usr/sbin/dropbear']) {
        const v = await run(program, ['-V']);
        assert.match(v.all, /Dropbear v2022\.83/, `${program}: ${v.all}`);
      }
      const key = path.join(ws.root, 'host_key');
      const gen = await run('usr/bin/dropbearkey', ['-t', 'ed25519', '-f', key]);
      assert.equal(gen.exitCode, 0, gen.all);
      const pub = await run('usr/bin/dropbearkey', ['-y', '-f', key]);
      assert.match(pub.stdout, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA[A-Za-z0-9+/]{43,}/m, pub.all);
    });

    it('serves everything from the cache on a second run', async (t) => {
      if (!requireBuild(t)) return;
      const r = await ws.nx('run-many', '-t', 'build', '-c', TARGET);
      assert.equal(r.exitCode, 0, r.all.slice(-3000));
      assert.match(r.all, /Nx read the output from the cache instead of running the command for (\d+) out of \1 tasks/);
    });

    it('names the failing step, prints the log tail, and keeps the whole log beside the outputs', async () => {
      ws.write('recipes/broken/recipe.yaml', [
        'name: broken', 'version: "1.0"', 'release: 1', 'description: A recipe whose install step fails', 'license: [MIT]', 'homepage: https://example.org/',
        'steps:', '  build: |', '    echo "compiling for $CHOST with $CC"', '  install: |', '    echo "about to fail" >&2', '    exit 3', '',
      ].join('\n'));
      try {
        const r = await ws.nx('run', 'broken:build', '-c', TARGET);
        assert.notEqual(r.exitCode, 0);
        assert.match(r.all, new RegExp(`compiling for ${targetFile.triplet} with ${targetFile.toolchain.prefix}gcc`));
        // The step's own lines, then its timing line (build.log's `==> <step> failed: …`, read by the
        // run report), then the one-line summary naming the step and the log.
        assert.match(r.all, new RegExp(`about to fail\\n==> install failed: [\\d.]+ s \\[start_ms=\\d+ end_ms=\\d+ exit=3\\]\\nbroken: step install failed \\(exit 3\\) after [\\d.]+ s; full log: dist/${TARGET}/packages/broken/build\\.log`));
        const log = readFileSync(dist('packages', 'broken', 'build.log'), 'utf8');
        assert.match(log, new RegExp(`==> build\\ncompiling for ${targetFile.triplet}[\\s\\S]*==> install\\nabout to fail`));
      } finally {
        ws.remove('recipes/broken');
      }
    });

    /**
     * Builds two recipes with the same build step, `zdeclared` (makedepends and depends zlib,
     * built first by Nx) then `zundeclared` (no zlib), the step printing which zlib files the
     * staged sysroot holds, then running `command` on probe.c (a program using zlib).
     * @returns the zundeclared run, its build log, and whether it wrote a package
     */
    const zlibProbes = async (command: string) => {
      const recipe = (name: string, declares: boolean) => [
        `name: ${name}`, "version: '1.0'", 'release: 1', `description: A zlib program that ${declares ? 'declares' : 'does not declare'} zlib`, 'license: [MIT]', 'homepage: https://example.org/',
        ...(declares ? ['depends: [zlib]', 'makedepends: [zlib]'] : []),
        'steps:', '  build: |',
        '    echo "zlib in the sysroot: $(ls "$SYSROOT/usr/include/zlib.h" "$SYSROOT"/usr/lib/libz.* 2>/dev/null | tr "\\n" " ")"',
        `    printf '#include <zlib.h>\\nint main(void) { return zlibVersion()[0] != 0x31; }\\n' > probe.c`,
        `    ${command}`,
        '  install: |', '    mkdir -p "$pkgdir/usr/share/probe"', '    cp probe* "$pkgdir/usr/share/probe/"', '',
      ].join('\n');
      ws.write('recipes/zdeclared/recipe.yaml', recipe('zdeclared', true));
      ws.write('recipes/zundeclared/recipe.yaml', recipe('zundeclared', false));
      try {
        const declared = await ws.nx('run', 'zdeclared:build', '-c', TARGET, '--output-style=static');
        assert.equal(declared.exitCode, 0, declared.all.slice(-4000));
        assert.match(readFileSync(dist('packages', 'zdeclared', 'build.log'), 'utf8'), /^zlib in the sysroot: \/build\/sysroot\/usr\/include\/zlib\.h .*\/build\/sysroot\/usr\/lib\/libz\.so /m);
        // zlib's package is there for the second build to find, if it could
        assert.ok(existsSync(dist('packages', 'zlib', `zlib-1.2.13-1-${targetFile.arch}.pkg.tar.zst`)), 'zlib was built');
        const undeclared = await ws.nx('run', 'zundeclared:build', '-c', TARGET, '--output-style=static');
        const log = readFileSync(dist('packages', 'zundeclared', 'build.log'), 'utf8');
        assert.match(log, /^zlib in the sysroot: $/m, 'nothing of zlib is staged');
        return { undeclared, log, packaged: existsSync(dist('packages', 'zundeclared', `zundeclared-1.0-1-${targetFile.arch}.pkg.tar.zst`)) };
      } finally {
        ws.remove('recipes/zdeclared');
        ws.remove('recipes/zundeclared');
      }
    };
    // x86_64's toolchain sysroot is the build machine's root (targets/x86_64.yaml `sysroot: /`,
    // ro-bound into the sandbox), so the build machine's libz.so (zlib1g-dev, which
    // tools/setup-host's libelf-dev pulls in) links there. Left failing, as a todo, until builds
    // see only what they declare.
    const hostLibraries = TARGET === 'x86_64' ? "x86_64's sysroot is the build machine's /: its libz.so links (issue 19, item 5)" : undefined;
    // the known failures (todo) run in the full tier only: they show nothing new on each run
    it('stages only the declared makedepends: a build that does not declare zlib cannot link against it, one that declares it can', { todo: hostLibraries, skip: hostLibraries ? fullOnly().skip : false }, async () => {
      const { undeclared, log, packaged } = await zlibProbes('$CC $CFLAGS $CPPFLAGS $LDFLAGS -o probe probe.c -lz');
      assert.notEqual(undeclared.exitCode, 0, `a build that does not declare zlib linked against one:\n${log.slice(-3000)}`);
      assert.match(log, /cannot find -lz|zlib\.h: No such file or directory/);
      assert.match(undeclared.all, /zundeclared: step build failed/);
      assert.ok(!packaged, 'no package');
    });
    // Debian's cross compilers search the build machine's /usr/include after their own
    // (`aarch64-linux-gnu-gcc -E -v`: .../gcc-cross/aarch64-linux-gnu/12/include,
    // /usr/aarch64-linux-gnu/include, /usr/include), and x86_64's is the machine's own compiler:
    // the build machine's zlib.h is found for every target. A todo until builds see only their
    // sysroot and the toolchain's own headers.
    it("stages only the declared makedepends: a build that does not declare zlib cannot find zlib's headers", { todo: "the cross compilers search the build machine's /usr/include, which has zlib1g-dev's zlib.h (issue 19, item 5)", ...fullOnly() }, async () => {
      const { undeclared, log, packaged } = await zlibProbes('$CC $CFLAGS $CPPFLAGS -c probe.c');
      assert.notEqual(undeclared.exitCode, 0, `a build that does not declare zlib compiled with a zlib.h:\n${log.slice(-3000)}`);
      assert.match(log, /zlib\.h: No such file or directory/);
      assert.ok(!packaged, 'no package');
    });

    it('resumes after a failure: the fixed recipe builds, everything built before comes from the cache', async (t) => {
      if (!requireBuild(t)) return;
      const recipe = (install: string[]) => [
        'name: resume', 'version: "1.0"', 'release: 1', 'description: A recipe that fails, then is fixed', 'license: [MIT]', 'homepage: https://example.org/',
        'depends: [zlib]', 'makedepends: [zlib]', 'steps:', '  build: |', '    echo "building resume for $CHOST"', '  install: |', ...install, '',
      ].join('\n');
      /** Tasks that ran (not from a cache), fetch tasks left out: `> nx run <task>` lines without a cache note. */
      const ran = (out: string) => [...out.matchAll(/^> nx run (\S+)(.*)$/gm)].filter((m) => !/cache/.test(m[2]) && !m[1].includes(':fetch')).map((m) => m[1]).sort();
      ws.write('recipes/resume/recipe.yaml', recipe(['    echo "resume: the install step fails" >&2', '    exit 4']));
      try {
        let r = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '--output-style=static');
        assert.notEqual(r.exitCode, 0, 'the run fails');
        assert.deepEqual(ran(r.all), [`resume:build:${TARGET}`], `only the new recipe ran; everything else came from the cache\n${r.all.slice(-3000)}`);
        assert.match(r.all, /resume: step install failed \(exit 4\)/);
        ws.write('recipes/resume/recipe.yaml', recipe(['    mkdir -p "$pkgdir/usr/share/resume"', '    echo fixed > "$pkgdir/usr/share/resume/status"']));
        r = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '--output-style=static');
        assert.equal(r.exitCode, 0, r.all.slice(-3000));
        assert.deepEqual(ran(r.all), [`resume:build:${TARGET}`, `system:build:${TARGET}`], 'the fixed recipe and the repository ran, nothing else');
        const db = (await execa('bsdtar', ['-tf', dist('repo', `${TARGET}.db.tar.zst`)])).stdout;
        assert.match(db, new RegExp(`^resume-1\\.0-1/desc$`, 'm'), 'the repository has the fixed package');
      } finally {
        ws.remove('recipes/resume');
      }
    });
  });
}

after(() => {
  if (coldTimes.size) console.log(`# cold run-many -t build wall times: ${[...coldTimes].map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
});
