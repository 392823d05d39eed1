/**
 * The mutation matrix (x86_64): each kind of change, applied to a workspace of three recipes
 * (the real zlib; zprobe, a program linking it; hello, unrelated to both), then reverted, with
 * the exact set of tasks that rerun after each: no stale cache hit and no needless rebuild. After
 * each change, `nx-distro explain` names the inputs that changed. After each revert, every task
 * comes from the cache again.
 *
 * The workspace has its own copy of the plugin (so its code is an input that can be edited), its
 * own Nx cache, and the test run's distfiles store. Needs the host of tools/setup-host.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'x86_64';
const PROJECTS = ['zlib', 'zprobe', 'hello'];
/** The build machine's pacman arch name. */
const BUILD_ARCH = ({ x64: 'x86_64', arm64: 'aarch64', arm: 'armv7h', riscv64: 'riscv64' } as Record<string, string>)[os.arch()] ?? os.arch();

/** A patch (patch -p1) to zlib 1.2.13's zlib.h adding a comment: an installed header changes. */
const HEADER_PATCH = `--- a/zlib.h
+++ b/zlib.h
@@ -40,6 +40,7 @@
 #define ZLIB_VERSION "1.2.13"
 #define ZLIB_VERNUM 0x12d0
 #define ZLIB_VER_MAJOR 1
+/* nx-distro mutation test */
 #define ZLIB_VER_MINOR 2
 #define ZLIB_VER_REVISION 13
 #define ZLIB_VER_SUBREVISION 0
`;

interface Mutation {
  /** The kind of change. */
  readonly name: string;
  /**
   * Brings the workspace to this mutation's starting point, then a run (any tasks) records it;
   * returns how to undo it, after which every task comes from the cache again.
   */
  readonly setup?: (ws: TestWorkspace) => () => void;
  /** Applies it; returns how to revert it. */
  readonly apply: (ws: TestWorkspace) => () => void;
  /** The tasks that must run, exactly. */
  readonly ran: readonly string[];
  /** The run fails (a source that no longer verifies). */
  readonly fails?: RegExp;
  /** Lines `nx-distro explain` must print (one task each): `[task, pattern]`. */
  readonly explain: readonly (readonly [string, RegExp])[];
}

const b = (p: string) => `${p}:build:${TARGET}`;
const f = (p: string) => `${p}:fetch`;
/** The x86_64 system target's identity task, which reads every target file and toolchain. */
const st = `system:system-target:${TARGET}`;

describe('mutation matrix: exactly the affected tasks rerun, and explain names why', () => {
  let ws: TestWorkspace;
  let wrapperDir: string;
  let otherWrapperDir: string;
  const edit = (file: string, change: (text: string) => string) => {
    const before = ws.read(file);
    ws.write(file, change(before));
    return () => ws.write(file, before);
  };
  /**
   * Replaces a file by one with the changed text that keeps the old file's modification time, as
   * `cp -a`, `tar -x` and `rsync -a` do; returns how to put the old text back, the same way.
   */
  const replaceKeepingMtime = (file: string, change: (text: string) => string) => {
    const abs = path.join(ws.root, file);
    const put = (text: string) => {
      writeFileSync(`${abs}.new`, text);
      execFileSync('touch', ['-r', abs, `${abs}.new`]);
      renameSync(`${abs}.new`, abs);
    };
    const before = ws.read(file);
    put(change(before));
    return () => put(before);
  };
  /**
   * Gives files an old modification time, so that the run after it records that time and no
   * racy-file rule of Nx's walk rehashes them anyway; the bytes stay.
   */
  const ageing = (...files: string[]) => () => {
    for (const file of files) execFileSync('touch', ['-d', '2020-01-01 00:00:00', path.join(ws.root, file)]);
    return () => {};
  };
  /** A second version of HEADER_PATCH: another comment in the same place. */
  const HEADER_PATCH_2 = HEADER_PATCH.replace('nx-distro mutation test', 'nx-distro mutation test, second');
  /** zlib's recipe with a prepare step (run in the unpacked sources before configure). */
  const zlibPrepare = (script: string) => edit('recipes/zlib/recipe.yaml', (t) => t.replace('steps:\n', `steps:\n  prepare: |\n    ${script}\n`));

  const MUTATIONS: Mutation[] = [
    {
      name: 'a recipe field (zlib release 1 -> 2)',
      apply: () => edit('recipes/zlib/recipe.yaml', (t) => t.replace('release: 1', 'release: 2')),
      // zlib's package is new (its .PKGINFO); its ABI manifest is not: zprobe stays cached
      ran: [f('zlib'), b('zlib')],
      explain: [[b('zlib'), /changed file recipes\/zlib\/recipe\.yaml/]],
    },
    {
      name: 'a patch (zlib.h gains a comment)',
      apply: (w) => {
        w.write('recipes/zlib/header.patch', HEADER_PATCH);
        const revert = edit('recipes/zlib/recipe.yaml', (t) => t.replace('style:', 'patches:\n  - file: header.patch\n    upstream: https://github.com/madler/zlib/issues/1\nstyle:'));
        return () => {
          revert();
          w.remove('recipes/zlib/header.patch');
        };
      },
      // an installed header changed: zprobe compiles it in, so it rebuilds
      ran: [f('zlib'), b('zlib'), b('zprobe')],
      explain: [
        [b('zlib'), /added\s+file recipes\/zlib\/header\.patch/],
        [b('zprobe'), /changed .*abi\.json/],
      ],
    },
    {
      name: 'a source checksum (an upstream re-roll)',
      apply: () => edit('recipes/zlib/recipe.yaml', (t) => t.replace(/sha256: 71feb7947e3c/, 'sha256: 00feb7947e3c')),
      ran: [f('zlib')],
      fails: /sha256/,
      explain: [[f('zlib'), /changed file recipes\/zlib\/recipe\.yaml/]],
    },
    {
      name: 'a target flag (CFLAGS of targets/x86_64.yaml)',
      apply: () => edit(`targets/${TARGET}.yaml`, (t) => t.replace(/^(\s*cflags:\s*)(["']?)/m, '$1$2-DNX_DISTRO_MUTATION ')),
      ran: [st, b('zlib'), b('zprobe'), b('hello')],
      explain: [
        [st, /changed file targets\/x86_64\.yaml/],
        [b('hello'), /changed .*system-target\.json/],
      ],
    },
    {
      name: "another system target's file (CFLAGS of targets/aarch64.yaml)",
      apply: () => edit('targets/aarch64.yaml', (t) => t.replace(/^(\s*cflags:\s*)(["']?)/m, '$1$2-DNX_DISTRO_MUTATION ')),
      // the identity task reads every target file, but writes x86_64's alone: no build reruns
      ran: [st],
      explain: [[st, /changed file targets\/aarch64\.yaml/]],
    },
    {
      name: 'the toolchain (another x86_64-linux-gnu-gcc first on PATH)',
      apply: (w) => {
        w.env.PATH = `${wrapperDir}:${process.env.PATH}`;
        return () => delete w.env.PATH;
      },
      ran: [st, b('zlib'), b('zprobe'), b('hello')],
      explain: [
        [st, /changed\s+runtime:node \S*toolchain-identity\.mjs/],
        [b('hello'), /changed .*system-target\.json/],
      ],
    },
    {
      name: "another system target's toolchain (another riscv64-linux-gnu-gcc first on PATH)",
      apply: (w) => {
        w.env.PATH = `${otherWrapperDir}:${process.env.PATH}`;
        return () => delete w.env.PATH;
      },
      ran: [st],
      explain: [[st, /changed\s+runtime:node \S*toolchain-identity\.mjs/]],
    },
    {
      name: "the executor code (a comment in the plugin's cross executor)",
      apply: () => edit('packages/nx-distro/src/executors/cross/executor.ts', (t) => `${t}\n// nx-distro mutation test\n`),
      ran: [st, ...PROJECTS.map(f), ...PROJECTS.map(b)],
      explain: [[b('hello'), /changed .*packages\/nx-distro/]],
    },
    {
      name: "a dependency's ABI (zlib exports one more function)",
      apply: () => zlibPrepare("sed -i 's/^\\tcrc32_combine_op;$/\\tcrc32_combine_op;\\n\\tzlib_nx_probe;/' zlib.map && printf 'int zlib_nx_probe(void) { return 1; }\\n' >> adler32.c"),
      ran: [f('zlib'), b('zlib'), b('zprobe')],
      explain: [[b('zprobe'), /changed .*abi\.json/]],
    },
    {
      name: "a dependency's internals (adler32's block size, same ABI)",
      apply: () => zlibPrepare("sed -i 's/^#define NMAX 5552$/#define NMAX 5000/' adler32.c && grep -q 'NMAX 5000' adler32.c"),
      // libz.so keeps its ABI, but zlib also ships libz.a, whose bytes changed and which a
      // dependent may link in: its ABI manifest changes, so zprobe rebuilds (no cutoff for a
      // library with a static archive; test/early-cutoff.test.ts shows the cutoff on readline,
      // which ships none)
      ran: [f('zlib'), b('zlib'), b('zprobe')],
      explain: [
        [b('zlib'), /changed file recipes\/zlib\/recipe\.yaml/],
        [b('zprobe'), /changed .*abi\.json/],
      ],
    },
    {
      name: 'an unrelated recipe (hello release 1 -> 2)',
      apply: () => edit('recipes/hello/recipe.yaml', (t) => t.replace('release: 1', 'release: 2')),
      ran: [f('hello'), b('hello')],
      explain: [[b('hello'), /changed file recipes\/hello\/recipe\.yaml/]],
    },
    {
      name: "a comment in zlib's recipe",
      apply: () => edit('recipes/zlib/recipe.yaml', (t) => `# a comment\n${t}`),
      ran: [f('zlib'), b('zlib')],
      explain: [[b('zlib'), /changed file recipes\/zlib\/recipe\.yaml/]],
    },
    // The same changes as above, by files replaced with ones that keep the old modification
    // time: Nx's walk once trusted the mtime alone (patches/nx+24.0.0.patch)
    {
      // a change no earlier case made, so that Nx's cache cannot hold its tasks yet
      name: 'a recipe replaced with its old modification time (zlib release 1 -> 3, cp -a)',
      setup: ageing('recipes/zlib/recipe.yaml'),
      apply: () => replaceKeepingMtime('recipes/zlib/recipe.yaml', (t) => t.replace('release: 1', 'release: 3')),
      ran: [f('zlib'), b('zlib')],
      explain: [[b('zlib'), /changed file recipes\/zlib\/recipe\.yaml/]],
    },
    {
      name: 'a patch replaced with its old modification time (another comment in zlib.h, cp -a)',
      setup: (w) => {
        w.write('recipes/zlib/header.patch', HEADER_PATCH);
        const revert = edit('recipes/zlib/recipe.yaml', (t) => t.replace('style:', 'patches:\n  - file: header.patch\n    upstream: https://github.com/madler/zlib/issues/1\nstyle:'));
        ageing('recipes/zlib/header.patch', 'recipes/zlib/recipe.yaml')();
        return () => {
          revert();
          w.remove('recipes/zlib/header.patch');
        };
      },
      apply: () => replaceKeepingMtime('recipes/zlib/header.patch', () => HEADER_PATCH_2),
      ran: [f('zlib'), b('zlib'), b('zprobe')],
      explain: [
        [b('zlib'), /changed\s+file recipes\/zlib\/header\.patch/],
        [b('zprobe'), /changed .*abi\.json/],
      ],
    },
    {
      // another system target's file: the identity task, which reads every target file, must rerun
      // (a stale hash would leave it cached), and no build (as in the case with a new mtime)
      name: 'a target file replaced with its old modification time (CFLAGS of targets/aarch64.yaml, cp -a)',
      setup: ageing('targets/aarch64.yaml'),
      apply: () => replaceKeepingMtime('targets/aarch64.yaml', (t) => t.replace(/^(\s*cflags:\s*)(["']?)/m, '$1$2-DNX_DISTRO_SAME_MTIME ')),
      ran: [st],
      explain: [[st, /changed file targets\/aarch64\.yaml/]],
    },
    {
      name: 'the build date (SOURCE_DATE_EPOCH set)',
      apply: (w) => {
        w.env.SOURCE_DATE_EPOCH = '1700000000';
        return () => delete w.env.SOURCE_DATE_EPOCH;
      },
      ran: PROJECTS.map(b),
      explain: [[b('zlib'), /added\s+env:SOURCE_DATE_EPOCH|changed\s+env:SOURCE_DATE_EPOCH/]],
    },
  ];

  before(() => {
    ws = createWorkspace('mutations', { ownPlugin: true });
    // the workspace's outputs and Nx's own folders are not walked, as in a real workspace (its
    // .gitignore): a fetch's rewritten SHA256SUMS or Nx's lock file would otherwise make every walk
    // hash every file again, and the same-mtime cases below would pass without the detection
    ws.write('.nxignore', '/dist/\n/.nx-test/\n/.distfiles/\n');
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(ws.root, 'recipes', 'zlib'), { recursive: true });
    if (process.env.NX_DISTRO_TEST_RUN_DIR) ws.env.NX_DISTRO_DISTFILES = path.join(process.env.NX_DISTRO_TEST_RUN_DIR, 'distfiles');
    if (process.env.NX_DISTRO_TEST_MIRRORS) ws.env.NX_DISTRO_MIRRORS = process.env.NX_DISTRO_TEST_MIRRORS;
    // the same compiler behind another file: the toolchain's identity changes, its output does not
    wrapperDir = mkdtempSync(path.join(tmpdir(), 'nx-distro-wrapper-'));
    const gcc = path.join(wrapperDir, 'x86_64-linux-gnu-gcc');
    writeFileSync(gcc, '#!/bin/sh\n# another build of the compiler\nexec /usr/bin/x86_64-linux-gnu-gcc "$@"\n');
    chmodSync(gcc, 0o755);
    otherWrapperDir = mkdtempSync(path.join(tmpdir(), 'nx-distro-wrapper-'));
    const riscv = path.join(otherWrapperDir, 'riscv64-linux-gnu-gcc');
    writeFileSync(riscv, '#!/bin/sh\n# another build of the compiler\nexec /usr/bin/riscv64-linux-gnu-gcc "$@"\n');
    chmodSync(riscv, 0o755);
  });
  after(() => {
    ws.dispose();
    rmSync(wrapperDir, { recursive: true, force: true });
    rmSync(otherWrapperDir, { recursive: true, force: true });
  });

  async function run(): Promise<{ exitCode: number; ran: string[]; all: string }> {
    const r = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '-p', ...PROJECTS, '--output-style=static');
    const ran: string[] = [];
    for (const m of r.all.matchAll(/^> nx run (\S+)(.*)$/gm)) if (!/\[(local|remote) cache\]/.test(m[2])) ran.push(m[1]);
    return { exitCode: r.exitCode, ran: ran.sort(), all: r.all };
  }

  it('builds the three recipes, then a second run is all cached', async () => {
    const first = await run();
    assert.equal(first.exitCode, 0, first.all.slice(-6000));
    const second = await run();
    assert.equal(second.exitCode, 0, second.all.slice(-6000));
    assert.deepEqual(second.ran, []);
    // the zprobe package runs and prints the zlib version it was linked with: zlib's and zprobe's
    // packages installed with pacman into an empty root (no dependency check: the toolchain's C
    // runtime package is not part of these runs), zprobe run from it with the root's libz, under
    // the target's QEMU with the toolchain's C library, or directly on a build machine of its arch
    // (outside the workspace, so that no file of it can become an input of a later run)
    const outside = mkdtempSync(path.join(tmpdir(), 'nx-distro-zprobe-'));
    try {
      await runZprobe(outside);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  /**
   * Installs the zlib and zprobe packages with pacman into a root under `outside` and runs zprobe
   * from it; fails unless it loads the root's libz and prints the version of the zlib recipe.
   * @param outside an empty folder outside the workspace
   */
  async function runZprobe(outside: string) {
    const rootfs = path.join(outside, 'rootfs');
    mkdirSync(path.join(rootfs, 'var/lib/pacman'), { recursive: true });
    const conf = path.join(outside, 'pacman.conf');
    writeFileSync(conf, `[options]\nArchitecture = ${TARGET}\nSigLevel = Never\nHookDir = ${path.join(outside, 'no-hooks')}\n`);
    const pkg = (name: string, version: string) => path.join(ws.root, 'dist', TARGET, 'packages', name, `${name}-${version}-1-${TARGET}.pkg.tar.zst`);
    const zlibVersion = (load(ws.read('recipes/zlib/recipe.yaml')) as { version: string }).version;
    const install = await execa('pacman', ['--root', rootfs, '--dbpath', path.join(rootfs, 'var/lib/pacman'), '--config', conf, '--noconfirm', '--noscriptlet', '-Udd', pkg('zlib', zlibVersion), pkg('zprobe', '1.0')], { reject: false, all: true });
    assert.equal(install.exitCode, 0, install.all);
    const target = load(readFileSync(path.join(REPO_ROOT, 'targets', `${TARGET}.yaml`), 'utf8')) as { arch: string; qemu: string; toolchain: { sysroot: string } };
    const zprobe = path.join(rootfs, 'usr/bin/zprobe');
    const env: Record<string, string> = { LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib'), LC_ALL: 'C' };
    let probe;
    if (BUILD_ARCH === target.arch) {
      // the build machine has a libz.so.1 of its own: the root's must be the one loaded
      const ldd = await execa('ldd', [zprobe], { env, all: true });
      assert.match(ldd.all, new RegExp(`libz\\.so\\.1 => ${rootfs}/usr/lib/libz\\.so\\.1 `), ldd.all);
      probe = await execa(zprobe, [], { env, reject: false, all: true });
    } else probe = await execa(target.qemu, [zprobe], { env: { ...env, QEMU_LD_PREFIX: target.toolchain.sysroot }, reject: false, all: true });
    assert.equal(probe.exitCode, 0, probe.all);
    assert.equal(probe.stdout, zlibVersion);
  }

  for (const m of MUTATIONS) {
    it(m.name, async () => {
      const undoSetup = m.setup?.(ws);
      if (undoSetup) {
        const s = await run();
        assert.equal(s.exitCode, 0, s.all.slice(-6000));
      }
      const revert = m.apply(ws);
      let r;
      try {
        r = await run();
        if (m.fails) {
          assert.notEqual(r.exitCode, 0);
          assert.match(r.all, m.fails);
        } else assert.equal(r.exitCode, 0, r.all.slice(-6000));
        assert.deepEqual(r.ran, [...m.ran].sort(), `tasks that ran after: ${m.name}`);
        for (const [task, pattern] of m.explain) {
          const e = await ws.bin('nx-distro', 'explain', task);
          assert.equal(e.exitCode, 0, e.all);
          assert.match(e.stdout, pattern, `explain ${task}:\n${e.stdout}`);
        }
      } finally {
        revert();
      }
      const back = await run();
      assert.equal(back.exitCode, 0, back.all.slice(-6000));
      // reverted: every task has its earlier key, and the cache has each (a failed fetch left nothing)
      assert.deepEqual(back.ran, []);
      if (undoSetup) {
        undoSetup();
        const base = await run();
        assert.equal(base.exitCode, 0, base.all.slice(-6000));
        assert.deepEqual(base.ran, []);
      }
    });
  }

  it('explain without a task lists every task of the last run that ran', async () => {
    const revert = edit('recipes/hello/recipe.yaml', (t) => `${t}# another comment\n`);
    try {
      const r = await run();
      assert.equal(r.exitCode, 0, r.all.slice(-6000));
      const e = await ws.bin('nx-distro', 'explain');
      assert.match(e.stdout, /^last run \(.*\): 7 tasks, 2 ran, 5 from a cache or skipped$/m);
      assert.match(e.stdout, /^hello:build:x86_64: hash \d+ .* differs from the one before/m);
      assert.match(e.stdout, /^hello:fetch: hash \d+ .* differs from the one before/m);
      assert.doesNotMatch(e.stdout, /^zlib:/m);
    } finally {
      revert();
    }
  });
});
