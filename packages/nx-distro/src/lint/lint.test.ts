import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writePackage } from '../packages/pacman-package';
import { formatFinding, LINT_CHECKS, lintPackage, providedNames, severityOf, type LintFile, type LintPackage } from './lint';
import { describeBytes, readPackageForLint, readTreeForLint } from './load';
import { have } from '../testing/host';


const skipCross = have('aarch64-linux-gnu-gcc') && have('x86_64-linux-gnu-gcc') ? false : 'aarch64-linux-gnu-gcc or x86_64-linux-gnu-gcc is not installed';

/** A real file of the test's folder as lint sees it. */
function fileOf(abs: string, rel: string, mode = 0o755): LintFile {
  const bytes = readFileSync(abs);
  return { rel, kind: 'file', mode, size: bytes.length, ...describeBytes(bytes) };
}

const dir = (rel: string): LintFile => ({ rel, kind: 'dir', mode: 0o755 });

/** What toolchain-runtime provides on aarch64 (its usr/lib, with lib -> usr/lib). */
const RUNTIME = new Set(['libc.so.6', 'libm.so.6', 'ld-linux-aarch64.so.1', 'libgcc_s.so.1']);

describe('nx-distro lint checks', { skip: skipCross }, () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-lint-'));
    writeFileSync(path.join(tmp, 'demo.c'), 'int demo(int x) { return x * 2; }\n');
    writeFileSync(path.join(tmp, 'prog.c'), 'int demo(int);\nint main(int c, char **v) { return demo(c); }\n');
    const cc = (prefix: string, args: string[]) => execFileSync(`${prefix}gcc`, args, { cwd: tmp });
    cc('aarch64-linux-gnu-', ['-shared', '-fPIC', '-Wl,-soname,libdemo.so.1', '-o', 'libdemo.so.1.0', 'demo.c']);
    symlinkSync('libdemo.so.1.0', path.join(tmp, 'libdemo.so'));
    // A program needing libdemo.so.1 and libc.so.6, with an rpath into the build sandbox.
    cc('aarch64-linux-gnu-', ['-o', 'prog', 'prog.c', '-L.', '-ldemo', '-Wl,-rpath,/build/x:/usr/lib/demo', '-Wl,--enable-new-dtags']);
    cc('aarch64-linux-gnu-', ['-o', 'prog-clean', 'prog.c', '-L.', '-ldemo']);
    cc('x86_64-linux-gnu-', ['-shared', '-fPIC', '-o', 'libx86.so', 'demo.c']);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const pkg = (files: LintFile[], depends: string[] = ['toolchain-runtime'], arch = 'aarch64'): LintPackage => ({ name: 'app', arch, depends, files });
  const providers = new Map<string, ReadonlySet<string>>([
    ['toolchain-runtime', RUNTIME],
    ['demo', new Set(['libdemo.so.1', 'libdemo.so.1.0'])],
    ['zlib', new Set(['libz.so.1'])],
    ['busybox', new Set()],
  ]);
  const context = { arch: 'aarch64', providers };

  it('finds a DT_NEEDED library no depends provides, names the package that does, and an rpath into /build', () => {
    const findings = lintPackage(pkg([dir('usr'), dir('usr/bin'), fileOf(path.join(tmp, 'prog'), 'usr/bin/prog')]), context);
    assert.deepEqual(findings.map((f) => [f.check, f.severity, f.file]), [
      ['needed-without-depends', 'warning', 'usr/bin/prog'],
      ['build-rpath', 'warning', 'usr/bin/prog'],
    ]);
    assert.equal(
      formatFinding(findings[0]),
      'app: "/usr/bin/prog": needs "libdemo.so.1" (DT_NEEDED), which neither the package nor its depends ("toolchain-runtime") provide [warning needed-without-depends]; add "demo" to the recipe\'s `depends` (and `makedepends`)',
    );
    assert.match(formatFinding(findings[1]), /^app: "\/usr\/bin\/prog": DT_RUNPATH "\/build\/x:\/usr\/lib\/demo" points into the build sandbox \("\/build\/x"\) \[warning build-rpath\]; /);
  });

  it('is satisfied by a declared depends or a library of the package itself; flags a depends whose libraries nothing needs', () => {
    const prog = fileOf(path.join(tmp, 'prog-clean'), 'usr/bin/prog');
    assert.deepEqual(lintPackage(pkg([dir('usr'), dir('usr/bin'), prog], ['toolchain-runtime', 'demo>=1']), context), []);
    const own = pkg([dir('usr'), dir('usr/bin'), dir('usr/lib'), prog, fileOf(path.join(tmp, 'libdemo.so.1.0'), 'usr/lib/libdemo.so.1.0')]);
    assert.deepEqual(lintPackage(own, context), [], 'the soname of its own library');
    assert.deepEqual(lintPackage(pkg([dir('usr'), dir('usr/bin'), prog], ['toolchain-runtime', 'not-built-yet']), context), [], 'a depends not known might provide it');
    const extra = lintPackage(pkg([dir('usr'), dir('usr/bin'), prog], ['toolchain-runtime', 'demo', 'zlib', 'busybox']), context);
    assert.deepEqual(extra.map(formatFinding), [
      'app: .PKGINFO: depends on "zlib", whose libraries ("libz.so.1") no file of the package needs [warning depends-not-needed]; remove "zlib" from the recipe\'s `depends` if nothing else of it is used at run time (a program it runs, its data), or add it to `lint.ignore`',
    ], 'busybox provides no library: never flagged');
    assert.deepEqual(lintPackage(pkg([dir('usr'), dir('usr/include'), { rel: 'usr/include/z.h', kind: 'file', mode: 0o644 }], ['zlib']), context), [], 'no ELF file: its depends are not judged');
  });

  it('finds an ELF file of another arch, and ELF files in an "any" package', () => {
    const lib = fileOf(path.join(tmp, 'libx86.so'), 'usr/lib/libx86.so');
    const found = lintPackage(pkg([dir('usr'), dir('usr/lib'), lib], []), context);
    assert.deepEqual(found.map((f) => `${f.check} ${f.file}`), ['arch-mismatch usr/lib/libx86.so']);
    assert.match(found[0].problem, /^an ELF file for x86-64 \(64-bit\), not for "aarch64"$/);
    const any = lintPackage(pkg([dir('usr'), dir('usr/lib'), fileOf(path.join(tmp, 'libdemo.so.1.0'), 'usr/lib/libdemo.so.1.0')], [], 'any'), context);
    assert.deepEqual(any.map((f) => `${f.check} ${f.file}`), ['arch-mismatch usr/lib/libdemo.so.1.0']);
    const other = lintPackage(pkg([], [], 'x86_64'), context);
    assert.deepEqual(other.map((f) => `${f.check} ${f.file}`), ['arch-mismatch .PKGINFO']);
  });

  it('finds sandbox paths in files, paths outside the FHS ones, .la files, setuid and world-writable files; quotes names', () => {
    const text = (rel: string, body: string, mode = 0o644): LintFile => ({ rel, kind: 'file', mode, size: body.length, ...describeBytes(Buffer.from(body)) });
    const found = lintPackage(pkg([
      dir('usr'), dir('usr/lib'), dir('usr/lib/pkgconfig'), dir('usr/local'), dir('usr/bin'), dir('usr/cmake'), dir('usr/share'), dir('usr/libexec'), dir('opt'), dir('home'),
      { rel: 'lib', kind: 'symlink', mode: 0o777, target: 'usr/lib' },
      { rel: 'data', kind: 'symlink', mode: 0o777, target: 'usr/share' },
      text('usr/lib/pkgconfig/x.pc', 'libdir=/build/sysroot/usr/lib\n'),
      text('usr/lib/pkgconfig/y.pc', 'prefix=/build/srcfoo\n'),
      text('usr/lib/libx.la', "libdir='/usr/lib'\n"),
      text('usr/bin/su', '#!/bin/sh\n', 0o4755),
      text('usr/bin/open', '#!/bin/sh\n', 0o777),
      text('usr/bin/new\nline', '#!/bin/sh\n', 0o755),
    ], []), context);
    assert.deepEqual(found.map((f) => `${f.severity} ${f.check} ${f.file}`), [
      'warning build-reference usr/lib/pkgconfig/x.pc',
      'warning fhs-path data',
      'warning fhs-path home',
      'warning fhs-path usr/cmake',
      'warning fhs-path usr/local',
      'warning setuid usr/bin/su',
      'warning world-writable usr/bin/open',
      'warning libtool-archive usr/lib/libx.la',
    ]);
    assert.equal(formatFinding(found[0]), 'app: "/usr/lib/pkgconfig/x.pc": mentions the build sandbox path "/build/sysroot" [warning build-reference]; find where the build writes its own folder into the file (a configure-time path, a pkg-config or libtool file, an unstripped binary without -ffile-prefix-map) and make it the installed path (/usr/...), or add the check to `lint.ignore` if the text is harmless');
    assert.match(formatFinding(found[1]), /^app: "\/data": a top-level symlink \(to "usr\/share"\) outside the allowed paths/);
    assert.deepEqual(lintPackage(pkg([dir('usr'), dir('usr/bin'), text('usr/bin/su', '', 0o4755)], []), { ...context, setuid: ['usr/bin/su'] }), [], 'a declared setuid file');
    const odd = lintPackage({ ...pkg([{ rel: 'bad\x1bname', kind: 'file', mode: 0o644 }], []), name: 'we;ird' }, context);
    assert.equal(formatFinding(odd[0]).split(': ').slice(0, 2).join(': '), '"we;ird": "/bad\\u001bname"');
  });

  it('makes chosen checks errors or leaves them out: the recipe over the target, ignore over errors', () => {
    assert.equal(severityOf('fhs-path'), 'warning');
    assert.equal(severityOf('fhs-path', undefined, { errors: ['fhs-path'] }), 'error');
    assert.equal(severityOf('fhs-path', { ignore: ['fhs-path'] }, { errors: ['fhs-path'] }), 'ignore');
    assert.equal(severityOf('fhs-path', { errors: ['fhs-path'] }, { ignore: ['fhs-path'] }), 'error');
    assert.equal(severityOf('fhs-path', { errors: ['fhs-path'], ignore: ['fhs-path'] }), 'ignore');
    const files = [dir('usr'), dir('usr/bin'), fileOf(path.join(tmp, 'prog'), 'usr/bin/prog')];
    const found = lintPackage(pkg(files), context, { recipe: { ignore: ['build-rpath'] }, target: { errors: ['needed-without-depends', 'build-rpath'] } });
    assert.deepEqual(found.map((f) => `${f.severity} ${f.check}`), ['error needed-without-depends']);
  });

  it('reads a package file and a tree alike: entries, ELF facts, .PKGINFO depends; names the libraries of lib folders', async () => {
    const pkgdir = path.join(tmp, 'pkg');
    mkdirSync(path.join(pkgdir, 'usr/bin'), { recursive: true });
    mkdirSync(path.join(pkgdir, 'usr/lib'), { recursive: true });
    copyFileSync(path.join(tmp, 'prog'), path.join(pkgdir, 'usr/bin/prog'));
    copyFileSync(path.join(tmp, 'libdemo.so.1.0'), path.join(pkgdir, 'usr/lib/libdemo.so.1.0'));
    symlinkSync('libdemo.so.1.0', path.join(pkgdir, 'usr/lib/libdemo.so.1'));
    symlinkSync('usr/lib', path.join(pkgdir, 'lib'));
    chmodSync(path.join(pkgdir, 'usr/bin/prog'), 0o755);
    const out = path.join(tmp, 'out');
    const written = await writePackage(pkgdir, { pkgname: 'app', pkgbase: 'app', pkgver: '1.0', pkgrel: 1, pkgdesc: 'x', url: 'https://example.org', arch: 'aarch64', license: ['MIT'], depends: ['toolchain-runtime', 'zlib>=1.3'], packager: 'nx-distro', builddate: 1700000000 }, { pkgbuildSha256: 'ab'.repeat(32), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: '0.1.0' }, out, 1700000000);
    const fromFile = await readPackageForLint(written.file);
    const fromTree = await readTreeForLint(pkgdir, { name: 'app', arch: 'aarch64', depends: ['toolchain-runtime', 'zlib>=1.3'] });
    const shape = (p: LintPackage) => ({ ...p, files: [...p.files].sort((a, b) => (a.rel < b.rel ? -1 : 1)).map((f) => ({ ...f, elf: f.elf ? { ...f.elf } : undefined })) });
    assert.deepEqual(shape(fromFile), shape(fromTree));
    assert.deepEqual(fromFile.depends, ['toolchain-runtime', 'zlib']);
    assert.equal(fromFile.files.find((f) => f.rel === 'usr/bin/prog')?.elf?.runpath, '/build/x:/usr/lib/demo');
    assert.deepEqual([...providedNames(fromFile.files)].sort(), ['libdemo.so.1', 'libdemo.so.1.0']);
    assert.deepEqual(lintPackage(fromFile, context).map((f) => f.check), ['depends-not-needed', 'build-rpath']);
  });
});

describe('lint check names', () => {
  it('are the ones the recipe and target schemas accept in lint.errors and lint.ignore', () => {
    for (const schema of ['recipe', 'target']) {
      const json = JSON.parse(readFileSync(path.join(__dirname, `../model/${schema}.schema.json`), 'utf8'));
      for (const list of ['errors', 'ignore']) assert.deepEqual(json.properties.lint.properties[list].items.enum, [...LINT_CHECKS], `${schema}: lint.${list}`);
    }
  });
});
