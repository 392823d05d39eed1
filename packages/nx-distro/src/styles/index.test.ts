import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import recipeSchema from '../model/recipe.schema.json';
import { tmpdir } from 'node:os';
import { InputErrors } from '../model/errors';
import { loadRecipe } from '../model/recipe';
import { recipe } from '../testing/recipes';
import { hostTools, STYLES, resolveSteps } from './index';
import { hostToolsInput } from '../plugin/targets';

describe('build styles', () => {
  it('are exactly the styles the recipe schema allows', () => {
    assert.deepEqual(Object.keys(STYLES).sort(), [...recipeSchema.properties.style.enum].sort());
  });

  it('let recipe steps, then stage steps, override the style phase by phase', () => {
    const r = recipe('zlib', {
      style: 'gnu-configure',
      steps: { configure: './configure --prefix=/usr', check: '' },
      stages: { stage1: { steps: { build: 'make libz.a' } } },
    }).recipe;
    const final = resolveSteps(r);
    assert.equal(final.configure, './configure --prefix=/usr');
    assert.equal(final.build, 'make -j"$JOBS"');
    assert.equal(final.check, undefined, 'an empty step disables the phase');
    assert.equal(final.install, 'make DESTDIR="$pkgdir" install');
    assert.equal(resolveSteps(r, 'stage1').build, 'make libz.a');
  });

  it('give nothing for style none', () => {
    assert.deepEqual(resolveSteps(recipe('x').recipe), {});
  });

  it('start every step in build_wrksrc, and append the recipe\'s arguments as one word each', () => {
    const r = recipe('expat', { style: 'gnu-configure', build_wrksrc: 'expat', autoreconf: true, configure_args: ['--without-docbook', 'CFLAGS=$CFLAGS -DX="1"'], make_args: ['V=1'], steps: { prepare: 'sed -i s/a/b/ x' } }).recipe;
    const s = resolveSteps(r);
    for (const phase of ['prepare', 'configure', 'build', 'install'] as const) assert.ok(s[phase]!.startsWith('cd expat\n'), `${phase}: ${s[phase]}`);
    assert.equal(s.configure, 'cd expat\nautoreconf -fi\nCONFIG_SHELL="${CONFIG_SHELL:-/bin/sh}" ./configure --build="$CBUILD" --host="$CHOST" --prefix=/usr --sysconfdir=/etc --localstatedir=/var --disable-static "--without-docbook" "CFLAGS=$CFLAGS -DX=\\"1\\""');
    assert.equal(s.install, 'cd expat\nmake DESTDIR="$pkgdir" install "V=1"');
    assert.equal(resolveSteps(recipe('z', { style: 'make', make_args: ['HAVE_ZLIB=0'] }).recipe).build, 'make -j"$JOBS" CC="$CC" AR="$AR" RANLIB="$RANLIB" CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS" "HAVE_ZLIB=0"');
  });

  it('refuse a build_wrksrc leaving $srcdir and an argument with a control character, in the schema', () => {
    const base = 'name: x\nversion: "1"\nrelease: 1\ndescription: d\nlicense: [MIT]\nhomepage: https://example.org/\nstyle: cmake\n';
    const errors = (extra: string) => {
      try {
        loadRecipe(tmpdir(), 'recipes/x/recipe.yaml', base + extra);
        return [];
      } catch (e) {
        assert.ok(e instanceof InputErrors, String(e));
        return e.errors.map((x) => x.field);
      }
    };
    assert.deepEqual(errors('build_wrksrc: expat/lib\ncmake_args: [-DX=ON]\n'), []);
    for (const bad of ['..', '../x', '/abs', 'a/../b', './a', 'a b', 'a/']) assert.deepEqual(errors(`build_wrksrc: "${bad}"\n`), ['build_wrksrc'], bad);
    assert.deepEqual(errors('cmake_args: ["-DX=\\u0001"]\n'), ['cmake_args[0]']);
  });

  it("name the host tools a recipe's build runs: its style's and its host_tools, as a dpkg-query runtime input", () => {
    const r = recipe('fribidi', { style: 'meson', host_tools: ['python3', 'ninja-build'] });
    assert.deepEqual(hostTools(r.recipe), ['meson', 'ninja-build', 'python3']);
    assert.deepEqual(hostToolsInput(r), [{ runtime: "dpkg-query -W -f='${Package}=${Version}\\n' meson ninja-build python3 2>&1; true" }]);
    assert.deepEqual(hostToolsInput(recipe('zlib', { style: 'gnu-configure' })), []);
  });
});
