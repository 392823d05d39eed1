import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recipe } from '../testing/recipes';
import { bootstrapRecipeNames, bootstrapToolchain, bootstrapToolchainErrors } from './bootstrap-toolchain';
import { buildRecipeGraph } from './graph';
import type { LoadedSystemTarget } from './system-target';
import type { SystemTarget } from './target.generated';

const recipes = () => [
  recipe('binutils', { toolchain: true }),
  recipe('gcc', { toolchain: true, makedepends: ['linux-headers', 'musl'], makedepends_build: ['binutils'], stages: { stage1: { makedepends: [], makedepends_build: ['binutils'] } } }),
  recipe('linux-headers'),
  recipe('musl', { makedepends_build: ['binutils', 'gcc@stage1'] }),
  recipe('zlib'),
];

function target(name: string, toolchain: SystemTarget['toolchain']): LoadedSystemTarget {
  return {
    name,
    file: `targets/${name}.yaml`,
    target: { description: 'd', arch: 'aarch64', triplet: 'aarch64-linux-musl', kernel_arch: 'arm64', toolchain, package_sets: { base: { packages: [] } }, qemu: '' } as SystemTarget,
  };
}

const musl = (recipesList = ['binutils', 'gcc', 'linux-headers', 'musl'], runtime = ['musl']) => target('aarch64-musl', { kind: 'bootstrap', recipes: recipesList as [string, ...string[]], runtime });
const external = target('aarch64', { kind: 'external', prefix: 'aarch64-linux-gnu-', sysroot: '/usr/aarch64-linux-gnu', provides: ['binutils', 'gcc'] });

describe('bootstrap toolchain', () => {
  it('puts toolchain: true recipes on the PATH and the others in the sysroot, in list order', () => {
    const isTool = (n: string) => n === 'binutils' || n === 'gcc';
    assert.deepEqual(bootstrapToolchain(musl().target, isTool), { tools: ['binutils', 'gcc'], sysroot: ['linux-headers', 'musl'], runtime: ['musl'] });
    assert.equal(bootstrapToolchain(external.target, isTool), undefined);
  });

  it('names the union of every bootstrap target list, and nothing for external toolchains', () => {
    assert.deepEqual(bootstrapRecipeNames([external]), []);
    assert.deepEqual(bootstrapRecipeNames([external, musl(['musl', 'gcc', 'binutils', 'linux-headers']), target('x', { kind: 'bootstrap', recipes: ['gcc', 'glibc'] })]), ['binutils', 'gcc', 'glibc', 'linux-headers', 'musl']);
  });

  it('accepts a closed list (every build dependency of a listed recipe and of its stages is listed)', () => {
    assert.deepEqual(bootstrapToolchainErrors([external, musl()], buildRecipeGraph(recipes())), []);
  });

  it('reports an unknown recipe, a runtime entry outside the list and a dependency outside the list, each with file and field', () => {
    const errors = bootstrapToolchainErrors([musl(['binutils', 'gcc', 'musl', 'glibc'], ['musl', 'zlib'])], buildRecipeGraph(recipes())).map((e) => e.message);
    assert.deepEqual(errors, [
      'targets/aarch64-musl.yaml: toolchain.recipes[3]: no recipe "glibc"; add recipes/<name>/recipe.yaml or remove the entry',
      'targets/aarch64-musl.yaml: toolchain.runtime[1]: "zlib" is not one of toolchain.recipes; add it to toolchain.recipes or remove it here',
      "targets/aarch64-musl.yaml: toolchain.recipes: gcc needs linux-headers, which is not in the list (the toolchain's own builds cannot wait for the toolchain); add linux-headers to toolchain.recipes",
    ]);
  });

  it('does not report a listed recipe that exists but failed to load as unknown', () => {
    const rs = recipes().filter((r) => r.recipe.name !== 'musl');
    const errors = bootstrapToolchainErrors([musl()], buildRecipeGraph(rs, new Set(['musl'])), new Set(['musl']));
    assert.ok(!errors.some((e) => /no recipe "musl"/.test(e.message)), errors.map((e) => e.message).join('\n'));
  });
});
