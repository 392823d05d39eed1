import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRecipeGraph } from '../model/graph';
import type { LoadedSystemTarget, SystemTarget } from '../model/system-target';
import { recipe } from '../testing/recipes';
import { bundleOrder } from './source-bundle';

function systemTarget(packages: string[], arch = 'aarch64'): LoadedSystemTarget {
  const target = {
    arch,
    triplet: 'aarch64-linux-gnu',
    kernel_arch: 'arm64',
    qemu: 'qemu-aarch64-static',
    toolchain: { kind: 'external', prefix: 'aarch64-linux-gnu-', sysroot: '/usr/aarch64-linux-gnu', packages: [] },
    package_sets: { base: { packages } },
  } as unknown as SystemTarget;
  return { name: 'aarch64', file: 'targets/aarch64.yaml', target };
}

describe('bundleOrder', () => {
  const graph = buildRecipeGraph([recipe('zlib', { split: ['dev'] }), recipe('zprobe', { depends: ['zlib'], makedepends: ['zlib'] })]);

  it("builds a split package named by a package set through its recipe, dependencies first", () => {
    assert.deepEqual(bundleOrder(graph, systemTarget(['zlib-dev'])), ['zlib']);
    assert.deepEqual(bundleOrder(graph, systemTarget(['zprobe', 'zlib-dev'])), ['zlib', 'zprobe']);
  });

  it('refuses a set entry that is neither a recipe nor a split package, naming the field', () => {
    assert.throws(() => bundleOrder(graph, systemTarget(['zlib-doc'])), {
      message: 'targets/aarch64.yaml: package_sets.base.packages: "zlib-doc" is not a recipe of this workspace nor a split package of one; add it or remove the entry',
    });
  });

  it("takes the target's arch's arch_overrides lists: a build dependency and a runtime one only aarch64 has", () => {
    const recipes = [
      recipe('zlib'),
      recipe('lua'),
      recipe('zcond', { arch_overrides: { aarch64: { makedepends: ['zlib'] }, riscv64: { depends: ['lua'] } } }),
    ];
    assert.deepEqual(bundleOrder(buildRecipeGraph(recipes, undefined, 'aarch64'), systemTarget(['zcond'])), ['zlib', 'zcond']);
    assert.deepEqual(bundleOrder(buildRecipeGraph(recipes, undefined, 'riscv64'), systemTarget(['zcond'], 'riscv64')), ['lua', 'zcond']);
    assert.deepEqual(bundleOrder(buildRecipeGraph(recipes, undefined, 'x86_64'), systemTarget(['zcond'], 'x86_64')), ['zcond']);
  });
});
