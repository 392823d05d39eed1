import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { EM, readElf } from './elf';
import { writePackage, type BuildInfo } from './pacman-package';
import { glibcVersionOf, loaderLinks, probeToolchainRuntime, runtimeDescription, runtimePkgver, RUNTIME_LICENSES, stageToolchainRuntime, ToolchainError, type ToolchainRuntime } from './toolchain-runtime';
import { have } from '../testing/host';

const AARCH64 = { prefix: 'aarch64-linux-gnu-', cflags: '-O2 -pipe -march=armv8-a', ldflags: '-Wl,-O1,--sort-common,--as-needed' };
const noAarch64 = have('aarch64-linux-gnu-gcc') ? false : 'aarch64-linux-gnu-gcc is not installed';

describe('glibcVersionOf', () => {
  it("reads the version and the distributor from glibc's banner (csu/version.c)", () => {
    const lib = Buffer.concat([Buffer.alloc(100, 1), Buffer.from('GNU C Library (Debian GLIBC 2.36-8) stable release version 2.36.\0Copyright (C) 2022'), Buffer.alloc(10)]);
    assert.deepEqual(glibcVersionOf(lib), { version: '2.36', distributor: 'Debian GLIBC 2.36-8' });
    assert.deepEqual(glibcVersionOf(Buffer.from('\0GNU C Library development release version 2.40.9000.\0')), { version: '2.40.9000', distributor: '' });
    assert.deepEqual(glibcVersionOf(Buffer.from('\0GNU C Library (GNU libc) release release version 2.39.\0')), { version: '2.39', distributor: 'GNU libc' });
    assert.equal(glibcVersionOf(Buffer.from('musl libc (aarch64)\0Version 1.2.3\0')), undefined);
  });

  it('finds it in the real libc.so.6 of the aarch64 toolchain', { skip: noAarch64 }, () => {
    const libc = execFileSync('aarch64-linux-gnu-gcc', ['-print-file-name=libc.so.6'], { encoding: 'utf8' }).trim();
    const v = glibcVersionOf(readFileSync(libc));
    assert.match(v?.version ?? '', /^2\.\d+$/);
    // The headers of the same toolchain agree.
    const macros = execFileSync('aarch64-linux-gnu-gcc', ['-E', '-dM', '-include', 'features.h', '-x', 'c', '/dev/null'], { encoding: 'utf8' });
    const major = /#define __GLIBC__ (\d+)/.exec(macros)![1];
    const minor = /#define __GLIBC_MINOR__ (\d+)/.exec(macros)![1];
    assert.equal(v!.version, `${major}.${minor}`);
  });
});

describe('runtimePkgver', () => {
  it('joins the versions as <glibc>+gcc<gcc>, and refuses what pacman forbids', () => {
    assert.equal(runtimePkgver('2.36', '12.2.0'), '2.36+gcc12.2.0');
    assert.throws(() => runtimePkgver('2.36-8', '12.2.0'), ToolchainError);
    assert.throws(() => runtimePkgver('2.36', '12 2'), /cannot make a pacman pkgver/);
  });

  it("orders upgrades of either part as newer by pacman's own vercmp", { skip: have('vercmp', '-h') ? false : 'vercmp (Debian package makepkg) is not installed' }, () => {
    const cmp = (a: string, b: string) => Number(execFileSync('vercmp', [a, b], { encoding: 'utf8' }).trim());
    const base = runtimePkgver('2.36', '12.2.0');
    assert.ok(cmp(runtimePkgver('2.37', '12.2.0'), base) > 0);
    assert.ok(cmp(runtimePkgver('2.36', '12.3.0'), base) > 0);
    assert.ok(cmp(runtimePkgver('2.36', '13.1.0'), base) > 0);
    assert.ok(cmp(runtimePkgver('2.35', '13.1.0'), base) < 0, 'glibc decides first');
  });
});

describe('loaderLinks', () => {
  it('links lib, and the loader folder when it is another top-level one', () => {
    assert.deepEqual(loaderLinks('/lib/ld-linux-aarch64.so.1'), ['lib']);
    assert.deepEqual(loaderLinks('/lib64/ld-linux-x86-64.so.2'), ['lib', 'lib64']);
    assert.deepEqual(loaderLinks('/usr/lib/ld-linux-riscv64-lp64d.so.1'), ['lib']);
    assert.throws(() => loaderLinks('/opt/tc/lib/ld.so.1'), /request the dynamic loader \/opt\/tc\/lib\/ld\.so\.1; only loaders in \/lib, /);
    assert.throws(() => loaderLinks('ld.so.1'), ToolchainError);
  });
});

describe('probeToolchainRuntime', () => {
  it('refuses a missing compiler in one line, with the install hint', async () => {
    await assert.rejects(probeToolchainRuntime({ prefix: 'nx-distro-no-such-', installHint: 'install gcc-no-such (tools/setup-host)' }), (e: Error) => {
      assert.ok(e instanceof ToolchainError);
      assert.equal(e.message, 'cannot run nx-distro-no-such-gcc: not found; install gcc-no-such (tools/setup-host)');
      return true;
    });
  });

  for (const [prefix, cflags, machine, loader, links] of [
    ['aarch64-linux-gnu-', AARCH64.cflags, EM.AARCH64, '/lib/ld-linux-aarch64.so.1', ['lib']],
    ['arm-linux-gnueabihf-', '-O2 -pipe -march=armv7-a -mfloat-abi=hard -mfpu=vfpv3-d16', EM.ARM, '/lib/ld-linux-armhf.so.3', ['lib']],
    ['riscv64-linux-gnu-', '-O2 -pipe -march=rv64gc -mabi=lp64d', EM.RISCV, '/lib/ld-linux-riscv64-lp64d.so.1', ['lib']],
    ['x86_64-linux-gnu-', '-O2 -pipe -fno-plt', EM.X86_64, '/lib64/ld-linux-x86-64.so.2', ['lib', 'lib64']],
  ] as const) {
    const skip = have(`${prefix}gcc`) ? false : `${prefix}gcc is not installed`;
    it(`finds the loader and the libraries of ${prefix}gcc, real files of its machine, closed under DT_NEEDED`, { skip }, async () => {
      const rt = await probeToolchainRuntime({ prefix, cflags, ldflags: AARCH64.ldflags });
      assert.equal(rt.compiler, `${prefix}gcc`);
      assert.equal(rt.gccVersion, execFileSync(`${prefix}gcc`, ['-dumpfullversion'], { encoding: 'utf8' }).trim());
      assert.equal(rt.interpreter, loader);
      assert.equal(rt.machine, machine);
      assert.deepEqual(rt.links, links);
      assert.equal(rt.pkgver, `${rt.glibcVersion}+gcc${rt.gccVersion}`);
      const names = rt.libraries.map((l) => l.name);
      assert.equal(names[0], path.posix.basename(loader), 'the loader first');
      for (const n of ['libc.so.6', 'libm.so.6', 'libgcc_s.so.1', 'libstdc++.so.6', 'libresolv.so.2', 'libpthread.so.0', 'libdl.so.2']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
      for (const lib of rt.libraries) {
        assert.ok(lstatSync(lib.source).isFile(), `${lib.source} is a real file, not a symlink`);
        const elf = readElf(lib.source);
        assert.equal(elf.machine, machine, lib.source);
        if (elf.soname) assert.equal(elf.soname, lib.name);
        for (const n of lib.needed) assert.ok(names.includes(n), `${lib.name} needs ${n}`);
      }
      assert.deepEqual([...rt.missing, ...names].sort(), [...new Set([...rt.missing, ...names])].sort(), 'no name twice');
      assert.match(runtimeDescription(rt), new RegExp(`^C runtime of the external toolchain ${prefix}gcc ${rt.gccVersion.replace(/\./g, '\\.')}: glibc ${rt.glibcVersion.replace(/\./g, '\\.')} .*libgcc_s, libstdc\\+\\+`));
    });
  }
});

describe('stageToolchainRuntime', () => {
  let tmp: string;
  let rt: ToolchainRuntime;
  before(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-runtime-'));
    if (!noAarch64) rt = await probeToolchainRuntime(AARCH64);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('lays out usr/lib with sonames and lib -> usr/lib, and packages bit for bit reproducibly', { skip: noAarch64 }, async () => {
    const EPOCH = 1700000000;
    const BI: BuildInfo = { pkgbuildSha256: 'ab'.repeat(32), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: '0.1.0' };
    const sums: string[] = [];
    for (const [i, umask] of [0o022, 0o077].entries()) {
      const pkgdir = path.join(tmp, `run${i}`, 'pkg');
      const old = process.umask(umask);
      let written: string[];
      try {
        written = await stageToolchainRuntime(rt, pkgdir, EPOCH);
      } finally {
        process.umask(old);
      }
      assert.deepEqual(written, ['lib', 'usr', 'usr/lib', ...rt.libraries.map((l) => `usr/lib/${l.name}`)].sort());
      assert.deepEqual(readdirSync(pkgdir).sort(), ['lib', 'usr']);
      assert.equal(readlinkSync(path.join(pkgdir, 'lib')), 'usr/lib');
      for (const lib of rt.libraries) {
        const st = lstatSync(path.join(pkgdir, 'usr/lib', lib.name));
        assert.ok(st.isFile(), `${lib.name} is a copy, not a link`);
        assert.equal(st.mode & 0o7777, 0o755);
        assert.equal(st.mtimeMs / 1000, EPOCH);
        assert.equal(st.nlink, 1, 'never a hard link to the toolchain file');
        assert.ok(readFileSync(path.join(pkgdir, 'usr/lib', lib.name)).equals(readFileSync(lib.source)));
      }
      assert.notEqual(lstatSync(rt.libraries[1].source).mtimeMs / 1000, EPOCH, "the toolchain's own file dates are untouched");
      const meta = { pkgname: 'toolchain-runtime', pkgbase: 'toolchain-runtime', pkgver: rt.pkgver, pkgrel: 1, pkgdesc: runtimeDescription(rt), url: 'https://www.gnu.org/software/libc/', arch: 'aarch64', license: [...RUNTIME_LICENSES], depends: [], packager: 'nx-distro', builddate: EPOCH };
      const pkg = await writePackage(pkgdir, meta, BI, path.join(tmp, `run${i}`, 'out'), EPOCH);
      sums.push(createHash('sha256').update(readFileSync(pkg.file)).digest('hex'));
    }
    assert.equal(sums[0], sums[1], 'same toolchain, epoch and metadata: same bytes, whatever the umask and folder');
  });
});

/** A C++ program that needs the loader, libc, libm, libstdc++ and libgcc_s (exceptions unwind through it), and threads. */
const CXX_PROGRAM = `#include <cmath>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
int main(int argc, char **argv) {
  std::string s = "runtime";
  int n = 0;
  std::thread t([&] { n = static_cast<int>(std::sqrt(1764.0 * argc)); });
  t.join();
  try {
    throw std::runtime_error(s + " ok");
  } catch (const std::exception &e) {
    std::cout << e.what() << " " << n << std::endl;
  }
  return 0;
}
`;

describe('the staged runtime runs programs by itself', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-runtime-run-'));
    writeFileSync(path.join(tmp, 'prog.cc'), CXX_PROGRAM);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const [prefix, cflags, qemu] of [
    ['aarch64-linux-gnu-', AARCH64.cflags, 'qemu-aarch64-static'],
    ['arm-linux-gnueabihf-', '-O2 -pipe -march=armv7-a -mfloat-abi=hard -mfpu=vfpv3-d16', 'qemu-arm-static'],
    ['riscv64-linux-gnu-', '-O2 -pipe -march=rv64gc -mabi=lp64d', 'qemu-riscv64-static'],
    ['x86_64-linux-gnu-', '-O2 -pipe -fno-plt', 'qemu-x86_64-static'],
  ] as const) {
    const skip = !have(`${prefix}g++`) ? `${prefix}g++ is not installed` : !have(qemu, '-version') ? `${qemu} is not installed` : false;
    it(`runs a C++ program of ${prefix}g++ with only the runtime in the root (${qemu} -L <root>, or a sandbox whose / is the root for the build machine's arch)`, { skip }, async () => {
      const rt = await probeToolchainRuntime({ prefix, cflags, ldflags: AARCH64.ldflags });
      const root = path.join(tmp, prefix, 'root');
      await stageToolchainRuntime(rt, root, 1700000000);
      mkdirSync(path.join(root, 'usr/bin'));
      execFileSync(`${prefix}g++`, [...cflags.split(' '), ...AARCH64.ldflags.split(' '), '-pthread', '-o', path.join(root, 'usr/bin/prog'), path.join(tmp, 'prog.cc')]);
      const needed = readElf(path.join(root, 'usr/bin/prog')).needed;
      for (const n of ['libstdc++.so.6', 'libc.so.6']) assert.ok(needed.includes(n), `the program needs ${n}: ${needed.join(' ')}`);
      const env: Record<string, string | undefined> = { ...process.env };
      delete env.QEMU_LD_PREFIX;
      delete env.LD_LIBRARY_PATH;
      // A program of the build machine's own arch would find the build machine's loader and
      // libraries through QEMU's fallback to host paths: it runs in a bubblewrap sandbox whose
      // root file system is the root instead.
      const native = prefix === `${execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim()}-`;
      const run = (r: string) =>
        native
          ? execa('bwrap', ['--ro-bind', r, '/', '--unshare-all', '/usr/bin/prog'], { env, extendEnv: false, reject: false, all: true })
          : execa(qemu, ['-L', r, path.join(r, 'usr/bin/prog')], { env, extendEnv: false, reject: false, all: true });
      const ok = await run(root);
      assert.equal(ok.exitCode, 0, ok.all);
      assert.equal(ok.stdout, 'runtime ok 42');
      // Control: the same program in a root without the runtime does not start.
      const bare = path.join(tmp, prefix, 'bare');
      mkdirSync(path.join(bare, 'usr/bin'), { recursive: true });
      execFileSync('cp', [path.join(root, 'usr/bin/prog'), path.join(bare, 'usr/bin/prog')]);
      const fails = await run(bare);
      assert.notEqual(fails.exitCode, 0, fails.all);
    });
  }
});
