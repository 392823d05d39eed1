import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EM, firstDynamicElf, parseElf, readElf, sectionNames } from './elf';
import { have } from '../testing/host';

/** The toolchains of the system targets, with the machine their output must have. */
const TOOLCHAINS = [
  { prefix: 'aarch64-linux-gnu-', machine: EM.AARCH64, bits: 64 },
  { prefix: 'arm-linux-gnueabihf-', machine: EM.ARM, bits: 32 },
  { prefix: 'riscv64-linux-gnu-', machine: EM.RISCV, bits: 64 },
  { prefix: 'x86_64-linux-gnu-', machine: EM.X86_64, bits: 64 },
] as const;


/** What binutils' readelf says, for comparison: interpreter, soname, needed, machine name. */
function readelf(file: string): { interpreter?: string; soname?: string; needed: string[]; machine: string } {
  const out = execFileSync('readelf', ['-W', '-h', '-l', '-d', file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return {
    interpreter: /\[Requesting program interpreter: ([^\]]+)\]/.exec(out)?.[1],
    soname: /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(out)?.[1],
    needed: [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]),
    machine: /Machine:\s+(.+)/.exec(out)![1].trim(),
  };
}

describe('readElf', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-elf-'));
    writeFileSync(path.join(tmp, 'prog.c'), '#include <math.h>\n#include <stdio.h>\nint main(int c, char **v) { printf("%f\\n", sqrt((double)c)); return 0; }\n');
    writeFileSync(path.join(tmp, 'lib.c'), '#include <math.h>\ndouble demo(double x) { return cos(x); }\n');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const tc of TOOLCHAINS) {
    const skip = have(`${tc.prefix}gcc`) ? false : `${tc.prefix}gcc is not installed`;
    it(`reads what readelf reads from programs and libraries linked by ${tc.prefix}gcc`, { skip }, () => {
      const prog = path.join(tmp, `${tc.prefix}prog`);
      const lib = path.join(tmp, `${tc.prefix}libdemo.so.3.1`);
      execFileSync(`${tc.prefix}gcc`, ['-O2', '-o', prog, path.join(tmp, 'prog.c'), '-lm'], { cwd: tmp });
      execFileSync(`${tc.prefix}gcc`, ['-O2', '-shared', '-fPIC', '-Wl,-soname,libdemo.so.3', '-Wl,--no-as-needed', '-o', lib, path.join(tmp, 'lib.c'), '-lm'], { cwd: tmp });
      for (const file of [prog, lib]) {
        const mine = readElf(file);
        const theirs = readelf(file);
        assert.equal(mine.machine, tc.machine, `${file}: e_machine (readelf: ${theirs.machine})`);
        assert.equal(mine.bits, tc.bits);
        assert.equal(mine.endian, 'little');
        assert.equal(mine.interpreter, theirs.interpreter);
        assert.equal(mine.soname, theirs.soname);
        assert.deepEqual(mine.needed, theirs.needed);
      }
      assert.equal(readElf(lib).soname, 'libdemo.so.3');
      assert.deepEqual(readElf(lib).needed, ['libm.so.6', 'libc.so.6']);
      assert.equal(readElf(lib).interpreter, undefined, 'a library requests no interpreter');
      assert.equal(readElf(lib).type, 3);
      assert.ok(readElf(prog).interpreter?.startsWith('/lib'), readElf(prog).interpreter);
      assert.ok(readElf(prog).needed.includes('libc.so.6'));
    });
  }

  it('reads DT_RPATH and DT_RUNPATH as stored, as readelf does', { skip: have('aarch64-linux-gnu-gcc') ? false : 'aarch64-linux-gnu-gcc is not installed' }, () => {
    const runpath = path.join(tmp, 'runpath');
    const rpath = path.join(tmp, 'rpath');
    execFileSync('aarch64-linux-gnu-gcc', ['-o', runpath, path.join(tmp, 'prog.c'), '-lm', '-Wl,-rpath,/build/x:$ORIGIN/../lib', '-Wl,--enable-new-dtags'], { cwd: tmp });
    execFileSync('aarch64-linux-gnu-gcc', ['-o', rpath, path.join(tmp, 'prog.c'), '-lm', '-Wl,-rpath,/opt/y', '-Wl,--disable-new-dtags'], { cwd: tmp });
    const out = (file: string, tag: string) => new RegExp(`\\(${tag}\\)\\s+Library \\w+: \\[([^\\]]+)\\]`).exec(execFileSync('readelf', ['-W', '-d', file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }))?.[1];
    assert.equal(readElf(runpath).runpath, '/build/x:$ORIGIN/../lib');
    assert.equal(readElf(runpath).runpath, out(runpath, 'RUNPATH'));
    assert.equal(readElf(runpath).rpath, undefined);
    assert.equal(readElf(rpath).rpath, '/opt/y');
    assert.equal(readElf(rpath).rpath, out(rpath, 'RPATH'));
    assert.equal(readElf(rpath).runpath, undefined);
  });

  for (const tc of TOOLCHAINS) {
    const skip = have(`${tc.prefix}gcc`) ? false : `${tc.prefix}gcc is not installed`;
    it(`reads the GNU build-id ${tc.prefix}ld wrote, as readelf -n shows it, and none when linked without`, { skip }, () => {
      const withId = path.join(tmp, `${tc.prefix}with-id`);
      const withoutId = path.join(tmp, `${tc.prefix}without-id`);
      const md5 = path.join(tmp, `${tc.prefix}md5-id.so`);
      execFileSync(`${tc.prefix}gcc`, ['-O2', '-Wl,--build-id=sha1', '-o', withId, path.join(tmp, 'prog.c'), '-lm'], { cwd: tmp });
      execFileSync(`${tc.prefix}gcc`, ['-O2', '-Wl,--build-id=none', '-o', withoutId, path.join(tmp, 'prog.c'), '-lm'], { cwd: tmp });
      execFileSync(`${tc.prefix}gcc`, ['-O2', '-shared', '-fPIC', '-Wl,--build-id=md5', '-o', md5, path.join(tmp, 'lib.c'), '-lm'], { cwd: tmp });
      const theirs = (file: string) => /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-W', '-n', file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }))?.[1];
      assert.match(readElf(withId).buildId ?? '', /^[0-9a-f]{40}$/);
      assert.equal(readElf(withId).buildId, theirs(withId));
      assert.match(readElf(md5).buildId ?? '', /^[0-9a-f]{32}$/);
      assert.equal(readElf(md5).buildId, theirs(md5));
      assert.equal(theirs(withoutId), undefined);
      assert.equal(readElf(withoutId).buildId, undefined);
    });
  }

  /** What readelf -V lists: the needed versions per library, and the defined version names. */
  function readelfVersions(file: string): { needs: { file: string; versions: string[] }[]; definitions: string[] } {
    const out = execFileSync('readelf', ['-W', '-V', file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    const needs: { file: string; versions: string[] }[] = [];
    const definitions: string[] = [];
    let section = '';
    for (const line of out.split('\n')) {
      if (/^Version needs section/.test(line)) section = 'needs';
      else if (/^Version definition section/.test(line)) section = 'definitions';
      else if (/^Version symbols section/.test(line)) section = '';
      const file = /^\s+[0-9a-fx]+: Version: \d+\s+File: (\S+)/.exec(line)?.[1];
      const name = /^\s+[0-9a-fx]+:\s+Name: (\S+)/.exec(line)?.[1];
      const definition = /^\s+[0-9a-fx]+: Rev: \d+.*Name: (\S+)/.exec(line)?.[1];
      if (section === 'needs' && file) needs.push({ file, versions: [] });
      else if (section === 'needs' && name) needs[needs.length - 1].versions.push(name);
      else if (section === 'definitions' && definition) definitions.push(definition);
    }
    return { needs, definitions };
  }

  for (const tc of TOOLCHAINS) {
    const skip = have(`${tc.prefix}gcc`) ? false : `${tc.prefix}gcc is not installed`;
    it(`reads the symbol versions readelf -V lists, needed (a program, a library) and defined (${tc.prefix}gcc's libgcc_s.so.1)`, { skip }, () => {
      const prog = path.join(tmp, `${tc.prefix}versioned`);
      const lib = path.join(tmp, `${tc.prefix}libversioned.so`);
      execFileSync(`${tc.prefix}gcc`, ['-O2', '-o', prog, path.join(tmp, 'prog.c'), '-lm'], { cwd: tmp });
      execFileSync(`${tc.prefix}gcc`, ['-O2', '-shared', '-fPIC', '-Wl,--no-as-needed', '-o', lib, path.join(tmp, 'lib.c'), '-lm'], { cwd: tmp });
      const libgcc = execFileSync(`${tc.prefix}gcc`, ['-print-file-name=libgcc_s.so.1'], { encoding: 'utf8' }).trim();
      for (const file of [prog, lib, libgcc]) {
        const theirs = readelfVersions(file);
        assert.deepEqual(readElf(file).versionNeeds, theirs.needs, file);
        assert.deepEqual(readElf(file).versionDefinitions, theirs.definitions, file);
      }
      assert.ok(readElf(prog).versionNeeds.some((n) => n.file === 'libc.so.6' && n.versions.some((v) => v.startsWith('GLIBC_2.'))), JSON.stringify(readElf(prog).versionNeeds));
      assert.deepEqual(readElf(prog).versionDefinitions, []);
      const defined = readElf(libgcc).versionDefinitions;
      assert.equal(defined[0], 'libgcc_s.so.1', 'the base definition is the library itself');
      assert.ok(defined.includes('GCC_3.0'), defined.join(' '));
    });
  }

  it('lists the section names readelf -S lists, before and after strip', { skip: have('aarch64-linux-gnu-gcc') ? false : 'aarch64-linux-gnu-gcc is not installed' }, () => {
    const prog = path.join(tmp, 'sections');
    execFileSync('aarch64-linux-gnu-gcc', ['-g', '-O2', '-o', prog, path.join(tmp, 'prog.c'), '-lm'], { cwd: tmp });
    const theirs = (file: string) => [...execFileSync('readelf', ['-W', '-S', file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }).matchAll(/^\s*\[\s*\d+\]\s+(\S*)/gm)].map((m) => m[1]);
    const mine = sectionNames(readFileSync(prog), prog);
    assert.deepEqual(mine.slice(1), theirs(prog).slice(1), 'readelf shows the null section with no name');
    assert.ok(mine.includes('.debug_info') && mine.includes('.symtab'), mine.join(' '));
    execFileSync('aarch64-linux-gnu-strip', ['--strip-all', prog]);
    const stripped = sectionNames(readFileSync(prog), prog);
    assert.ok(!stripped.includes('.debug_info') && !stripped.includes('.symtab'), stripped.join(' '));
    assert.ok(stripped.includes('.text'));
    assert.throws(() => sectionNames(Buffer.concat([readFileSync(prog).subarray(0, 64), Buffer.alloc(64)]), 'cut.so'), /^Error: cut\.so: damaged ELF file: the section header table lies outside the file$/);
  });

  it('reads a static program: no interpreter, no needed libraries', { skip: have('gcc') ? false : 'no native gcc' }, () => {
    const prog = path.join(tmp, 'static');
    execFileSync('gcc', ['-static', '-o', prog, path.join(tmp, 'prog.c'), '-lm'], { cwd: tmp });
    const info = readElf(prog);
    assert.equal(info.interpreter, undefined);
    assert.deepEqual(info.needed, []);
  });

  it('refuses what is not ELF, and damaged headers, with the file name', () => {
    assert.throws(() => parseElf(Buffer.from('#!/bin/sh\necho not elf\n'.repeat(5)), 'script.sh'), /^Error: script\.sh: not an ELF file$/);
    const real = readFileSync(process.execPath).subarray(0, 4096);
    const broken = Buffer.from(real);
    broken.writeBigUInt64LE(BigInt(1) << BigInt(40), 32); // e_phoff far outside the file
    assert.throws(() => parseElf(broken, 'node'), /node: damaged ELF file: the program header table lies outside the file/);
    const badClass = Buffer.from(real);
    badClass[4] = 7;
    assert.throws(() => parseElf(badClass, 'node'), /EI_CLASS 7/);
  });

  it('finds the first file needing a C runtime in a folder: none for a kernel, data and a static program; a dynamic program', { skip: have('gcc') ? false : 'no native gcc' }, async () => {
    const pkgdir = path.join(tmp, 'pkgdir');
    mkdirSync(path.join(pkgdir, 'boot'), { recursive: true });
    mkdirSync(path.join(pkgdir, 'usr/bin'), { recursive: true });
    writeFileSync(path.join(pkgdir, 'boot/System.map'), 'ffffffff81000000 T _text\n');
    writeFileSync(path.join(pkgdir, 'boot/vmlinuz'), Buffer.concat([Buffer.from('MZ'), Buffer.alloc(4096)]));
    execFileSync('gcc', ['-static', '-o', path.join(pkgdir, 'usr/bin/static'), path.join(tmp, 'prog.c'), '-lm'], { cwd: tmp });
    execFileSync('gcc', ['-c', '-o', path.join(pkgdir, 'usr/bin/prog.o'), path.join(tmp, 'prog.c')], { cwd: tmp });
    symlinkSync('/bin/true', path.join(pkgdir, 'usr/bin/link-to-host')); // not followed
    assert.equal(await firstDynamicElf(pkgdir), undefined);
    copyFileSync('/bin/true', path.join(pkgdir, 'usr/bin/true'));
    assert.equal(await firstDynamicElf(pkgdir), 'usr/bin/true');
  });
});
