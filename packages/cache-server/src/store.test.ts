import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { FileStore, UploadError } from './store';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'cache-store-'));
  dirs.push(d);
  return d;
}
const limits = { maxEntryBytes: 1 << 20, maxStoreBytes: 4 << 20 };

async function read(store: FileStore, hash: string): Promise<Buffer | undefined> {
  const entry = await store.open(hash);
  if (!entry) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of entry.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('a stored body reads back byte for byte, survives a restart, and a second upload is dropped', async () => {
  const root = tempDir();
  const store = await FileStore.open(root, limits);
  const body = randomBytes(300_000);
  assert.equal(await store.put('123', body.length, Readable.from([body.subarray(0, 1000), body.subarray(1000)])), 'stored');
  assert.equal(await store.put('123', 5, Readable.from([Buffer.from('other')])), 'exists');
  assert.deepEqual(await read(store, '123'), body);
  const again = await FileStore.open(root, limits);
  assert.equal(again.count, 1);
  assert.equal(again.bytes, body.length);
  assert.deepEqual(await read(again, '123'), body);
  assert.deepEqual(readdirSync(path.join(root, 'tmp')), []);
});

test('a short, long or oversized body is refused and leaves nothing behind', async () => {
  const root = tempDir();
  const store = await FileStore.open(root, limits);
  const short = store.put('1', 10, Readable.from([Buffer.from('12345')]));
  await assert.rejects(short, (e: UploadError) => e.status === 400 && /5 bytes, its Content-Length says 10/.test(e.message));
  const long = store.put('2', 3, Readable.from([Buffer.from('12345')]));
  await assert.rejects(long, (e: UploadError) => e.status === 400 && /longer than its Content-Length/.test(e.message));
  const big = store.put('3', limits.maxEntryBytes + 1, Readable.from([Buffer.alloc(0)]));
  await assert.rejects(big, (e: UploadError) => e.status === 403 && /--max-entry-size/.test(e.message));
  const broken = new Readable({ read() {} });
  const pending = store.put('4', 100, broken);
  broken.push(Buffer.alloc(40));
  setImmediate(() => broken.destroy());
  await assert.rejects(pending, (e: UploadError) => e.status === 400);
  assert.equal(store.count, 0);
  assert.deepEqual(readdirSync(path.join(root, 'tmp')), []);
  assert.deepEqual(readdirSync(path.join(root, 'entries')).flatMap((s) => readdirSync(path.join(root, 'entries', s))), []);
});

test('concurrent uploads of one hash with different bodies: one is kept whole, never a mix', async () => {
  const store = await FileStore.open(tempDir(), limits);
  const bodies = Array.from({ length: 8 }, () => randomBytes(200_000));
  const results = await Promise.all(bodies.map((b) => store.put('77', b.length, Readable.from([b.subarray(0, 50_000), b.subarray(50_000)]))));
  assert.equal(results.filter((r) => r === 'stored').length, 1);
  const got = await read(store, '77');
  assert.ok(bodies.some((b) => b.equals(got!)));
  assert.equal(store.bytes, 200_000);
});

test('a body changed on disk is never served: the entry is removed and reads as missing', async () => {
  const root = tempDir();
  const lines: string[] = [];
  const store = await FileStore.open(root, limits, (l) => lines.push(l));
  const body = randomBytes(5000);
  await store.put('ab12', body.length, Readable.from([body]));
  const file = path.join(root, 'entries', 'ab', 'ab12');
  const bad = Buffer.from(body);
  bad[100] ^= 1;
  writeFileSync(file, bad);
  assert.equal(await read(store, 'ab12'), undefined);
  assert.equal(store.has('ab12'), false);
  assert.match(lines.join('\n'), /removed corrupt entry ab12/);
});

test('leftovers of a crash are cleaned when the store opens', async () => {
  const root = tempDir();
  const store = await FileStore.open(root, limits);
  await store.put('5555', 3, Readable.from([Buffer.from('abc')]));
  // an upload cut off mid-way, a body renamed without its sidecar, a sidecar without its body,
  // a body whose size differs from its sidecar
  writeFileSync(path.join(root, 'tmp', '9.partial'), 'x');
  mkdirSync(path.join(root, 'entries', '66'), { recursive: true });
  writeFileSync(path.join(root, 'entries', '66', '6666'), 'no sidecar');
  writeFileSync(path.join(root, 'entries', '66', '6677.json'), '{}');
  writeFileSync(path.join(root, 'entries', '55', '5599'), 'abcd');
  writeFileSync(path.join(root, 'entries', '55', '5599.json'), JSON.stringify({ size: 3, sha256: '0'.repeat(64), storedAt: 1 }));
  const lines: string[] = [];
  const again = await FileStore.open(root, limits, (l) => lines.push(l));
  assert.equal(again.count, 1);
  assert.deepEqual(await read(again, '5555'), Buffer.from('abc'));
  assert.deepEqual(readdirSync(path.join(root, 'tmp')), []);
  assert.deepEqual(readdirSync(path.join(root, 'entries', '66')), []);
  assert.deepEqual(readdirSync(path.join(root, 'entries', '55')).sort(), ['5555', '5555.json']);
  assert.match(lines.join('\n'), /removed incomplete entry 6666/);
});

test('least recently used entries are evicted beyond the store limit, a read counting as a use', async () => {
  const store = await FileStore.open(tempDir(), { maxEntryBytes: 1000, maxStoreBytes: 3000 });
  const put = (h: string) => store.put(h, 1000, Readable.from([randomBytes(1000)]));
  await put('1');
  await new Promise((r) => setTimeout(r, 5));
  await put('2');
  await new Promise((r) => setTimeout(r, 5));
  await put('3');
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(await read(store, '1')); // 1 is now the most recently used
  await new Promise((r) => setTimeout(r, 5));
  await put('4');
  assert.deepEqual(['1', '2', '3', '4'].filter((h) => store.has(h)), ['1', '3', '4']);
  assert.equal(store.bytes, 3000);
});
