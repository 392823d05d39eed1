// Graph tests on real temporary workspaces: the nx CLI runs the nx-distro plugin over the
// fixture recipes in test/fixtures/toolchain and the repo's system targets.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createWorkspace, EXTERNAL_SYSTEM_TARGETS, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const RECIPES = ['binutils', 'gcc', 'lua', 'musl', 'ncurses', 'readline', 'syslinux'];
const SYSTEM_TARGETS = ['aarch64', 'armv7h', 'riscv64', 'x86_64'];

function deps(graph: any, task: string): string[] {
  return graph.dependencies[task].map((d: { id: string } | string) => (typeof d === 'string' ? d : d.id)).sort();
}

describe('graph of the staged toolchain fixture', () => {
  let ws: TestWorkspace;
  before(() => {
    ws = createWorkspace('toolchain');
  });
  after(() => ws.dispose());

  it('makes one project per recipe, plus the system project of the targets folder', async () => {
    const r = await ws.nx('show', 'projects', '--json');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(JSON.parse(r.stdout).sort(), [...RECIPES, 'system'].sort());
    const system = JSON.parse((await ws.nx('show', 'project', 'system', '--json')).stdout);
    assert.equal(system.root, 'targets');
    for (const t of ['system-target', 'build', 'buildroot', 'source-bundle', 'toolchain-runtime']) assert.ok(system.targets[t], `system:${t}`);
    for (const t of Object.values(system.targets) as Array<{ configurations: object }>) assert.deepEqual(Object.keys(t.configurations).sort(), SYSTEM_TARGETS);
    assert.deepEqual(system.targets.build.dependsOn, [
      { target: 'system-target', projects: ['system'], params: 'ignore' },
      { target: 'build', projects: ['tag:nx-distro:recipe'], params: 'ignore' },
      { target: 'toolchain-runtime', params: 'ignore' },
    ]);
  });

  it('refuses a recipe named like the system project', async () => {
    ws.write('recipes/system/recipe.yaml', ws.read('recipes/lua/recipe.yaml').replace(/^name: lua$/m, 'name: system'));
    try {
      const r = await ws.nx('show', 'projects');
      assert.notEqual(r.exitCode, 0);
      assert.match(r.all, /recipes\/system\/recipe\.yaml: name: "system" is the name of the project of the system targets; rename the recipe/);
    } finally {
      ws.remove('recipes/system');
    }
  });

  it('leaves the reproducibility check targets out with reproduceTargets: false, and refuses a value that is not a boolean', async () => {
    const nxJson = ws.read('nx.json');
    const withOption = (value: unknown) => {
      const config = JSON.parse(nxJson);
      config.plugins[0].options.reproduceTargets = value;
      ws.write('nx.json', JSON.stringify(config));
    };
    try {
      withOption(false);
      const r = await ws.nx('show', 'project', 'gcc', '--json');
      assert.equal(r.exitCode, 0, r.all);
      assert.deepEqual(Object.keys(JSON.parse(r.stdout).targets).sort(), ['build', 'build--stage1', 'fetch']);
      withOption('no');
      const bad = await ws.nx('show', 'projects');
      assert.notEqual(bad.exitCode, 0);
      assert.match(bad.all, /nx\.json: plugins\[nx-distro\]\.options\.reproduceTargets: must be true or false, not "no"; write true \(the default\) or false/);
      assert.doesNotMatch(bad.all, /^\s+at /m, 'no stack trace');
    } finally {
      ws.write('nx.json', nxJson);
    }
  });

  it('gives every per-arch target every system target as a configuration, and fetch none', async () => {
    const r = await ws.nx('show', 'project', 'gcc', '--json');
    assert.equal(r.exitCode, 0, r.all);
    const p = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(p.targets).sort(), ['build', 'build--stage1', 'fetch', 'reproduce', 'reproduce-native']);
    for (const t of ['build', 'build--stage1', 'reproduce', 'reproduce-native']) {
      assert.deepEqual(Object.keys(p.targets[t].configurations).sort(), SYSTEM_TARGETS);
      assert.equal(p.targets[t].configurations.armv7h.systemTarget, 'armv7h');
    }
    assert.deepEqual(p.targets.fetch.configurations ?? {}, {});
    assert.equal(p.targets['build--stage1'].options.stage, 'stage1');
    const inputs = JSON.stringify(p.targets.build.inputs);
    assert.match(inputs, /\{projectRoot\}\/\*\*\/\*/);
    // the system target through its own identity task, never every target file or toolchain
    assert.match(inputs, /"dependentTasksOutputFiles":"\*\*\/system-target\.json","transitive":false/);
    assert.doesNotMatch(inputs, /targets\/|toolchain-identity/);
    assert.ok(p.targets.build.dependsOn.some((d: any) => d.target === 'system-target' && d.projects?.[0] === 'system'));
    // a cross build keys on its dependencies' ABI manifests (early cutoff), and on SOURCE_DATE_EPOCH
    assert.match(inputs, /"dependentTasksOutputFiles":"\*\*\/abi\.json","transitive":false/);
    assert.match(inputs, /"env":"SOURCE_DATE_EPOCH"/);
    assert.ok(!inputs.includes('^'), 'no transitive ^ inputs');
  });

  it('draws static project edges with their source file, the loop included', async () => {
    const r = await ws.nx('graph', '--file=graph.json');
    assert.equal(r.exitCode, 0, r.all);
    const g = ws.readJson('graph.json').graph;
    const edges = (p: string) => g.dependencies[p].map((d: any) => `${d.target}:${d.type}`).sort();
    assert.deepEqual(edges('gcc'), ['binutils:static', 'musl:static']);
    assert.deepEqual(edges('musl'), ['binutils:static', 'gcc:static']);
    assert.deepEqual(edges('lua'), ['readline:static']);
  });

  it('resolves the loop into gcc:build--stage1 -> musl:build -> gcc:build, all for the requested system target', async () => {
    const r = await ws.nx('run-many', '-t', 'build', '-c', 'armv7h', '--graph=tasks.json');
    assert.equal(r.exitCode, 0, r.all);
    const tg = ws.readJson('tasks.json').tasks;
    // every build also reads its system target's identity (system:system-target, same configuration)
    const id = 'system:system-target:armv7h';
    assert.deepEqual(deps(tg, 'gcc:build:armv7h'), ['binutils:build:armv7h', 'gcc:fetch', 'musl:build:armv7h', id]);
    assert.deepEqual(deps(tg, 'musl:build:armv7h'), ['binutils:build:armv7h', 'gcc:build--stage1:armv7h', 'musl:fetch', id]);
    assert.deepEqual(deps(tg, 'gcc:build--stage1:armv7h'), ['binutils:build:armv7h', 'gcc:fetch', id]);
    // readline's runtime depends (ncurses, and its musl) are staged into lua's sysroot with it.
    assert.deepEqual(deps(tg, 'lua:build:armv7h'), ['lua:fetch', 'musl:build:armv7h', 'ncurses:build:armv7h', 'readline:build:armv7h', id]);
    for (const [id, task] of Object.entries<any>(tg.tasks)) {
      if (task.target.target === 'fetch') assert.equal(task.target.configuration, undefined, id);
      else assert.equal(task.target.configuration, 'armv7h', `${id} must build for armv7h`);
    }
    assert.ok(tg.tasks['syslinux:build:armv7h'], 'an arch-limited recipe still has the configuration');
  });

  it('propagates the configuration through every dependency of one task', async () => {
    const r = await ws.nx('run', 'gcc:build', '-c', 'riscv64', '--graph=one.json');
    assert.equal(r.exitCode, 0, r.all);
    const ids = Object.keys(ws.readJson('one.json').tasks.tasks).sort();
    assert.deepEqual(ids, [
      'binutils:build:riscv64', 'binutils:fetch', 'gcc:build--stage1:riscv64', 'gcc:build:riscv64', 'gcc:fetch', 'musl:build:riscv64', 'musl:fetch',
      'system:system-target:riscv64',
    ]);
  });

  it('uses the default system target when no configuration is given', async () => {
    const r = await ws.nx('run', 'musl:build', '--graph=default.json');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(ws.readJson('default.json').tasks.tasks['gcc:build--stage1:x86_64']);
  });

  it('makes an arch-limited recipe an explicit, logged no-op for another arch, and builds it for x86_64, the arch it lists', async () => {
    // the fixture with an install step, so that the arch list alone decides whether a package is written
    const recipe = ws.read('recipes/syslinux/recipe.yaml');
    ws.write('recipes/syslinux/recipe.yaml', `${recipe}steps:\n  install: |\n    install -Dm644 /dev/null "$pkgdir/usr/share/syslinux/built-for-$CHOST"\n`);
    try {
      const r = await ws.nx('run', 'syslinux:build:aarch64', '--exclude-task-dependencies', '--skip-nx-cache');
      assert.equal(r.exitCode, 0, r.all);
      assert.match(r.all, /syslinux: nothing to build for aarch64 \(arch aarch64 is not in the recipe's arch list: x86_64\)/);
      assert.deepEqual(readdirSync(path.join(ws.root, 'dist/aarch64/packages/syslinux')), [], 'no package written for aarch64');
      const x = await ws.nx('run', 'syslinux:build:x86_64', '--exclude-task-dependencies', '--skip-nx-cache');
      assert.equal(x.exitCode, 0, x.all);
      assert.doesNotMatch(x.all, /nothing to build/, 'x86_64 is in the arch list: no no-op');
      const pkg = path.join(ws.root, 'dist/x86_64/packages/syslinux/syslinux-6.04-1-x86_64.pkg.tar.zst');
      assert.ok(existsSync(pkg), `the x86_64 build writes its package: ${x.all.slice(-3000)}`);
      assert.match(execFileSync('bsdtar', ['-tf', pkg], { encoding: 'utf8' }), /^usr\/share\/syslinux\/built-for-x86_64-linux-gnu$/m);
    } finally {
      ws.write('recipes/syslinux/recipe.yaml', recipe);
    }
  });

  it('makes the build of a recipe the external toolchain stands in for an explicit no-op', async () => {
    const r = await ws.nx('run', 'binutils:build:riscv64', '--exclude-task-dependencies', '--skip-nx-cache');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.all, /binutils: nothing to build for riscv64: its external toolchain \(riscv64-linux-gnu-gcc\) stands in for it/);
    assert.deepEqual(readdirSync(path.join(ws.root, 'dist/riscv64/packages/binutils')), [], 'no package written');
  });

  it('refuses a configuration that is not a system target before running anything', async () => {
    // Nx alone would run the default configuration (x86_64) for an unknown one.
    for (const args of [['run-many', '-t', 'build', '-c', 'mips'], ['run', 'musl:build:armv7']]) {
      const r = await ws.nx(...args);
      assert.notEqual(r.exitCode, 0, r.all);
      assert.match(r.all, /targets\/(mips|armv7)\.yaml: no such system target; pass --configuration with one of: aarch64, armv7h, riscv64, x86_64/);
      assert.doesNotMatch(r.all, /nx run /, 'no task may start');
    }
  });
});

describe('graph errors', () => {
  let ws: TestWorkspace;
  beforeEach(() => {
    ws = createWorkspace('toolchain');
  });
  afterEach(() => ws.dispose());

  it('fails with the loop when the stage is removed from gcc', async () => {
    ws.write('recipes/musl/recipe.yaml', ws.read('recipes/musl/recipe.yaml').replace('gcc@stage1', 'gcc'));
    const r = await ws.nx('show', 'projects');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all, /recipes\/gcc\/recipe\.yaml: dependency cycle: gcc -> musl -> gcc \(recipes: recipes\/gcc\/recipe\.yaml, recipes\/musl\/recipe\.yaml\); break it with a stage/);
    assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
  });

  it('reports every bad recipe of a run, one line each, and no stack trace', async () => {
    const head = (name: string) => `name: ${name}\nversion: '1'\nrelease: 1\ndescription: d\nlicense: [MIT]\nhomepage: https://example.org/\n`;
    ws.write('recipes/a/recipe.yaml', head('a').replace("version: '1'", 'version: 1-1'));
    ws.write('recipes/b/recipe.yaml', `${head('b')}makedepends: [ncurse]\n`);
    ws.write('recipes/c/recipe.yaml', `${head('c')}depends: [gcc@stage9]\n`);
    ws.write('recipes/d/recipe.yaml', head('dd'));
    ws.write('recipes/sys/musl/recipe.yaml', head('musl'));
    const r = await ws.nx('show', 'projects');
    assert.notEqual(r.exitCode, 0);
    for (const expected of [
      /recipes\/a\/recipe\.yaml: version: invalid value "1-1"/,
      /recipes\/b\/recipe\.yaml: makedepends\[0\]: unknown recipe "ncurse"; did you mean "ncurses"\?/,
      /recipes\/c\/recipe\.yaml: depends\[0\]: recipe "gcc" has no stage "stage9"; use one of: gcc@stage1/,
      /recipes\/d\/recipe\.yaml: name: "dd" differs from the folder name "d"/,
      /recipes\/sys\/musl\/recipe\.yaml: name: duplicate recipe name "musl" \(also recipes\/musl\/recipe\.yaml\)/,
    ]) assert.match(r.all, expected);
    assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
  });

  it('reports a broken system target file with its field', async () => {
    ws.write('targets/mips.yaml', 'arch: mips\ntriplet: mips linux\nkernel_arch: mips\nqemu: qemu-mips-static\ntoolchain: { kind: external, prefix: mips-linux-gnu-, sysroot: /usr/mips-linux-gnu }\npackage_sets: { base: { packages: [] } }\n');
    const r = await ws.nx('show', 'projects');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all, /targets\/mips\.yaml: triplet: invalid value "mips linux"; give a GNU triplet such as aarch64-linux-gnu/);
  });
});

describe('graph of a bootstrap toolchain (aarch64-musl, the real toolchain recipes)', () => {
  let ws: TestWorkspace;
  const BOOTSTRAP = ['binutils', 'gcc', 'linux-headers', 'musl'];
  beforeEach(() => {
    ws = createWorkspace(undefined, { systemTargets: [...EXTERNAL_SYSTEM_TARGETS, 'aarch64-musl'] });
    for (const r of [...BOOTSTRAP, 'zlib']) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
  });
  afterEach(() => ws.dispose());

  it('orders binutils -> gcc:build--stage1 -> musl -> gcc:build -> system:toolchain -> every other build', async () => {
    const r = await ws.nx('run-many', '-t', 'build', '-c', 'aarch64-musl', '--graph=tasks.json');
    assert.equal(r.exitCode, 0, r.all);
    const tg = ws.readJson('tasks.json').tasks;
    const id = 'system:system-target:aarch64-musl';
    assert.deepEqual(deps(tg, 'binutils:build:aarch64-musl'), ['binutils:fetch', id]);
    assert.deepEqual(deps(tg, 'gcc:build--stage1:aarch64-musl'), ['binutils:build:aarch64-musl', 'gcc:fetch', id]);
    assert.deepEqual(deps(tg, 'musl:build:aarch64-musl'), ['binutils:build:aarch64-musl', 'gcc:build--stage1:aarch64-musl', 'musl:fetch', id]);
    assert.deepEqual(deps(tg, 'gcc:build:aarch64-musl'), ['binutils:build:aarch64-musl', 'gcc:fetch', 'linux-headers:build:aarch64-musl', 'musl:build:aarch64-musl', id]);
    assert.deepEqual(deps(tg, 'system:toolchain:aarch64-musl'), [...BOOTSTRAP.map((n) => `${n}:build:aarch64-musl`), id]);
    assert.deepEqual(deps(tg, 'zlib:build:aarch64-musl'), ['system:toolchain:aarch64-musl', id, 'zlib:fetch'].sort());
    const zlib = tg.tasks['zlib:build:aarch64-musl'];
    assert.equal(zlib.target.configuration, 'aarch64-musl');
    // The packages of toolchain: true recipes (build-machine programs) are kept apart from the target's.
    const outputs = async (p: string, t: string) => JSON.parse((await ws.nx('show', 'project', p, '--json')).stdout).targets[t].outputs;
    assert.deepEqual(await outputs('gcc', 'build--stage1'), ['{workspaceRoot}/dist/{options.systemTarget}/build-machine/gcc@stage1']);
    assert.deepEqual(await outputs('binutils', 'build'), ['{workspaceRoot}/dist/{options.systemTarget}/build-machine/binutils']);
    assert.deepEqual(await outputs('musl', 'build'), ['{workspaceRoot}/dist/{options.systemTarget}/packages/musl']);
  });

  it("waits for the toolchain's builds only for the target that bootstraps it: none before a build for an external toolchain", async () => {
    // Nx's dependsOn is one list for every configuration; system:toolchain's entries for the
    // toolchain builds name their configurations (patches/nx+24.0.0.patch, docs/bootstrap.md).
    const toolchainTask = /^(binutils|gcc|linux-headers|musl):/;
    const ext = await ws.nx('run', 'zlib:build', '-c', 'aarch64', '--graph=ext.json');
    assert.equal(ext.exitCode, 0, ext.all);
    const tg = ws.readJson('ext.json').tasks;
    assert.deepEqual(deps(tg, 'zlib:build:aarch64'), ['system:system-target:aarch64', 'system:toolchain:aarch64', 'zlib:fetch']);
    assert.deepEqual(deps(tg, 'system:toolchain:aarch64'), ['system:system-target:aarch64']);
    assert.deepEqual(Object.keys(tg.tasks).filter((t) => toolchainTask.test(t)), []);
    // the same command for the bootstrap target still builds the whole toolchain first
    const boot = await ws.nx('run', 'zlib:build', '-c', 'aarch64-musl', '--graph=boot.json');
    assert.equal(boot.exitCode, 0, boot.all);
    const bg = ws.readJson('boot.json').tasks;
    assert.deepEqual(deps(bg, 'system:toolchain:aarch64-musl'), [...BOOTSTRAP.map((n) => `${n}:build:aarch64-musl`), 'system:system-target:aarch64-musl']);
    assert.deepEqual(
      Object.keys(bg.tasks).filter((t) => toolchainTask.test(t) && !t.endsWith(':fetch')).sort(),
      ['binutils:build:aarch64-musl', 'gcc:build--stage1:aarch64-musl', 'gcc:build:aarch64-musl', 'linux-headers:build:aarch64-musl', 'musl:build:aarch64-musl'],
    );
    // a toolchain recipe asked for by name on the external target is built for that target alone
    const musl = await ws.nx('run', 'musl:build', '-c', 'aarch64', '--graph=musl.json');
    assert.equal(musl.exitCode, 0, musl.all);
    assert.ok(Object.keys(ws.readJson('musl.json').tasks.tasks).every((t) => !t.includes('aarch64-musl')));
  });

  it('fails with the loop when gcc loses its stage', async () => {
    ws.write('recipes/musl/recipe.yaml', ws.read('recipes/musl/recipe.yaml').replace('gcc@stage1', 'gcc'));
    const r = await ws.nx('show', 'projects');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all, /recipes\/gcc\/recipe\.yaml: dependency cycle: gcc -> musl -> gcc \(recipes: recipes\/gcc\/recipe\.yaml, recipes\/musl\/recipe\.yaml\); break it with a stage/);
    assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
  });

  it('refuses a toolchain list that leaves out what its recipes build against, naming the target file and field', async () => {
    ws.write('targets/aarch64-musl.yaml', ws.read('targets/aarch64-musl.yaml').replace('recipes: [binutils, gcc, linux-headers, musl]', 'recipes: [binutils, gcc, musl]'));
    const r = await ws.nx('show', 'projects');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all, /targets\/aarch64-musl\.yaml: toolchain\.recipes: gcc needs linux-headers, which is not in the list \(the toolchain's own builds cannot wait for the toolchain\); add linux-headers to toolchain\.recipes/);
    assert.doesNotMatch(r.all, /^\s+at /m, 'no stack trace');
  });
});
