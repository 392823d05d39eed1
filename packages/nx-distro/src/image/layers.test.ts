import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../model/errors';
import { dependencyName, planLayers, stackOrder, UnsatisfiedDependency, type AvailablePackage } from './layers';

const pkg = (name: string, depends: string[] = [], provides: string[] = []): AvailablePackage => ({ name, version: '1.0-1', depends, provides, file: `/p/${name}.pkg.tar.zst` });

const AVAILABLE = [
  pkg('toolchain-runtime'),
  pkg('busybox', ['toolchain-runtime']),
  pkg('zlib', ['toolchain-runtime']),
  pkg('xz', ['toolchain-runtime']),
  pkg('ncurses', ['toolchain-runtime']),
  pkg('readline', ['ncurses', 'toolchain-runtime']),
  pkg('lua', ['readline>=8', 'toolchain-runtime']),
  pkg('dropbear', ['zlib', 'toolchain-runtime']),
  pkg('make', ['toolchain-runtime']),
];
const OPTS = { file: 'targets/t.yaml', basePackages: ['toolchain-runtime'], missing: (n: string) => `no package built (dist/t/packages/${n}/); run nx run ${n}:build -c t` };

const summary = (plan: ReturnType<typeof planLayers>) => Object.fromEntries(plan.map((l) => [l.set, l.packages.map((p) => `${p.name}${p.explicit ? '' : '*'}`).join(' ')]));

describe('stackOrder', () => {
  it('puts base first, then sets by distance from base, then by name', () => {
    assert.deepEqual(stackOrder({ z: { on: 'base' }, deep: { on: 'a' }, a: { on: 'base' }, base: {} }), [
      { set: 'base', on: null, depth: 0 },
      { set: 'a', on: 'base', depth: 1 },
      { set: 'z', on: 'base', depth: 1 },
      { set: 'deep', on: 'a', depth: 2 },
    ]);
  });
});

describe('dependencyName', () => {
  it('drops version constraints', () => {
    assert.deepEqual(['zlib', 'zlib>=1.2', 'libfoo=1.0', 'a<2', ' b '].map(dependencyName), ['zlib', 'zlib', 'libfoo', 'a', 'b']);
  });
});

describe('planLayers', () => {
  it('puts each package in the lowest layer that needs it, once: dependencies of a higher set already in base stay there', () => {
    const plan = planLayers({
      base: { packages: ['busybox', 'zlib', 'xz'] },
      tools: { on: 'base', packages: ['lua', 'make'] },
      net: { on: 'base', packages: ['dropbear'] },
    }, AVAILABLE, OPTS);
    assert.deepEqual(plan.map((l) => [l.set, l.on, l.depth]), [['base', null, 0], ['net', 'base', 1], ['tools', 'base', 1]]);
    assert.deepEqual(summary(plan), {
      base: 'busybox toolchain-runtime xz zlib',
      net: 'dropbear',
      tools: 'lua make ncurses* readline*',
    });
    assert.deepEqual(plan[2].stack, ['busybox', 'lua', 'make', 'ncurses', 'readline', 'toolchain-runtime', 'xz', 'zlib']);
    const all = plan.flatMap((l) => l.packages.map((p) => p.name));
    assert.equal(new Set(all).size, all.length, 'never twice');
  });

  it('moves a package two sibling sets need into their common base, so no stack holds it twice', () => {
    const plan = planLayers({
      base: { packages: ['busybox'] },
      tools: { on: 'base', packages: ['lua'] },
      shell: { on: 'base', packages: ['readline'] },
      deep: { on: 'tools', packages: ['dropbear'] },
    }, AVAILABLE, OPTS);
    assert.deepEqual(summary(plan), {
      base: 'busybox ncurses* readline toolchain-runtime',
      shell: '',
      tools: 'lua',
      deep: 'dropbear zlib*',
    });
  });

  it('keeps a package named by a higher set in the layer of a lower set that needs it, marked as named', () => {
    const plan = planLayers({ base: { packages: ['readline'] }, tools: { on: 'base', packages: ['ncurses', 'lua'] } }, AVAILABLE, OPTS);
    assert.deepEqual(summary(plan), { base: 'ncurses readline toolchain-runtime', tools: 'lua' });
  });

  it('resolves a dependency through provides', () => {
    const plan = planLayers({ base: { packages: ['app'] } }, [pkg('app', ['sh']), pkg('mksh', [], ['sh=59'])], { ...OPTS, basePackages: ['toolchain-runtime'] });
    assert.deepEqual(summary(plan), { base: 'app mksh*' });
  });

  it('names the target file, the set and the package for a package that was not built', () => {
    assert.throws(() => planLayers({ base: { packages: ['busybox'] }, tools: { on: 'base', packages: ['nope'] } }, AVAILABLE, OPTS), (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.message, 'targets/t.yaml: package_sets.tools.packages: "nope": no package built (dist/t/packages/nope/); run nx run nope:build -c t');
      return true;
    });
  });

  it('names the package, the dependency and the set for a dependency nothing provides', () => {
    assert.throws(() => planLayers({ base: { packages: ['app'] } }, [pkg('app', ['libmissing>=2'])], OPTS), (e: Error) => {
      assert.ok(e instanceof UnsatisfiedDependency);
      assert.equal(e.message, 'app 1.0-1 (/p/app.pkg.tar.zst) depends on libmissing>=2, which no package built for the target provides (needed by package set base of targets/t.yaml); build the package that provides it or remove app from the set');
      return true;
    });
  });

  it('leaves the runtime out when the target has none built (a bootstrap toolchain)', () => {
    const plan = planLayers({ base: { packages: ['make'] } }, [pkg('make')], OPTS);
    assert.deepEqual(summary(plan), { base: 'make' });
  });
});
