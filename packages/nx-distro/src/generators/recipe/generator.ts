import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { logger, type Tree } from '@nx/devkit';
import { stringify } from 'yaml';
import { DebianPackageError, PACKAGE_NAME, downloadSource, hasSourceIndexes, noDebSrcError, poolUrl, sourceOfBinaryName, sourceRecords } from '../../debian/apt';
import { quote } from '../../model/errors';
import { hasRepackSuffix, parseDebianVersion, upstreamRelease } from '../../debian/version';
import { InputErrors } from '../../model/errors';
import { RECIPE_FILE, loadRecipe, type Recipe } from '../../model/recipe';
import recipeSchema from '../../model/recipe.schema.json';
import { extractArchive } from '../../sources/extract';
import { sha256File } from '../../util/hash';
import { ProviderError, urlCandidate } from '../../sources/providers';
import { guessStyle } from '../import-debian/style';
import type { RecipeGeneratorOptions } from './schema';
import { guessVersion } from './version-guess';

export { guessVersion } from './version-guess';

/** What the generator found out about the upstream file when the options did not say. */
export interface ResolvedSource {
  readonly version: string;
  readonly sha256: string;
  /** `NAME=VERSION` of the Debian source package whose orig tarball is the file, if taken from apt. */
  readonly apt?: string;
  /** The style guessed from the file's tree, when it was unpacked. */
  readonly style?: string;
  /** How the sum was obtained, for the log. */
  readonly how: string;
}

/** The recipe document the generator writes (without defaults that equal the schema's). */
export function scaffoldRecipe(o: RecipeGeneratorOptions, resolved?: Partial<ResolvedSource>): Recipe {
  const version = o.upstreamVersion ?? resolved?.version ?? guessVersion(o.name, o.url);
  if (!version) throw new Error(`${o.name}: cannot guess the version from ${o.url}; pass --upstream-version`);
  const sha256 = o.sha256 ?? resolved?.sha256;
  if (!sha256) throw new Error(`${o.name}: no sha256; pass --sha256`);
  const apt = o.apt?.includes('=') ? o.apt : resolved?.apt;
  const origin = new URL(o.url).origin;
  if (!o.homepage && !/^https?:/.test(origin)) throw new Error(`${o.name}: a ${new URL(o.url).protocol} URL gives no homepage; pass --homepage`);
  return {
    name: o.name,
    version,
    release: 1,
    description: o.description ?? `${o.name} (describe me)`,
    license: (o.license ?? 'LicenseRef-Unknown').split(',').map((l) => l.trim()).filter(Boolean) as [string, ...string[]],
    homepage: o.homepage ?? `${origin}/`,
    sources: [{ url: o.url, sha256: sha256.toLowerCase(), ...(apt ? { apt } : {}) }],
    style: (o.style ?? resolved?.style ?? 'gnu-configure') as Recipe['style'],
  };
}

/**
 * The sha256 (and the style of its tree) of the upstream file when `--sha256` is not given:
 * the URL is downloaded; when it cannot be (no network to upstream, as on these machines), the
 * orig tarball of the Debian source package (`--apt NAME[=VERSION]`, else the one named like the
 * recipe or building a binary package of that name) whose upstream version is the recipe's is
 * taken with `apt-get source --download-only`, and the source gets its `apt:` pin.
 * @throws {DebianPackageError} (one line) when neither works, when Debian's tarball is a repack
 *   or compressed otherwise than the URL's file (its sum cannot be upstream's), or when no
 *   Debian version has the recipe's upstream version
 */
export async function resolveSource(o: RecipeGeneratorOptions, scratch: string): Promise<ResolvedSource> {
  const version = o.upstreamVersion ?? guessVersion(o.name, o.url);
  const file = path.join(scratch, 'upstream');
  let downloadProblem: string;
  try {
    await urlCandidate(o.url, { idleTimeoutSeconds: 30, retries: 1, retryDelayMs: 1000 }).retrieve(file, '');
    if (!version) throw new Error(`${o.name}: cannot guess the version from ${o.url}; pass --upstream-version`);
    return { version, sha256: await sha256File(file), ...(await styleOf(file, scratch)), how: `downloaded ${o.url}` };
  } catch (e) {
    if (!(e instanceof ProviderError)) throw e;
    downloadProblem = e.message.startsWith(`${o.url}: `) ? e.message.slice(o.url.length + 2) : e.message;
  }
  const [aptName, aptVersion] = (o.apt ?? '').split(/=(.*)$/s);
  let source = aptName || o.name;
  if (!PACKAGE_NAME.test(source)) throw new DebianPackageError(source, 'not a Debian source package name', 'pass --apt NAME with the Debian source package');
  const fix = 'pass --sha256 with upstream\'s sum, or --apt NAME[=VERSION] naming the Debian source package';
  if (!(await hasSourceIndexes())) throw noDebSrcError(source);
  let records = await sourceRecords(source);
  if (!records.length) {
    const owner = await sourceOfBinaryName(source);
    if (owner) records = await sourceRecords((source = owner));
  }
  if (!records.length) throw new DebianPackageError(o.name, `${o.url} cannot be downloaded (${downloadProblem}) and apt knows no source package ${source}`, fix);
  const matching = records.filter((r) => (aptVersion ? r.version === aptVersion : version !== undefined && upstreamRelease(parseDebianVersion(r.version).upstream) === version));
  if (!matching.length) {
    throw new DebianPackageError(o.name, `${o.url} cannot be downloaded (${downloadProblem}) and no version of Debian's ${source} is ${aptVersion ? quote(aptVersion) : `upstream version ${version ?? '(unknown)'}`} (apt has ${records.map((r) => r.version).join(', ')})`, fix);
  }
  let lastError: unknown;
  for (const record of matching) {
    // What the Sources index says decides first: a repack, or another compression, cannot be upstream's bytes.
    const orig = record.files.find((f) => /\.orig\.tar\.[a-z0-9]+$/.test(f.name));
    if (!orig) throw new DebianPackageError(o.name, `Debian's ${source} ${record.version} has no orig tarball (a native package)`, fix);
    const upstreamName = decodeURIComponent(new URL(o.url).pathname.split('/').pop() ?? '');
    const origExt = /\.tar\.[a-z0-9]+$/.exec(orig.name)![0];
    const dv = parseDebianVersion(record.version);
    const repacked = hasRepackSuffix(dv.upstream);
    if (repacked || !upstreamName.endsWith(origExt)) {
      const why = repacked ? `is a repack (version ${dv.upstream})` : `is compressed otherwise (${origExt}) than ${upstreamName}`;
      throw new DebianPackageError(
        o.name,
        `${o.url} cannot be downloaded here, and Debian's ${orig.name} ${why}, so its sum is not upstream's`,
        `pass --sha256 with upstream's sum, or name Debian's file: --url ${poolUrl(record.directories[0], orig.name)} --apt ${source}=${record.version}`,
      );
    }
    const dl = path.join(scratch, `apt-${record.version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`);
    try {
      await downloadSource(source, record.version, dl);
    } catch (e) {
      lastError = e;
      continue;
    }
    const origPath = path.join(dl, orig.name);
    if ((await sha256File(origPath)) !== orig.sha256) throw new DebianPackageError(o.name, `${orig.name} does not have the sha256 of the Sources index`, 'run apt-get update and try again');
    return { version: version ?? upstreamRelease(dv.upstream), sha256: orig.sha256, apt: `${source}=${record.version}`, ...(await styleOf(origPath, scratch)), how: `${o.url} cannot be downloaded (${downloadProblem}): sha256 of Debian's ${orig.name} (apt ${source}=${record.version}), not compared with upstream's file` };
  }
  throw lastError;
}

/** The build style of an archive's tree ({@link guessStyle}), or nothing when it does not unpack. */
async function styleOf(archive: string, scratch: string): Promise<{ style?: string }> {
  const dir = path.join(scratch, `tree-${path.basename(archive)}`);
  try {
    await extractArchive(archive, dir);
    const entries = await fs.readdir(dir);
    const root = entries.length === 1 ? path.join(dir, entries[0]) : dir;
    const g = guessStyle(root);
    // A style the recipe schema does not have yet (cmake, meson before issue 20's styles) is not offered.
    return (recipeSchema.properties.style.enum as string[]).includes(g.style) ? { style: g.style } : {};
  } catch {
    return {};
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * `nx g nx-distro:recipe NAME --url URL [--sha256 SUM]`: writes `recipes/[<category>/]NAME/recipe.yaml`,
 * checked against the recipe schema before anything is written. Without `--sha256`, the sum (and
 * the style, unless `--style` is given) comes from the URL's file, or from Debian's orig tarball
 * through apt when the URL cannot be downloaded ({@link resolveSource}).
 * @throws Error (one line) when the recipe exists, the options make an invalid recipe, or no sum can be had
 */
export default async function recipeGenerator(tree: Tree, options: RecipeGeneratorOptions): Promise<void> {
  const dir = ['recipes', options.category, options.name].filter(Boolean).join('/');
  const file = `${dir}/${RECIPE_FILE}`;
  if (tree.exists(file)) throw new Error(`${file} already exists: edit it, or bump its version`);
  let resolved: ResolvedSource | undefined;
  if (!options.sha256) {
    const scratch = mkdtempSync(path.join(tmpdir(), 'nx-distro-recipe-'));
    try {
      resolved = await resolveSource(options, scratch);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    logger.info(`${options.name}: ${resolved.how}${!options.style && resolved.style ? `; style ${resolved.style} guessed from its tree` : ''}`);
  }
  const text = `# Scaffolded by nx g nx-distro:recipe; fields: docs/recipe-format.md\n${stringify(scaffoldRecipe(options, resolved), { lineWidth: 0 })}`;
  try {
    loadRecipe(tree.root, file, text);
  } catch (e) {
    if (e instanceof InputErrors) throw new Error(`the options give an invalid recipe:\n${e.message}`);
    throw e;
  }
  tree.write(file, text);
  logger.info(`wrote ${file}; next: describe it, set its license and steps, then nx run ${options.name}:fetch`);
}
