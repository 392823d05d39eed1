import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeControls, quote } from './quote';

describe('quote', () => {
  it('keeps a value on one line and shows what would hide text', () => {
    assert.equal(quote('a\nb\t"c"\\'), '"a\\nb\\t\\"c\\"\\\\"');
    assert.equal(quote('x\u001b[31mred\u202eevil\u2028'), '"x\\u001b[31mred\\u202eevil\\u2028"');
    assert.equal(quote('abcdef', 3), '"abc…"');
  });

  it('escapes only control characters for comments', () => {
    assert.equal(escapeControls('Fix "foo" in a\\b\r\n'), 'Fix "foo" in a\\b\\r\\n');
  });
});
