import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPRODUCIBILITY_CHECKS, RESULT_FILE, type ReproducibilityResult } from './compare';

/** One system target's results of one check. */
export interface CheckSummary {
  readonly systemTarget: string;
  readonly check: ReproducibilityResult['check'];
  /** Every result found, sorted by recipe name. */
  readonly results: readonly ReproducibilityResult[];
  /** Recipes whose two packages are byte-identical. */
  readonly reproducible: number;
  /** Recipes compared: `reproducible` plus `differs` (`no-package` and `not-applicable` are left out). */
  readonly compared: number;
}

/**
 * Reads every `result.json` under `<distFolder>/<systemTarget>/reproduce/<recipe>/<check>/`.
 * A result file that is not valid JSON is reported as an error, never skipped.
 * @param distFolder absolute dist folder (the plugin's `distDir`)
 * @param systemTargets names to read; empty: every folder of `distFolder` that has a `reproduce` folder
 * @returns one summary per system target and check that has results, sorted
 * @throws {Error} naming the file when a result cannot be parsed
 */
export function readResults(distFolder: string, systemTargets: readonly string[] = []): CheckSummary[] {
  const names = systemTargets.length ? [...systemTargets] : listDirs(distFolder).filter((n) => listDirs(path.join(distFolder, n)).includes('reproduce'));
  const out: CheckSummary[] = [];
  for (const systemTarget of names.sort()) {
    const base = path.join(distFolder, systemTarget, 'reproduce');
    for (const check of REPRODUCIBILITY_CHECKS) {
      const results: ReproducibilityResult[] = [];
      for (const recipe of listDirs(base).sort()) {
        const file = path.join(base, recipe, check, RESULT_FILE);
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          continue;
        }
        try {
          results.push(JSON.parse(text) as ReproducibilityResult);
        } catch (e) {
          throw new Error(`${file}: not valid JSON (${(e as Error).message}); rerun its check`);
        }
      }
      if (!results.length) continue;
      const reproducible = results.filter((r) => r.status === 'reproducible').length;
      const compared = reproducible + results.filter((r) => r.status === 'differs').length;
      out.push({ systemTarget, check, results, reproducible, compared });
    }
  }
  return out;
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

/**
 * The report `nx-distro reproducibility` prints: per system target and check, one line per recipe
 * (status, package sha256 prefixes, diffoscope report) and the share reproducible.
 */
export function formatReport(summaries: readonly CheckSummary[]): string[] {
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push(`${s.systemTarget}, ${s.check === 'rebuild' ? 'built twice (reproduce)' : 'cross vs native (reproduce-native)'}:`);
    const width = Math.max(...s.results.map((r) => r.recipe.length));
    for (const r of s.results) {
      const detail = r.status === 'reproducible'
        ? r.first!.sha256.slice(0, 16)
        : r.status === 'differs'
          ? `${r.first?.sha256.slice(0, 16) ?? 'no package'} vs ${r.second?.sha256.slice(0, 16) ?? 'no package'}${r.diffoscope ? `  ${r.diffoscope}` : ''}`
          : '';
      lines.push(`  ${r.recipe.padEnd(width)}  ${r.status.padEnd(14)}  ${detail}`.trimEnd());
    }
    const pct = s.compared ? ((100 * s.reproducible) / s.compared).toFixed(0) : '-';
    lines.push(`  ${s.reproducible} of ${s.compared} compared recipes reproducible (${pct}%)${s.results.length > s.compared ? `; ${s.results.length - s.compared} without a package to compare` : ''}`);
  }
  return lines;
}
