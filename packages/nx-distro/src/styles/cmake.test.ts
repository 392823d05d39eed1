import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTriplet, crossPrefix } from '../pipeline/environment';
import { SANDBOX } from '../sandbox/layout';
import { recipe } from '../testing/recipes';
import { STYLE_FILES_DIR } from './args';
import { cmake, CMAKE_TOOLCHAIN_FILE, CMAKE_TOOLCHAIN_SCRIPT } from './cmake';
import { MACHINES } from './machines';
import { runGenerator, shippedTargets } from './testing';

describe('cmake style', () => {
  const r = recipe('x', { style: 'cmake', cmake_args: ['-DFOO=ON', '-DDIR=$SYSROOT/a b'] }).recipe;

  it('runs CMake with Ninja into _build, the toolchain file, the recipe\'s cmake_args as words, and installs into $pkgdir', () => {
    const s = cmake(r);
    assert.ok(CMAKE_TOOLCHAIN_FILE.startsWith(`${STYLE_FILES_DIR}/`));
    assert.match(s.configure!, /cmake -S \. -B _build -G Ninja -DCMAKE_TOOLCHAIN_FILE="\$PWD\/_nx-distro\/toolchain\.cmake" .*-DCMAKE_INSTALL_LIBDIR:PATH=lib .* "-DFOO=ON" "-DDIR=\$SYSROOT\/a b"$/);
    assert.equal(s.build, 'cmake --build _build -j "$JOBS"');
    assert.equal(s.install, 'DESTDIR="$pkgdir" cmake --install _build');
  });

  for (const t of shippedTargets()) {
    it(`writes the toolchain file of ${t.name}'s cross build: ${t.target.triplet}, its compilers, flags and the sysroot as the only find root`, () => {
      const file = runGenerator(CMAKE_TOOLCHAIN_SCRIPT, t, r, 'cross', [CMAKE_TOOLCHAIN_FILE])[CMAKE_TOOLCHAIN_FILE]!;
      const set = (name: string) => file.match(new RegExp(`^set\\(${name} (.*)\\)$`, 'm'))?.[1];
      const prefix = crossPrefix(t.target);
      if (t.target.triplet === buildTriplet()) {
        assert.equal(set('CMAKE_SYSTEM_NAME'), undefined, `${t.name} is the build machine's own triplet: its programs run here (try_run)`);
      } else {
        assert.equal(set('CMAKE_SYSTEM_NAME'), 'Linux', `${t.name} (${t.target.triplet}) is cross-compiled on ${buildTriplet()}`);
        assert.equal(set('CMAKE_SYSTEM_PROCESSOR'), `"${MACHINES[t.target.arch]!.cmakeProcessor}"`);
      }
      assert.match(set('CMAKE_C_COMPILER')!, new RegExp(`^"(/usr/bin/)?${prefix}gcc"$`));
      assert.match(set('CMAKE_CXX_COMPILER')!, new RegExp(`^"(/usr/bin/)?${prefix}g\\+\\+"$`));
      assert.match(set('CMAKE_AR')!, new RegExp(`${prefix}ar"$`));
      assert.ok(set('CMAKE_C_FLAGS_INIT')!.includes(t.target.cflags!), 'the target\'s CFLAGS');
      assert.ok(set('CMAKE_C_FLAGS_INIT')!.includes(`-I${SANDBOX.sysroot}/usr/include`), 'CPPFLAGS, which CMake ignores, in the C flags');
      assert.ok(set('CMAKE_SHARED_LINKER_FLAGS_INIT')!.includes(`-Wl,-rpath-link,${SANDBOX.sysroot}/usr/lib`));
      assert.equal(set('CMAKE_FIND_ROOT_PATH'), `"${SANDBOX.sysroot}"`);
      assert.equal(set('CMAKE_FIND_ROOT_PATH_MODE_PROGRAM'), 'NEVER');
      for (const kind of ['LIBRARY', 'INCLUDE', 'PACKAGE']) assert.equal(set(`CMAKE_FIND_ROOT_PATH_MODE_${kind}`), 'ONLY');
      assert.equal(set('CMAKE_SYSROOT'), undefined, "no --sysroot: Debian's cross compilers find their C library without one");
    });
    if (t.target.buildroot) {
      it(`writes a toolchain file of ${t.name}'s native build in its build root: the unprefixed compilers, no cross settings, no find root`, () => {
        const file = runGenerator(CMAKE_TOOLCHAIN_SCRIPT, t, r, 'native', [CMAKE_TOOLCHAIN_FILE])[CMAKE_TOOLCHAIN_FILE]!;
        assert.doesNotMatch(file, /CMAKE_SYSTEM_NAME|CMAKE_FIND_ROOT_PATH/);
        assert.match(file, /^set\(CMAKE_C_COMPILER "(\/usr\/bin\/)?gcc"\)$/m);
        assert.ok(file.includes(t.target.cflags!));
      });
    }
  }
});
