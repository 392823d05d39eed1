// nx-distro lint inside real builds (`nx run <recipe>:build -c x86_64`) and as the command on
// what they wrote: findings are `lint: ` warning lines of the build (and of its build.log) unless
// the recipe's `lint.errors` names the check, which fails the build before its package is
// written; `nx-distro lint x86_64` then reports the same lines from the package files.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createWorkspace, type TestWorkspace } from './helpers/workspace';

describe('nx-distro lint in builds and on built packages', () => {
  let ws: TestWorkspace;
  const head = (name: string) => `name: ${name}\nversion: "1.0"\nrelease: 1\ndescription: A recipe lint has findings in\nlicense: [MIT]\nhomepage: https://example.org/\n`;
  const install = [
    '  install: |',
    '    mkdir -p "$pkgdir/usr/lib/pkgconfig" "$pkgdir/home/x"',
    '    echo "libdir=$SYSROOT/usr/lib" > "$pkgdir/usr/lib/pkgconfig/x.pc"',
    '    echo ok > "$pkgdir/home/x/ok"',
  ].join('\n');
  const FHS = (name: string, severity: string) => `lint: ${name}: "/home": a top-level folder outside the allowed paths (/usr, /etc, /var, /boot, /opt, /srv, and bin, sbin, lib, lib32, lib64, libx32 as links into usr/) [${severity} fhs-path]; install under /usr (configure --prefix=/usr, DESTDIR="$pkgdir"), or move it in the install step`;
  const REF = (name: string) => `lint: ${name}: "/usr/lib/pkgconfig/x.pc": mentions the build sandbox path "/build/sysroot" [warning build-reference]; find where the build writes its own folder into the file (a configure-time path, a pkg-config or libtool file, an unstripped binary without -ffile-prefix-map) and make it the installed path (/usr/...), or add the check to \`lint.ignore\` if the text is harmless`;

  before(() => {
    ws = createWorkspace(undefined, { systemTargets: ['x86_64'] });
    ws.env.NX_DISTRO_SKIP_HOST_CHECK = '1';
    chmodSync(ws.root, 0o755);
    ws.write('recipes/lax/recipe.yaml', `${head('lax')}steps:\n${install}\n`);
    ws.write('recipes/strict/recipe.yaml', `${head('strict')}lint:\n  errors: [fhs-path]\nsteps:\n${install}\n`);
  });
  after(() => ws.dispose());

  const lines = (text: string) => text.split('\n').map((l) => l.trim());
  const packages = (name: string) => readdirSync(path.join(ws.root, 'dist/x86_64/packages', name)).filter((f) => f.endsWith('.pkg.tar.zst'));

  it('prints the findings as warnings and writes the package', async () => {
    const run = await ws.nx('run', 'lax:build', '-c', 'x86_64', '--output-style=static');
    assert.equal(run.exitCode, 0, run.all.slice(-3000));
    for (const want of [REF('lax'), FHS('lax', 'warning')]) {
      assert.ok(lines(run.all).includes(want), `${want}\n${run.all.slice(-3000)}`);
      assert.ok(lines(ws.read('dist/x86_64/packages/lax/build.log')).includes(want), 'in build.log too');
    }
    assert.equal(packages('lax').length, 1);
  });

  it("fails the build on a check the recipe's lint.errors names, before the package is written", async () => {
    const run = await ws.nx('run', 'strict:build', '-c', 'x86_64', '--output-style=static');
    assert.notEqual(run.exitCode, 0, run.all.slice(-3000));
    assert.ok(lines(run.all).includes(FHS('strict', 'error')), run.all.slice(-3000));
    assert.ok(lines(run.all).includes(REF('strict')), 'the warning is printed too');
    assert.match(run.all, /strict: 1 lint error\(s\) above \(checks the recipe's or the target's `lint.errors` names\); no package is written/);
    assert.equal(existsSync(path.join(ws.root, 'dist/x86_64/packages/strict')) ? packages('strict').length : 0, 0);
  });

  it('nx-distro lint x86_64 reports the same findings from the package files, exit 0 for warnings', async () => {
    const run = await ws.bin('nx-distro', 'lint', 'x86_64');
    assert.equal(run.exitCode, 0, run.all);
    const out = run.stdout.split('\n').filter(Boolean);
    assert.deepEqual(out, [REF('lax').slice('lint: '.length), FHS('lax', 'warning').slice('lint: '.length)]);
    assert.match(run.stderr, /nx-distro lint: \d+ package\(s\) of x86_64: 0 error\(s\), 2 warning\(s\)/);
  });
});
