import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Entries in Nx's local cache folder that Nx did not serve (issue 20).
 *
 * Nx 24 serves a local cache entry only when its index lists it: a database in the workspace
 * data folder (`nx/src/utils/db-connection.js`, `getDbConnection`), not the cache folder itself.
 * When `NX_CACHE_DIRECTORY` (or nx.json's `cacheDirectory`) is set, that database is each
 * checkout's own, `<root>/.nx/workspace-data` unless `NX_WORKSPACE_DATA_DIRECTORY` names another
 * folder (`nx/src/utils/cache-directory.js`, `computeSharedDataLocation`). Two checkouts pointed at
 * one cache folder therefore never take each other's entries, whatever their keys: the copy of
 * issue 20 got 0 of 17 hits with every hash equal to the first checkout's. The plugin cannot
 * change that; it can see it: a task that ran although the cache folder held an entry named by its
 * hash before the run (`<cache folder>/<hash>/`, Nx's layout) was written by a checkout whose index
 * this one does not read, and the run ends with one line saying so and how to share
 * (docs/remote-cache.md).
 */

/** The file, in the plugin's signatures folder, holding the entry names seen before a run. */
export const CACHE_ENTRIES_FILE = 'cache-entries-before.json';

/**
 * The names of the task entries in Nx's cache folder: Nx names each `<cache folder>/<hash>/` by the
 * task's hash, a decimal number (its `terminalOutputs/`, `run.json` and the like are left out).
 * @param cacheDir absolute cache folder
 * @returns the hashes, unsorted; empty when the folder does not exist
 */
export function cacheEntryNames(cacheDir: string): string[] {
  try {
    return readdirSync(cacheDir).filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
}

/**
 * Before a run: writes the cache folder's entry names to `<signatures dir>/cache-entries-before.json`
 * (`{ "cacheDir": <absolute>, "hashes": [...] }`, through a temporary name and a rename), for
 * {@link unservedEntries} after the run. Nx's hooks may run in a plugin worker of their own, so the
 * names pass through a file, not the module's memory.
 * @param signatures absolute `<workspace data>/nx-distro-signatures`
 * @param cacheDir absolute cache folder
 */
export function recordCacheEntries(signatures: string, cacheDir: string): void {
  mkdirSync(signatures, { recursive: true });
  const file = path.join(signatures, CACHE_ENTRIES_FILE);
  writeFileSync(`${file}.tmp-${process.pid}`, JSON.stringify({ cacheDir, hashes: cacheEntryNames(cacheDir) }));
  renameSync(`${file}.tmp-${process.pid}`, file);
}

/** What {@link unservedEntries} needs of one of Nx's task results (`context.taskResults`). */
export interface RanTaskLike {
  readonly task: { readonly id: string; readonly hash?: string };
  /** Nx's status: `success` and `failure` ran; `local-cache`, `remote-cache`, ... did not. */
  readonly status: string;
}

/**
 * After a run: the ids of the tasks that ran although the cache folder held an entry with their
 * hash before the run ({@link recordCacheEntries}), sorted. Empty when no names were recorded for
 * this cache folder, or when the run skipped the cache (`--skip-nx-cache`, `NX_SKIP_NX_CACHE`):
 * then running is what was asked.
 * @param signatures absolute `<workspace data>/nx-distro-signatures`
 * @param cacheDir absolute cache folder of this run
 * @param argv the run's argv, as Nx gives it to the hooks
 */
export function unservedEntries(signatures: string, cacheDir: string, results: readonly RanTaskLike[], argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): string[] {
  if (argv.some((a) => /^--(skip-nx-cache|skipNxCache)(=true)?$/.test(a)) || env.NX_SKIP_NX_CACHE === 'true') return [];
  let before: { cacheDir?: string; hashes?: string[] };
  try {
    before = JSON.parse(readFileSync(path.join(signatures, CACHE_ENTRIES_FILE), 'utf8'));
  } catch {
    return [];
  }
  if (before.cacheDir !== cacheDir || !Array.isArray(before.hashes)) return [];
  const known = new Set(before.hashes);
  return results
    .filter((r) => (r.status === 'success' || r.status === 'failure') && r.task.hash !== undefined && known.has(r.task.hash))
    .map((r) => r.task.id)
    .sort();
}

/**
 * The line printed after a run with {@link unservedEntries}: how many tasks, the first few ids,
 * the two folders and the two ways to share.
 * @param ids task ids, sorted
 * @param cacheDir absolute cache folder
 * @param dataDir absolute workspace data folder of this checkout
 */
export function unservedHint(ids: readonly string[], cacheDir: string, dataDir: string): string {
  const shown = ids.slice(0, 3).join(', ') + (ids.length > 3 ? `, and ${ids.length - 3} more` : '');
  return (
    `nx-distro: ${ids.length} task${ids.length === 1 ? '' : 's'} ran although the cache folder ${cacheDir} held ${ids.length === 1 ? 'an entry' : 'entries'} with the same hash (${shown}): ` +
    `another checkout wrote them, and Nx 24 serves a local entry only when this checkout's index lists it, which is kept in the workspace data folder (${dataDir}), not in the cache folder; ` +
    'share them through a remote cache (docs/remote-cache.md), or give every checkout the same absolute NX_WORKSPACE_DATA_DIRECTORY as well as the same NX_CACHE_DIRECTORY'
  );
}
