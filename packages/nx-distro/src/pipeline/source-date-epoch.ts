import { readdirSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { execaSync } from 'execa';

/** Used when the recipe is not in a git repository: 1980-01-01T00:00:00Z, the zip epoch. */
export const FALLBACK_SOURCE_DATE_EPOCH = 315532800;

/** Runs git in the workspace; undefined when it fails (no repository, no git). */
function git(workspaceRoot: string, args: readonly string[]): string | undefined {
  try {
    return execaSync('git', args, { cwd: workspaceRoot, stdin: 'ignore', stderr: 'ignore', stripFinalNewline: false }).stdout;
  } catch {
    return undefined;
  }
}

/** The newest modification time (whole seconds) of the regular files under `dir`, links not followed. */
function newestMtime(dir: string): number | undefined {
  let newest: number | undefined;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) newest = Math.max(newest ?? 0, Math.floor(lstatSync(p).mtimeMs / 1000));
    }
  };
  try {
    walk(dir);
  } catch {
    return newest;
  }
  return newest;
}

/**
 * SOURCE_DATE_EPOCH of a build (reproducible-builds.org's specification): an explicit
 * `SOURCE_DATE_EPOCH` in the environment wins; otherwise, in a git repository, the commit time of
 * the last commit that touched the recipe folder (`git log -1 --format=%ct -- <folder>`, Arch's
 * reproducible-builds practice), unless the folder has changes git has not committed (an
 * untracked new recipe, an edited one): then the newest modification time of its files, so a
 * recipe being written gets today's date rather than 1980's or its last commit's (the same
 * content is the same cache key, so a rebuild of unchanged work keeps its first date).
 * Outside git, or when that fails, {@link FALLBACK_SOURCE_DATE_EPOCH}.
 * Nothing here depends on the checkout's path: every clone of a commit gets the same epoch. A copy
 * of uncommitted work made without keeping modification times (`cp -r`) gets another one; the
 * epoch is not in the cache key (only an explicit `SOURCE_DATE_EPOCH` is), so such a copy still
 * shares the first checkout's cache entries, and only its own rebuild has other dates (issue 20,
 * docs/cache-keys.md).
 * @param workspaceRoot absolute workspace root
 * @param recipeRoot workspace-relative recipe folder (or a target file)
 * @returns seconds since the epoch
 */
export function sourceDateEpoch(workspaceRoot: string, recipeRoot: string, env: NodeJS.ProcessEnv = process.env): number {
  const explicit = env.SOURCE_DATE_EPOCH;
  if (explicit && /^\d+$/.test(explicit)) return Number(explicit);
  const status = git(workspaceRoot, ['status', '--porcelain', '--untracked-files=all', '--', recipeRoot]);
  if (status === undefined) return FALLBACK_SOURCE_DATE_EPOCH;
  if (status.trim()) {
    const mtime = newestMtime(path.join(workspaceRoot, recipeRoot)) ?? (() => {
      try {
        return Math.floor(lstatSync(path.join(workspaceRoot, recipeRoot)).mtimeMs / 1000);
      } catch {
        return undefined;
      }
    })();
    if (mtime !== undefined && mtime > FALLBACK_SOURCE_DATE_EPOCH) return mtime;
  }
  const out = git(workspaceRoot, ['log', '-1', '--format=%ct', '--', recipeRoot])?.trim();
  if (out && /^\d+$/.test(out)) return Number(out);
  return FALLBACK_SOURCE_DATE_EPOCH;
}
