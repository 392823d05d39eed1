import { constants, createReadStream, createWriteStream, promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { sha256File, type Sha256 } from '../util/hash';

/**
 * One place a distfile may come from. `retrieve` writes the candidate bytes to `tempFile`; the
 * caller checks their sum and never uses them unless it matches.
 */
export interface Candidate {
  /** Where the bytes come from, for logs and errors: a URL, a mirror path, `apt musl=1.2.3-1`. */
  readonly label: string;
  /**
   * The bytes are a local file a recipe names (a `file:` URL), not a download: a checksum
   * mismatch does not show their sum (it could be the sum of a secret of the workspace).
   */
  readonly local?: boolean;
  /**
   * Writes the bytes to `tempFile` (absolute, in the store's tmp folder).
   * @throws {ProviderError} when this candidate cannot provide the file
   */
  retrieve(tempFile: string, expected: Sha256): Promise<void>;
}

/** Why one candidate gave nothing: `missing` (404, no such file), or an `error` after retries. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly kind: 'missing' | 'error',
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** Network settings for http(s) downloads. */
export interface HttpSettings {
  /** Seconds without receiving a byte (connecting included) before an attempt is aborted. Default 30. */
  readonly idleTimeoutSeconds: number;
  /** Further attempts after a transient failure (timeout, reset, 5xx, 429, 408). Default 2. */
  readonly retries: number;
  /** Milliseconds before the first retry, doubled for each next one. Default 1000. */
  readonly retryDelayMs: number;
}

/** {@link HttpSettings} defaults: 30 s idle timeout, 2 retries, 1 s first back-off (wget-like). */
export const DEFAULT_HTTP: HttpSettings = { idleTimeoutSeconds: 30, retries: 2, retryDelayMs: 1000 };

/**
 * The real path (every symbolic link resolved) of `file`, or of its deepest existing folder
 * with the rest appended when it does not exist (so a missing file behind a linked folder is
 * judged by where the folder points).
 * @param file absolute path
 */
export function resolvedPath(file: string): string {
  const rest: string[] = [];
  let cur = path.resolve(file);
  for (;;) {
    try {
      return path.join(realpathSync(cur), ...rest);
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return path.join(cur, ...rest);
      rest.unshift(path.basename(cur));
      cur = up;
    }
  }
}

/**
 * Whether a recipe's `file:` URL may be read: its path, symbolic links resolved, lies inside one
 * of `roots` (also resolved): the workspace and the plugin option `localSourceDirs`. Anything
 * else (`file:///etc/shadow`, a link in the workspace to a host file) would copy a host file into
 * the distfiles store, the fetch output and so the remote cache.
 * @param url the recipe's `file:` URL
 * @param roots absolute folders
 * @returns the resolved path to read, or `undefined` when it is outside every root
 */
export function localSourcePath(url: string, roots: readonly string[]): string | undefined {
  const real = resolvedPath(fileURLToPath(url));
  const inside = (root: string) => {
    const rel = path.relative(resolvedPath(root), real);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  return roots.some(inside) ? real : undefined;
}

/**
 * A candidate for one URL: `http:`/`https:` (Node's fetch, following redirects) or `file:`.
 * Like wget, a host that does not resolve, a refused connection or a 4xx answer is not retried;
 * timeouts, resets and 5xx/408/429 answers are, with exponential back-off.
 * @param localRoots for a recipe's URL: the folders a `file:` URL must resolve into
 *   ({@link localSourcePath}); the candidate is then {@link Candidate.local}. Undefined for a
 *   mirror's URL (the user's own configuration: read as it is).
 */
export function urlCandidate(url: string, http: HttpSettings = DEFAULT_HTTP, localRoots?: readonly string[]): Candidate {
  const parsed = new URL(url);
  if (parsed.protocol === 'file:') return localRoots ? recipeFileCandidate(url, localRoots) : fileCandidate(fileURLToPath(parsed), url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ProviderError(`${url}: unsupported URL scheme ${parsed.protocol} (use http, https or file)`, 'error');
  }
  return {
    label: url,
    async retrieve(tempFile) {
      for (let attempt = 0; ; attempt++) {
        try {
          await httpDownload(url, tempFile, http.idleTimeoutSeconds * 1000);
          return;
        } catch (e) {
          const err = e instanceof HttpFailure ? e : classifyNetworkError(e);
          if (!err.transient || attempt >= http.retries) {
            throw new ProviderError(`${url}: ${err.message}${attempt ? ` (after ${attempt + 1} attempts)` : ''}`, err.missing ? 'missing' : 'error');
          }
          await new Promise((r) => setTimeout(r, http.retryDelayMs * 2 ** attempt));
        }
      }
    },
  };
}

/**
 * Pipes `streams` (sources and transforms, in order) into `tempFile`, created exclusively (`wx`),
 * like `stream.pipeline`; on a failure it rejects only once the file stream has closed. Node's
 * pipeline settles as soon as one stream fails, possibly before the file stream has opened (so
 * created) its file: that file would then appear after the caller removed it, and stay in the
 * store's tmp folder (a CI run under load left one after a download whose connection closed
 * halfway, test/faults.test.ts; a mirror without the file fails the same way, `ENOENT`).
 * @param streams the source first, then any transforms
 * @param tempFile absolute path of the file to create (in the store's tmp folder)
 * @param signal aborts the copy (as pipeline's `signal`)
 * @throws the first error of any stream, as pipeline
 */
export async function pipeToNewFile(streams: ReadonlyArray<NodeJS.ReadableStream | NodeJS.ReadWriteStream>, tempFile: string, signal?: AbortSignal): Promise<void> {
  const out = createWriteStream(tempFile, { flags: 'wx' });
  const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
  try {
    await pipeline([...streams, out], signal ? { signal } : {});
  } catch (e) {
    if (!out.closed) {
      out.destroy();
      await closed;
    }
    throw e;
  }
}

/** A candidate that copies a local file (a `file:` URL or a mirror folder). */
export function fileCandidate(file: string, label = file): Candidate {
  return {
    label,
    async retrieve(tempFile) {
      try {
        await pipeToNewFile([createReadStream(file)], tempFile);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ProviderError(`${label}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, code === 'ENOENT' ? 'missing' : 'error');
      }
    },
  };
}

/**
 * A candidate for a recipe's `file:` URL: checked again when it is read ({@link localSourcePath},
 * the path resolved), then opened with `O_NOFOLLOW | O_NONBLOCK` and checked with fstat to be a
 * regular file (a FIFO would hang the fetch, a device never end).
 */
function recipeFileCandidate(url: string, roots: readonly string[]): Candidate {
  return {
    label: url,
    local: true,
    async retrieve(tempFile) {
      const real = localSourcePath(url, roots);
      if (!real) throw new ProviderError(`${url}: outside the workspace and localSourceDirs`, 'error');
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ProviderError(`${url}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, code === 'ENOENT' ? 'missing' : 'error');
      }
      try {
        if (!(await handle.stat()).isFile()) throw new ProviderError(`${url}: not a regular file`, 'error');
        await pipeToNewFile([handle.createReadStream({ autoClose: false })], tempFile);
      } finally {
        await handle.close();
      }
    },
  };
}

/**
 * The candidates of one mirror, in order: the content-addressed path
 * `<mirror>/by-sha256/<sha256>/<filename>` (the distfiles store's own layout, so a store can be
 * served as a mirror) and the flat `<mirror>/<filename>` (a plain folder of tarballs).
 * @param mirror an http(s) or file URL, or an absolute folder path
 */
export function mirrorCandidates(mirror: string, sha256: Sha256, filename: string, http: HttpSettings = DEFAULT_HTTP): Candidate[] {
  const name = encodeURIComponent(filename);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(mirror)) {
    const base = mirror.endsWith('/') ? mirror : `${mirror}/`;
    return [urlCandidate(new URL(`by-sha256/${sha256}/${name}`, base).href, http), urlCandidate(new URL(name, base).href, http)];
  }
  return [fileCandidate(path.join(mirror, 'by-sha256', sha256, filename)), fileCandidate(path.join(mirror, filename))];
}

/**
 * A candidate taking the orig tarball of a Debian source package, the re-bootstrap way:
 * `apt-get source --download-only NAME=VERSION` in a scratch folder, with whatever archive apt
 * is configured with (`deb-src` entries; `tools/setup-host` adds them). Of the downloaded files
 * (`.dsc`, orig tarball(s), Debian tarball), the one whose sha256 is the expected one is kept;
 * apt itself checks every file against the signed Sources index.
 * @param spec `NAME=VERSION`, as in the recipe's `apt` field
 */
export function aptCandidate(spec: string): Candidate {
  return {
    label: `apt ${spec}`,
    async retrieve(tempFile, expected) {
      const scratch = `${tempFile}.apt`;
      await fs.mkdir(scratch, { recursive: true });
      // apt downloads as the unprivileged _apt user when run as root: let it write here.
      await fs.chmod(scratch, 0o777);
      try {
        const r = await execa('apt-get', ['source', '--download-only', '-q', spec], { cwd: scratch, reject: false, all: true, env: { LC_ALL: 'C' } });
        if (r.exitCode !== 0) {
          const lines = (r.all ?? '').split('\n').filter((l) => /^(E|W):/.test(l));
          const hint = lines.some((l) => /deb-src/.test(l)) ? '; run tools/setup-host to add deb-src entries' : '';
          const missing = lines.some((l) => /Unable to find a source package|Can not find version/.test(l));
          throw new ProviderError(`apt ${spec}: ${lines[0] ?? `apt-get source failed (exit ${r.exitCode})`}${hint}`, missing ? 'missing' : 'error');
        }
        const files = (await fs.readdir(scratch)).filter((n) => !n.endsWith('.dsc')).sort();
        let fallback: string | undefined;
        for (const name of files) {
          const file = path.join(scratch, name);
          if (!(await fs.stat(file)).isFile()) continue;
          if ((await sha256File(file)) === expected) return void (await fs.rename(file, tempFile));
          if (/\.orig\.tar\./.test(name) && !name.endsWith('.asc')) fallback ??= file;
        }
        // No file matches: hand over the orig tarball so the caller reports its actual sum.
        if (fallback) return void (await fs.rename(fallback, tempFile));
        throw new ProviderError(`apt ${spec}: no orig tarball among ${files.join(', ')}`, 'missing');
      } finally {
        await fs.rm(scratch, { recursive: true, force: true });
      }
    },
  };
}

class HttpFailure extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly missing = false,
  ) {
    super(message);
  }
}

async function httpDownload(url: string, tempFile: string, idleMs: number): Promise<void> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new HttpFailure(`no data for ${idleMs / 1000} s`, true)), idleMs);
  };
  arm();
  try {
    const res = await fetch(url, { signal: abort.signal, redirect: 'follow', headers: { 'user-agent': 'nx-distro-fetch' } });
    if (!res.ok || !res.body) {
      const transient = res.status >= 500 || res.status === 408 || res.status === 429;
      await res.body?.cancel().catch(() => undefined);
      throw new HttpFailure(`HTTP ${res.status} ${res.statusText}`.trim(), transient, res.status === 404 || res.status === 410);
    }
    const idle = new Transform({
      transform(chunk, _enc, done) {
        arm();
        done(null, chunk);
      },
    });
    await fs.rm(tempFile, { force: true });
    await pipeToNewFile([Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), idle], tempFile, abort.signal);
  } catch (e) {
    if (abort.signal.aborted && abort.signal.reason instanceof HttpFailure) throw abort.signal.reason;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function classifyNetworkError(e: unknown): HttpFailure {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOTFOUND':
      return new HttpFailure('host not found (ENOTFOUND)', false);
    case 'ECONNREFUSED':
      return new HttpFailure('connection refused (ECONNREFUSED)', false);
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return new HttpFailure(`network unreachable (${code})`, false);
    default:
      return new HttpFailure(`${cause?.message ?? (e as Error).message}${code ? ` (${code})` : ''}`, true);
  }
}
