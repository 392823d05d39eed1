import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crossPrefix } from '../pipeline/environment';
import { SANDBOX } from '../sandbox/layout';
import { recipe } from '../testing/recipes';
import { MACHINES } from './machines';
import { meson, MESON_CROSS_FILE, MESON_FILES_SCRIPT, MESON_NATIVE_FILE } from './meson';
import { runGenerator, shippedTargets } from './testing';

/** One `key = value` of a section of a Meson machine file. */
function entry(file: string, section: string, key: string): string | undefined {
  const body = file.split(`[${section}]\n`)[1]?.split(/\n\[/)[0] ?? '';
  return body.match(new RegExp(`^${key} = (.*)$`, 'm'))?.[1];
}

describe('meson style', () => {
  const r = recipe('x', { style: 'meson', meson_args: ['-Ddocs=false'] }).recipe;

  it('runs meson setup with the machine files ("$@") and the recipe\'s meson_args, unsets the cross environment in every step of a cross build', () => {
    const s = meson(r);
    assert.match(s.configure!, /meson setup _build --prefix=\/usr --libdir=lib .*--buildtype=plain --wrap-mode=nodownload "\$@" "-Ddocs=false"$/);
    for (const phase of ['build', 'check', 'install'] as const) assert.match(s[phase]!, /^if \[ -n "\$SYSROOT" \]; then unset CC CXX .*CFLAGS .*PKG_CONFIG_LIBDIR/);
    assert.match(s.install!, /meson install -C _build --no-rebuild --destdir "\$pkgdir"$/);
  });

  for (const t of shippedTargets()) {
    it(`writes ${t.name}'s cross file (Meson's cpu_family ${MACHINES[t.target.arch]?.mesonCpuFamily}, the cross tools, flags, sysroot) and a native file with the build machine's gcc`, () => {
      const files = runGenerator(MESON_FILES_SCRIPT, t, r, 'cross', [MESON_CROSS_FILE, MESON_NATIVE_FILE]);
      const cross = files[MESON_CROSS_FILE]!;
      const native = files[MESON_NATIVE_FILE]!;
      const m = MACHINES[t.target.arch]!;
      const prefix = crossPrefix(t.target);
      assert.equal(entry(cross, 'host_machine', 'system'), "'linux'");
      assert.equal(entry(cross, 'host_machine', 'cpu_family'), `'${m.mesonCpuFamily}'`);
      assert.equal(entry(cross, 'host_machine', 'cpu'), `'${m.mesonCpu}'`);
      assert.equal(entry(cross, 'host_machine', 'endian'), "'little'");
      assert.equal(entry(cross, 'binaries', 'c'), `['${prefix}gcc']`);
      assert.equal(entry(cross, 'binaries', 'cpp'), `['${prefix}g++']`);
      assert.equal(entry(cross, 'binaries', 'strip'), `['${prefix}strip']`);
      assert.equal(entry(cross, 'binaries', 'pkgconfig'), "['pkg-config']");
      const cArgs = entry(cross, 'built-in options', 'c_args')!;
      for (const flag of t.target.cflags!.split(' ')) assert.ok(cArgs.includes(`'${flag}'`), `${flag} in c_args ${cArgs}`);
      assert.ok(cArgs.includes(`'-I${SANDBOX.sysroot}/usr/include'`));
      assert.ok(entry(cross, 'built-in options', 'c_link_args')!.includes(`'-L${SANDBOX.sysroot}/usr/lib'`));
      assert.equal(entry(cross, 'properties', 'sys_root'), `'${SANDBOX.sysroot}'`);
      assert.equal(entry(cross, 'properties', 'pkg_config_libdir'), `'${SANDBOX.sysroot}/usr/lib/pkgconfig:${SANDBOX.sysroot}/usr/share/pkgconfig'`);
      assert.equal(entry(native, 'binaries', 'c'), "'gcc'");
      assert.equal(entry(native, 'built-in options', 'c_args'), `['-O2', '-pipe', '-ffile-prefix-map=${SANDBOX.srcdir}=.']`);
      assert.doesNotMatch(native, new RegExp(t.target.cflags!.split(' ').at(-1)!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), "the target's arch flags never reach the build machine's compiler");
    });
    if (t.target.buildroot) {
      it(`writes no machine file for ${t.name}'s native build: Meson takes the build root's environment`, () => {
        const files = runGenerator(MESON_FILES_SCRIPT, t, r, 'native', [MESON_CROSS_FILE, MESON_NATIVE_FILE]);
        assert.deepEqual(files, { [MESON_CROSS_FILE]: undefined, [MESON_NATIVE_FILE]: undefined });
      });
    }
  }

  it('quotes a value with a quote or backslash as Meson reads it', () => {
    const t = shippedTargets().find((x) => x.name === 'aarch64')!;
    const files = runGenerator(MESON_FILES_SCRIPT, t, recipe('x', { env: { CFLAGS: "-DX='a\\b'" } }).recipe, 'cross', [MESON_CROSS_FILE]);
    assert.equal(entry(files[MESON_CROSS_FILE]!, 'built-in options', 'c_args'), "['-DX=\\'a\\\\b\\'', '-I/build/sysroot/usr/include']");
  });
});
