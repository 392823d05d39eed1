import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FetchError, fetchDistfile, type DistfileRequest, type FetchSettings } from './fetch';
import { DistfilesStore } from './store';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const quick: FetchSettings = { mirrors: [], http: { idleTimeoutSeconds: 2, retries: 2, retryDelayMs: 10 } };

let dir: string;
let store: DistfilesStore;
let payload: Buffer;
let upstream: string;

function request(extra: Partial<DistfileRequest> = {}): DistfileRequest {
  return { recipeFile: 'recipes/demo/recipe.yaml', index: 0, filename: 'demo-1.0.tar.gz', sha256: sha(payload), urls: [pathToFileURL(upstream).href], ...extra };
}

/** Serves `routes` on loopback; every request is recorded in `hits`. */
async function serve(routes: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url!);
    routes(req, res, hits.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, hits, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'nx-distro-fetch-'));
  store = new DistfilesStore(path.join(dir, 'store'));
  payload = Buffer.from(`demo source ${Math.random()}\n`.repeat(1000));
  upstream = path.join(dir, 'upstream.tar.gz');
  writeFileSync(upstream, payload);
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

describe('distfiles store', () => {
  it('stores a fetched file read-only under by-sha256/<sum>/<name>, then serves it as a verified hit', async () => {
    const first = await fetchDistfile(store, request(), quick);
    assert.equal(first.from, pathToFileURL(upstream).href);
    assert.equal(first.path, path.join(store.root, 'by-sha256', sha(payload), 'demo-1.0.tar.gz'));
    assert.equal((await fs.stat(first.path)).mode & 0o777, 0o444);
    await fs.rm(upstream);
    const second = await fetchDistfile(store, request(), quick);
    assert.equal(second.from, 'store');
    assert.deepEqual(await fs.readdir(path.join(store.root, 'tmp')), []);
  });

  it('detects a tampered stored file, removes it and fetches the file again', async () => {
    const { path: stored } = await fetchDistfile(store, request(), quick);
    await fs.chmod(stored, 0o644);
    await fs.appendFile(stored, 'evil');
    const lines: string[] = [];
    const again = await fetchDistfile(store, request(), quick, (l) => lines.push(l));
    assert.equal(again.from, pathToFileURL(upstream).href);
    assert.match(lines.join('\n'), /stored copy .* is corrupt \(sha256 [0-9a-f]{64}, expected/);
    assert.equal(sha(await fs.readFile(again.path)), sha(payload));
  });

  it('reuses the same bytes stored under another name', async () => {
    await fetchDistfile(store, request(), quick);
    const other = await fetchDistfile(store, request({ filename: 'other-name.tar.gz', urls: [] }), quick);
    assert.equal(other.from, 'store');
    assert.equal(path.basename(other.path), 'other-name.tar.gz');
  });

  it('refuses wrong bytes: the error names recipe, file, expected and actual sum; nothing is stored', async () => {
    const wrong = sha('something else');
    await assert.rejects(fetchDistfile(store, request({ sha256: wrong }), quick), (e: Error) => {
      assert.ok(e instanceof FetchError);
      assert.equal(e.message.split('\n').length, 1);
      assert.match(e.message, /^recipes\/demo\/recipe\.yaml: sources\[0\]: checksum mismatch for demo-1\.0\.tar\.gz from file:/);
      assert.ok(e.message.includes(`expected sha256 ${wrong}, got ${sha(payload)}`));
      return true;
    });
    await assert.rejects(fs.access(path.join(store.root, 'by-sha256', wrong)));
    assert.deepEqual(await fs.readdir(path.join(store.root, 'tmp')), []);
  });

  it('names every provider tried when none has the file', async () => {
    await assert.rejects(fetchDistfile(store, request({ urls: ['file:///nonexistent/x.tar.gz'] }), quick), /could not be fetched: file:\/\/\/nonexistent\/x\.tar\.gz: no such file; add a mirror/);
  });

  it('lets concurrent fetches of one file from several processes download it once', async () => {
    // A slow server: each request takes 1.5 s, so without the lock every process would download.
    const srv = await serve((_req, res) => setTimeout(() => res.end(payload), 1500));
    try {
      const script = path.join(dir, 'fetch-one.ts');
      writeFileSync(script, `
        const { fetchDistfile } = require(${JSON.stringify(path.join(__dirname, 'fetch.ts'))});
        const { DistfilesStore } = require(${JSON.stringify(path.join(__dirname, 'store.ts'))});
        fetchDistfile(new DistfilesStore(${JSON.stringify(store.root)}), JSON.parse(process.argv[2]), { mirrors: [], http: { idleTimeoutSeconds: 5, retries: 0, retryDelayMs: 10 } })
          .then((o) => console.log(o.from), (e) => { console.error(e.message); process.exit(1); });`);
      const req = JSON.stringify(request({ urls: [`${srv.base}/demo-1.0.tar.gz`] }));
      const run = promisify(execFile);
      const outs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--require', '@swc-node/register', script, req], { cwd: path.resolve(__dirname, '../../../..') })));
      const froms = outs.map((o) => o.stdout.trim()).sort();
      assert.deepEqual(srv.hits, ['/demo-1.0.tar.gz']);
      assert.deepEqual(froms, [`${srv.base}/demo-1.0.tar.gz`, 'store', 'store', 'store']);
    } finally {
      await srv.close();
    }
  });
});

describe('providers', () => {
  it('tries mirrors first, content-addressed then flat, and falls back to the URLs', async () => {
    const mirror = path.join(dir, 'mirror');
    await fs.mkdir(mirror);
    writeFileSync(path.join(mirror, 'demo-1.0.tar.gz'), payload);
    const got = await fetchDistfile(store, request({ urls: [] }), { ...quick, mirrors: [path.join(dir, 'empty-mirror'), mirror] });
    assert.equal(got.from, path.join(mirror, 'demo-1.0.tar.gz'));
  });

  it('serves from an http mirror laid out like the store', async () => {
    const srv = await serve((req, res) => {
      if (req.url === `/dist/by-sha256/${sha(payload)}/demo-1.0.tar.gz`) res.end(payload);
      else res.writeHead(404).end();
    });
    try {
      const got = await fetchDistfile(store, request({ urls: [] }), { ...quick, mirrors: [`${srv.base}/dist`] });
      assert.equal(got.from, `${srv.base}/dist/by-sha256/${sha(payload)}/demo-1.0.tar.gz`);
    } finally {
      await srv.close();
    }
  });

  it('retries transient http failures (503) and does not retry a 404', async () => {
    const srv = await serve((req, res, n) => {
      if (req.url === '/missing') return void res.writeHead(404).end();
      if (n < 3) return void res.writeHead(503).end();
      res.end(payload);
    });
    try {
      const got = await fetchDistfile(store, request({ urls: [`${srv.base}/missing`, `${srv.base}/flaky`] }), quick);
      assert.equal(got.from, `${srv.base}/flaky`);
      assert.deepEqual(srv.hits, ['/missing', '/flaky', '/flaky']);
    } finally {
      await srv.close();
    }
  });

  it('aborts a download that stalls for longer than the idle timeout', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(payload.length) });
      res.write(payload.subarray(0, 100)); // then nothing
    });
    try {
      const settings: FetchSettings = { mirrors: [], http: { idleTimeoutSeconds: 0.3, retries: 1, retryDelayMs: 10 } };
      await assert.rejects(fetchDistfile(store, request({ urls: [`${srv.base}/stall`] }), settings), /stall: no data for 0\.3 s \(after 2 attempts\)/);
      assert.equal(srv.hits.length, 2);
      assert.deepEqual(await fs.readdir(path.join(store.root, 'tmp')), []);
    } finally {
      await srv.close();
    }
  });
});
