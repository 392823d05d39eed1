import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { accessOf, readTokens } from './auth';
import { parseCli, parseSize } from './cli';

const dir = mkdtempSync(path.join(tmpdir(), 'cache-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};

test('sizes: bytes and powers of 1024', () => {
  assert.equal(parseSize('123', '--x'), 123);
  assert.equal(parseSize('4GiB', '--x'), 4 * 1024 ** 3);
  assert.equal(parseSize('1.5M', '--x'), 1.5 * 1024 ** 2);
  assert.equal(parseSize('10kb', '--x'), 10240);
  assert.throws(() => parseSize('ten', '--max-entry-size'), /^Error: --max-entry-size ten: not a size; fix: e\.g\. --max-entry-size 4GiB$/);
  assert.throws(() => parseSize('0', '--x'), /at least 1 byte/);
});

test('the command line: one line naming the flag and the fix for each mistake', () => {
  const tokens = file('t.yaml', 'write: [w-0123456789abcdef]\nread: [r-0123456789abcdef]\n');
  const ok = parseCli(['--storage', 'store', '--tokens', tokens, '--port', '0'], dir);
  assert.ok(ok !== 'help');
  assert.equal(ok.storage, path.join(dir, 'store'));
  assert.deepEqual(ok.tokens, { read: ['r-0123456789abcdef'], write: ['w-0123456789abcdef'] });
  assert.equal(ok.host, '127.0.0.1');
  assert.equal(parseCli(['--help'], dir), 'help');
  const bad: [string[], RegExp][] = [
    [['--tokens', tokens], /^--storage is required; fix: --storage \/srv\/nx-cache$/],
    [['--storage', 's'], /^give exactly one of --tokens FILE and --no-auth$/],
    [['--storage', 's', '--no-auth', '--tokens', tokens], /^give exactly one/],
    [['--storage', 's', '--no-auth', '--port', '70000'], /^--port 70000: not a TCP port/],
    [['--storage', 's', '--no-auth', '--max-entry-size', '2G', '--max-storage-size', '1G'], /^--max-entry-size is larger than --max-storage-size/],
    [['--storage', 's', '--no-auth', '--bogus'], /Unknown option '--bogus'.*; fix: see --help$/],
  ];
  for (const [argv, message] of bad) assert.throws(() => parseCli(argv, dir), (e: Error) => message.test(e.message) && !e.message.includes('\n'), argv.join(' '));
});

test('tokens files: mistakes name the file and field; tokens grant read or write', () => {
  const cases: [string, RegExp][] = [
    ['write: [short]', /t1\.yaml: write\[0\] must be a token of at least 16 printable characters/],
    ['write: x', /t2\.yaml: field `write` must be a list of tokens/],
    ['admin: [a-0123456789abcdefgh]', /t3\.yaml: unknown field `admin`/],
    ['read: []', /t4\.yaml: no tokens/],
    ['write: [a-0123456789abcdefgh]\nread: [a-0123456789abcdefgh]', /t5\.yaml: a token is listed under both/],
    ['write: [a', /t6\.yaml: not valid YAML/],
    ['- a', /t7\.yaml: must be a mapping/],
  ];
  cases.forEach(([text, message], i) => assert.throws(() => readTokens(file(`t${i + 1}.yaml`, text)), message));
  assert.throws(() => readTokens(path.join(dir, 'missing.yaml')), /missing\.yaml: cannot read the tokens file \(ENOENT\)/);
  const set = readTokens(file('ok.yaml', 'write: [w-0123456789abcdef]\nread: [r-0123456789abcdef]'));
  assert.equal(accessOf(set, 'Bearer w-0123456789abcdef'), 'write');
  assert.equal(accessOf(set, 'bearer r-0123456789abcdef'), 'read');
  assert.equal(accessOf(set, 'Bearer r-0123456789abcdeg'), undefined);
  assert.equal(accessOf(set, 'Basic w-0123456789abcdef'), undefined);
  assert.equal(accessOf(set, undefined), undefined);
  assert.equal(accessOf(undefined, undefined), 'write');
});
