import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeControls, failureReport, fieldKey, InputError, InputErrors, quote, ReportedError } from './errors';

describe('quote', () => {
  it('shows a plain value in double quotes', () => {
    assert.equal(quote('zlib-1.3.1.tar.xz'), '"zlib-1.3.1.tar.xz"');
  });

  it('escapes quotes, backslashes and every control character, so the value stays on one line', () => {
    // A forged second error line with ANSI colours (issue 19, item 2).
    const forged = 'MIT\nrecipes/zlib/recipe.yaml: name: forged\u001b[31m\r\u0007';
    assert.equal(quote(forged, 200), '"MIT\\nrecipes/zlib/recipe.yaml: name: forged\\u001b[31m\\r\\u0007"');
    assert.equal(quote('a"b\\c\td'), '"a\\"b\\\\c\\td"');
    // What JSON.stringify leaves raw: DEL, the 8-bit CSI, line separators, bidi overrides and
    // isolates, zero-width characters, a lone surrogate, a format character beyond U+FFFF.
    for (const [raw, shown] of [
      ['\u007f', '\\u007f'], ['\u009b', '\\u009b'], ['\u2028', '\\u2028'], ['\u2029', '\\u2029'],
      ['\u202e', '\\u202e'], ['\u2066', '\\u2066'], ['\u200b', '\\u200b'], ['\ud800', '\\ud800'], ['\u{e0001}', '\\udb40\\udc01'],
    ]) {
      assert.equal(quote(`x${raw}y`), `"x${shown}y"`, JSON.stringify(raw));
      assert.match(quote(`x${raw}y`), /^[\x20-\x7e]+$/, 'printable ASCII only');
    }
    assert.doesNotMatch(quote('\u0000\u001f\u0080\u009f'), /[\u0000-\u001f\u007f-\u009f]/);
  });

  it('cuts a long value, counting the escapes, and marks the cut after the closing quote', () => {
    assert.equal(quote('a'.repeat(900_000)), `"${'a'.repeat(60)}"...`);
    assert.equal(quote('abcdef', 3), '"abc"...');
    assert.equal(quote('\n\n\n', 5), '"\\n\\n"...', 'never half an escape');
    assert.equal(quote('abc', 3), '"abc"');
  });
});

describe('fieldKey', () => {
  it('appends a plain key with a dot and quotes any other', () => {
    assert.equal(fieldKey('package_sets', 'base'), 'package_sets.base');
    assert.equal(fieldKey('', 'maintainer'), 'maintainer');
    assert.equal(fieldKey('env', '1BAD'), 'env.1BAD');
    assert.equal(fieldKey('package_sets', 'a.b'), 'package_sets["a.b"]');
    assert.equal(fieldKey('', 'root:$y$j9T$x:19000::'), '["root:$y$j9T$x:19000::"]');
    assert.equal(fieldKey('env', 'X\n\u001b[2J'), 'env["X\\n\\u001b[2J"]');
  });
});

describe('InputError', () => {
  it('is one line of plain characters whatever its parts hold', () => {
    const e = new InputError('recipes/a\nb/recipe.yaml', 'license[0]', 'x\u001b[31m\ny', 'fix\u2028it');
    assert.equal(e.message, 'recipes/a\\nb/recipe.yaml: license[0]: x\\u001b[31m\\ny; fix\\u2028it');
    assert.equal(escapeControls(e.message), e.message);
  });
});

describe('failureReport', () => {
  it('reports an input error, several, and a reported failure by their messages', () => {
    const one = new InputError('recipes/zlib/recipe.yaml', 'version', 'missing', 'add `version:`');
    assert.equal(failureReport(one, 'zlib', []), 'recipes/zlib/recipe.yaml: version: missing; add `version:`');
    assert.equal(failureReport(new InputErrors([one, one]), 'zlib', []), `${one.message}\n${one.message}`);
    class Refused extends ReportedError {}
    assert.equal(failureReport(new Refused('zlib: step build failed (exit 2)'), 'zlib', []), 'zlib: step build failed (exit 2)');
  });

  it('reports a full file system with the subject and the folders written, a child program\'s text too', () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: 'ENOSPC' });
    assert.equal(failureReport(enospc, 'zlib', ['tmp/build/aarch64/zlib']), "zlib: no space left on the device (ENOSPC: no space left on device, write); nothing was stored under a final name; fix: free space in the file system of tmp/build/aarch64/zlib (df -h shows it) and run the task again");
    assert.match(failureReport(new Error('zstd: error 70 : Write error : cannot write block : No space left on device'), 'image', [])!, /^image: no space left on the device \(.*\); .*file system of the workspace /);
  });

  it('gives nothing for a bug (any other error), which the caller rethrows', () => {
    assert.equal(failureReport(new TypeError("Cannot read properties of undefined (reading 'name')"), 'zlib', []), undefined);
    assert.equal(failureReport('a string', 'zlib', []), undefined);
  });
});

