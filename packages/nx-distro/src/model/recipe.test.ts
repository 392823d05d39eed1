import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputErrors } from './errors';
import { buildSpec, loadRecipe, readRecipe, recipeForAnyArch, recipeForArch } from './recipe';

const FILE = 'recipes/zlib/recipe.yaml';
const GOOD = `name: zlib
version: 1.3.1
release: 1
description: Compression library implementing the deflate method
license: [Zlib]
homepage: https://zlib.net/
sources:
  - url: https://zlib.net/zlib-1.3.1.tar.xz
    sha256: 38ef96b8dfe510d42707d9c781877914792541133e1870841463bfa73f883e32
`;

function errorsOf(text: string, file = FILE, root = tmpdir()): string[] {
  try {
    loadRecipe(root, file, text);
  } catch (e) {
    assert.ok(e instanceof InputErrors, `expected InputErrors, got ${e}`);
    return e.errors.map((x) => x.message);
  }
  assert.fail('expected the recipe to be rejected');
}

describe('loadRecipe', () => {
  it('accepts a valid recipe and keeps its fields', () => {
    const r = loadRecipe(tmpdir(), FILE, GOOD);
    assert.equal(r.root, 'recipes/zlib');
    assert.equal(r.recipe.version, '1.3.1');
    assert.equal(r.recipe.sources?.[0].sha256.length, 64);
  });

  const cases: Array<[string, string, RegExp]> = [
    ['missing field', GOOD.replace('release: 1\n', ''), /^recipes\/zlib\/recipe\.yaml: missing required field "release"; add `release:`$/],
    ['release below 1', GOOD.replace('release: 1', 'release: 0'), /: release: must be >= 1 \(got 0\)$/],
    ['bad sha256', GOOD.replace(/sha256: \w+/, 'sha256: ABC'), /: sources\[0\]\.sha256: invalid value "ABC"; give the 64 lower-case hex digits printed by `sha256sum FILE`$/],
    ['unknown field', `${GOOD}colour: red\n`, /: colour: unknown field; remove it, or use one of: name, version/],
    ['version with a dash', GOOD.replace('version: 1.3.1', 'version: 1.3-1'), /: version: invalid value "1.3-1"; a pacman pkgver has no "-"/],
    ['url and urls', GOOD.replace('  - url: https://zlib.net/zlib-1.3.1.tar.xz\n', '  - url: https://a/x.tar.xz\n    urls: [https://b/x.tar.xz]\n'), /: sources\[0\]: has both url and urls; keep `url:`/],
    ['no url', GOOD.replace('  - url: https://zlib.net/zlib-1.3.1.tar.xz\n    sha256', '  - sha256'), /: sources\[0\]: has no url; add `url:`/],
    ['bad dependency entry', `${GOOD}makedepends: [Gcc@1]\n`, /: makedepends\[0\]: invalid value "Gcc@1"; write a recipe name, or name@stageN/],
    ['bad stage name', `${GOOD}stages:\n  first: {}\n`, /: stages\.first: invalid key "first"; name stages stage1, stage2/],
    ['bad style', `${GOOD}style: cmake-ish\n`, /: style: invalid value "cmake-ish"; use one of: cmake, gnu-configure, make, meson, none$/],
    ['bad arch', `${GOOD}arch: all\n`, /: arch: invalid value "all"; expected "any" or a list \(pacman arch names/],
    ['patch without upstream', `${GOOD}patches:\n  - file: fix.patch\n`, /: patches\[0\]: missing required field "upstream"/],
    ['patch upstream not a URL', `${GOOD}patches:\n  - file: fix.patch\n    upstream: see mailing list\n`, /: patches\[0\]\.upstream: invalid value "see mailing list"; give the http\(s\) link/],
    ['invalid YAML', 'name: zlib\n  version: [', /^recipes\/zlib\/recipe\.yaml: line 2 column 10: invalid YAML: bad indentation of a mapping entry$/],
    ['unquoted all-digit sum', GOOD.replace(/sha256: \w+/, `sha256: ${'1234567890'.repeat(6)}1234`), /: sources\[0\]\.sha256: must be string, not [0-9.e+]+; quote the value/],
    ['not a mapping', '- a\n- b\n', /: must be object \(a mapping of fields\), not a list; write one `field: value` line per field$/],
    ['patch upstream without a host', `${GOOD}patches:\n  - file: fix.patch\n    upstream: https://\n`, /: patches\[0\]\.upstream: (invalid value|"https:\/\/" is not a valid http\(s\) URL)/],
    ['two sources with one file name', GOOD.replace('sources:\n', 'sources:\n  - url: https://mirror.example/zlib-1.3.1.tar.xz\n    sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n'), /: sources\[1\]: distfile name "zlib-1\.3\.1\.tar\.xz" is also used by sources\[0\]; give one of them another `filename:`$/],
    ['URL without a file name', GOOD.replace('https://zlib.net/zlib-1.3.1.tar.xz', 'https://zlib.net/'), /: sources\[0\]: the URL does not end with a file name; add `filename:`$/],
    ['extract into a parent folder', GOOD.replace(/(sha256: \w+)/, '$1\n    extract: { into: a/../../b }'), /: sources\[0\]\.extract\.into: "a\/\.\.\/\.\.\/b" leaves srcdir; use a folder inside srcdir, without `\.\.`$/],
    ['setuid path with a leading /', `${GOOD}setuid: [/usr/bin/passwd]\n`, /: setuid\[0\]: invalid value "\/usr\/bin\/passwd"; give the path inside the package, relative \(no leading \/\), without "\.\." or "\." \(usr\/bin\/passwd\)$/],
    ['backup path with a leading /', `${GOOD}backup: [/etc/zlib.conf]\n`, /: backup\[0\]: invalid value "\/etc\/zlib\.conf"; give the path inside the package, relative \(no leading \/\)/],
    ['provides with a space', `${GOOD}provides: ['libz so']\n`, /: provides\[0\]: invalid value "libz so"; write a package name, or name=version/],
    ['conflicts with a bad operator', `${GOOD}conflicts: ['zlib-ng!=2']\n`, /: conflicts\[0\]: invalid value "zlib-ng!=2"; write a package name, or a name with a version constraint/],
    ['optdepends without a space after the colon', `${GOOD}optdepends: ['minizip:zip files']\n`, /: optdepends\[0\]: invalid value "minizip:zip files"; write a package name, or "name: reason"/],
    ['group in capitals', `${GOOD}groups: [Base]\n`, /: groups\[0\]: invalid value "Base"; write a group name/],
    ['a field arch_overrides has no per-arch form of', `${GOOD}arch_overrides:\n  riscv64:\n    version: '2'\n`, /: arch_overrides\.riscv64\.version: unknown field; remove it, or use one of: depends, makedepends, makedepends_build, env, steps, configure_args/],
    ['a bad entry in an arch_overrides dependency list', `${GOOD}arch_overrides:\n  riscv64:\n    makedepends: ['zlib>=1']\n`, /: arch_overrides\.riscv64\.makedepends\[0\]: invalid value "zlib>=1"; write a recipe name, or name@stageN for a stage build$/],
    ['arch_overrides with a bad arch key', `${GOOD}arch_overrides:\n  RISC-V: { env: { A: b } }\n`, /: arch_overrides\.RISC-V: invalid key "RISC-V"; use a pacman arch name \(x86_64, aarch64, armv7h, riscv64\)$/],
    ['setuid path leaving the package', `${GOOD}setuid: [usr/../../etc/passwd]\n`, /: setuid\[0\]: invalid value "usr\/\.\.\/\.\.\/etc\/passwd"; give the path inside the package/],
  ];
  it('takes provides, conflicts, replaces, optdepends, backup and groups as pacman writes them', () => {
    const text = `${GOOD}provides: [libz.so=1-64, zlib-compat=1.3.1]\nconflicts: [zlib-ng, 'minizip<1.3']\nreplaces: [zlib1g]\noptdepends: ['minizip: zip files', gzip]\nbackup: [etc/zlib.conf]\ngroups: [base]\n`;
    const { recipe } = loadRecipe(tmpdir(), FILE, text);
    assert.deepEqual([recipe.provides, recipe.conflicts, recipe.replaces, recipe.optdepends, recipe.backup, recipe.groups], [['libz.so=1-64', 'zlib-compat=1.3.1'], ['zlib-ng', 'minizip<1.3'], ['zlib1g'], ['minizip: zip files', 'gzip'], ['etc/zlib.conf'], ['base']]);
  });

  it('applies arch_overrides for the arch only: env and steps merged, style arguments appended, autoreconf replaced', () => {
    const text = `${GOOD}style: gnu-configure\nenv: { A: '1', B: '2' }\nsteps: { check: 'make check' }\nconfigure_args: [--disable-static]\narch_overrides:\n  riscv64:\n    env: { B: '3', C: '4' }\n    steps: { check: '' }\n    configure_args: [--disable-asm]\n    autoreconf: true\n`;
    const { recipe } = loadRecipe(tmpdir(), FILE, text);
    const riscv = recipeForArch(recipe, 'riscv64');
    assert.deepEqual([riscv.env, riscv.steps, riscv.configure_args, riscv.autoreconf, riscv.arch_overrides], [{ A: '1', B: '3', C: '4' }, { check: '' }, ['--disable-static', '--disable-asm'], true, undefined]);
    const aarch64 = recipeForArch(recipe, 'aarch64');
    assert.deepEqual([aarch64.env, aarch64.steps, aarch64.configure_args, aarch64.autoreconf, aarch64.arch_overrides], [{ A: '1', B: '2' }, { check: 'make check' }, ['--disable-static'], undefined, undefined]);
    assert.equal(recipeForArch(recipe, 'constructor').env?.B, '2', 'an arch name is looked up as an own key only');
    assert.deepEqual(recipe.env, { A: '1', B: '2' }, 'the loaded recipe is not changed');
  });

  it('adds an arch_overrides entry\'s dependency lists to the recipe\'s for that arch only, each entry once; recipeForAnyArch adds every arch\'s', () => {
    const text = `${GOOD}depends: [zlib]\nmakedepends: [zlib]\narch_overrides:\n  riscv64:\n    depends: [libatomic]\n    makedepends: [zlib, libatomic]\n  armv7h:\n    makedepends_build: [perl]\n    makedepends: [libunwind]\n`;
    const { recipe } = loadRecipe(tmpdir(), FILE, text);
    const lists = (r: typeof recipe) => [r.depends, r.makedepends, r.makedepends_build];
    assert.deepEqual(lists(recipeForArch(recipe, 'riscv64')), [['zlib', 'libatomic'], ['zlib', 'libatomic'], undefined]);
    assert.deepEqual(lists(recipeForArch(recipe, 'armv7h')), [['zlib'], ['zlib', 'libunwind'], ['perl']]);
    assert.deepEqual(lists(recipeForArch(recipe, 'aarch64')), [['zlib'], ['zlib'], undefined]);
    assert.deepEqual(lists(recipeForAnyArch(recipe)), [['zlib', 'libatomic'], ['zlib', 'libatomic', 'libunwind'], ['perl']]);
    assert.ok(recipeForAnyArch(recipe).arch_overrides, 'the overrides stay for the per-arch reads');
    // A stage without lists of its own inherits the arch's; one with its own keeps them.
    const staged = { ...recipe, stages: { stage1: { profiles: ['stage1'] }, stage2: { makedepends: [] } } };
    assert.deepEqual(buildSpec(recipeForArch(staged, 'riscv64'), 'stage1').makedepends, ['zlib', 'libatomic']);
    assert.deepEqual(buildSpec(recipeForArch(staged, 'riscv64'), 'stage2').makedepends, []);
    assert.deepEqual(recipe.makedepends, ['zlib'], 'the loaded recipe is not changed');
    const plain = loadRecipe(tmpdir(), FILE, GOOD).recipe;
    assert.equal(recipeForAnyArch(plain), plain, 'a recipe without per-arch lists comes back as it is');
  });

  for (const [what, text, expected] of cases) {
    it(`rejects: ${what}`, () => {
      const errors = errorsOf(text);
      assert.ok(errors.some((m) => expected.test(m)), `no error matched ${expected}:\n${errors.join('\n')}`);
      for (const m of errors) assert.ok(!m.includes('\n'), `multi-line error: ${m}`);
    });
  }

  it('takes a lint field of check names (errors, ignore) and names an unknown check or field with the valid ones', () => {
    assert.deepEqual(loadRecipe(tmpdir(), FILE, `${GOOD}lint:\n  errors: [needed-without-depends]\n  ignore: [fhs-path]\n`).recipe.lint, { errors: ['needed-without-depends'], ignore: ['fhs-path'] });
    assert.deepEqual(errorsOf(`${GOOD}lint:\n  errors: [build-rpath, no-such-check]\n`), [
      `${FILE}: lint.errors[1]: invalid value "no-such-check"; use one of: needed-without-depends, depends-not-needed, build-rpath, build-reference, fhs-path, setuid, world-writable, symlink-escape, libtool-archive, arch-mismatch`,
    ]);
    assert.deepEqual(errorsOf(`${GOOD}lint:\n  warnings: [fhs-path]\n`), [`${FILE}: lint.warnings: unknown field; remove it, or use one of: errors, ignore`]);
  });

  it('rejects a name that differs from the folder', () => {
    assert.deepEqual(errorsOf(GOOD, 'recipes/libz/recipe.yaml'), [
      'recipes/libz/recipe.yaml: name: "zlib" differs from the folder name "libz"; rename one to match',
    ]);
  });

  it('rejects a license that is not SPDX', () => {
    assert.match(errorsOf(GOOD.replace('[Zlib]', '[Zlib, GPL2]')).join('\n'), /: license\[1\]: "GPL2" is not an SPDX license identifier or expression/);
  });

  it('accepts SPDX expressions with exceptions', () => {
    loadRecipe(tmpdir(), FILE, GOOD.replace('[Zlib]', '[GPL-3.0-or-later WITH GCC-exception-3.1, LicenseRef-Public-Domain]'));
  });

  it('requires patch files to exist beside the recipe', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'nx-distro-recipe-'));
    mkdirSync(path.join(root, 'recipes/zlib'), { recursive: true });
    writeFileSync(path.join(root, 'recipes/zlib/ok.patch'), '');
    const text = `${GOOD}patches:\n  - file: ok.patch\n    upstream: https://github.com/madler/zlib/commit/1\n  - file: gone.patch\n    upstream: https://github.com/madler/zlib/commit/2\n`;
    assert.deepEqual(errorsOf(text, FILE, root), [
      'recipes/zlib/recipe.yaml: patches[1].file: "gone.patch" not found in recipes/zlib/; add the patch file beside recipe.yaml',
    ]);
  });

  it('refuses a patch that is a symbolic link (to /etc/shadow or beside it), a folder or a FIFO, and a linked recipe file', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'nx-distro-recipe-'));
    mkdirSync(path.join(root, 'recipes/zlib/sub'), { recursive: true });
    writeFileSync(path.join(root, 'recipes/zlib/ok.patch'), '');
    symlinkSync('/etc/shadow', path.join(root, 'recipes/zlib/shadow.patch'));
    symlinkSync('ok.patch', path.join(root, 'recipes/zlib/alias.patch'));
    execFileSync('mkfifo', [path.join(root, 'recipes/zlib/fifo.patch')]);
    const entries = ['shadow.patch', 'alias.patch', 'sub', '.', 'fifo.patch', 'ok.patch'];
    const text = `${GOOD}patches:\n${entries.map((f, i) => `  - file: ${f}\n    upstream: https://github.com/madler/zlib/commit/${i}\n`).join('')}`;
    const fix = 'replace it with a regular file inside the workspace (nx-distro reads no link, folder or special file on behalf of a recipe or system target)';
    assert.deepEqual(errorsOf(text, FILE, root), [
      `recipes/zlib/recipe.yaml: patches[0].file: "shadow.patch": is a symbolic link, not a regular file; ${fix}`,
      `recipes/zlib/recipe.yaml: patches[1].file: "alias.patch": is a symbolic link, not a regular file; ${fix}`,
      `recipes/zlib/recipe.yaml: patches[2].file: "sub": is a folder, not a regular file; ${fix}`,
      `recipes/zlib/recipe.yaml: patches[3].file: ".": is a folder, not a regular file; ${fix}`,
      `recipes/zlib/recipe.yaml: patches[4].file: "fifo.patch": is a FIFO, not a regular file; ${fix}`,
    ]);
    writeFileSync(path.join(root, 'outside.yaml'), GOOD);
    symlinkSync(path.join(root, 'outside.yaml'), path.join(root, FILE));
    assert.throws(() => readRecipe(root, FILE), (e: Error) => e instanceof InputErrors && e.message === `${FILE}: is a symbolic link, not a regular file; ${fix}`);
    rmSync(root, { recursive: true, force: true });
  });

  it('reports every problem of a file in one pass', () => {
    const errors = errorsOf(GOOD.replace('release: 1', 'release: 0').replace(/sha256: \w+/, 'sha256: x'));
    assert.equal(errors.length, 2);
  });
});

describe('buildSpec', () => {
  it('lets a stage inherit the lists it leaves out', () => {
    const r = loadRecipe(tmpdir(), 'recipes/gcc/recipe.yaml', `${GOOD.replace('name: zlib', 'name: gcc')}makedepends: [musl]\nmakedepends_build: [binutils]\nstages:\n  stage1:\n    makedepends: []\n`).recipe;
    assert.deepEqual(buildSpec(r, undefined), { depends: [], makedepends: ['musl'], makedepends_build: ['binutils'] });
    assert.deepEqual(buildSpec(r, 'stage1'), { depends: [], makedepends: [], makedepends_build: ['binutils'] });
  });
});

describe('loadRecipe on hostile input', () => {
  it('refuses a file over 1 MB before parsing it, and names an empty file', () => {
    const big = errorsOf(`${GOOD}# ${'x'.repeat(1_100_000)}\n`);
    assert.deepEqual(big, [`${FILE}: the file is 1.1 MB; a recipe or system target file must be at most 1 MB; keep large data in sources and patches`]);
    assert.deepEqual(errorsOf('# only a comment\n'), [`${FILE}: the file is empty; write the recipe (see docs/recipe-format.md)`]);
  });

  it('shows a YAML alias bomb in a message without expanding it', () => {
    const levels = ['x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 10; i++) levels.push(`x${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const started = Date.now();
    const errors = errorsOf(`${GOOD.replace(/^description: .*\n/m, '')}${levels.join('\n')}\ndescription: *a9\n`);
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
    assert.ok(errors.includes(`${FILE}: description: must be string, not [[[[[[[[[["lol","lol","lol","lol","lol","lol","lol","lol"...`), errors.join('\n'));
  });

  it('refuses a patch path leaving the recipe folder even when the file exists', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'nx-distro-recipe-'));
    mkdirSync(path.join(root, 'recipes/zlib'), { recursive: true });
    writeFileSync(path.join(root, 'recipes/other.patch'), '');
    const errors = errorsOf(`${GOOD}patches:\n  - file: ../other.patch\n    upstream: https://example.org/1\n`, FILE, root);
    assert.deepEqual(errors, [`${FILE}: patches[0].file: "../other.patch" leaves recipes/zlib/; keep the patch file in the recipe folder and give its path without \`..\``]);
  });
});
