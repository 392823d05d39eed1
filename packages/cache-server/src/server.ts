import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { accessOf, type TokenSet } from './auth';
import { FileStore, HASH_PATTERN, UploadError } from './store';

/** How {@link startCacheServer} runs. */
export interface CacheServerOptions {
  readonly store: FileStore;
  /** Accepted bearer tokens; undefined serves everyone read-write (only for a trusted network). */
  readonly tokens: TokenSet | undefined;
  /** Address to listen on (`127.0.0.1`, `0.0.0.0`, `::`). */
  readonly host: string;
  /** TCP port; 0 picks a free one (see {@link RunningCacheServer.url}). */
  readonly port: number;
  /** Receives one line per request and per store event; nothing when undefined. */
  readonly log?: (line: string) => void;
}

/** A listening cache server. */
export interface RunningCacheServer {
  /** `http://host:port`, what `NX_SELF_HOSTED_REMOTE_CACHE_SERVER` is set to. */
  readonly url: string;
  readonly server: http.Server;
  /** Stops accepting connections and waits for the open requests to end. */
  close(): Promise<void>;
}

/**
 * Serves Nx's self-hosted remote cache API (the OpenAPI specification at
 * https://nx.dev/docs/kb/self-hosted-caching, Nx 20.8 and later; Nx's client is
 * `NX_SELF_HOSTED_REMOTE_CACHE_SERVER` with `NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN`):
 *
 * - `GET /v1/cache/{hash}`: 200 with the body (`application/octet-stream`, the tar archive Nx
 *   uploaded), 404 when not stored, 401 without a valid token.
 * - `PUT /v1/cache/{hash}` with `Content-Length`: 200 once stored, 409 when the hash is already
 *   stored (the body is dropped: entries are immutable), 401 without a valid token, 403 for a
 *   read-only token and for the server's own refusals (over the entry size limit, disk full),
 *   411 without Content-Length, 400 for a body shorter or longer than its Content-Length
 *   (bytes after the declared body that arrive before it is stored abort it: nothing is kept).
 *   Nx 24 goes on without storing after 403 or 409 and fails the task after any other status
 *   (measured with Nx 24.0.0), so a cache that cannot store never fails a build.
 * - `GET /health`: 200 `ok` without authentication, for supervisors and scripts.
 *
 * Any other path or method: 404 or 405. A task hash that is not {@link HASH_PATTERN}: 400.
 * Nx aborts the whole run on an error answering a GET, so GET answers 404 rather than an error
 * wherever it can (a corrupt entry is removed and reported missing, see {@link FileStore.open}).
 */
export async function startCacheServer(options: CacheServerOptions): Promise<RunningCacheServer> {
  const { store, tokens, log } = options;
  /** The upload in progress on each connection, aborted when bytes follow its declared body. */
  const uploads = new WeakMap<Socket, { controller: AbortController; size: number; req: http.IncomingMessage }>();
  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    let bytes = 0;
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log?.(`${req.method} ${req.url} ${res.statusCode} ${bytes} bytes ${ms.toFixed(1)} ms`);
    });
    const answer = (status: number, text: string) => {
      if (req.method === 'PUT' && !req.complete) res.setHeader('Connection', 'close');
      res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) + 1 });
      res.end(`${text}\n`);
      if (req.method === 'PUT') req.resume();
    };
    handle().catch((err: Error) => {
      log?.(`error: ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) answer(500, 'internal error');
      else res.destroy();
    });

    async function handle(): Promise<void> {
      const url = new URL(req.url ?? '/', 'http://cache');
      if (url.pathname === '/health') return answer(req.method === 'GET' ? 200 : 405, req.method === 'GET' ? 'ok' : 'only GET');
      const m = /^\/v1\/cache\/([^/]*)$/.exec(url.pathname);
      if (!m) return answer(404, 'not found: the API is /v1/cache/{hash}');
      if (req.method !== 'GET' && req.method !== 'PUT') {
        res.setHeader('Allow', 'GET, PUT');
        return answer(405, 'only GET and PUT');
      }
      const access = accessOf(tokens, req.headers.authorization);
      if (!access) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        return answer(401, 'a valid bearer token is required: set NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN to a token of the cache server\'s tokens file');
      }
      const hash = m[1];
      if (!HASH_PATTERN.test(hash)) return answer(400, 'the task hash must be 1 to 128 letters or digits');
      if (req.method === 'GET') {
        // A store that cannot be read is a miss, not an error: Nx stops the whole run on an error.
        const entry = await store.open(hash).catch((err: Error) => {
          log?.(`error: reading ${hash}: ${err.message}; answered as not stored`);
          return undefined;
        });
        if (!entry) return answer(404, 'not stored');
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': entry.size });
        bytes = entry.size;
        await pipeline(entry.body, res).catch(() => res.destroy());
        return;
      }
      if (access !== 'write') return answer(403, 'this token may only read');
      const length = req.headers['content-length'];
      if (length === undefined || !/^\d+$/.test(length)) return answer(411, 'Content-Length is required');
      const size = Number(length);
      const upload = { controller: new AbortController(), size, req };
      uploads.set(req.socket, upload);
      res.on('close', () => {
        if (uploads.get(req.socket) === upload) uploads.delete(req.socket);
      });
      try {
        const result = await store.put(hash, size, req, upload.controller.signal);
        if (result === 'exists') return answer(409, 'already stored');
        bytes = size;
        answer(200, 'stored');
      } catch (err) {
        if (!(err instanceof UploadError)) throw err;
        log?.(`refused upload ${hash}: ${err.message}`);
        // the connection holds bytes no request owns: close it after the answer
        if (upload.controller.signal.aborted) res.setHeader('Connection', 'close');
        // a request whose body was read whole is destroyed (autoDestroy); its connection may still answer
        if (!req.socket.destroyed) answer(err.status, err.message);
      }
    }
  });
  // Bytes after a PUT's declared body are not a request: Node's parser fails on them and would
  // answer a bare 400 while the declared prefix is stored as an entry. The upload is aborted
  // instead (400 with the reason, nothing kept); without one, Node's own answer.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const upload = uploads.get(socket);
    // a parse error (llhttp's HPE_ codes) once a PUT's body is whole is in what follows it
    if (upload?.req.complete && err.code?.startsWith('HPE_')) {
      if (!upload.controller.signal.aborted) {
        log?.(`error: bytes after a body of ${upload.size} bytes (${err.code ?? err.message}); upload refused`);
        upload.controller.abort(new UploadError(`body longer than its Content-Length (${upload.size} bytes)`, 400));
      }
      socket.pause();
      return;
    }
    // what Node answers without this listener (lib/_http_server.js, socketOnError)
    const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (socket.writable && (!inFlight || !inFlight.headersSent)) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 413 : 400;
      socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy();
  });
  // Large entries on slow links: a whole request may take an hour, its headers a minute.
  server.requestTimeout = 3_600_000;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
