import { promises as fs } from 'node:fs';
import { escapeControls, InputError, quote, ReportedError } from '../model/errors';
import type { Source } from '../model/recipe.generated';
import { distfileName, sourceUrls } from '../model/distfile';
import { sha256File, type Sha256 } from '../util/hash';
import { aptCandidate, localSourcePath, mirrorCandidates, ProviderError, urlCandidate, type Candidate, type HttpSettings } from './providers';
import type { DistfilesStore } from './store';

/** One distfile to make available: a recipe's `sources[index]` entry, resolved. */
export interface DistfileRequest {
  /** Workspace-relative recipe file, for messages (`recipes/musl/recipe.yaml`). */
  readonly recipeFile: string;
  /** Index in the recipe's `sources` list, for messages. */
  readonly index: number;
  /** Distfile name (see distfileName). */
  readonly filename: string;
  /** Expected sha256, 64 lower-case hex digits. */
  readonly sha256: Sha256;
  /** The recipe's URLs, in order. */
  readonly urls: readonly string[];
  /** Whether they are the recipe's `urls` list (field `urls[j]` in messages) rather than its `url`. */
  readonly urlsList?: boolean;
  /** Debian source package `NAME=VERSION` whose orig tarball is this file, if any. */
  readonly apt?: string;
}

/**
 * The request for a recipe's `sources[index]` entry: its distfile name, sum, URLs and apt package.
 * @param recipeFile workspace-relative recipe file, for messages
 */
export function distfileRequest(recipeFile: string, index: number, source: Source): DistfileRequest {
  return { recipeFile, index, filename: distfileName(source), sha256: source.sha256, urls: sourceUrls(source), urlsList: source.url === undefined, apt: source.apt };
}

/** Where to look besides the store. */
export interface FetchSettings {
  /** Mirrors tried before the recipe's URLs: http(s)/file URLs or absolute folders. */
  readonly mirrors: readonly string[];
  readonly http: HttpSettings;
  /** Try the `apt` provider (default true). */
  readonly apt?: boolean;
  /**
   * Absolute folders a recipe's `file:` URL may point into, symbolic links resolved: the
   * workspace root and the plugin option `localSourceDirs` (sources/settings.ts). Default none:
   * every `file:` URL of a recipe is refused.
   */
  readonly localRoots?: readonly string[];
}

/** How a distfile was obtained. */
export interface FetchOutcome {
  /** Absolute path of the verified file in the store. */
  readonly path: string;
  /** `store` for a store hit, else the label of the candidate that gave the bytes. */
  readonly from: string;
  /** Size in bytes. */
  readonly size: number;
}

/**
 * Why a distfile could not be made available. `message` is one line naming the recipe file, the
 * `sources` entry, the file and, for a checksum mismatch, the expected and (for a download) the
 * actual sum.
 */
export class FetchError extends ReportedError {
  constructor(message: string) {
    super(escapeControls(message));
    this.name = 'FetchError';
  }
}

/**
 * Makes one distfile available in the store, verified. With the sum's lock held: a store hit is
 * re-verified (a corrupt file is removed and fetched again); otherwise the providers are tried in
 * order — mirrors, the recipe's URLs, then Debian's source package — each download going to a
 * temporary file that is renamed into the store only when its sha256 matches. Bytes with the
 * wrong sum are deleted at once and never used. A recipe's `file:` URL must resolve inside
 * `settings.localRoots` ({@link localSourcePath}); that is checked first, store hit or not.
 * @param log receives one line per notable event (store hit, corrupt file, mismatch, download)
 * @throws {FetchError} when no provider yields the right bytes
 * @throws {InputError} `<recipe>: sources[i].url: "file:///etc/shadow" is outside the workspace
 *   and localSourceDirs (...); <fix>` for a `file:` URL that resolves anywhere else
 */
export async function fetchDistfile(
  store: DistfilesStore,
  req: DistfileRequest,
  settings: FetchSettings,
  log: (line: string) => void = () => undefined,
): Promise<FetchOutcome> {
  const where = `${req.recipeFile}: sources[${req.index}]`;
  const localRoots = settings.localRoots ?? [];
  req.urls.forEach((u, j) => {
    if (!u.startsWith('file:') || localSourcePath(u, localRoots)) return;
    throw new InputError(
      req.recipeFile,
      `sources[${req.index}].${(req.urlsList ?? req.urls.length > 1) ? `urls[${j}]` : 'url'}`,
      `${quote(u, 200)} is outside the workspace and the folders of the plugin option localSourceDirs (symbolic links resolved)`,
      'move the file into the workspace, or add its folder to "localSourceDirs" of the nx-distro plugin in nx.json',
    );
  });
  return store.withLock(req.sha256, async () => {
    const hit = await store.lookup(req.sha256, req.filename, (file, actual) =>
      log(`${req.filename}: stored copy ${file} is corrupt (sha256 ${actual}, expected ${req.sha256}); removed, fetching again`),
    );
    if (hit) return { path: hit, from: 'store', size: (await fs.stat(hit)).size };

    const candidates: Candidate[] = [];
    for (const m of settings.mirrors) candidates.push(...mirrorCandidates(m, req.sha256, req.filename, settings.http));
    for (const u of req.urls) candidates.push(urlCandidate(u, settings.http, localRoots));
    if (req.apt && settings.apt !== false) candidates.push(aptCandidate(req.apt));

    const failures: string[] = [];
    const mismatches: string[] = [];
    for (const c of candidates) {
      const temp = await store.tempPath(req.filename);
      try {
        await c.retrieve(temp, req.sha256);
        const actual = await sha256File(temp);
        if (actual !== req.sha256) {
          // The sum of a local file is not shown: it may be any file of the workspace.
          const got = c.local ? 'got a file with another sum (a local file\'s sum is not shown: `sha256sum` it)' : `got ${actual}`;
          const line = `checksum mismatch for ${req.filename} from ${c.label}: expected sha256 ${req.sha256}, ${got}`;
          log(`${line}; the bytes were deleted`);
          mismatches.push(line);
          continue;
        }
        const size = (await fs.stat(temp)).size;
        const stored = await store.commit(temp, req.sha256, req.filename);
        log(`${req.filename}: fetched ${size} bytes from ${c.label}, sha256 verified`);
        return { path: stored, from: c.label, size };
      } catch (e) {
        if (!(e instanceof ProviderError)) throw e;
        if (e.kind === 'error') log(`${req.filename}: ${e.message}`);
        failures.push(e.message);
      } finally {
        await fs.rm(temp, { force: true });
      }
    }
    if (mismatches.length) throw new FetchError(`${where}: ${mismatches.join('; ')}; nothing was stored (fix the recipe's sha256 if upstream re-released the file, after checking why)`);
    const tried = failures.length ? failures.join('; ') : 'no mirror, URL or apt source to try';
    throw new FetchError(`${where}: ${req.filename} (sha256 ${req.sha256}) could not be fetched: ${tried}; add a mirror (NX_DISTRO_MIRRORS), an \`apt\` source package, or put the file in the distfiles store`);
  });
}
