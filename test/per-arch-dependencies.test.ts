/**
 * Per-arch dependency lists end to end (issue 20 part 2, `arch_overrides.<arch>.makedepends` and
 * `depends`): a recipe that links the real zlib on aarch64 only. Its aarch64 build stages zlib,
 * links `-lz`, declares `depend = zlib` and runs under QEMU with zlib's library; its x86_64 build
 * stages no zlib and declares no such dependency (so `nx-distro lint` finds no unneeded
 * `depends`). Nx orders both arches' builds after zlib's (task dependencies are per project, not
 * per configuration), which the project's `dependsOn` and the x86_64 run show. Real builds with
 * Debian's cross compiler in bubblewrap; the test run's Nx cache and distfiles store (zlib for
 * both arches is usually a hit from earlier files). The file's name sorts after build.test.ts on
 * purpose: that file asserts that none of its builds comes from the run's cache, and this one
 * builds zlib for aarch64.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

/** zlib on aarch64 only: the arch's steps include zlib.h and link -lz, the others' print a line. */
const ZCOND = `name: zcond
version: '1.0'
release: 1
description: Prints the version of zlib on aarch64, and a line elsewhere
license: [MIT]
homepage: https://example.org/zcond
sources: []
steps:
  build: |
    printf '#include <stdio.h>\\nint main(void) { puts("zcond without zlib"); return 0; }\\n' > zcond.c
    $CC $CFLAGS $LDFLAGS -o zcond zcond.c
  install: |
    install -Dm755 zcond "$pkgdir/usr/bin/zcond"
arch_overrides:
  aarch64:
    depends: [zlib]
    makedepends: [zlib]
    steps:
      build: |
        printf '#include <stdio.h>\\n#include <zlib.h>\\nint main(void) { printf("zcond with zlib %%s\\\\n", zlibVersion()); return 0; }\\n' > zcond.c
        $CC $CFLAGS $LDFLAGS -o zcond zcond.c -lz
`;

describe('arch_overrides dependency lists: zlib for aarch64 only', () => {
  let ws: TestWorkspace;
  const dir = (target: string, name: string) => path.join(ws.root, 'dist', target, 'packages', name);
  const pkg = (target: string, name: string) => path.join(dir(target, name), readdirSync(dir(target, name)).find((f) => f.startsWith(`${name}-`) && f.endsWith('.pkg.tar.zst'))!);
  const depends = async (target: string) =>
    (await execa('bsdtar', ['-xOf', pkg(target, 'zcond'), '.PKGINFO'])).stdout.split('\n').filter((l) => l.startsWith('depend = '));
  const sysroot = (target: string) =>
    /^# sysroot: (.*)$/m.exec(readFileSync(path.join(dir(target, 'zcond'), 'build.log'), 'utf8'))?.[1]?.split(' ').filter((p) => p && p !== '(empty)' && !p.startsWith('toolchain-runtime-')).sort();

  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(ws.root, 'recipes', 'zlib'), { recursive: true });
    ws.write('recipes/zcond/recipe.yaml', ZCOND);
  });
  after(() => ws.dispose());

  it("gives Nx the union: zcond's build depends on zlib's build in every configuration", async () => {
    const r = await ws.nx('show', 'project', 'zcond', '--json');
    assert.equal(r.exitCode, 0, r.all.slice(-3000));
    const build = JSON.parse(r.stdout).targets.build;
    assert.ok(build.dependsOn.some((d: { target?: string; projects?: string[] }) => d.target === 'build' && d.projects?.includes('zlib')), JSON.stringify(build.dependsOn));
    assert.ok(build.configurations.aarch64 && build.configurations.x86_64, Object.keys(build.configurations).join(' '));
  });

  it('aarch64: stages zlib, links it, declares depend = zlib, and the program prints zlib\'s version under QEMU', async () => {
    const r = await ws.nx('run', 'zcond:build', '-c', 'aarch64', '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    assert.deepEqual(sysroot('aarch64'), ['zlib-1.2.13-1-aarch64']);
    assert.deepEqual(await depends('aarch64'), ['depend = toolchain-runtime', 'depend = zlib']);
    const root = path.join(ws.root, 'root-aarch64');
    mkdirSync(root);
    for (const name of ['zcond', 'zlib']) await execa('bsdtar', ['-xf', pkg('aarch64', name), '-C', root, '--exclude', '.*']);
    const run = await execa('qemu-aarch64-static', [path.join(root, 'usr/bin/zcond')], { reject: false, all: true, env: { QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu', LD_LIBRARY_PATH: path.join(root, 'usr/lib') } });
    assert.equal(run.all, 'zcond with zlib 1.2.13');
    assert.doesNotMatch(r.all, /\[(warning|error) (depends-not-needed|needed-without-depends)\]/, 'the build lint finds the dependency needed and declared');
  });

  it('x86_64: stages no zlib and declares none, though Nx built zlib for x86_64 first', async () => {
    const r = await ws.nx('run', 'zcond:build', '-c', 'x86_64', '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    assert.match(r.all, /nx run zlib:build:x86_64/, 'the union orders zlib first in this configuration too');
    assert.deepEqual(sysroot('x86_64'), []);
    assert.deepEqual(await depends('x86_64'), ['depend = toolchain-runtime']);
    assert.doesNotMatch(r.all, /\[(warning|error) depends-not-needed\]/, 'no dependency the package does not need');
    const root = path.join(ws.root, 'root-x86_64');
    mkdirSync(root);
    await execa('bsdtar', ['-xf', pkg('x86_64', 'zcond'), '-C', root, '--exclude', '.*']);
    const run = await execa(path.join(root, 'usr/bin/zcond'), { reject: false, all: true });
    assert.equal(run.all, 'zcond without zlib');
    const needed = await execa('readelf', ['-d', path.join(root, 'usr/bin/zcond')]);
    assert.doesNotMatch(needed.stdout, /libz\.so/);
  });
});
