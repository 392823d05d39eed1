import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InputError } from '../model/errors';
import { FetchError, fetchDistfile, type DistfileRequest, type FetchSettings } from './fetch';
import { DistfilesStore } from './store';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** Quick retries; a recipe's `file:` URLs may point into the test's folder (as into a workspace). */
const quick = (): FetchSettings => ({ mirrors: [], http: { idleTimeoutSeconds: 2, retries: 2, retryDelayMs: 10 }, localRoots: [dir] });

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
    const first = await fetchDistfile(store, request(), quick());
    assert.equal(first.from, pathToFileURL(upstream).href);
    assert.equal(first.path, path.join(store.root, 'by-sha256', sha(payload), 'demo-1.0.tar.gz'));
    assert.equal((await fs.stat(first.path)).mode & 0o777, 0o444);
    await fs.rm(upstream);
    const second = await fetchDistfile(store, request(), quick());
    assert.equal(second.from, 'store');
    assert.deepEqual(await fs.readdir(path.join(store.root, 'tmp')), []);
  });

  it('detects a tampered stored file, removes it and fetches the file again', async () => {
    const { path: stored } = await fetchDistfile(store, request(), quick());
    await fs.chmod(stored, 0o644);
    await fs.appendFile(stored, 'evil');
    const lines: string[] = [];
    const again = await fetchDistfile(store, request(), quick(), (l) => lines.push(l));
    assert.equal(again.from, pathToFileURL(upstream).href);
    assert.match(lines.join('\n'), /stored copy .* is corrupt \(sha256 [0-9a-f]{64}, expected/);
    assert.equal(sha(await fs.readFile(again.path)), sha(payload));
  });

  it('reuses the same bytes stored under another name', async () => {
    await fetchDistfile(store, request(), quick());
    const other = await fetchDistfile(store, request({ filename: 'other-name.tar.gz', urls: [] }), quick());
    assert.equal(other.from, 'store');
    assert.equal(path.basename(other.path), 'other-name.tar.gz');
  });

  it('refuses wrong bytes: the error names recipe, file, expected and actual sum; nothing is stored', async () => {
    const wrong = sha('something else');
    const srv = await serve((_req, res) => res.end(payload));
    try {
      await assert.rejects(fetchDistfile(store, request({ sha256: wrong, urls: [`${srv.base}/demo-1.0.tar.gz`] }), quick()), (e: Error) => {
        assert.ok(e instanceof FetchError);
        assert.equal(e.message.split('\n').length, 1);
        assert.match(e.message, /^recipes\/demo\/recipe\.yaml: sources\[0\]: checksum mismatch for demo-1\.0\.tar\.gz from http:/);
        assert.ok(e.message.includes(`expected sha256 ${wrong}, got ${sha(payload)}`));
        return true;
      });
    } finally {
      await srv.close();
    }
    await assert.rejects(fs.access(path.join(store.root, 'by-sha256', wrong)));
    assert.deepEqual(await fs.readdir(path.join(store.root, 'tmp')), []);
  });

  it("never shows the sum of a local file (a recipe's file: URL) that does not match", async () => {
    const wrong = sha('something else');
    await assert.rejects(fetchDistfile(store, request({ sha256: wrong }), quick()), (e: Error) => {
      assert.ok(e instanceof FetchError);
      assert.match(e.message, /^recipes\/demo\/recipe\.yaml: sources\[0\]: checksum mismatch for demo-1\.0\.tar\.gz from file:\S+: expected sha256 [0-9a-f]{64}, got a file with another sum \(a local file's sum is not shown/);
      assert.ok(!e.message.includes(sha(payload)), e.message);
      return true;
    });
  });

  it('names every provider tried when none has the file', async () => {
    const gone = pathToFileURL(path.join(dir, 'nonexistent/x.tar.gz')).href;
    await assert.rejects(fetchDistfile(store, request({ urls: [gone] }), quick()), new RegExp(`could not be fetched: ${gone}: no such file; add a mirror`));
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

describe("a recipe's file: URLs", () => {
  const refusal = (field: string, url: string) =>
    `recipes/demo/recipe.yaml: ${field}: "${url}" is outside the workspace and the folders of the plugin option localSourceDirs (symbolic links resolved); move the file into the workspace, or add its folder to "localSourceDirs" of the nx-distro plugin in nx.json`;
  const hostSum = () => sha(readFileSync('/etc/passwd'));

  it('refuses a host file (file:///etc/passwd) with one line and the fix, before the store or any read', async () => {
    await assert.rejects(fetchDistfile(store, request({ urls: ['file:///etc/passwd'], sha256: sha('x') }), quick()), (e: Error) => {
      assert.ok(e instanceof InputError, e.message);
      assert.equal(e.message, refusal('sources[0].url', 'file:///etc/passwd'));
      assert.ok(!e.message.includes(hostSum()));
      return true;
    });
    // The field names the entry of a `urls` list.
    await assert.rejects(fetchDistfile(store, request({ urls: [pathToFileURL(upstream).href, 'file:///etc/passwd'], urlsList: true }), quick()), { message: refusal('sources[0].urls[1]', 'file:///etc/passwd') });
    assert.deepEqual(await fs.readdir(path.join(store.root, 'tmp')).catch(() => []), []);
  });

  it('refuses a link in the workspace to a host file, and a path that climbs out through a linked folder', async () => {
    symlinkSync('/etc/passwd', path.join(dir, 'passwd.tar.gz'));
    symlinkSync('/etc', path.join(dir, 'etc'));
    for (const name of ['passwd.tar.gz', 'etc/passwd']) {
      const url = pathToFileURL(path.join(dir, name)).href;
      await assert.rejects(fetchDistfile(store, request({ urls: [url], sha256: sha('x') }), quick()), (e: Error) => {
        assert.equal(e.message, refusal('sources[0].url', url));
        return true;
      });
    }
  });

  it('takes a file inside the workspace through a link that stays inside, and one of a folder of localSourceDirs', async () => {
    symlinkSync(upstream, path.join(dir, 'alias.tar.gz'));
    const got = await fetchDistfile(store, request({ urls: [pathToFileURL(path.join(dir, 'alias.tar.gz')).href] }), quick());
    assert.equal(sha(await fs.readFile(got.path)), sha(payload));
    const tarballs = mkdtempSync(path.join(os.tmpdir(), 'nx-distro-tarballs-'));
    try {
      const other = Buffer.from('another tarball\n');
      writeFileSync(path.join(tarballs, 'other-1.0.tar.gz'), other);
      const req = request({ filename: 'other-1.0.tar.gz', sha256: sha(other), urls: [pathToFileURL(path.join(tarballs, 'other-1.0.tar.gz')).href] });
      await assert.rejects(fetchDistfile(store, req, quick()), InputError);
      const from = await fetchDistfile(store, req, { ...quick(), localRoots: [dir, tarballs] });
      assert.equal(sha(await fs.readFile(from.path)), sha(other));
    } finally {
      await fs.rm(tarballs, { recursive: true, force: true });
    }
  });

  it('refuses every file: URL when no folder is allowed, and reads no FIFO', async () => {
    await assert.rejects(fetchDistfile(store, request(), { ...quick(), localRoots: undefined }), InputError);
    execFileSync('mkfifo', [path.join(dir, 'fifo.tar.gz')]);
    await assert.rejects(fetchDistfile(store, request({ urls: [pathToFileURL(path.join(dir, 'fifo.tar.gz')).href] }), quick()), /fifo\.tar\.gz: not a regular file/);
  });
});

describe('providers', () => {
  it('tries mirrors first, content-addressed then flat, and falls back to the URLs', async () => {
    const mirror = path.join(dir, 'mirror');
    await fs.mkdir(mirror);
    writeFileSync(path.join(mirror, 'demo-1.0.tar.gz'), payload);
    const got = await fetchDistfile(store, request({ urls: [] }), { ...quick(), mirrors: [path.join(dir, 'empty-mirror'), mirror] });
    assert.equal(got.from, path.join(mirror, 'demo-1.0.tar.gz'));
  });

  it('serves from an http mirror laid out like the store', async () => {
    const srv = await serve((req, res) => {
      if (req.url === `/dist/by-sha256/${sha(payload)}/demo-1.0.tar.gz`) res.end(payload);
      else res.writeHead(404).end();
    });
    try {
      const got = await fetchDistfile(store, request({ urls: [] }), { ...quick(), mirrors: [`${srv.base}/dist`] });
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
      const got = await fetchDistfile(store, request({ urls: [`${srv.base}/missing`, `${srv.base}/flaky`] }), quick());
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
