import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';

/**
 * A task hash as Nx sends it in `/v1/cache/{hash}`: letters and digits only (Nx 24 sends decimal
 * digits), 1 to 128 of them. Anything else is refused before it can name a file.
 */
export const HASH_PATTERN = /^[A-Za-z0-9]{1,128}$/;

/** What the store keeps about one entry (also its `<hash>.json` sidecar on disk). */
export interface EntryMeta {
  /** Bytes of the entry's body (the tar archive Nx uploaded). */
  readonly size: number;
  /** Lowercase hex sha256 of the body, computed while it was received. */
  readonly sha256: string;
  /** When it was stored, milliseconds since the epoch. */
  readonly storedAt: number;
}

/** An entry opened for reading, its body checked against its sha256 first. */
export interface OpenEntry {
  readonly size: number;
  /** The body; the caller must consume or destroy it. */
  readonly body: Readable;
}

/** Why a {@link FileStore.put} did not store anything. */
export class UploadError extends Error {
  /**
   * @param status the HTTP status the server answers with: 400 for a body shorter or longer
   *   than its Content-Length (the client's fault), 403 for the server's own refusals (over the
   *   entry size limit, disk full): Nx 24 goes on without storing after a 403, as after a 409,
   *   and fails the task on any other status (measured), and a cache that cannot store must
   *   not fail a build (sccache's and Bazel's remote caches warn, too)
   */
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** How a {@link FileStore} is limited. */
export interface StoreLimits {
  /** Largest body accepted, bytes. */
  readonly maxEntryBytes: number;
  /** Total bytes of bodies kept; least recently used entries are evicted beyond it. */
  readonly maxStoreBytes: number;
}

interface IndexEntry extends EntryMeta {
  /** Last store or successful read, milliseconds since the epoch (the sidecar's mtime on disk). */
  lastUsed: number;
}

/** Counts and hashes the bytes passing through, failing once more than `limit` went by. */
class Measure extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(new UploadError(`body longer than its Content-Length (${this.limit} bytes)`, 400));
    this.hash.update(chunk);
    done(null, chunk);
  }
}

/**
 * The cache's entries on a local filesystem, content checked and written atomically.
 *
 * Layout under `root` (absolute): `entries/<first two chars>/<hash>` holds a body and
 * `entries/<..>/<hash>.json` its {@link EntryMeta}; an entry exists once its sidecar is in place.
 * A body is received into `tmp/`, fsynced, renamed into place, then the sidecar is written the
 * same way, so a crash or a broken upload never leaves a half entry that could be served
 * ({@link open} also checks size and sha256 before serving). Entries are immutable: a second upload
 * of a stored hash is received and dropped (Nx's task hash names the same task result).
 * Least recently used entries are evicted once the bodies pass {@link StoreLimits.maxStoreBytes}.
 * One process owns a store folder.
 */
export class FileStore {
  private readonly index = new Map<string, IndexEntry>();
  private readonly committing = new Set<string>();
  private total = 0;

  private constructor(
    readonly root: string,
    readonly limits: StoreLimits,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Opens (creating) the store at `root`: removes leftovers of interrupted uploads, and every
   * body without a valid sidecar or whose size differs from it, then indexes the rest.
   * @param root absolute folder
   * @param log receives one line per repaired or evicted entry
   */
  static async open(root: string, limits: StoreLimits, log: (line: string) => void = () => {}): Promise<FileStore> {
    const store = new FileStore(root, limits, log);
    await fsp.rm(path.join(root, 'tmp'), { recursive: true, force: true });
    await fsp.mkdir(path.join(root, 'tmp'), { recursive: true });
    await fsp.mkdir(path.join(root, 'entries'), { recursive: true });
    for (const shard of await fsp.readdir(path.join(root, 'entries'))) {
      const dir = path.join(root, 'entries', shard);
      const names = new Set(await fsp.readdir(dir));
      for (const name of names) {
        if (name.endsWith('.json')) {
          if (!names.has(name.slice(0, -5))) await fsp.rm(path.join(dir, name), { force: true });
          continue;
        }
        const meta = await readMeta(path.join(dir, `${name}.json`));
        const stat = await fsp.stat(path.join(dir, name)).catch(() => undefined);
        if (!HASH_PATTERN.test(name) || !meta || !stat || stat.size !== meta.size) {
          log(`store: removed incomplete entry ${name}`);
          await store.removeFiles(name);
          continue;
        }
        const sidecar = await fsp.stat(path.join(dir, `${name}.json`));
        store.index.set(name, { ...meta, lastUsed: sidecar.mtimeMs });
        store.total += meta.size;
      }
    }
    await store.evict();
    return store;
  }

  /** Entries held. */
  get count(): number {
    return this.index.size;
  }

  /** Bytes of the bodies held. */
  get bytes(): number {
    return this.total;
  }

  /** Whether `hash` is stored. */
  has(hash: string): boolean {
    return this.index.has(hash);
  }

  /**
   * Opens an entry for reading after checking its body's size and sha256 against the sidecar.
   * A body that fails the check is removed (logged) and reported as missing: a corrupt entry is
   * never served, the client rebuilds instead.
   * @returns undefined when `hash` is not stored (or was corrupt)
   */
  async open(hash: string): Promise<OpenEntry | undefined> {
    const entry = this.index.get(hash);
    if (!entry) return undefined;
    const file = this.bodyPath(hash);
    const handle = await fsp.open(file, 'r').catch(() => undefined);
    if (!handle) {
      this.forget(hash);
      return undefined;
    }
    try {
      const hasher = createHash('sha256');
      let size = 0;
      for await (const chunk of handle.createReadStream({ start: 0, autoClose: false }) as AsyncIterable<Buffer>) {
        size += chunk.length;
        hasher.update(chunk);
      }
      if (size !== entry.size || hasher.digest('hex') !== entry.sha256) {
        await handle.close();
        this.log(`store: removed corrupt entry ${hash} (its body no longer matches its sha256)`);
        await this.remove(hash);
        return undefined;
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
    entry.lastUsed = Date.now();
    const now = new Date(entry.lastUsed);
    await fsp.utimes(this.metaPath(hash), now, now).catch(() => {});
    // The same descriptor is read again: an eviction meanwhile unlinks the name, not the data.
    return { size: entry.size, body: handle.createReadStream({ start: 0, autoClose: true }) };
  }

  /**
   * Receives a body of `size` bytes and stores it under `hash`, or drops it when `hash` is
   * already stored (also when a concurrent upload of the same hash finished first).
   * @param size the request's Content-Length, bytes
   * @param signal aborted when the upload must not be kept after all (e.g. the HTTP server saw
   *   more bytes after the declared body); checked once the body is received, before it is
   *   stored, and its reason (an {@link UploadError}) is thrown
   * @returns `stored` or `exists`
   * @throws UploadError for a body over the entry limit or a full disk (403), or a body shorter
   *   or longer than `size` (400, e.g. the client disconnected); nothing is kept then
   */
  async put(hash: string, size: number, body: Readable, signal?: AbortSignal): Promise<'stored' | 'exists'> {
    if (size > this.limits.maxEntryBytes) {
      body.resume();
      throw new UploadError(`entry of ${size} bytes is over the server's limit of ${this.limits.maxEntryBytes} bytes (--max-entry-size)`, 403);
    }
    if (this.index.has(hash)) {
      await drain(body);
      return 'exists';
    }
    const tmp = path.join(this.root, 'tmp', `${hash}.${randomBytes(6).toString('hex')}`);
    const measure = new Measure(size);
    try {
      const out = createWriteStream(tmp, { flags: 'wx' });
      await pipeline(body, measure, out);
      if (measure.bytes !== size) throw new UploadError(`body of ${measure.bytes} bytes, its Content-Length says ${size}`, 400);
      const handle = await fsp.open(tmp, 'r');
      await handle.sync().finally(() => handle.close());
      if (signal?.aborted) throw signal.reason instanceof UploadError ? signal.reason : new UploadError('upload aborted', 400);
      // Checked and claimed without an await between: one concurrent upload of a hash commits.
      if (this.index.has(hash) || this.committing.has(hash)) {
        await fsp.rm(tmp, { force: true });
        return 'exists';
      }
      this.committing.add(hash);
      try {
        const meta: EntryMeta = { size, sha256: measure.hash.digest('hex'), storedAt: Date.now() };
        await fsp.mkdir(path.dirname(this.bodyPath(hash)), { recursive: true });
        await fsp.rename(tmp, this.bodyPath(hash));
        const tmpMeta = `${tmp}.json`;
        await fsp.writeFile(tmpMeta, JSON.stringify(meta) + '\n', { flag: 'wx' });
        await fsp.rename(tmpMeta, this.metaPath(hash));
        this.index.set(hash, { ...meta, lastUsed: meta.storedAt });
        this.total += size;
      } finally {
        this.committing.delete(hash);
      }
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      await fsp.rm(`${tmp}.json`, { force: true });
      if (err instanceof UploadError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new UploadError(`the cache server's disk is full (${this.root})`, 403);
      if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'ECONNABORTED') {
        throw new UploadError(`upload broken off after ${measure.bytes} of ${size} bytes`, 400);
      }
      throw err;
    }
    await this.evict(hash);
    return 'stored';
  }

  /** Removes an entry (no error when it is missing). */
  async remove(hash: string): Promise<void> {
    this.forget(hash);
    await this.removeFiles(hash);
  }

  /** Evicts least recently used entries, never `keep`, until the bodies fit the store limit. */
  private async evict(keep?: string): Promise<void> {
    if (this.total <= this.limits.maxStoreBytes) return;
    const byAge = [...this.index.entries()].filter(([h]) => h !== keep).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [hash, entry] of byAge) {
      if (this.total <= this.limits.maxStoreBytes) break;
      this.log(`store: evicted ${hash} (${entry.size} bytes, least recently used)`);
      await this.remove(hash);
    }
  }

  private forget(hash: string): void {
    const entry = this.index.get(hash);
    if (!entry) return;
    this.index.delete(hash);
    this.total -= entry.size;
  }

  private async removeFiles(hash: string): Promise<void> {
    // The sidecar first: without it the entry no longer exists, even if removing the body fails.
    await fsp.rm(this.metaPath(hash), { force: true });
    await fsp.rm(this.bodyPath(hash), { force: true });
  }

  private bodyPath(hash: string): string {
    return path.join(this.root, 'entries', hash.slice(0, 2), hash);
  }

  private metaPath(hash: string): string {
    return `${this.bodyPath(hash)}.json`;
  }
}

async function readMeta(file: string): Promise<EntryMeta | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(file, 'utf8'));
    if (Number.isSafeInteger(m.size) && m.size >= 0 && /^[0-9a-f]{64}$/.test(m.sha256) && typeof m.storedAt === 'number') return m;
  } catch {}
  return undefined;
}

function drain(body: Readable): Promise<void> {
  return new Promise((resolve) => {
    body.on('end', resolve).on('close', resolve).on('error', resolve);
    body.resume();
  });
}
