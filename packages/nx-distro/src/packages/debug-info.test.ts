import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { debugPackageName } from '../model/package-layout';
import { debugBuild, debugSourceDir, splitDebugInfo, targetBinutils } from './debug-info';
import { readElf, sectionNames } from './elf';
import { have } from '../testing/host';

const PREFIX = 'aarch64-linux-gnu-';
const skip = have(`${PREFIX}gcc`) && have('debugedit') ? false : `${PREFIX}gcc or debugedit is not installed (tools/setup-host)`;

/** The section names of a file. */
const sections = (file: string) => sectionNames(readFileSync(file), file);

/** What the build of a recipe `demo` would leave: its sources in `src/`, its installed tree in `pkg/`, compiled as a debug build is (pipeline/environment.ts's flags). */
function buildDemo(root: string): { srcdir: string; pkgdir: string } {
  const srcdir = path.join(root, 'src');
  const pkgdir = path.join(root, 'pkg');
  const tree = path.join(srcdir, 'demo-1.0');
  mkdirSync(path.join(tree, 'lib'), { recursive: true });
  writeFileSync(path.join(tree, 'main.c'), '#include <stdio.h>\nint twice(int);\nint main(void) { printf("%d\\n", twice(21)); return 0; }\n');
  writeFileSync(path.join(tree, 'lib', 'twice.c'), 'int twice(int x) { return 2 * x; }\n');
  // A source reached through a symbolic link out of the source folder: never copied.
  writeFileSync(path.join(root, 'outside.c'), 'int outside(void) { return 7; }\n');
  symlinkSync(path.join(root, 'outside.c'), path.join(tree, 'linked.c'));
  const flags = ['-g', '-O2', `-ffile-prefix-map=${srcdir}=${debugSourceDir('demo')}`, '-Wl,--build-id=sha1'];
  const cc = (args: string[]) => execFileSync(`${PREFIX}gcc`, [...flags, ...args], { cwd: tree });
  mkdirSync(path.join(pkgdir, 'usr/bin'), { recursive: true });
  mkdirSync(path.join(pkgdir, 'usr/lib'), { recursive: true });
  cc(['-shared', '-fPIC', '-Wl,-soname,libtwice.so.1', '-o', path.join(pkgdir, 'usr/lib/libtwice.so.1'), 'lib/twice.c', 'linked.c']);
  cc(['-o', path.join(pkgdir, 'usr/bin/demo'), 'main.c', path.join(pkgdir, 'usr/lib/libtwice.so.1')]);
  linkSync(path.join(pkgdir, 'usr/bin/demo'), path.join(pkgdir, 'usr/bin/demo-again'));
  cc(['-c', '-o', path.join(tree, 'twice.o'), 'lib/twice.c']);
  execFileSync(`${PREFIX}ar`, ['rcD', path.join(pkgdir, 'usr/lib/libtwice.a'), path.join(tree, 'twice.o')]);
  execFileSync(`${PREFIX}gcc`, ['-O2', '-Wl,--build-id=none', '-o', path.join(pkgdir, 'usr/bin/no-id'), path.join(tree, 'main.c'), path.join(tree, 'lib', 'twice.c')]);
  writeFileSync(path.join(pkgdir, 'usr/bin/script'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  symlinkSync('libtwice.so.1', path.join(pkgdir, 'usr/lib/libtwice.so'));
  return { srcdir, pkgdir };
}

describe('splitDebugInfo', { skip }, () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-debug-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('moves the debug information of programs and libraries to build-id files, strips them, and copies the sources they name', async () => {
    const root = path.join(tmp, 'one');
    const { srcdir, pkgdir } = buildDemo(root);
    const debugdir = path.join(root, 'debug');
    const programId = readElf(path.join(pkgdir, 'usr/bin/demo')).buildId!;
    const libraryId = readElf(path.join(pkgdir, 'usr/lib/libtwice.so.1')).buildId!;
    const sizeBefore = statSync(path.join(pkgdir, 'usr/bin/demo')).size;
    const binutils = targetBinutils(PREFIX, undefined)!;
    const r = await splitDebugInfo({ pkgdir, debugdir, srcdir, name: 'demo', binutils });

    assert.deepEqual(r.stripped, ['usr/bin/demo', 'usr/bin/no-id', 'usr/lib/libtwice.a', 'usr/lib/libtwice.so.1'], 'each file once (demo-again is a hard link of demo), not the script or the link');
    assert.deepEqual(r.debugFiles, [
      `usr/lib/debug/.build-id/${libraryId.slice(0, 2)}/${libraryId.slice(2)}.debug`,
      `usr/lib/debug/.build-id/${programId.slice(0, 2)}/${programId.slice(2)}.debug`,
      'usr/lib/debug/usr/bin/no-id.debug',
    ].sort());
    assert.deepEqual(r.warnings, []);
    assert.ok(r.bytesSaved > 0 && statSync(path.join(pkgdir, 'usr/bin/demo')).size < sizeBefore, `${r.bytesSaved} bytes saved`);

    const program = sections(path.join(pkgdir, 'usr/bin/demo'));
    assert.ok(!program.some((s) => s.startsWith('.debug_')) && !program.includes('.symtab'), `program stripped: ${program.join(' ')}`);
    assert.ok(program.includes('.gnu_debuglink'));
    assert.equal(readElf(path.join(pkgdir, 'usr/bin/demo')).buildId, programId, 'the build-id stays in the stripped program');
    assert.equal(statSync(path.join(pkgdir, 'usr/bin/demo-again')).ino, statSync(path.join(pkgdir, 'usr/bin/demo')).ino, 'the hard link is kept');
    const library = sections(path.join(pkgdir, 'usr/lib/libtwice.so.1'));
    assert.ok(!library.some((s) => s.startsWith('.debug_')) && !library.includes('.symtab') && library.includes('.dynsym'), library.join(' '));
    const archive = execFileSync(`${PREFIX}readelf`, ['-W', '-S', path.join(pkgdir, 'usr/lib/libtwice.a')], { encoding: 'utf8' });
    assert.doesNotMatch(archive, /\.debug_/, 'the static library lost its debug sections');
    assert.match(execFileSync(`${PREFIX}nm`, [path.join(pkgdir, 'usr/lib/libtwice.a')], { encoding: 'utf8' }), /T twice/, 'and kept its symbols');

    const debugFile = path.join(debugdir, `usr/lib/debug/.build-id/${programId.slice(0, 2)}/${programId.slice(2)}.debug`);
    assert.ok(sections(debugFile).includes('.debug_info') && sections(debugFile).includes('.symtab'));
    assert.equal(readElf(debugFile).buildId, programId, 'the debug file carries the same build-id');
    assert.equal(statSync(debugFile).mode & 0o777, 0o644);
    // What gdb reads: the program's name and line table, now from the debug file.
    assert.match(execFileSync(`${PREFIX}objdump`, ['--dwarf=decodedline', debugFile], { encoding: 'utf8' }), /main\.c/);

    assert.equal(r.sources, 2, 'main.c and lib/twice.c; linked.c leads out of the source folder');
    assert.equal(readFileSync(path.join(debugdir, 'usr/src/debug/demo/demo-1.0/main.c'), 'utf8'), readFileSync(path.join(srcdir, 'demo-1.0/main.c'), 'utf8'));
    assert.ok(existsSync(path.join(debugdir, 'usr/src/debug/demo/demo-1.0/lib/twice.c')));
    assert.ok(!existsSync(path.join(debugdir, 'usr/src/debug/demo/demo-1.0/linked.c')), 'a source outside the source folder is not copied');
  });

  it('writes the same bytes for the same build (reproducible)', async () => {
    const root = path.join(tmp, 'two');
    const { srcdir, pkgdir } = buildDemo(root);
    const copy = path.join(root, 'pkg-copy');
    execFileSync('cp', ['-a', pkgdir, copy]);
    const binutils = targetBinutils(PREFIX, undefined)!;
    const a = await splitDebugInfo({ pkgdir, debugdir: path.join(root, 'debug-a'), srcdir, name: 'demo', binutils });
    const b = await splitDebugInfo({ pkgdir: copy, debugdir: path.join(root, 'debug-b'), srcdir, name: 'demo', binutils });
    assert.deepEqual(a, b);
    for (const rel of a.stripped) assert.ok(readFileSync(path.join(pkgdir, rel)).equals(readFileSync(path.join(copy, rel))), rel);
    for (const rel of a.debugFiles) assert.ok(readFileSync(path.join(root, 'debug-a', rel)).equals(readFileSync(path.join(root, 'debug-b', rel))), rel);
  });

  it('leaves a file the target\'s binutils cannot read as it was, with a warning', async () => {
    const root = path.join(tmp, 'three');
    const pkgdir = path.join(root, 'pkg');
    mkdirSync(path.join(pkgdir, 'usr/lib/firmware'), { recursive: true });
    // An x86-64 program in an aarch64 package (firmware, a test fixture): aarch64's strip refuses it.
    execFileSync('gcc', ['-g', '-o', path.join(pkgdir, 'usr/lib/firmware/x86'), '-x', 'c', '-'], { input: 'int main(void) { return 0; }\n' });
    const before = readFileSync(path.join(pkgdir, 'usr/lib/firmware/x86'));
    mkdirSync(path.join(root, 'src'));
    const r = await splitDebugInfo({ pkgdir, debugdir: path.join(root, 'debug'), srcdir: path.join(root, 'src'), name: 'fw', binutils: targetBinutils(PREFIX, undefined)! });
    assert.deepEqual(r.stripped, []);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /^usr\/lib\/firmware\/x86: .*; left as it was$/);
    assert.ok(readFileSync(path.join(pkgdir, 'usr/lib/firmware/x86')).equals(before));
  });
});

describe('debug policy', () => {
  it('builds debug packages unless the recipe or the target says no, never for a toolchain recipe or a stage', () => {
    assert.equal(debugBuild({}, {}), true);
    assert.equal(debugBuild({ debug: false }, {}), false);
    assert.equal(debugBuild({}, { debug: false }), false);
    assert.equal(debugBuild({ debug: true }, { debug: false }), false, 'the target turns it off for all');
    assert.equal(debugBuild({ toolchain: true }, {}), false);
    assert.equal(debugBuild({}, {}, 'stage1'), false);
    assert.equal(debugPackageName('zlib'), 'zlib-debug');
    assert.equal(debugSourceDir('zlib'), '/usr/src/debug/zlib');
  });

  it('finds the target\'s binutils in a staged toolchain first, then on the PATH', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-binutils-'));
    try {
      mkdirSync(path.join(tmp, 'usr/bin'), { recursive: true });
      for (const t of ['objcopy', 'strip']) writeFileSync(path.join(tmp, 'usr/bin', `aarch64-linux-musl-${t}`), '', { mode: 0o755 });
      assert.deepEqual(targetBinutils('aarch64-linux-musl-', tmp, []), { objcopy: path.join(tmp, 'usr/bin/aarch64-linux-musl-objcopy'), strip: path.join(tmp, 'usr/bin/aarch64-linux-musl-strip') });
      assert.equal(targetBinutils('aarch64-linux-musl-', undefined, []), undefined);
      assert.equal(targetBinutils('no-such-', undefined, ['/usr/bin']), undefined);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
