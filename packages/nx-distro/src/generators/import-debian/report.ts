import type { PackageReport } from './import';

/**
 * The import report, one line per fact: per package the recipe written, what each field was
 * taken from, the build dependencies mapped to recipes, those not mapped (with the source
 * package and why), those left out (build profiles, architectures), and the number of
 * warnings (printed after the report, one line each); then the dependencies that could not be
 * imported. Values from Debian's metadata are quoted where they are shown.
 */
export function formatReport(reports: readonly PackageReport[], skipped: readonly string[] = []): string[] {
  const out: string[] = ['', `import-debian report: ${reports.length} recipe${reports.length === 1 ? '' : 's'}`];
  for (const r of reports) {
    out.push('', `${r.source} ${r.debianVersion} -> ${r.recipeFile}`);
    for (const f of r.facts) out.push(`  ${f}`);
    const m = r.mapping;
    const list = (l: 'makedepends' | 'makedepends_build') => m.mapped.filter((d) => d.list === l);
    for (const l of ['makedepends', 'makedepends_build'] as const) {
      const mapped = list(l);
      if (mapped.length) out.push(`  ${l}: ${mapped.map((d) => `${d.recipe} (${d.dependency}${d.source !== d.recipe ? `, source ${d.source}` : ''}${d.arches ? `; Debian: only on ${d.arches.join(' ')}` : ''})`).join(', ')}`);
    }
    if (!m.mapped.length) out.push('  makedepends: none mapped');
    for (const u of m.unmapped) out.push(`  not mapped (${u.list === 'makedepends' ? 'library' : 'build-machine program'}): ${u.dependency}: ${u.reason}`);
    for (const s of m.skipped) out.push(`  left out: ${s.dependency}: ${s.reason}`);
    out.push(`  warnings: ${r.warnings.length}${r.warnings.length ? ' (below)' : ''}`);
  }
  if (skipped.length) {
    out.push('', 'build dependencies not imported:');
    for (const s of skipped) out.push(`  ${s}`);
  }
  out.push('');
  return out;
}
