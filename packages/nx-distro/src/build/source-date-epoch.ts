import { execFileSync } from 'node:child_process';

/** Used when the recipe is not in a git repository: 1980-01-01T00:00:00Z, the zip epoch. */
export const FALLBACK_SOURCE_DATE_EPOCH = 315532800;

/**
 * SOURCE_DATE_EPOCH of a build (reproducible-builds.org's specification): an explicit
 * `SOURCE_DATE_EPOCH` in the environment wins; otherwise the commit time of the last commit that
 * touched the recipe folder (`git log -1 --format=%ct -- <folder>`, Arch's reproducible-builds
 * practice); outside git, {@link FALLBACK_SOURCE_DATE_EPOCH}.
 * @param workspaceRoot absolute workspace root
 * @param recipeRoot workspace-relative recipe folder
 * @returns seconds since the epoch
 */
export function sourceDateEpoch(workspaceRoot: string, recipeRoot: string, env: NodeJS.ProcessEnv = process.env): number {
  const explicit = env.SOURCE_DATE_EPOCH;
  if (explicit && /^\d+$/.test(explicit)) return Number(explicit);
  try {
    const out = execFileSync('git', ['log', '-1', '--format=%ct', '--', recipeRoot], { cwd: workspaceRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (/^\d+$/.test(out)) return Number(out);
  } catch {
    // not a git repository, or git missing
  }
  return FALLBACK_SOURCE_DATE_EPOCH;
}
