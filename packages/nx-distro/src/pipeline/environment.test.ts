import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recipe } from '../testing/recipes';
import type { SystemTarget } from '../model/target.generated';
import { CROSS_PATH, SANDBOX } from '../sandbox/layout';
import { buildEnvironment, buildTriplet, crossPrefix } from './environment';

const base = { description: 'd', arch: 'aarch64', kernel_arch: 'arm64', cflags: '-O2 -march=armv8-a', package_sets: { base: { packages: [] } }, qemu: '' };
const external = { ...base, triplet: 'aarch64-linux-gnu', toolchain: { kind: 'external', prefix: 'aarch64-linux-gnu-', sysroot: '/usr/aarch64-linux-gnu' } } as SystemTarget;
const bootstrap = { ...base, triplet: 'aarch64-linux-musl', toolchain: { kind: 'bootstrap', recipes: ['binutils', 'gcc', 'musl'] } } as SystemTarget;

describe('buildEnvironment', () => {
  it('cross-compiles with the external toolchain prefix, or the bootstrap toolchain staged first on the PATH', () => {
    const ext = buildEnvironment({ recipe: recipe('zlib').recipe, systemTarget: external, sourceDateEpoch: 1 });
    assert.equal(ext.CC, 'aarch64-linux-gnu-gcc');
    assert.equal(ext.CHOST, 'aarch64-linux-gnu');
    assert.equal(ext.CTARGET, undefined, 'CTARGET is only for toolchains');
    const boot = buildEnvironment({ recipe: recipe('zlib').recipe, systemTarget: bootstrap, sourceDateEpoch: 1 });
    assert.equal(crossPrefix(bootstrap), 'aarch64-linux-musl-');
    assert.equal(boot.CC, 'aarch64-linux-musl-gcc');
    assert.equal(boot.CROSS_COMPILE, 'aarch64-linux-musl-');
    assert.equal(boot.PATH, CROSS_PATH);
    assert.ok(boot.PATH.startsWith(`${SANDBOX.toolchain}/usr/bin:`));
    assert.match(boot.CFLAGS, /-march=armv8-a/);
    assert.equal(ext.QEMU_LD_PREFIX, '/usr/aarch64-linux-gnu', "a freshly built program runs under QEMU with the toolchain's C library");
    assert.equal(boot.QEMU_LD_PREFIX, SANDBOX.sysroot, "the bootstrap toolchain's C library is staged in the sysroot");
  });

  it('builds a toolchain: true recipe for the build machine, with the system target as its GNU target', () => {
    const env = buildEnvironment({ recipe: recipe('gcc', { toolchain: true }).recipe, systemTarget: bootstrap, sourceDateEpoch: 1 });
    assert.equal(env.CBUILD, buildTriplet());
    assert.equal(env.CHOST, buildTriplet(), 'GNU host = build: the compiler runs on the build machine');
    assert.equal(env.CTARGET, 'aarch64-linux-musl');
    assert.equal(env.CC, 'gcc');
    assert.equal(env.CPP, undefined, "gcc's target libraries would take it and check the build machine's headers");
    assert.doesNotMatch(env.CFLAGS, /-march=armv8-a/, "the target's arch flags never reach the build machine's compiler");
    assert.match(env.CFLAGS_FOR_TARGET, /-march=armv8-a/);
    assert.equal(env.SYSROOT, SANDBOX.sysroot);
  });

  it('compiles with -g, the sources mapped to /usr/src/debug/<name> and a build-id for debug packages, unless the recipe or the target says no', () => {
    const flags = (r: Parameters<typeof recipe>[1], t: SystemTarget, options: { mode?: 'native'; stage?: string } = {}) => {
      const env = buildEnvironment({ recipe: recipe('zlib', r).recipe, systemTarget: t, sourceDateEpoch: 1, ...options });
      return { CFLAGS: env.CFLAGS, CXXFLAGS: env.CXXFLAGS, LDFLAGS: env.LDFLAGS };
    };
    const on = flags({}, external);
    assert.equal(on.CFLAGS, '-O2 -march=armv8-a -g -ffile-prefix-map=/build/src=/usr/src/debug/zlib -ffile-prefix-map=/build/sysroot=');
    assert.equal(on.CXXFLAGS, on.CFLAGS);
    assert.match(on.LDFLAGS, /^-Wl,--build-id=sha1 -L\/build\/sysroot\/usr\/lib /);
    const native = flags({}, external, { mode: 'native' });
    assert.equal(native.CFLAGS, '-O2 -march=armv8-a -g -ffile-prefix-map=/build/src=/usr/src/debug/zlib', 'a native build has no staged sysroot to map');
    assert.equal(native.LDFLAGS, '-Wl,--build-id=sha1');
    for (const off of [flags({ debug: false }, external), flags({}, { ...external, debug: false }), flags({}, external, { stage: 'stage1' })]) {
      assert.equal(off.CFLAGS, '-O2 -march=armv8-a -ffile-prefix-map=/build/src=.');
      assert.doesNotMatch(off.LDFLAGS, /build-id/);
    }
  });
});
