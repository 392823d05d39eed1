import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { elfComments, greenfieldProblems } from './greenfield';

// Real binaries from the build machine's Debian cross compiler (tools/setup-host installs it):
// what a greenfield package must not look like, and a freestanding one that inherits nothing.
describe('greenfield checks', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-greenfield-'));
    writeFileSync(path.join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
    writeFileSync(path.join(dir, 'bare.c'), 'void _start(void) { for (;;) ; }\n');
    mkdirSync(path.join(dir, 'debian/usr/bin'), { recursive: true });
    mkdirSync(path.join(dir, 'bare/usr/bin'), { recursive: true });
    execFileSync('aarch64-linux-gnu-gcc', ['-O2', '-o', path.join(dir, 'debian/usr/bin/hello'), path.join(dir, 'hello.c')]);
    execFileSync('aarch64-linux-gnu-gcc', ['-O2', '-static', '-nostdlib', '-nostartfiles', '-fno-ident', '-o', path.join(dir, 'bare/usr/bin/bare'), path.join(dir, 'bare.c')]);
    writeFileSync(path.join(dir, 'bare/usr/bin/script'), '#!/bin/sh\necho /usr/lib/x86_64-linux-gnu\n');
    // What crtbegin.o does on musl (gcc libgcc/crtstuff.c): call __register_frame_info, which
    // libgcc_s.so.1 exports as GLIBC_2.0 (GCC's own version node), so the program needs that
    // version of libgcc_s (in .gnu.version_r, and as __register_frame_info@GLIBC_2.0 in .symtab).
    writeFileSync(path.join(dir, 'frames.c'), 'extern void __register_frame_info(const void *, void *);\nvoid _start(void) { __register_frame_info(0, 0); for (;;) ; }\n');
    writeFileSync(path.join(dir, 'version.c'), 'extern void __register_frame_info(const void *, void *);\nconst char *v = "needs GLIBC_2.0";\nvoid _start(void) { __register_frame_info(v, 0); for (;;) ; }\n');
    for (const [name, source] of [['frames', 'frames.c'], ['version', 'version.c']]) {
      mkdirSync(path.join(dir, name, 'usr/bin'), { recursive: true });
      execFileSync('aarch64-linux-gnu-gcc', ['-O2', '-nostdlib', '-nostartfiles', '-fno-ident', '-Wl,--dynamic-linker=/lib/ld-musl-aarch64.so.1', '-o', path.join(dir, name, 'usr/bin', name), path.join(dir, source), '-lgcc_s']);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("finds glibc's loader, libc.so.6, the Debian compiler and glibc symbol versions in a Debian-built program", async () => {
    assert.ok(elfComments(path.join(dir, 'debian/usr/bin/hello')).some((c) => /Debian/.test(c)), 'readelf -p .comment shows the compiler');
    const problems = (await greenfieldProblems(path.join(dir, 'debian'), { loader: '/lib/ld-musl-aarch64.so.1' })).map((p) => `${p.file}: ${p.problem}`);
    assert.ok(problems.includes('usr/bin/hello: program interpreter /lib/ld-linux-aarch64.so.1, not /lib/ld-musl-aarch64.so.1'), problems.join('\n'));
    assert.ok(problems.includes("usr/bin/hello: needs glibc's libc.so.6"), problems.join('\n'));
    assert.ok(problems.some((p) => /^usr\/bin\/hello: \.comment names a distributor's compiler: GCC: \(Debian/.test(p)), problems.join('\n'));
    assert.ok(problems.includes('usr/bin/hello: holds the build machine\'s "GLIBC_2."'), problems.join('\n'));
    assert.ok(problems.some((p) => /^usr\/bin\/hello: needs glibc's symbol version GLIBC_2\.\d+ \(of libc\.so\.6\)$/.test(p)), problems.join('\n'));
  });

  it("passes GCC's own GLIBC_2.0 version of libgcc_s.so.1 (what a C++ program on musl needs), and no other GLIBC_2. string", async () => {
    const frames = path.join(dir, 'frames/usr/bin/frames');
    assert.match(execFileSync('readelf', ['-V', frames], { encoding: 'utf8' }), /File: libgcc_s\.so\.1[\s\S]*Name: GLIBC_2\.0/, 'the program needs GLIBC_2.0 of libgcc_s');
    assert.match(execFileSync('nm', [frames], { encoding: 'utf8' }), /__register_frame_info@GLIBC_2\.0/, 'and names it in .symtab');
    assert.deepEqual(await greenfieldProblems(path.join(dir, 'frames'), { loader: '/lib/ld-musl-aarch64.so.1' }), []);
    execFileSync('aarch64-linux-gnu-strip', [frames]);
    assert.deepEqual(await greenfieldProblems(path.join(dir, 'frames'), { loader: '/lib/ld-musl-aarch64.so.1' }), [], 'stripped too');
    // The same version name in the program's own data is not explained by its version tables.
    const problems = (await greenfieldProblems(path.join(dir, 'version'), { loader: '/lib/ld-musl-aarch64.so.1' })).map((p) => `${p.file}: ${p.problem}`);
    assert.deepEqual(problems, ['usr/bin/version: holds the build machine\'s "GLIBC_2."']);
  });

  it('passes a freestanding static program with no .comment, and ignores files that are not ELF', async () => {
    assert.deepEqual(elfComments(path.join(dir, 'bare/usr/bin/bare')), []);
    assert.deepEqual(await greenfieldProblems(path.join(dir, 'bare'), { loader: '/lib/ld-musl-aarch64.so.1' }), []);
  });
});
