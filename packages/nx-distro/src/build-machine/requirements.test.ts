import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LoadedSystemTarget, SystemTarget } from '../model/system-target';
import { HostNotReadyError, assertHostReady, checkHost, type HostProbe } from './requirements';

function systemTarget(name: string, arch: string, triplet: string, qemu: string, extra: Partial<SystemTarget> = {}): LoadedSystemTarget {
  const target: SystemTarget = {
    arch,
    triplet,
    kernel_arch: arch,
    qemu,
    toolchain: { kind: 'external', prefix: `${triplet}-`, sysroot: `/usr/${triplet}`, packages: [`gcc-${triplet}`, `binutils-${triplet}`] },
    package_sets: { base: { packages: ['busybox'] } },
    ...extra,
  } as SystemTarget;
  return { name, file: `targets/${name}.yaml`, target };
}

const AARCH64 = systemTarget('aarch64', 'aarch64', 'aarch64-linux-gnu', 'qemu-aarch64-static');
const RISCV64 = systemTarget('riscv64', 'riscv64', 'riscv64-linux-gnu', 'qemu-riscv64-static');
const X86_64 = systemTarget('x86_64', 'x86_64', 'x86_64-linux-gnu', 'qemu-x86_64-static');
const BUILD = { build: true };

describe('checkHost', () => {
  let root: string;
  let bin: string;
  let binfmt: string;
  let procSys: string;
  let interpreter: string;
  let base: HostProbe;

  const handler = (name: string, magicMachine: string, opts: { enabled?: boolean; flags?: string; interpreter?: string } = {}) => {
    writeFileSync(
      path.join(binfmt, name),
      `${opts.enabled === false ? 'disabled' : 'enabled'}\ninterpreter ${opts.interpreter ?? interpreter}\nflags: ${opts.flags ?? 'POF'}\noffset 0\n` +
        `magic 7f454c460201010000000000000000000200${magicMachine}00\nmask ffffffffffffff00fffffffffffffffffeffffff\n`,
    );
  };

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'nx-distro-host-'));
    bin = path.join(root, 'bin');
    binfmt = path.join(root, 'binfmt_misc');
    procSys = path.join(root, 'sys');
    mkdirSync(bin);
    mkdirSync(binfmt);
    mkdirSync(path.join(procSys, 'user'), { recursive: true });
    mkdirSync(path.join(procSys, 'kernel'), { recursive: true });
    for (const p of ['bwrap', 'gcc', 'make', 'strip-nondeterminism', 'readelf', 'aarch64-linux-gnu-gcc', 'x86_64-linux-gnu-gcc']) {
      writeFileSync(path.join(bin, p), '#!/bin/sh\n');
      chmodSync(path.join(bin, p), 0o755);
    }
    writeFileSync(path.join(bin, 'riscv64-linux-gnu-gcc'), 'not executable');
    interpreter = path.join(root, 'qemu-aarch64-static');
    writeFileSync(interpreter, '');
    writeFileSync(path.join(binfmt, 'register'), '');
    writeFileSync(path.join(binfmt, 'status'), 'enabled\n');
    handler('qemu-aarch64', 'b7');
    base = { path: `${bin}:/nonexistent`, binfmtDir: binfmt, procSysDir: procSys, buildArch: 'x86_64', minFreeBytes: 0, runSandboxProbe: () => undefined };
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('finds nothing wrong on a ready host, and checks nothing for a run without builds', () => {
    assert.deepEqual(checkHost(AARCH64, root, BUILD, base), []);
    assert.deepEqual(checkHost(X86_64, root, BUILD, base), []);
    assert.deepEqual(checkHost(RISCV64, root, { build: false }, { ...base, path: '', binfmtDir: path.join(root, 'none') }), []);
  });

  it('names every missing program and the package that provides it', () => {
    const problems = checkHost(AARCH64, root, BUILD, { ...base, path: '/nonexistent' });
    assert.deepEqual(problems.map((p) => p.what), [
      'bwrap (bubblewrap, the build sandbox) is not on PATH',
      "gcc (the build machine's own, for build tools) is not on PATH",
      "make (the build machine's own, for build tools) is not on PATH",
      "strip-nondeterminism (normalises archive timestamps in every package's files) is not on PATH",
      "readelf (reads the exported symbols of every package's shared libraries) is not on PATH",
      'aarch64-linux-gnu-gcc (the aarch64 toolchain of targets/aarch64.yaml) is not on PATH',
    ]);
    assert.equal(problems[0].fix, 'run tools/setup-host, or: apt-get install bubblewrap');
    assert.equal(problems[3].fix, 'run tools/setup-host, or: apt-get install strip-nondeterminism');
    assert.equal(problems[5].fix, 'run tools/setup-host, or: apt-get install gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu');
    // A non-executable file on PATH does not count.
    const riscv = checkHost(RISCV64, root, BUILD, base).find((p) => p.what.startsWith('riscv64-linux-gnu-gcc'));
    assert.ok(riscv);
    // The build machine's own triplet comes with Debian's native gcc, not with a cross package.
    const native = checkHost(X86_64, root, BUILD, { ...base, path: path.join(root, 'none') }).find((p) => p.what.startsWith('x86_64-linux-gnu-gcc'));
    assert.equal(native?.fix, 'run tools/setup-host, or: apt-get install build-essential');
  });

  it('says which sysctl to change when bwrap cannot create its namespaces', () => {
    const failing = { ...base, runSandboxProbe: () => 'bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces.\nmore' };
    writeFileSync(path.join(procSys, 'user', 'max_user_namespaces'), '0\n');
    let [p] = checkHost(X86_64, root, BUILD, failing);
    assert.equal(p.what, "bwrap cannot create the build sandbox's namespaces (bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces.)");
    assert.match(p.fix, /^sysctl -w user\.max_user_namespaces=15000/);
    writeFileSync(path.join(procSys, 'kernel', 'unprivileged_userns_clone'), '0\n');
    [p] = checkHost(X86_64, root, BUILD, failing);
    assert.match(p.fix, /^sysctl -w kernel\.unprivileged_userns_clone=1/);
    rmSync(path.join(procSys, 'kernel', 'unprivileged_userns_clone'));
    writeFileSync(path.join(procSys, 'user', 'max_user_namespaces'), '15000\n');
    [p] = checkHost(X86_64, root, BUILD, failing);
    assert.match(p.fix, /seccomp=unconfined/);
  });

  it('requires an enabled binfmt_misc handler with an interpreter for a foreign arch', () => {
    const whats = (st: LoadedSystemTarget, probe: HostProbe) => checkHost(st, root, BUILD, probe).map((p) => `${p.what} | ${p.fix}`);
    // riscv64 has no handler in the fake folder.
    assert.deepEqual(whats(RISCV64, { ...base, path: `${bin}:${path.join(root, 'rv')}` }).filter((w) => w.includes('binfmt')), [
      `no binfmt_misc handler for riscv64 executables in ${binfmt}, so riscv64 programs (qemu-riscv64-static) cannot run on this x86_64 machine | run tools/setup-host (installs qemu-user-static and registers its handlers)`,
    ]);
    // Not mounted.
    assert.match(whats(AARCH64, { ...base, binfmtDir: path.join(root, 'none') })[0], /binfmt_misc is not mounted at .*none.* \| run tools\/setup-host \(mounts it and registers QEMU\), or: mount -t binfmt_misc binfmt_misc /);
    // Globally disabled.
    writeFileSync(path.join(binfmt, 'status'), 'disabled\n');
    assert.match(whats(AARCH64, base)[0], /binfmt_misc is disabled .*status.* \| echo 1 > .*\/status/);
    writeFileSync(path.join(binfmt, 'status'), 'enabled\n');
    // The handler disabled.
    handler('qemu-aarch64', 'b7', { enabled: false });
    assert.match(whats(AARCH64, base)[0], /^binfmt_misc handler qemu-aarch64 is disabled \| echo 1 > .*qemu-aarch64/);
    // Interpreter gone: fine with F (opened at registration), a problem without.
    handler('qemu-aarch64', 'b7', { interpreter: '/nonexistent/qemu-aarch64', flags: 'POF' });
    assert.deepEqual(whats(AARCH64, base), []);
    handler('qemu-aarch64', 'b7', { interpreter: '/nonexistent/qemu-aarch64', flags: 'P' });
    assert.match(whats(AARCH64, base)[0], /^binfmt_misc handler qemu-aarch64 runs \/nonexistent\/qemu-aarch64, which does not exist/);
    // A second, usable handler for the same arch is enough.
    handler('zz-aarch64', 'b7');
    assert.deepEqual(whats(AARCH64, base), []);
    rmSync(path.join(binfmt, 'zz-aarch64'));
    // Without F, fine for cross builds, not for native builds in a build root.
    handler('qemu-aarch64', 'b7', { flags: 'P' });
    assert.deepEqual(whats(AARCH64, base), []);
    const nativeBuilds = systemTarget('aarch64', 'aarch64', 'aarch64-linux-gnu', 'qemu-aarch64-static', { builds: 'native' });
    assert.match(whats(nativeBuilds, base)[0], /lacks the F \(fix binary\) flag/);
    handler('qemu-aarch64', 'b7');
    // The build machine's own arch needs no emulator.
    assert.deepEqual(whats(X86_64, { ...base, binfmtDir: path.join(root, 'none') }), []);
    assert.deepEqual(whats(X86_64, { ...base, buildArch: 'aarch64', binfmtDir: path.join(root, 'none') }).length, 1);
  });

  it('requires free space in the workspace file system', () => {
    const [p] = checkHost(X86_64, root, BUILD, { ...base, minFreeBytes: 2 ** 60 });
    assert.match(p.what, new RegExp(`^only [0-9.]+ GiB free in the file system of ${root}; builds need at least 1073741824\\.0 GiB$`));
    assert.match(p.fix, /free space there/);
  });

  it('is quick on the real machine', () => {
    const t0 = performance.now();
    checkHost(AARCH64, root, BUILD);
    const cold = performance.now() - t0;
    const t1 = performance.now();
    checkHost(AARCH64, root, BUILD);
    const warm = performance.now() - t1;
    assert.ok(cold < 250 && warm < 50, `cold ${cold.toFixed(1)} ms, warm ${warm.toFixed(1)} ms`);
  });
});

describe('assertHostReady', () => {
  const broken: HostProbe = { path: '/nonexistent', binfmtDir: '/nonexistent', buildArch: 'x86_64', minFreeBytes: 0 };
  it('throws one line per problem, without a stack trace', () => {
    assert.throws(
      () => assertHostReady(AARCH64, tmpdir(), BUILD, {}, broken),
      (e: unknown) => {
        assert.ok(e instanceof HostNotReadyError);
        const [title, ...lines] = e.message.split('\n');
        assert.equal(title, 'this machine cannot build for aarch64 (targets/aarch64.yaml) yet:');
        assert.equal(lines.length, e.problems.length);
        for (const l of lines) assert.match(l, /^host: .+; fix: .+$/);
        assert.equal(lines[0], 'host: bwrap (bubblewrap, the build sandbox) is not on PATH; fix: run tools/setup-host, or: apt-get install bubblewrap');
        assert.equal(e.stack, e.message);
        return true;
      },
    );
  });
  it('is skipped with NX_DISTRO_SKIP_HOST_CHECK=1', () => {
    assert.doesNotThrow(() => assertHostReady(AARCH64, tmpdir(), BUILD, { NX_DISTRO_SKIP_HOST_CHECK: '1' }, broken));
    assert.throws(() => assertHostReady(AARCH64, tmpdir(), BUILD, { NX_DISTRO_SKIP_HOST_CHECK: '0' }, broken), HostNotReadyError);
  });
});
