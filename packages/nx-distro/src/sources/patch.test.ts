import assert from 'node:assert/strict';
import { promises as fs, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { applyPatches, PatchError } from './patch';

let dir: string;
let src: string;

function patchFile(name: string, text: string): { text: Buffer; name: string } {
  return { text: Buffer.from(text), name: `recipes/demo/${name}` };
}

const GOOD = `--- a/hello.c
+++ b/hello.c
@@ -1,3 +1,3 @@
 #include <stdio.h>
-int main(void) { puts("hello"); return 0; }
+int main(void) { puts("hello, patched"); return 0; }
 /* end */
`;
const SECOND = `diff --git a/README b/README
--- a/README
+++ b/README
@@ -1 +1,2 @@
 demo
+patched twice
`;
const STALE = `--- a/hello.c
+++ b/hello.c
@@ -1,3 +1,3 @@
 #include <stdio.h>
-int main(void) { puts("goodbye"); return 0; }
+int main(void) { puts("farewell"); return 0; }
 /* end */
`;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'nx-distro-patch-'));
  src = path.join(dir, 'src');
  return fs.mkdir(src).then(() => {
    writeFileSync(path.join(src, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n/* end */\n');
    writeFileSync(path.join(src, 'README'), 'demo\n');
  });
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

describe('applyPatches (GNU patch -p1)', () => {
  it('applies patches in order with -p1 (quilt and git formats)', async () => {
    await applyPatches(src, [patchFile('1.patch', GOOD), patchFile('2.patch', SECOND)]);
    assert.match(await fs.readFile(path.join(src, 'hello.c'), 'utf8'), /hello, patched/);
    assert.equal(await fs.readFile(path.join(src, 'README'), 'utf8'), 'demo\npatched twice\n');
    assert.deepEqual((await fs.readdir(src)).sort(), ['README', 'hello.c'], 'no .orig or .rej files left');
  });

  it('fails with the patch name, the failed hunk and the rejected text', async () => {
    await assert.rejects(applyPatches(src, [patchFile('1.patch', GOOD), patchFile('stale.patch', STALE)]), (e: Error) => {
      assert.ok(e instanceof PatchError);
      const [first, ...rest] = e.message.split('\n');
      assert.match(first, /^recipes\/demo\/stale\.patch: does not apply: .*Reversed|^recipes\/demo\/stale\.patch: does not apply: .*FAILED/);
      assert.match(rest.join('\n'), /rejected hunk\(s\):\n[\s\S]*-int main\(void\) \{ puts\("goodbye"\)/);
      return true;
    });
    await assert.rejects(fs.access(path.join(dir, '.src.rej')));
  });

  it('shows the rejected hunks with control characters escaped, tabs and line breaks kept', async () => {
    // A patch is the recipe's text: its hunks must send no escape sequence to a terminal or log.
    const forged = `--- a/hello.c\n+++ b/hello.c\n@@ -1,3 +1,3 @@\n #include <stdio.h>\n-int main(void) { puts("gone"); }\u001b[2J\n+\tforged\rrecipes/zlib/recipe.yaml: ok\u009b\n /* end */\n`;
    await assert.rejects(applyPatches(src, [patchFile('forged.patch', forged)]), (e: Error) => {
      assert.ok(e instanceof PatchError);
      assert.doesNotMatch(e.message, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      assert.match(e.message, /-int main\(void\) \{ puts\("gone"\); \}\\u001b\[2J\n\+\tforged\\rrecipes\/zlib\/recipe\.yaml: ok\\u009b\n/);
      return true;
    });
  });

  it('refuses a patch applied twice instead of reversing it (--forward)', async () => {
    const p = patchFile('1.patch', GOOD);
    await applyPatches(src, [p]);
    await assert.rejects(applyPatches(src, [p]), /1\.patch: does not apply: .*(Reversed|previously applied)/i);
  });

  it('refuses a patch that writes outside the tree', async () => {
    const evil = `--- a/../../escape.txt\n+++ b/../../escape.txt\n@@ -0,0 +1 @@\n+pwned\n`;
    await assert.rejects(applyPatches(src, [patchFile('evil.patch', evil)]), /evil\.patch: does not apply: .*dangerous/i);
    await assert.rejects(fs.access(path.join(dir, '..', 'escape.txt')));
    await assert.rejects(fs.access(path.join(dir, 'escape.txt')));
  });
});
