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
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("finds glibc's loader, libc.so.6, the Debian compiler and glibc symbol versions in a Debian-built program", async () => {
    assert.ok(elfComments(path.join(dir, 'debian/usr/bin/hello')).some((c) => /Debian/.test(c)), 'readelf -p .comment shows the compiler');
    const problems = (await greenfieldProblems(path.join(dir, 'debian'), { loader: '/lib/ld-musl-aarch64.so.1' })).map((p) => `${p.file}: ${p.problem}`);
    assert.ok(problems.includes('usr/bin/hello: program interpreter /lib/ld-linux-aarch64.so.1, not /lib/ld-musl-aarch64.so.1'), problems.join('\n'));
    assert.ok(problems.includes("usr/bin/hello: needs glibc's libc.so.6"), problems.join('\n'));
    assert.ok(problems.some((p) => /^usr\/bin\/hello: \.comment names a distributor's compiler: GCC: \(Debian/.test(p)), problems.join('\n'));
    assert.ok(problems.includes('usr/bin/hello: holds the build machine\'s "GLIBC_2."'), problems.join('\n'));
  });

  it('passes a freestanding static program with no .comment, and ignores files that are not ELF', async () => {
    assert.deepEqual(elfComments(path.join(dir, 'bare/usr/bin/bare')), []);
    assert.deepEqual(await greenfieldProblems(path.join(dir, 'bare'), { loader: '/lib/ld-musl-aarch64.so.1' }), []);
  });
});
