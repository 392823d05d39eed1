/**
 * The test tiers. `npm test` (tools/run-tests.mjs) is the quick tier: unit tests, the
 * integration tests, one system target built end to end (aarch64, the README's default, with its
 * kernel and image booted; issue 19's "one system target built end to end with its image
 * booted"), and every other behaviour on the smallest real recipe that shows it (x86_64 builds
 * among them: the mutation matrix, the fault tests, the sandbox escapes). `npm run test:full`
 * (tools/run-tests.mjs --full) sets `NX_DISTRO_TEST_TIER=full` and adds the rest: all four system
 * targets end to end, the second kernel and image, native builds for every arch, the long fault
 * loop, the Slurm cluster and the greenfield bootstrap. Nothing is left out silently: a case of
 * the full tier shows as skipped in `npm test`, with {@link FULL_ONLY} as its reason.
 */

import { readdirSync } from 'node:fs';
import path from 'node:path';

/** True when the full tier runs (`NX_DISTRO_TEST_TIER=full`, set by `npm run test:full`). */
export const FULL = process.env.NX_DISTRO_TEST_TIER === 'full';

/** The skip reason of a case that only the full tier runs. */
export const FULL_ONLY = 'in the full tier only: npm run test:full (README)';

/**
 * `{ skip }` options for a `describe` or `it` that only the full tier runs: `{ skip: false }` in
 * the full tier, `{ skip: FULL_ONLY }` in the quick one.
 */
export function fullOnly(): { skip: string | false } {
  return { skip: FULL ? false : FULL_ONLY };
}

/**
 * The cases of a table that a tier runs, each with its `skip` option: every case of `quick` in
 * both tiers; the others only in the full tier (skipped, with {@link FULL_ONLY}, in the quick one).
 *
 * @param cases every case, in the order they run.
 * @param quick the names (by `name(case)`) that the quick tier runs too.
 * @throws Error when `quick` names a case that is not in `cases` (a renamed case would otherwise
 *   silently leave the quick tier).
 */
export function tiered<T>(cases: readonly T[], name: (c: T) => string, quick: readonly string[]): { case: T; skip: string | false }[] {
  const names = new Set(cases.map(name));
  for (const q of quick) if (!names.has(q)) throw new Error(`test tier: the quick tier names ${JSON.stringify(q)}, which is not a case (${[...names].join(', ')})`);
  return cases.map((c) => ({ case: c, skip: FULL || quick.includes(name(c)) ? false : FULL_ONLY }));
}

/**
 * The recipes the quick tier builds end to end (test/build.test.ts for aarch64, and the files
 * that share its builds: images, kernel, remote cache): the system the aarch64 image boots, the
 * toolchain recipes an external toolchain stands in for, and the first real recipe of each build
 * style. CI's run of the README's first command builds every recipe for aarch64 anyway, so a
 * recipe outside this list is still built on every CI run; its programs run in its own test
 * (test/base-recipes.test.ts), and the full tier builds and checks every recipe for every target.
 * A distribution of hundreds of recipes cannot build them all twice in the quick tier's budget.
 */
export const QUICK_RECIPES: readonly string[] = [
  'binutils', 'busybox', 'dropbear', 'expat', 'fribidi', 'fuse3', 'gcc', 'json-c', 'linux', 'linux-headers',
  'lua', 'lz4', 'make', 'musl', 'ncurses', 'readline', 'xz', 'zlib', 'zstd',
];

/**
 * The recipe folders (names under `recipes/`) a tier builds end to end: every one in the full
 * tier, {@link QUICK_RECIPES} in the quick one.
 * @param repoRoot the repository's root (absolute)
 * @throws Error when {@link QUICK_RECIPES} names a folder that does not exist (a renamed recipe
 *   would otherwise leave the quick tier silently)
 */
export function tierRecipes(repoRoot: string): string[] {
  const all = readdirSync(path.join(repoRoot, 'recipes')).sort();
  if (FULL) return all;
  const missing = QUICK_RECIPES.filter((r) => !all.includes(r));
  if (missing.length) throw new Error(`test tier: QUICK_RECIPES names ${missing.join(', ')}, not a folder of recipes/ (${all.join(' ')})`);
  return [...QUICK_RECIPES];
}
