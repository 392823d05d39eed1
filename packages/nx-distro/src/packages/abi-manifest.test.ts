import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { abiManifest, exportedSymbols } from './abi-manifest';

const dir = mkdtempSync(path.join(tmpdir(), 'abi-manifest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A package tree with a real shared library built by the build machine's cc from `source`. */
function pkg(name: string, source: string, header = 'int greet(int);\n'): string {
  const root = path.join(dir, name);
  mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
  mkdirSync(path.join(root, 'usr/include'), { recursive: true });
  writeFileSync(path.join(dir, `${name}.c`), source);
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-Wl,-soname,libgreet.so.1', '-o', path.join(root, 'usr/lib/libgreet.so.1.0'), path.join(dir, `${name}.c`)]);
  symlinkSync('libgreet.so.1.0', path.join(root, 'usr/lib/libgreet.so.1'));
  writeFileSync(path.join(root, 'usr/include/greet.h'), header);
  return root;
}

test('a library rebuilt with other code but the same exports has the same manifest; new exports, data sizes or headers change it', async () => {
  const v1 = await abiManifest(pkg('v1', 'static int twice(int x) { return 2 * x; }\nint greet(int x) { return twice(x) + 1; }\nint counter[4];\n'));
  const v2 = await abiManifest(pkg('v2', 'int greet(int x) { int y = x; for (int i = 0; i < 3; i++) y ^= i; return y * 7; }\nint counter[4];\n'));
  const v3 = await abiManifest(pkg('v3', 'int greet(int x) { return x; }\nint greet_more(int x) { return x; }\nint counter[4];\n'));
  const v4 = await abiManifest(pkg('v4', 'int greet(int x) { return x; }\nint counter[8];\n'));
  const v5 = await abiManifest(pkg('v5', 'int greet(int x) { return x; }\nint counter[4];\n', 'int greet(int);\n#define GREETING 2\n'));
  assert.deepEqual(v2.files, v1.files);
  assert.match(v1.files['usr/lib/libgreet.so.1.0'], /^shlib 0755 soname=libgreet\.so\.1 needed= symbols=[0-9a-f]{64}$/);
  assert.equal(v1.files['usr/lib/libgreet.so.1'], 'symlink libgreet.so.1.0');
  assert.deepEqual(v1.symbols['usr/lib/libgreet.so.1.0'], ['counter OBJECT 16', 'greet FUNC']);
  assert.notEqual(v3.files['usr/lib/libgreet.so.1.0'], v1.files['usr/lib/libgreet.so.1.0']);
  assert.notEqual(v4.files['usr/lib/libgreet.so.1.0'], v1.files['usr/lib/libgreet.so.1.0']);
  assert.equal(v5.files['usr/lib/libgreet.so.1.0'], v1.files['usr/lib/libgreet.so.1.0']);
  assert.notEqual(v5.files['usr/include/greet.h'], v1.files['usr/include/greet.h']);
});

test('symbol versions and weak bindings are kept; undefined and local symbols are not', async () => {
  writeFileSync(path.join(dir, 'ver.map'), 'V_1 { global: api_one; local: *; };\nV_2 { global: api_two; } V_1;\n');
  writeFileSync(path.join(dir, 'ver.c'), '#include <string.h>\nint api_one(const char *s) { return strlen(s); }\n__attribute__((weak)) int api_two(void) { return 2; }\nint hidden(void) { return 3; }\n');
  const lib = path.join(dir, 'libver.so');
  execFileSync('cc', ['-shared', '-fPIC', '-Wl,--version-script', path.join(dir, 'ver.map'), '-o', lib, path.join(dir, 'ver.c')]);
  const syms = await exportedSymbols(lib);
  assert.ok(syms.includes('api_one@@V_1 FUNC'), syms.join('\n'));
  assert.ok(syms.includes('api_two@@V_2 FUNC weak'), syms.join('\n'));
  assert.ok(!syms.some((s) => s.startsWith('hidden') || s.startsWith('strlen')), syms.join('\n'));
});
