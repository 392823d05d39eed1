import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { logger, type Tree } from '@nx/devkit';
import { parse as parseYaml } from 'yaml';
import { DebianPackageError, hasSourceIndexes, noDebSrcError, PACKAGE_NAME } from '../../debian/apt';
import { quote } from '../../model/errors';
import { RECIPE_FILE } from '../../model/recipe';
import type { RecipeIndex } from './dependencies';
import { importSourcePackage, type PackageReport, type PreparedImport } from './import';
import { formatReport } from './report';
import type { ImportDebianOptions } from './schema';

/** One package to import: `NAME` or `NAME=VERSION`. */
export interface PackageSpec {
  readonly name: string;
  readonly version?: string;
}

/**
 * The packages named on the command line: the first argument (spaces and commas separate
 * names in it too) and the ones after it.
 * @throws {DebianPackageError} for a name that is not a Debian package name
 */
export function packageSpecs(options: Pick<ImportDebianOptions, 'packages' | '_'>): PackageSpec[] {
  const words = [options.packages, ...(options._ ?? []).map(String)].flatMap((w) => String(w ?? '').split(/[\s,]+/)).filter(Boolean);
  const specs = words.map((w) => {
    const [name, version] = w.split(/=(.*)$/s);
    if (!PACKAGE_NAME.test(name)) throw new DebianPackageError(name, 'not a Debian source package name (lower-case letters, digits, + . -)', 'give it as apt does, e.g. expat or expat=2.5.0-1');
    if (version !== undefined && !/^[A-Za-z0-9.+~:-]+$/.test(version)) throw new DebianPackageError(name, `${quote(version)} is not a Debian version`, 'give NAME=VERSION as apt-cache showsrc NAME lists it');
    return version === undefined ? { name } : { name, version };
  });
  if (!specs.length) throw new Error('import-debian: name at least one Debian source package, e.g. nx g nx-distro:import-debian expat');
  return specs;
}

/**
 * The recipes in the tree: `recipes/<name>/recipe.yaml` and `recipes/<category>/<name>/recipe.yaml`,
 * with the Debian source packages their sources pin (`apt: NAME=VERSION`). A recipe that does
 * not parse still counts by its folder name.
 */
export function recipeIndex(tree: Tree): RecipeIndex {
  const files = new Map<string, string>();
  const byDebianSource = new Map<string, string>();
  const visit = (dir: string, depth: number) => {
    for (const child of tree.children(dir)) {
      const sub = `${dir}/${child}`;
      if (tree.isFile(sub)) continue;
      if (tree.exists(`${sub}/${RECIPE_FILE}`)) {
        files.set(child, `${sub}/${RECIPE_FILE}`);
        try {
          const doc = parseYaml(tree.read(`${sub}/${RECIPE_FILE}`, 'utf8') ?? '') as { sources?: { apt?: unknown }[] };
          for (const s of doc?.sources ?? []) if (typeof s?.apt === 'string') byDebianSource.set(s.apt.split('=')[0], child);
        } catch {
          // a broken recipe is the plugin's to report; it still takes its name
        }
      } else if (depth === 0) visit(sub, 1);
    }
  };
  if (tree.exists('recipes')) visit('recipes', 0);
  return { files, byDebianSource };
}

/**
 * `nx g nx-distro:import-debian NAME[=VERSION] [...]`: writes `recipes/[<category>/]NAME/recipe.yaml`
 * and its `patches/` from Debian source packages, through the build machine's apt, and prints
 * the import report (per package: what was mapped, what was not, warnings). The packages named
 * are imported or the run fails with nothing written; with `--with-dependencies`, their build
 * dependencies that are host-machine libraries without a recipe are imported too, transitively,
 * and one that cannot be imported is reported and skipped.
 * @throws Error (one line per problem: `<package>: <problem>; <fix>`) for an unknown package, no
 *   deb-src entries, a download failure, or a recipe that exists
 */
export default async function importDebianGenerator(tree: Tree, options: ImportDebianOptions): Promise<void> {
  const specs = packageSpecs(options);
  if (!(await hasSourceIndexes())) throw noDebSrcError(specs[0].name);
  const profiles = new Set((options.profiles ?? 'nocheck,nobiarch').split(/[\s,]+/).filter(Boolean));
  const existing = recipeIndex(tree);
  const files = new Map(existing.files);
  const byDebianSource = new Map(existing.byDebianSource);
  const index: RecipeIndex = { files, byDebianSource };
  const scratch = mkdtempSync(path.join(tmpdir(), 'nx-distro-import-'));
  const prepared: PreparedImport[] = [];
  const skipped: string[] = [];
  try {
    const queue: { spec: PackageSpec; wantedBy?: string }[] = specs.map((spec) => ({ spec }));
    const seen = new Set(specs.map((s) => s.name));
    while (queue.length) {
      const { spec, wantedBy } = queue.shift()!;
      logger.info(`import-debian: ${spec.name}${spec.version ? `=${spec.version}` : ''}${wantedBy ? ` (a build dependency of ${wantedBy})` : ''}`);
      let p: PreparedImport;
      try {
        p = await importSourcePackage(spec.name, spec.version, { index: existing, profiles, scratch, ...(options.category ? { category: options.category } : {}) });
      } catch (e) {
        if (wantedBy && e instanceof DebianPackageError) {
          skipped.push(`${e.message} (needed by ${wantedBy}: not imported)`);
          continue;
        }
        throw e;
      }
      prepared.push(p);
      files.set(p.name, `${p.dir}/${RECIPE_FILE}`);
      byDebianSource.set(p.name, p.name);
      if (!options.withDependencies) continue;
      for (const lib of p.missingLibraries(index)) {
        if (seen.has(lib)) continue;
        seen.add(lib);
        queue.push({ spec: { name: lib }, wantedBy: p.name });
      }
    }
    const reports: PackageReport[] = [];
    for (const p of prepared) {
      const { files: out, report } = await p.finish(index);
      for (const [file, text] of out) tree.write(file, text);
      reports.push(report);
    }
    for (const line of formatReport(reports, skipped)) logger.info(line);
    for (const r of reports) for (const w of r.warnings) logger.warn(`warning: ${w}`);
    for (const s of skipped) logger.warn(`warning: ${s}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
