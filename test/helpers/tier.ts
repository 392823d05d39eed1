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
