import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeAbiManifest } from '../packages/abi-manifest';
import { writePackage } from '../packages/pacman-package';
import { lintBuiltPackages, lintCommand } from './cli';
import { have } from '../testing/host';

const REPO = path.resolve(__dirname, '../../../..');


/** Runs `fn` with console.log and console.error captured. */
async function captured(fn: () => Promise<number>): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { status: await fn(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('nx-distro lint SYSTEM_TARGET [PACKAGE...]', { skip: have('aarch64-linux-gnu-gcc') ? false : 'aarch64-linux-gnu-gcc is not installed' }, () => {
  let ws: string;
  const recipe = (name: string, extra = '') => `name: ${name}\nversion: "1.0"\nrelease: 1\ndescription: test\nlicense: [MIT]\nhomepage: https://example.org/\n${extra}`;

  /** Writes `dist/aarch64/packages/<name>/` from a tree, with abi.json when asked (as builds write it). */
  async function built(name: string, fill: (pkgdir: string) => void, depends: string[], abi = true): Promise<void> {
    const pkgdir = path.join(ws, 'tmp', name);
    mkdirSync(pkgdir, { recursive: true });
    fill(pkgdir);
    const out = path.join(ws, 'dist/aarch64/packages', name);
    await writePackage(pkgdir, { pkgname: name, pkgbase: name, pkgver: '1.0', pkgrel: 1, pkgdesc: 'x', url: 'https://example.org', arch: 'aarch64', license: ['MIT'], depends, packager: 'nx-distro', builddate: 1700000000 }, { pkgbuildSha256: 'ab'.repeat(32), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: '0.1.0' }, out, 1700000000);
    if (abi) await writeAbiManifest(pkgdir, out);
  }

  before(async () => {
    ws = mkdtempSync(path.join(tmpdir(), 'nx-distro-lint-cli-'));
    mkdirSync(path.join(ws, 'targets'));
    copyFileSync(path.join(REPO, 'targets/aarch64.yaml'), path.join(ws, 'targets/aarch64.yaml'));
    for (const [name, extra] of [['app', 'depends: [zlib]\nlint:\n  errors: [needed-without-depends]\n'], ['demo', ''], ['zlib', '']]) {
      mkdirSync(path.join(ws, 'recipes', name), { recursive: true });
      writeFileSync(path.join(ws, 'recipes', name, 'recipe.yaml'), recipe(name, extra));
    }
    const src = path.join(ws, 'src');
    mkdirSync(src);
    writeFileSync(path.join(src, 'demo.c'), 'int demo(int x) { return x * 2; }\n');
    writeFileSync(path.join(src, 'prog.c'), 'int demo(int);\nint main(int c, char **v) { return demo(c); }\n');
    execFileSync('aarch64-linux-gnu-gcc', ['-shared', '-fPIC', '-Wl,-soname,libdemo.so.1', '-o', 'libdemo.so.1', 'demo.c'], { cwd: src });
    execFileSync('aarch64-linux-gnu-gcc', ['-shared', '-fPIC', '-Wl,-soname,libz.so.1', '-o', 'libz.so.1', 'demo.c'], { cwd: src });
    execFileSync('aarch64-linux-gnu-gcc', ['-o', 'prog', 'prog.c', '-L.', '-l:libdemo.so.1'], { cwd: src });
    const lib = (file: string) => (pkgdir: string) => {
      mkdirSync(path.join(pkgdir, 'usr/lib'), { recursive: true });
      copyFileSync(path.join(src, file), path.join(pkgdir, 'usr/lib', file));
    };
    await built('demo', lib('libdemo.so.1'), ['toolchain-runtime']);
    await built('zlib', lib('libz.so.1'), ['toolchain-runtime']);
    // toolchain-runtime writes no abi.json: its library names come from the package itself.
    await built('toolchain-runtime', (pkgdir) => {
      mkdirSync(path.join(pkgdir, 'usr/lib'), { recursive: true });
      for (const f of ['libc.so.6', 'ld-linux-aarch64.so.1']) writeFileSync(path.join(pkgdir, 'usr/lib', f), '');
      symlinkSync('usr/lib', path.join(pkgdir, 'lib'));
    }, [], false);
    await built('app', (pkgdir) => {
      mkdirSync(path.join(pkgdir, 'usr/bin'), { recursive: true });
      copyFileSync(path.join(src, 'prog'), path.join(pkgdir, 'usr/bin/prog'));
    }, ['toolchain-runtime', 'zlib']);
  });
  after(() => rmSync(ws, { recursive: true, force: true }));

  it('lints every package of the target: one line per finding, exit 1 for an error of the recipe\'s lint.errors', async () => {
    const r = await captured(() => lintCommand(['aarch64'], ws));
    assert.deepEqual(r.out, [
      'app: "/usr/bin/prog": needs "libdemo.so.1" (DT_NEEDED), which neither the package nor its depends ("toolchain-runtime", "zlib") provide [error needed-without-depends]; add "demo" to the recipe\'s `depends` (and `makedepends`)',
      'app: .PKGINFO: depends on "zlib", whose libraries ("libz.so.1") no file of the package needs [warning depends-not-needed]; remove "zlib" from the recipe\'s `depends` if nothing else of it is used at run time (a program it runs, its data), or add it to `lint.ignore`',
    ]);
    assert.deepEqual(r.err, ['nx-distro lint: 4 package(s) of aarch64: 1 error(s), 1 warning(s)']);
    assert.equal(r.status, 1);
  });

  it('lints the named packages only; 0 with warnings only; the target file\'s lint applies under the recipe\'s', async () => {
    const r = await captured(() => lintCommand(['aarch64', 'zlib', 'demo'], ws));
    assert.deepEqual([r.status, r.out, r.err], [0, [], ['nx-distro lint: 2 package(s) of aarch64: 0 error(s), 0 warning(s)']]);
    const target = path.join(ws, 'targets/aarch64.yaml');
    const saved = readFileSync(target, 'utf8');
    try {
      writeFileSync(target, `${saved}lint:\n  errors: [depends-not-needed]\n  ignore: [needed-without-depends]\n`);
      const run = await lintBuiltPackages(ws, { distDir: 'dist', targetsDir: 'targets' }, 'aarch64', ['app']);
      assert.deepEqual(run.findings.map((f) => `${f.severity} ${f.check}`), ['error needed-without-depends', 'error depends-not-needed']);
    } finally {
      writeFileSync(target, saved);
    }
  });

  it("lints a recipe's split packages too, each under its own name (a -dev package's headers are in no other package)", async () => {
    const pkgdir = path.join(ws, 'tmp', 'demo-dev');
    mkdirSync(path.join(pkgdir, 'usr/include'), { recursive: true });
    writeFileSync(path.join(pkgdir, 'usr/include/demo.h'), '#define DEMO_CFLAGS "-ffile-prefix-map=/build/src=."\n');
    const out = path.join(ws, 'dist/aarch64/packages/demo');
    const file = await writePackage(pkgdir, { pkgname: 'demo-dev', pkgbase: 'demo', pkgver: '1.0', pkgrel: 1, pkgdesc: 'x', url: 'https://example.org', arch: 'aarch64', license: ['MIT'], depends: ['demo'], packager: 'nx-distro', builddate: 1700000000 }, { pkgbuildSha256: 'ab'.repeat(32), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: '0.1.0' }, out, 1700000000);
    try {
      const r = await captured(() => lintCommand(['aarch64', 'demo'], ws));
      assert.deepEqual(r.out.map((l) => l.replace(/;.*/, '')), ['demo-dev: "/usr/include/demo.h": mentions the build sandbox path "/build/src" [warning build-reference]']);
      assert.deepEqual(r.err, ['nx-distro lint: 2 package(s) of aarch64: 0 error(s), 1 warning(s)']);
      const run = await lintBuiltPackages(ws, { distDir: 'dist', targetsDir: 'targets' }, 'aarch64', ['demo']);
      assert.deepEqual(run.packages, ['demo', 'demo-dev']);
    } finally {
      rmSync(file.file, { force: true });
    }
  });

  it('refuses a package that was not built and a bad argument, with the fix', async () => {
    await assert.rejects(lintBuiltPackages(ws, { distDir: 'dist', targetsDir: 'targets' }, 'aarch64', ['nope']), /^Error: nope: no built package in dist\/aarch64\/packages; fix: nx run nope:build -c aarch64, or name one of: app demo toolchain-runtime zlib$/);
    const r = await captured(() => lintCommand(['--all'], ws));
    assert.equal(r.status, 2);
    assert.match(r.err[0], /^nx-distro lint: "--all": not a system target or package name; fix: nx-distro lint SYSTEM_TARGET \[PACKAGE\.\.\.\]/);
  });
});
