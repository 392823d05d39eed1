import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recipe } from '../testing/recipes';
import { buildRecipeGraph, projectDependencies } from './graph';

const toolchain = () => [
  recipe('binutils'),
  recipe('gcc', { makedepends: ['musl'], makedepends_build: ['binutils'], stages: { stage1: { makedepends: [], profiles: ['stage1'] } } }),
  recipe('musl', { makedepends_build: ['binutils', 'gcc@stage1'] }),
];

describe('buildRecipeGraph', () => {
  it('resolves the staged toolchain loop gcc@stage1 -> musl -> gcc', () => {
    const g = buildRecipeGraph(toolchain());
    assert.deepEqual(g.errors, []);
    assert.deepEqual(g.nodes.get('gcc'), { sysroot: ['musl'], tools: ['binutils'] });
    assert.deepEqual(g.nodes.get('gcc@stage1'), { sysroot: [], tools: ['binutils'] });
    assert.deepEqual(g.nodes.get('musl'), { sysroot: [], tools: ['binutils', 'gcc@stage1'] });
  });

  it('reports the loop when the stage is removed, with the files and the hint', () => {
    const rs = toolchain();
    rs[2] = recipe('musl', { makedepends_build: ['binutils', 'gcc'] });
    const g = buildRecipeGraph(rs);
    assert.equal(g.errors.length, 1);
    assert.equal(
      g.errors[0].message,
      'recipes/gcc/recipe.yaml: dependency cycle: gcc -> musl -> gcc (recipes: recipes/gcc/recipe.yaml, recipes/musl/recipe.yaml); ' +
        'break it with a stage: give one recipe a reduced build under `stages: { stage1: { makedepends: [...] } }` and depend on it as name@stage1',
    );
  });

  it('prints a loop that goes through runtime depends in full', () => {
    const g = buildRecipeGraph([
      recipe('a', { makedepends: ['b'] }),
      recipe('b', { depends: ['c'] }),
      recipe('c', { makedepends: ['a'] }),
    ]);
    assert.equal(g.errors.length, 1);
    assert.match(g.errors[0].message, /dependency cycle: a -> b -> c -> a \(/);
  });

  it('reports a self-dependency once, as such (not also as a cycle)', () => {
    const g = buildRecipeGraph([recipe('a', { makedepends: ['a'] }), recipe('b', { stages: { stage1: { makedepends_build: ['b@stage1'] } } })]);
    assert.deepEqual(g.errors.map((e) => e.message), [
      'recipes/a/recipe.yaml: makedepends[0]: "a" depends on itself; remove the entry (to build with an earlier build of itself, depend on a stage: name@stage1)',
      'recipes/b/recipe.yaml: stages.stage1.makedepends_build[0]: "b@stage1" depends on itself; remove the entry (to build with an earlier build of itself, depend on a stage: name@stage1)',
    ]);
    assert.equal(g.nodes.size, 0);
  });

  it('still finds the cycles among the other recipes when some reference is bad', () => {
    const g = buildRecipeGraph([recipe('a', { makedepends: ['b', 'nope'] }), recipe('b', { makedepends: ['a'] }), recipe('c', { depends: ['a@stage3'] })]);
    assert.deepEqual(g.errors.map((e) => e.field), ['makedepends[1]', 'depends[0]', '']);
    assert.match(g.errors[2].message, /^recipes\/a\/recipe\.yaml: dependency cycle: a -> b -> a \(/);
    assert.equal(g.nodes.size, 0, 'no nodes while any reference is bad');
  });

  it('does not call a runtime-only loop a cycle', () => {
    const g = buildRecipeGraph([recipe('a', { depends: ['b'] }), recipe('b', { depends: ['a'] }), recipe('x', { makedepends: ['a'] })]);
    assert.deepEqual(g.errors, []);
    assert.deepEqual(g.nodes.get('x')!.sysroot, ['a', 'b']);
  });

  it('stages makedepends with their runtime depends, transitively', () => {
    const g = buildRecipeGraph([
      recipe('bash', { makedepends: ['readline'] }),
      recipe('readline', { depends: ['ncurses'], makedepends: ['ncurses'] }),
      recipe('ncurses', { depends: ['glibc'] }),
      recipe('glibc'),
    ]);
    assert.deepEqual(g.nodes.get('bash')!.sysroot, ['glibc', 'ncurses', 'readline']);
  });

  it('reports every unknown name and stage in one pass, with a suggestion', () => {
    const g = buildRecipeGraph([
      recipe('zlib'),
      recipe('a', { makedepends: ['zlbi'], depends: ['nothing-like-it'] }),
      recipe('b', { stages: { stage1: { makedepends_build: ['zlib@stage2'] } } }),
    ]);
    assert.deepEqual(g.errors.map((e) => e.message).sort(), [
      'recipes/a/recipe.yaml: depends[0]: unknown recipe "nothing-like-it"; add recipes/nothing-like-it/recipe.yaml or fix the name',
      'recipes/a/recipe.yaml: makedepends[0]: unknown recipe "zlbi"; did you mean "zlib"? (or add recipes/zlbi/recipe.yaml)',
      'recipes/b/recipe.yaml: stages.stage1.makedepends_build[0]: recipe "zlib" has no stage "stage2"; declare stages.stage2 in recipes/zlib/recipe.yaml',
    ]);
  });

  it('does not report references to a recipe that exists but failed to load', () => {
    const g = buildRecipeGraph([recipe('a', { makedepends: ['broken'] })], new Set(['broken']));
    assert.deepEqual(g.errors, []);
  });

  it('reports duplicate names on every file involved', () => {
    const one = recipe('zlib');
    const two = { ...recipe('zlib'), file: 'recipes/sys-libs/zlib/recipe.yaml', root: 'recipes/sys-libs/zlib' };
    const g = buildRecipeGraph([one, two]);
    assert.deepEqual(g.errors.map((e) => e.message), [
      'recipes/zlib/recipe.yaml: name: duplicate recipe name "zlib" (also recipes/sys-libs/zlib/recipe.yaml); rename one recipe and its folder',
      'recipes/sys-libs/zlib/recipe.yaml: name: duplicate recipe name "zlib" (also recipes/zlib/recipe.yaml); rename one recipe and its folder',
    ]);
  });
});

describe('buildRecipeGraph with arch_overrides dependency lists', () => {
  // zcond links zlib on aarch64 only; on riscv64 it needs libatomic at run time and at build time.
  const recipes = () => [
    recipe('zlib'),
    recipe('libatomic'),
    recipe('zcond', { arch_overrides: { aarch64: { makedepends: ['zlib'], depends: ['zlib'] }, riscv64: { makedepends: ['libatomic'] } } }),
    recipe('app', { makedepends: ['zcond'] }),
  ];

  it("orders every arch's builds after the union (the graph Nx gets), and stages one arch's lists", () => {
    const any = buildRecipeGraph(recipes());
    assert.deepEqual(any.errors, []);
    assert.deepEqual(any.nodes.get('zcond'), { sysroot: ['libatomic', 'zlib'], tools: [] });
    // A dependent's sysroot closes over zcond's runtime depends: zlib on aarch64 only.
    assert.deepEqual(any.nodes.get('app'), { sysroot: ['zcond', 'zlib'], tools: [] });
    assert.deepEqual(buildRecipeGraph(recipes(), undefined, 'aarch64').nodes.get('zcond'), { sysroot: ['zlib'], tools: [] });
    assert.deepEqual(buildRecipeGraph(recipes(), undefined, 'aarch64').nodes.get('app'), { sysroot: ['zcond', 'zlib'], tools: [] });
    assert.deepEqual(buildRecipeGraph(recipes(), undefined, 'riscv64').nodes.get('zcond'), { sysroot: ['libatomic'], tools: [] });
    assert.deepEqual(buildRecipeGraph(recipes(), undefined, 'riscv64').nodes.get('app'), { sysroot: ['zcond'], tools: [] });
    assert.deepEqual(buildRecipeGraph(recipes(), undefined, 'x86_64').nodes.get('zcond'), { sysroot: [], tools: [] });
    assert.deepEqual(projectDependencies(any).filter(([s]) => s === 'zcond'), [
      ['zcond', 'libatomic', 'recipes/zcond/recipe.yaml'],
      ['zcond', 'zlib', 'recipes/zcond/recipe.yaml'],
    ]);
  });

  it('reports a cycle that only the union of two arches closes (Nx would see it in every configuration)', () => {
    const rs = recipes();
    rs[0] = recipe('zlib', { arch_overrides: { riscv64: { makedepends_build: ['zcond'] } } });
    const g = buildRecipeGraph(rs);
    assert.equal(g.errors.length, 1);
    assert.match(g.errors[0].message, /^recipes\/zcond\/recipe\.yaml: dependency cycle: zcond -> zlib -> zcond \(recipes: /);
    assert.deepEqual(buildRecipeGraph(rs, undefined, 'aarch64').errors, [], "aarch64's own lists close no cycle: it is the union Nx orders by");
  });

  it('checks the references of every arch_overrides list, with the field path', () => {
    const g = buildRecipeGraph([recipe('zlib'), recipe('zcond', { arch_overrides: { riscv64: { makedepends: ['zlb'] }, armv7h: { depends: ['zcond'] } } })]);
    assert.deepEqual(g.errors.map((e) => e.message).sort(), [
      'recipes/zcond/recipe.yaml: arch_overrides.armv7h.depends[0]: "zcond" depends on itself; remove the entry (to build with an earlier build of itself, depend on a stage: name@stage1)',
      'recipes/zcond/recipe.yaml: arch_overrides.riscv64.makedepends[0]: unknown recipe "zlb"; did you mean "zlib"? (or add recipes/zlb/recipe.yaml)',
    ]);
  });
});

describe('projectDependencies', () => {
  it('lists each referenced recipe once, stages included, without self edges', () => {
    const deps = projectDependencies(buildRecipeGraph(toolchain()));
    assert.deepEqual(deps, [
      ['gcc', 'binutils', 'recipes/gcc/recipe.yaml'],
      ['gcc', 'musl', 'recipes/gcc/recipe.yaml'],
      ['musl', 'binutils', 'recipes/musl/recipe.yaml'],
      ['musl', 'gcc', 'recipes/musl/recipe.yaml'],
    ]);
  });
});
