/**
 * End to end, for aarch64: the `system` project's `toolchain-runtime` (the external toolchain's C
 * runtime as a package) and `build` (the system target's pacman repository), run by
 * `nx run-many -t build -c aarch64` in a fresh workspace on real recipes, with the test run's Nx
 * cache and distfiles store (test/build.test.ts built these packages earlier in the run; alone,
 * this file builds them). That workspace is not a git checkout, so its SOURCE_DATE_EPOCH is the
 * fallback (1980-01-01): the runtime package, an input of every build, is then the same bytes
 * as test/build.test.ts's and the builds' keys are the same. The commit time of a target file as
 * the runtime's epoch is checked in a second workspace, a git checkout with its own cache (the
 * epoch is not in the cache key, docs/cache-keys.md). The packages are installed with real pacman (-U, and -Sy/-S from the
 * repository with dependency resolution) into empty roots, and programs run from those roots
 * alone with `qemu-aarch64-static -L <root>`: no QEMU_LD_PREFIX, no build machine sysroot.
 *
 * Needs on the host (tools/setup-host): the aarch64 cross compiler, bubblewrap, pacman and
 * repo-add, bsdtar, zstd, qemu-user-static; root for pacman installs; network for the sources.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { FALLBACK_SOURCE_DATE_EPOCH } from '../packages/nx-distro/src/pipeline/source-date-epoch';
import { EM, readElf } from '../packages/nx-distro/src/packages/elf';
import { pkgnameOfFile } from '../packages/nx-distro/src/model/package-layout';
import { commitTargets, createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'aarch64';
const PREFIX = 'aarch64-linux-gnu-';
/** Recipes copied into the workspace: lua pulls readline, which pulls ncurses. */
const RECIPES = ['busybox', 'lua', 'ncurses', 'readline', 'zlib'];
/** Commit time given to the workspace's target files: the runtime package's SOURCE_DATE_EPOCH. */
const COMMIT_EPOCH = 1714000000; // 2024-04-24T23:06:40Z
const needRoot = process.getuid?.() === 0 ? false : 'pacman installs need root';

/** The toolchain's own versions, asked independently of the code under test (headers, not libc.so.6). */
function toolchainVersions(): { glibc: string; gcc: string } {
  const macros = execFileSync(`${PREFIX}gcc`, ['-E', '-dM', '-include', 'features.h', '-x', 'c', '/dev/null'], { encoding: 'utf8' });
  const glibc = `${/#define __GLIBC__ (\d+)/.exec(macros)![1]}.${/#define __GLIBC_MINOR__ (\d+)/.exec(macros)![1]}`;
  return { glibc, gcc: execFileSync(`${PREFIX}gcc`, ['-dumpfullversion'], { encoding: 'utf8' }).trim() };
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe(`the system project for ${TARGET}: toolchain runtime and repository`, () => {
  let ws: TestWorkspace;
  let runtimeFile: string;
  const dist = (...p: string[]) => path.join(ws.root, 'dist', TARGET, ...p);
  /** The package file of `pkgname` (default: the folder's own name) in the output folder `dist/<target>/packages/<name>/`. */
  const pkgFile = (name: string, pkgname = name) => {
    const dir = dist('packages', name);
    const files = readdirSync(dir).filter((f) => f.endsWith('.pkg.tar.zst') && pkgnameOfFile(f) === pkgname);
    assert.equal(files.length, 1, `${dir}: ${readdirSync(dir).join(' ')}`);
    return path.join(dir, files[0]);
  };
  const pkginfo = async (file: string) => (await execa('bsdtar', ['-xOf', file, '.PKGINFO'])).stdout;

  /** pacman on the empty root `<ws>/roots/<name>` (pacman.conf as test/build.test.ts, plus `extra`). */
  function pacmanRoot(name: string, extra = '') {
    const root = path.join(ws.root, 'roots', name);
    mkdirSync(path.join(root, 'var/lib/pacman'), { recursive: true });
    const conf = path.join(ws.root, 'roots', `${name}.conf`);
    writeFileSync(conf, `[options]\nArchitecture = ${TARGET}\nSigLevel = Never\nHookDir = ${path.join(ws.root, 'no-hooks')}\n${extra}`);
    // Its own package cache: pacman's default /var/cache/pacman/pkg is the machine's, where a
    // file of the same name left by another run would be taken (and fail its checksum).
    const cacheDir = path.join(ws.root, 'roots', `${name}.cache`);
    mkdirSync(cacheDir, { recursive: true });
    const pacman = (...args: string[]) => execa('pacman', ['--root', root, '--dbpath', path.join(root, 'var/lib/pacman'), '--cachedir', cacheDir, '--config', conf, '--arch', TARGET, '--noconfirm', ...args], { reject: false, all: true });
    return { root, pacman };
  }

  /** Runs a program of `root` under QEMU with `-L root` only: nothing of the build machine's aarch64 files. */
  const qemu = (root: string, program: string, args: string[], input?: string) => {
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.QEMU_LD_PREFIX;
    delete env.LD_LIBRARY_PATH;
    return execa('qemu-aarch64-static', ['-L', root, path.join(root, program), ...args], { env, extendEnv: false, input, reject: false, all: true });
  };

  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    for (const r of RECIPES) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
  });
  after(() => ws.dispose());

  it('run-many -t build -c aarch64 builds every package and the toolchain runtime, and ends with the repository', async () => {
    const run = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '--parallel=2', '--output-style=static');
    assert.equal(run.exitCode, 0, run.all.slice(-6000));
    // Each recipe's package and its -debug package (but busybox's: its own build strips the
    // program it installs, so there is nothing to split), the runtime and its -dev split.
    const expected = [...RECIPES.flatMap((n) => [[n, n], ...(n === 'busybox' ? [] : [[n, `${n}-debug`]])]), ['toolchain-runtime', 'toolchain-runtime'], ['toolchain-runtime', 'toolchain-runtime-dev']];
    const repoLine = run.all.indexOf(`${TARGET}: repository dist/${TARGET}/repo/${TARGET}.db.tar.zst with ${expected.length} packages: `);
    assert.ok(repoLine >= 0, run.all.slice(-4000));
    for (const name of [...RECIPES, 'toolchain-runtime']) {
      const wrote = run.all.indexOf(`wrote dist/${TARGET}/packages/${name}/`);
      assert.ok(wrote >= 0 && wrote < repoLine, `${name} is written before the repository`);
    }
    assert.match(run.all, /toolchain-runtime: aarch64-linux-gnu-gcc [\d.]+, glibc [\d.]+; loader \/lib\/ld-linux-aarch64\.so\.1; ld-linux-aarch64\.so\.1 libc\.so\.6 libm\.so\.6 /);

    const repo = dist('repo');
    const files = readdirSync(repo).sort();
    assert.deepEqual(files.filter((f) => f.endsWith('.pkg.tar.zst')), expected.map(([n, p]) => path.basename(pkgFile(n, p))).sort());
    assert.deepEqual(files.filter((f) => !f.endsWith('.pkg.tar.zst')), [`${TARGET}.db`, `${TARGET}.db.tar.zst`, `${TARGET}.files`, `${TARGET}.files.tar.zst`]);
    assert.equal(readlinkSync(path.join(repo, `${TARGET}.db`)), `${TARGET}.db.tar.zst`);
    const entries = (await execa('bsdtar', ['-tf', path.join(repo, `${TARGET}.db.tar.zst`)])).stdout.split('\n').filter((l) => l.endsWith('/desc')).map((l) => l.replace(/-[^-]+-[^-]+\/desc$/, '')).sort();
    assert.deepEqual(entries, expected.map(([, p]) => p).sort());
    assert.deepEqual(readdirSync(dist()).filter((f) => f.startsWith('.')), [], 'no staging folder left');
  });

  it('packages the toolchain runtime: its version from the toolchain, licenses, sonames in usr/lib, lib -> usr/lib, the fallback date outside git', async () => {
    const v = toolchainVersions();
    runtimeFile = pkgFile('toolchain-runtime');
    assert.equal(path.basename(runtimeFile), `toolchain-runtime-${v.glibc}+gcc${v.gcc}-1-${TARGET}.pkg.tar.zst`);
    const info = await pkginfo(runtimeFile);
    assert.match(info, /^license = LGPL-2\.1-or-later$/m);
    assert.match(info, /^license = GPL-3\.0-or-later WITH GCC-exception-3\.1$/m);
    assert.match(info, new RegExp(`^pkgdesc = C runtime of the external toolchain aarch64-linux-gnu-gcc ${v.gcc.replace(/\./g, '\\.')}: glibc ${v.glibc.replace(/\./g, '\\.')}`, 'm'));
    assert.match(info, /^arch = aarch64$/m);
    assert.match(info, new RegExp(`^builddate = ${FALLBACK_SOURCE_DATE_EPOCH}$`, 'm'), 'SOURCE_DATE_EPOCH outside git: 1980-01-01');
    assert.doesNotMatch(info, /^depend = /m);

    const list = (await execa('bsdtar', ['-tvf', runtimeFile])).stdout.split('\n');
    const entry = (name: string) => list.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} -> `));
    assert.match(entry('lib') ?? '', /^l.* lib -> usr\/lib$/);
    for (const so of ['ld-linux-aarch64.so.1', 'libc.so.6', 'libm.so.6', 'libresolv.so.2', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'libnss_files.so.2', 'libnss_dns.so.2', 'libgcc_s.so.1', 'libstdc++.so.6', 'libatomic.so.1']) {
      assert.match(entry(`usr/lib/${so}`) ?? `${so} missing`, /^-rwxr-xr-x /, `${so} is a regular file, mode 0755`);
    }
    assert.equal(list.filter((l) => l.startsWith('l')).length, 1, 'only the lib link is a symlink: libraries are real files named by soname');
    assert.equal(list.filter((l) => / usr\/lib\/.*\.so\.\d+\.\d+/.test(l)).length, 0, 'no versioned file names (libstdc++.so.6.0.30)');
  });

  it("takes the commit time of the target file as its date in a git checkout (targets/aarch64.yaml committed at 2024-04-24)", async () => {
    const committed = createWorkspace();
    try {
      commitTargets(committed, COMMIT_EPOCH);
      const r = await committed.nx('run', 'system:toolchain-runtime', '-c', TARGET, '--output-style=static');
      assert.equal(r.exitCode, 0, r.all.slice(-3000));
      const dir = path.join(committed.root, 'dist', TARGET, 'packages', 'toolchain-runtime');
      const info = await pkginfo(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.pkg.tar.zst') && pkgnameOfFile(f) === 'toolchain-runtime')!));
      assert.match(info, new RegExp(`^builddate = ${COMMIT_EPOCH}$`, 'm'), 'SOURCE_DATE_EPOCH: the commit time of targets/aarch64.yaml');
    } finally {
      committed.dispose();
    }
  });

  it('writes the same bytes when run again, and takes SOURCE_DATE_EPOCH from the environment', async () => {
    const first = sha256(runtimeFile);
    const again = await ws.nx('run', 'system:toolchain-runtime', '-c', TARGET, '--skip-nx-cache', '--output-style=static');
    assert.equal(again.exitCode, 0, again.all.slice(-3000));
    assert.doesNotMatch(again.all, /read the output from the cache/);
    assert.equal(sha256(runtimeFile), first, 'reproducible');

    ws.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      const r = await ws.nx('run', 'system:toolchain-runtime', '-c', TARGET, '--skip-nx-cache', '--output-style=static');
      assert.equal(r.exitCode, 0, r.all.slice(-3000));
      assert.match(await pkginfo(runtimeFile), /^builddate = 1700000000$/m);
      assert.notEqual(sha256(runtimeFile), first);
    } finally {
      ws.env.SOURCE_DATE_EPOCH = undefined;
    }
    const back = await ws.nx('run', 'system:toolchain-runtime', '-c', TARGET, '--skip-nx-cache', '--output-style=static');
    assert.equal(back.exitCode, 0, back.all.slice(-3000));
    assert.equal(sha256(runtimeFile), first);
    assert.deepEqual(readdirSync(dist('packages', 'toolchain-runtime')), [path.basename(runtimeFile), path.basename(pkgFile('toolchain-runtime', 'toolchain-runtime-dev'))].sort(), 'the runtime and its -dev split, nothing else');
  });

  it('makes a root that runs programs by itself: pacman -U of the runtime and lua, run with qemu -L <root> only', { skip: needRoot }, async () => {
    const { root, pacman } = pacmanRoot('direct');
    const u = await pacman('--noscriptlet', '-U', runtimeFile, ...['lua', 'readline', 'ncurses', 'busybox'].map((n) => pkgFile(n)));
    assert.equal(u.exitCode, 0, u.all);
    const kk = await pacman('-Qkk', 'toolchain-runtime');
    assert.equal(kk.exitCode, 0, kk.all);

    for (const file of ['usr/bin/lua', 'usr/bin/busybox', 'usr/lib/libc.so.6', 'usr/lib/ld-linux-aarch64.so.1', 'usr/lib/libstdc++.so.6']) {
      assert.equal(readElf(path.join(root, file)).machine, EM.AARCH64, `${file}: e_machine EM_AARCH64`);
    }
    const interp = readElf(path.join(root, 'usr/bin/lua')).interpreter!;
    assert.equal(interp, '/lib/ld-linux-aarch64.so.1');
    assert.equal(realpathSync(path.join(root, interp)), path.join(realpathSync(root), 'usr/lib/ld-linux-aarch64.so.1'), 'PT_INTERP resolves inside the root');

    const lua = await qemu(root, 'usr/bin/lua', ['-e', 'local t = {} for i = 1, 10 do t[#t + 1] = i * i end print(table.concat(t, ","), _VERSION, math.sqrt(2) > 1.41)']);
    assert.equal(lua.exitCode, 0, lua.all);
    assert.equal(lua.stdout, '1,4,9,16,25,36,49,64,81,100\tLua 5.4\ttrue');
    const sh = await qemu(root, 'usr/bin/busybox', ['sh', '-c', 'n=0; for i in 1 2 3; do n=$((n + i)); done; echo $n $((6 * 7))']);
    assert.equal(sh.stdout, '6 42', sh.all);
    const sum = await qemu(root, 'usr/bin/busybox', ['sha256sum'], 'abc');
    assert.match(sum.stdout, /^ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/, sum.all);

    // Control: the same programs without the runtime do not run, so nothing outside the root helped.
    const bare = pacmanRoot('bare');
    const b = await bare.pacman('--noscriptlet', '-Udd', ...['lua', 'readline', 'ncurses'].map((n) => pkgFile(n)));
    assert.equal(b.exitCode, 0, b.all);
    const fails = await qemu(bare.root, 'usr/bin/lua', ['-e', 'print(1)']);
    assert.notEqual(fails.exitCode, 0, fails.all);
    assert.notEqual(fails.stdout, '1');
  });

  it('serves pacman -Sy / -S from the repository: lua pulls readline, ncurses and the runtime, and runs', { skip: needRoot }, async () => {
    const luaDeps = (await pkginfo(pkgFile('lua'))).split('\n').filter((l) => l.startsWith('depend = ')).map((l) => l.slice(9)).sort();
    assert.deepEqual(luaDeps, ['readline', 'toolchain-runtime'], 'lua depends on readline and the runtime');
    const { root, pacman } = pacmanRoot('repo', `\n[${TARGET}]\nServer = file://${dist('repo')}\n`);
    const sy = await pacman('-Sy');
    assert.equal(sy.exitCode, 0, sy.all);
    const s = await pacman('--noscriptlet', '-S', 'lua');
    assert.equal(s.exitCode, 0, s.all);
    const q = (await pacman('-Qq')).stdout.split('\n').sort();
    assert.deepEqual(q, ['lua', 'ncurses', 'readline', 'toolchain-runtime']);
    assert.match((await pacman('-Qi', 'toolchain-runtime')).stdout, /^Install Reason\s+: Installed as a dependency for another package$/m);
    const lua = await qemu(root, 'usr/bin/lua', ['-e', 'print(string.format("%d", 6 * 7))']);
    assert.equal(lua.stdout, '42', lua.all);
  });

  it('replaces a package rebuilt at a new release in the repository, leaving no older file', async () => {
    const recipe = path.join(ws.root, 'recipes', 'zlib', 'recipe.yaml');
    const text = readFileSync(recipe, 'utf8');
    assert.match(text, /^release: 1$/m);
    writeFileSync(recipe, text.replace(/^release: 1$/m, 'release: 2'));
    const run = await ws.nx('run-many', '-t', 'build', '-c', TARGET, '--parallel=2', '--output-style=static');
    assert.equal(run.exitCode, 0, run.all.slice(-6000));
    const zlib = readdirSync(dist('repo')).filter((f) => f.startsWith('zlib-'));
    assert.deepEqual(zlib, [path.basename(pkgFile('zlib')), path.basename(pkgFile('zlib', 'zlib-debug'))].sort());
    assert.match(zlib[0], /^zlib-[\d.]+-2-aarch64\.pkg\.tar\.zst$/);
    assert.match(zlib[1], /^zlib-debug-[\d.]+-2-aarch64\.pkg\.tar\.zst$/);
    const entries = (await execa('bsdtar', ['-tf', dist('repo', `${TARGET}.db.tar.zst`)])).stdout.split('\n').filter((l) => l.startsWith('zlib-') && l.endsWith('/desc'));
    assert.deepEqual(entries.map((e) => e.replace(/^zlib-(debug-)?[\d.]+-/, '$1')).sort(), ['2/desc', 'debug-2/desc']);
    assert.match(run.all, new RegExp(`${TARGET}: repository dist/${TARGET}/repo/${TARGET}\\.db\\.tar\\.zst with 11 packages: `), 'the five recipes, four -debug packages, the runtime and its -dev split');
  });

  it('refuses a packages folder with two versions of one package, in one line, and keeps the old repository', async () => {
    const stray = dist('packages', 'zlib-old');
    mkdirSync(stray);
    cpSync(pkgFile('zlib'), path.join(stray, path.basename(pkgFile('zlib')).replace('-2-', '-1-')));
    const before = readdirSync(dist('repo')).sort();
    try {
      const r = await ws.nx('run-many', '-t', 'build', '-p', 'system', '-c', TARGET, '--exclude-task-dependencies', '--skip-nx-cache', '--output-style=static');
      assert.notEqual(r.exitCode, 0);
      assert.match(r.all, /dist\/aarch64\/packages\/zlib\/zlib-[\d.]+-2-aarch64\.pkg\.tar\.zst: package zlib also comes from dist\/aarch64\/packages\/zlib-old\/zlib-[\d.]+-1-aarch64\.pkg\.tar\.zst; a repository holds one version of each package: remove the stale one|dist\/aarch64\/packages\/zlib-old\/\S+: package zlib also comes from dist\/aarch64\/packages\/zlib\/\S+; a repository holds one version/);
      assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
      assert.deepEqual(readdirSync(dist('repo')).sort(), before);
    } finally {
      ws.remove(`dist/${TARGET}/packages/zlib-old`);
    }
  });

  it('is an explicit no-op for a bootstrap toolchain: the C library comes from recipes', async () => {
    // The toolchain's recipes must be in the workspace (the graph checks the list); nothing builds them here.
    const toolchainRecipes = ['binutils', 'gcc', 'linux-headers', 'musl'];
    for (const r of toolchainRecipes) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    ws.write('targets/boot.yaml', [
      'description: a target whose toolchain is built from recipes',
      'arch: aarch64', 'triplet: aarch64-linux-musl', 'kernel_arch: arm64', 'qemu: qemu-aarch64-static',
      'toolchain:', '  kind: bootstrap', `  recipes: [${toolchainRecipes.join(', ')}]`, '  runtime: [musl]',
      'package_sets:', '  base:', '    packages: [busybox]', '',
    ].join('\n'));
    try {
      const r = await ws.nx('run', 'system:toolchain-runtime', '-c', 'boot', '--output-style=static');
      assert.equal(r.exitCode, 0, r.all.slice(-3000));
      assert.match(r.all, /toolchain-runtime: nothing to package for boot: its toolchain is built from recipes \(kind bootstrap\); the C library comes from recipes/);
      assert.deepEqual(readdirSync(path.join(ws.root, 'dist', 'boot', 'packages', 'toolchain-runtime')), []);
      assert.ok(!existsSync(path.join(ws.root, 'dist', 'boot', 'packages', 'toolchain-runtime', '..', '.toolchain-runtime.lock')));
      assert.ok(lstatSync(path.join(ws.root, 'dist', 'boot', 'packages')).isDirectory());
    } finally {
      ws.remove('targets/boot.yaml');
      for (const r of toolchainRecipes) ws.remove(`recipes/${r}`);
    }
  });
});
