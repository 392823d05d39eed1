import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { devDestination, probeToolchainDev, rewriteLinkerScript, stageToolchainDev } from './toolchain-dev';
import { probeToolchainRuntime, stageToolchainRuntime } from './toolchain-runtime';
import { have } from '../testing/host';

describe('devDestination and rewriteLinkerScript', () => {
  it('puts headers under usr/include (multiarch folder merged) and a library folder\'s objects, archives and .so files under usr/lib', () => {
    assert.equal(devDestination('/usr/aarch64-linux-gnu/include/stdio.h', 'aarch64-linux-gnu'), 'usr/include/stdio.h');
    assert.equal(devDestination('/usr/aarch64-linux-gnu/include/linux/version.h', 'aarch64-linux-gnu'), 'usr/include/linux/version.h');
    assert.equal(devDestination('/usr/include/x86_64-linux-gnu/bits/types.h', 'x86_64-linux-gnu'), 'usr/include/bits/types.h');
    assert.equal(devDestination('/usr/aarch64-linux-gnu/lib/crt1.o', 'aarch64-linux-gnu'), 'usr/lib/crt1.o');
    assert.equal(devDestination('/usr/lib/x86_64-linux-gnu/libc.so', 'x86_64-linux-gnu'), 'usr/lib/libc.so');
    assert.equal(devDestination('/usr/lib/x86_64-linux-gnu/audit/sotruss-lib.so', 'x86_64-linux-gnu'), undefined, 'not directly in the library folder');
    assert.equal(devDestination('/usr/share/doc/libc6-dev-arm64-cross/copyright', 'aarch64-linux-gnu'), undefined);
    assert.equal(devDestination('/usr/aarch64-linux-gnu/lib/libc.so.6', 'aarch64-linux-gnu'), undefined, 'the runtime package has it');
  });

  it('makes a linker script name the libraries in /usr/lib', () => {
    assert.equal(
      rewriteLinkerScript('OUTPUT_FORMAT(elf64-littleaarch64)\nGROUP ( /usr/aarch64-linux-gnu/lib/libc.so.6 /usr/aarch64-linux-gnu/lib/libc_nonshared.a  AS_NEEDED ( /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ) )\n'),
      'OUTPUT_FORMAT(elf64-littleaarch64)\nGROUP ( /usr/lib/libc.so.6 /usr/lib/libc_nonshared.a  AS_NEEDED ( /usr/lib/ld-linux-aarch64.so.1 ) )\n',
    );
    assert.equal(rewriteLinkerScript('GROUP ( /lib/x86_64-linux-gnu/libm.so.6  AS_NEEDED ( /lib/x86_64-linux-gnu/libmvec.so.1 ) )'), 'GROUP ( /usr/lib/libm.so.6  AS_NEEDED ( /usr/lib/libmvec.so.1 ) )');
  });
});

const TOOLCHAINS = [
  { prefix: 'aarch64-linux-gnu-', triplet: 'aarch64-linux-gnu', qemu: 'qemu-aarch64-static' },
  { prefix: 'x86_64-linux-gnu-', triplet: 'x86_64-linux-gnu', qemu: undefined },
] as const;

describe('the toolchain-runtime-dev package of an external toolchain', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-toolchain-dev-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const tc of TOOLCHAINS) {
    const skip = have(`${tc.prefix}gcc`) && (!tc.qemu || have(tc.qemu)) ? false : `${tc.prefix}gcc is not installed`;
    it(`with toolchain-runtime, is a complete sysroot for ${tc.prefix}gcc: C with libm, threads and kernel headers compiles, links and runs from it alone`, { skip }, async () => {
      const root = path.join(tmp, tc.triplet);
      const rt = await probeToolchainRuntime({ prefix: tc.prefix });
      const dev = await probeToolchainDev(rt, tc.triplet);
      assert.deepEqual(dev.sources.map((s) => s.name.replace(/-[a-z0-9]+-cross$/, '')), ['libc6-dev', 'linux-libc-dev']);
      await stageToolchainRuntime(rt, root, 1_700_000_000);
      const written = await stageToolchainDev(dev, root, 1_700_000_000);
      assert.ok(written > 1000, `${written} entries`);
      for (const f of ['usr/include/stdio.h', 'usr/include/linux/version.h', 'usr/include/asm/unistd.h', 'usr/lib/crt1.o', 'usr/lib/crti.o', 'usr/lib/libc_nonshared.a']) assert.ok(existsSync(path.join(root, f)), f);
      assert.match(readFileSync(path.join(root, 'usr/lib/libc.so'), 'utf8'), /GROUP \( \/usr\/lib\/libc\.so\.6 \/usr\/lib\/libc_nonshared\.a +AS_NEEDED \( \/usr\/lib\/ld-linux-[\w-]+\.so\.\d \) \)/);
      assert.ok(lstatSync(path.join(root, 'usr/lib/libm.so')).isSymbolicLink() ? readlinkSync(path.join(root, 'usr/lib/libm.so')) === 'libm.so.6' : /\/usr\/lib\/libm\.so\.6/.test(readFileSync(path.join(root, 'usr/lib/libm.so'), 'utf8')));
      assert.equal(lstatSync(path.join(root, 'usr/include/stdio.h')).mtimeMs, 1_700_000_000_000);

      writeFileSync(path.join(tmp, 'prog.c'), [
        '#include <linux/version.h>',
        '#include <math.h>',
        '#include <pthread.h>',
        '#include <stdio.h>',
        '#include <sys/syscall.h>',
        '#include <unistd.h>',
        'static void *run(void *a) { return a; }',
        'int main(void) { pthread_t t; void *r; pthread_create(&t, 0, run, (void *)42); pthread_join(t, &r);',
        '  printf("%ld %.3f %d\\n", (long)r, sqrt(2.0), LINUX_VERSION_CODE > 0 && SYS_getpid > 0); return 0; }',
        '',
      ].join('\n'));
      const prog = path.join(tmp, `prog-${tc.triplet}`);
      // As a compiler installed with --prefix=/usr on the host machine would find them (its
      // default paths are /usr/include and /usr/lib): only gcc's own headers and libgcc from the
      // toolchain; the C library's headers, start files (-B) and libraries (-L; the linker
      // scripts' /usr/lib/... under ld's --sysroot) from the two packages.
      const gccInclude = execFileSync(`${tc.prefix}gcc`, ['-print-file-name=include'], { encoding: 'utf8' }).trim();
      const log = execFileSync(`${tc.prefix}gcc`, [
        '-nostdinc', '-isystem', gccInclude, '-isystem', path.join(root, 'usr/include'),
        `-B${root}/usr/lib/`, `-L${root}/usr/lib`, `-Wl,--sysroot=${root}`,
        '-O2', '-o', prog, path.join(tmp, 'prog.c'), '-lm', '-pthread', '-Wl,--trace',
      ], { encoding: 'utf8' });
      assert.ok(log.split('\n').some((l) => l === `${root}/usr/lib/Scrt1.o` || l === `${root}/usr/lib/crt1.o`), log);
      for (const line of log.split('\n').filter((l) => /\/(S?crt1|crti|crtn)\.o$|\/libc\.so|\/libm\.so|\/libc_nonshared\.a$/.test(l))) assert.ok(line.startsWith(root), `${line}: from the packages, not the build machine's C library`);
      const out = execFileSync(tc.qemu ?? prog, tc.qemu ? ['-L', root, prog] : [], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: path.join(root, 'usr/lib') } });
      assert.equal(out, '42 1.414 1\n');
    });
  }
});
