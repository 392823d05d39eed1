/**
 * One Debian source package turned into a recipe: the recipe text, its patch files, and the
 * report of what was mapped and what a maintainer must look at.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  DebianPackageError,
  DownloadError,
  PACKAGE_NAME,
  binaryPackages,
  poolUrl,
  sourceOfBinaryName,
  sourceRecords,
  type SourceRecord,
} from '../../debian/apt';
import { dep5ToSpdx, mainLicense, parseCopyright, type Copyright } from '../../debian/copyright';
import { Deb822Error, foldedValue, parseDeb822, type Deb822Paragraph } from '../../debian/deb822';
import { parsePatchHeader, parseSeries, upstreamLink } from '../../debian/dep3';
import { RelationError, parseRelations, type Relation } from '../../debian/relations';
import { hasRepackSuffix, parseDebianVersion, recipeVersion, upstreamRelease } from '../../debian/version';
import { mangle, matchesFolder, parseWatch, watchUrl, type WatchFile } from '../../debian/watch';
import { versionFromTag } from '../recipe/version-guess';
import { InputErrors, quote as quoteShort } from '../../model/errors';
import { RECIPE_FILE, loadRecipe, type Recipe } from '../../model/recipe';
import recipeSchema from '../../model/recipe.schema.json';
import { PatchError, applyPatches } from '../../sources/patch';
import { mapBuildDepends, type DependencyMapping, type RecipeIndex } from './dependencies';
import { recipeText, type RecipeComments } from './recipe-text';
import { fetchSourceTree, readTreeBytes, readTreeFile, type OrigTarball, type SourceTree } from './source-tree';
import { guessStyle } from './style';

/** Debian's text in the report, quoted (control characters escaped), up to 200 characters. */
const quote = (text: string, max = 200) => quoteShort(text, max);

/** What the import of one package found, for the report. */
export interface PackageReport {
  /** Source package and the Debian version imported. */
  readonly source: string;
  readonly debianVersion: string;
  /** Workspace-relative recipe file written. */
  readonly recipeFile: string;
  /** `label: text` lines: what was mapped and from where. */
  readonly facts: string[];
  readonly mapping: DependencyMapping;
  /** One-line warnings, `<package>: <problem>; <fix>`. */
  readonly warnings: string[];
}

/**
 * A source package downloaded, unpacked and read, its patches checked: what is left is mapping
 * its build dependencies, which waits until every package of the run is known (a dependency
 * imported later in the same run is then referred to).
 */
export interface PreparedImport {
  /** The recipe's name (the source package's). */
  readonly name: string;
  /** Workspace-relative folder (`recipes/expat`). */
  readonly dir: string;
  /** Source packages of host-machine libraries it needs that have no recipe in `index` (for `--with-dependencies`). */
  missingLibraries(index: RecipeIndex): string[];
  /**
   * Maps the build dependencies against `index` and writes the recipe text.
   * @returns files to write (workspace-relative path -> contents: recipe.yaml, patches/...) and the report
   * @throws {DebianPackageError} when the recipe does not validate
   */
  finish(index: RecipeIndex): Promise<{ files: ReadonlyMap<string, string | Buffer>; report: PackageReport }>;
}

/** What every import of one run shares. */
export interface ImportSettings {
  /** The recipes that exist (for "already stands for it"). */
  readonly index: RecipeIndex;
  readonly profiles: ReadonlySet<string>;
  readonly category?: string;
  /** Absolute folder for downloads and unpacked trees; each import uses a fresh sub-folder. */
  readonly scratch: string;
}

/** The styles the recipe schema accepts now (cmake and meson come with issue 20's styles). */
const SCHEMA_STYLES: readonly string[] = recipeSchema.properties.style.enum;

/**
 * Imports one source package.
 * @param name the source package (`expat`)
 * @param version a Debian version to take (`2.5.0-1+deb12u2`), or undefined for the newest apt
 *   can download (older ones are tried, with a warning, when the newest cannot be downloaded)
 * @throws {DebianPackageError} (one line) for an unknown package or version, a download or
 *   unpacking failure, unreadable Debian metadata, or a recipe that already exists
 */
export async function importSourcePackage(name: string, version: string | undefined, settings: ImportSettings): Promise<PreparedImport> {
  if (!PACKAGE_NAME.test(name)) throw new DebianPackageError(name, 'not a Debian source package name (lower-case letters, digits, + . -)', 'check the spelling');
  const dir = ['recipes', settings.category, name].filter(Boolean).join('/');
  const existing = settings.index.byDebianSource.get(name) ?? (settings.index.files.has(name) ? name : undefined);
  if (existing) throw new DebianPackageError(name, `${settings.index.files.get(existing)} already stands for it`, 'edit that recipe, or remove it to import again');
  const records = await sourceRecords(name);
  if (!records.length) {
    const owner = await sourceOfBinaryName(name);
    if (owner) throw new DebianPackageError(name, `no source package of that name; it is a binary package of source package ${owner}`, `import ${owner}`);
    throw new DebianPackageError(name, "no such source package in apt's Sources indexes", 'check the name (apt-cache showsrc NAME), or run apt-get update');
  }
  const warnings: string[] = [];
  const candidates = version === undefined ? records : records.filter((r) => r.version === version);
  if (!candidates.length) throw new DebianPackageError(name, `apt knows no version ${quote(version!)}`, `take one of ${records.map((r) => r.version).join(', ')}`);

  let tree: SourceTree | undefined;
  let attempt = 0;
  for (const record of candidates) {
    const scratch = path.join(settings.scratch, `${name}-${attempt++}`);
    try {
      tree = await fetchSourceTree(record, scratch);
      break;
    } catch (e) {
      if (!(e instanceof DownloadError) || record === candidates[candidates.length - 1]) throw e;
      const next = candidates[candidates.indexOf(record) + 1];
      warnings.push(`${name}: ${e.message.replace(/^[^:]+: /, '').replace(/; .*$/, '')}; imported the older ${next.version} instead: bump the recipe once Debian's archive serves ${record.version}`);
      await fs.rm(scratch, { recursive: true, force: true });
    }
  }
  try {
    return await buildRecipe(tree!, dir, settings, warnings);
  } finally {
    await fs.rm(path.dirname(tree!.root), { recursive: true, force: true });
  }
}

async function buildRecipe(tree: SourceTree, dir: string, settings: ImportSettings, warnings: string[]): Promise<PreparedImport> {
  const { record } = tree;
  const name = record.package;
  const facts: string[] = [];
  const read = async (rel: string) => readTreeFile(tree, rel);
  const parse = <T>(rel: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Deb822Error || e instanceof RelationError) throw new DebianPackageError(name, `${rel}: ${e.message}`, 'import another version (NAME=VERSION), or write the recipe by hand');
      throw e;
    }
  };

  const controlText = await read('debian/control');
  if (controlText === undefined) throw new DebianPackageError(name, 'the source package has no debian/control', 'import another version, or write the recipe by hand');
  const [sourceParagraph, ...binaryParagraphs] = parse('debian/control', () => parseDeb822(controlText));
  const copyrightText = await read('debian/copyright');
  const copyright: Copyright = copyrightText === undefined ? { machineReadable: false, filesExcluded: [], stanzas: [] } : parse('debian/copyright', () => parseCopyright(copyrightText));
  const watchText = await read('debian/watch');
  const watch = watchText === undefined ? undefined : parseWatch(watchText, name);
  const metadataText = await read('debian/upstream/metadata');
  const metadata = metadataText === undefined ? undefined : safeYaml(metadataText);

  // Version: epoch dropped, repack suffix dropped, the revision only in the apt pin.
  const dv = parseDebianVersion(record.version);
  const version = recipeVersion(dv.upstream);
  facts.push(`version: ${version}, release 1 (Debian ${record.version}${dv.epoch ? `: epoch ${dv.epoch} dropped` : ''}${dv.revision ? `${dv.epoch ? ',' : ':'} revision ${dv.revision} only in the apt pin` : ''})`);

  const homepage = pickHomepage(name, sourceParagraph, record, metadata, copyright, warnings);
  facts.push(`homepage: ${homepage.url} (${homepage.from})`);
  const description = pickDescription(name, binaryParagraphs, warnings);
  facts.push(`description: ${quote(description.text)} (${description.from})`);
  const license = pickLicense(name, copyright, warnings);
  facts.push(`license: ${license.expression} (${license.from})`);

  // Sources.
  const spec = `${name}=${record.version}`;
  const recipeSources: NonNullable<Recipe['sources']> = [];
  const sourceComments: string[][] = [];
  const repackReasons = repackedBecause(dv.upstream, copyright, watch);
  tree.origs.forEach((orig, i) => {
    const pool = poolUrl(record.directories[0], orig.file);
    const extract = orig.component ? { extract: { into: orig.component, ...(orig.topFolder ? {} : { strip: 0 }) } } : orig.topFolder ? {} : { extract: { strip: 0 } };
    if (tree.native || orig.component || i > 0) {
      recipeSources.push({ url: pool, filename: orig.file, sha256: orig.sha256, apt: spec, ...extract });
      sourceComments.push([
        tree.native ? `Debian's native package ${orig.file}: Debian is its upstream; the sum is this file's own.` : `Debian's component tarball ${orig.file}, unpacked into ${orig.component}/; the sum is this file's own.`,
      ]);
      facts.push(`source: ${pool} (${tree.native ? 'native package' : `component ${orig.component}`})`);
      if (!tree.native) warnings.push(`${name}: the orig tarball has a component ${orig.component} (${orig.file}); the recipe names Debian's file: find upstream's URL for it`);
      return;
    }
    const upstream = upstreamUrl(name, dv.upstream, orig, watch, homepage.url, homepage.from, metadata);
    if (repackReasons.length || !upstream.sameExtension) {
      const why = repackReasons.length ? `Debian repacked the upstream tarball (${repackReasons.join(', ')})` : `Debian's ${orig.file} is compressed otherwise than upstream's ${upstream.url.split('/').pop()}`;
      recipeSources.push({ url: pool, filename: orig.file, sha256: orig.sha256, apt: spec, ...extract });
      sourceComments.push([`${why}: upstream's file (${upstream.url}, from ${upstream.from}) has another sha256. This is Debian's ${orig.file}; the sum is this file's own.`]);
      facts.push(`source: ${pool} (Debian's file: ${repackReasons.length ? 'repacked' : 'recompressed'}); upstream: ${upstream.url} (${upstream.from})`);
      warnings.push(`${name}: ${why}, so upstream's sum differs; the recipe names Debian's file ${orig.file} with its own sum: to build from upstream's bytes, set sources[0] to ${upstream.url} with upstream's sha256`);
    } else {
      recipeSources.push({ url: upstream.url, sha256: orig.sha256, apt: spec, ...extract });
      sourceComments.push([
        `URL from ${upstream.from}${upstream.guessed ? ` (guessed: ${upstream.guessed})` : ''}. The sha256 is that of Debian's orig tarball ${orig.file} (apt ${spec}), not compared with upstream's file, which was out of reach when this was imported: check it with upstream's signature or a sum others pin for this URL.`,
      ]);
      facts.push(`source: ${upstream.url} (${upstream.from}), sha256 of Debian's ${orig.file}, apt ${spec}`);
      if (upstream.guessed) warnings.push(`${name}: the upstream URL ${upstream.url} guesses ${upstream.guessed}; check it (fetch falls back to apt ${spec} meanwhile)`);
    }
  });

  // Patches: Debian's quilt series (or a format 1.0 diff's changes to upstream files).
  const files = new Map<string, string | Buffer>();
  const patches: NonNullable<Recipe['patches']> = [];
  const summaries: (string | undefined)[] = [];
  const upstreamNotes: (string | undefined)[] = [];
  const patchNotes: string[] = [];
  if (tree.outsideDebianDiff) {
    const rel = 'patches/debian-changes.patch';
    files.set(`${dir}/${rel}`, tree.outsideDebianDiff);
    const diffName = record.files.find((f) => f.name.endsWith('.diff.gz'))!.name;
    patches.push({ file: rel, upstream: poolUrl(record.directories[0], diffName) });
    summaries.push(`Debian's changes to upstream files, from ${diffName}`);
    upstreamNotes.push("Debian's diff, no upstream link");
    warnings.push(`${name}: format 1.0: Debian's changes to upstream files are one diff without a DEP-3 header, imported as ${rel} with upstream: set to Debian's ${diffName}; split it and link each change upstream, or drop what is Debian-specific`);
  }
  const seriesText = await read('debian/patches/series');
  let seriesCount = 0;
  if (seriesText !== undefined) {
    const series = parseSeries(seriesText);
    seriesCount = series.length;
    for (const entry of series) {
      const shown = quote(entry.name);
      if (!/^[A-Za-z0-9_+][A-Za-z0-9_+.,@=-]*(?:\/[A-Za-z0-9_+][A-Za-z0-9_+.,@=-]*)*$/.test(entry.name)) {
        warnings.push(`${name}: debian/patches/series line ${entry.line} names ${shown}, not a plain relative file name: skipped; copy that patch by hand if it is needed`);
        continue;
      }
      if (entry.options.length) {
        warnings.push(`${name}: debian/patches/series applies ${entry.name} with ${quote(entry.options.join(' '))} (quilt-specific); recipes apply patches with patch -p1: written to patches/ but left out of the recipe's patches; refresh it for -p1 to use it`);
      }
      const bytes = readTreeBytes(tree, `debian/patches/${entry.name}`, 64 << 20);
      if (bytes === undefined) {
        warnings.push(`${name}: debian/patches/series names ${entry.name}, which the source package does not have: skipped`);
        continue;
      }
      const rel = `patches/${entry.name}`;
      files.set(`${dir}/${rel}`, bytes); // as Debian has it, byte for byte (a patch need not be UTF-8)
      if (entry.options.length) continue;
      try {
        await applyPatches(tree.root, [{ text: bytes, name: `debian/patches/${entry.name}` }]);
      } catch (e) {
        if (!(e instanceof PatchError)) throw e;
        warnings.push(`${name}: debian/patches/${entry.name} does not apply with patch -p1 (${e.message.split('\n')[0].replace(/^[^:]+: /, '')}): written to ${rel} but left out of the recipe's patches; refresh it or drop it`);
        continue;
      }
      const header = parsePatchHeader(bytes.toString('utf8'));
      const link = upstreamLink(header);
      summaries.push(header.summary);
      if (link) {
        patches.push({ file: rel, upstream: link.url });
        upstreamNotes.push(`DEP-3 ${link.field}`);
        continue;
      }
      const debianCopy = `https://sources.debian.org/src/${name}/${record.version}/debian/patches/${entry.name}/`;
      patches.push({ file: rel, upstream: debianCopy });
      upstreamNotes.push("Debian's copy, no DEP-3 upstream link");
      patchNotes.push(entry.name);
      const forwarded = header.fields.get('forwarded');
      const applied = header.fields.get('applied-upstream');
      const hints = [
        applied !== undefined ? `Applied-Upstream: ${quote(applied)}` : undefined,
        forwarded !== undefined ? `Forwarded: ${quote(forwarded)}${/^not-needed$/i.test(forwarded) ? ', a Debian-specific change' : ''}` : undefined,
        header.commit ? `its header names commit ${header.commit}${githubRepo(homepage.url, metadata) ? ` (if upstream's: ${githubRepo(homepage.url, metadata)}/commit/${header.commit})` : ''}` : undefined,
        header.textUrl ? `its text links ${quote(header.textUrl)}` : undefined,
      ].filter(Boolean);
      warnings.push(
        `${name}: ${rel}: its DEP-3 header has no upstream link (no Origin, Bug, Forwarded, Bug-Debian or Applied-Upstream URL)${hints.length ? `; ${hints.join('; ')}` : ''}; upstream: is set to Debian's copy: replace it with upstream's bug or commit, or drop the patch if the build does not need it`,
      );
    }
  }
  if (seriesCount || tree.outsideDebianDiff) {
    facts.push(`patches: ${patches.length} of ${seriesCount + (tree.outsideDebianDiff ? 1 : 0)} in the recipe${patchNotes.length ? `, ${patchNotes.length} with Debian's copy as upstream: (no upstream link in DEP-3)` : ''}`);
  } else facts.push('patches: none (Debian applies none)');

  // Style, from the tree as the recipe's patches leave it.
  const rules = await read('debian/rules');
  const style = guessStyle(tree.root, rules, name);
  // configure.ac alone: the gnu-configure style's `autoreconf: true`; build files in a sub-folder
  // (expat's tag archive: expat/): `build_wrksrc`, where every step then starts.
  const writesAutoreconf = style.autoreconf && style.style === 'gnu-configure';
  facts.push(`style: ${style.style} (${style.reason})${style.subfolder ? `; build_wrksrc: ${style.subfolder} (the build files are in ${style.subfolder}/)` : ''}${writesAutoreconf ? '; autoreconf: true' : ''}`);
  if (!SCHEMA_STYLES.includes(style.style)) {
    warnings.push(`${name}: style ${style.style} (${style.reason}) is not in this nx-distro's recipe schema yet (${SCHEMA_STYLES.join(', ')}): written anyway, the recipe loads once the style exists; until then set style: none and write steps`);
  }

  // Build dependencies.
  const relations: Relation[] = [];
  for (const field of ['Build-Depends', 'Build-Depends-Arch']) {
    const v = sourceParagraph.get(field);
    if (v !== undefined) relations.push(...parse(`debian/control ${field}`, () => parseRelations(v)));
  }
  const indep = sourceParagraph.get('Build-Depends-Indep');
  if (indep !== undefined) facts.push(`Build-Depends-Indep not read (what Debian's architecture-independent packages, mostly documentation, need): ${quote(foldedValue(indep), 120)}`);
  const names = [...new Set(relations.flatMap((r) => r.map((a) => a.name)).filter((n) => PACKAGE_NAME.test(n)))];
  const binaries = await binaryPackages(names);
  const base = {
    name,
    version,
    release: 1,
    description: description.text,
    license: [license.expression] as [string],
    homepage: homepage.url,
    sources: recipeSources,
    ...(patches.length ? { patches } : {}),
  };
  const recipeFile = `${dir}/${RECIPE_FILE}`;
  const report = (mapping: DependencyMapping): PackageReport => ({ source: name, debianVersion: record.version, recipeFile, facts, mapping, warnings });
  const map = (index: RecipeIndex) => mapBuildDepends(relations, binaries, index, name, settings.profiles);
  return {
    name,
    dir,
    missingLibraries: (index) => [...new Set(map(index).unmapped.filter((u) => u.list === 'makedepends' && u.source).map((u) => u.source!))],
    async finish(index) {
      const mapping = map(index);
      const recipe: Recipe = {
        ...base,
        ...(mapping.makedepends.length ? { makedepends: mapping.makedepends } : {}),
        ...(mapping.makedepends_build.length ? { makedepends_build: mapping.makedepends_build } : {}),
        ...(style.subfolder ? { build_wrksrc: style.subfolder } : {}),
        style: style.style as Recipe['style'],
        ...(writesAutoreconf ? { autoreconf: true } : {}),
      };
      const comments: RecipeComments = {
        header: [
          `Imported from Debian's source package ${name} ${record.version} by nx g nx-distro:import-debian.`,
          'A start for a maintainer: read the import report, check each comment below, then',
          `nx run ${name}:fetch and a build. Fields: docs/recipe-format.md.`,
        ],
        license: [`From debian/copyright (${license.from}).`],
        sources: sourceComments,
        ...(patches.length ? { patches: ["Debian's patches (debian/patches/series), in order; upstream: from each one's DEP-3 header."] } : {}),
        // pushed with each entry of `patches`, so index for index
        patchSummaries: summaries,
        patchUpstreamNotes: upstreamNotes,
        dependencies: dependencyComments(mapping),
        style: [`Guessed from ${style.reason}.`],
      };
      const all = new Map(files);
      all.set(recipeFile, recipeText(recipe, comments));
      await validate(name, recipeFile, all, settings.scratch, style.style);
      return { files: all, report: report(mapping) };
    },
  };
}

/** Checks the recipe as it will be on disk (patch files included) with the plugin's own loader. */
async function validate(name: string, recipeFile: string, files: ReadonlyMap<string, string | Buffer>, scratch: string, style: string): Promise<void> {
  const root = path.join(scratch, `validate-${name}`);
  for (const [rel, text] of files) {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), text);
  }
  try {
    loadRecipe(root, recipeFile, String(files.get(recipeFile)));
  } catch (e) {
    if (!(e instanceof InputErrors)) throw e;
    const rest = e.errors.filter((err) => !(err.field === 'style' && !SCHEMA_STYLES.includes(style)));
    if (rest.length) throw new DebianPackageError(name, `the imported recipe does not validate: ${rest.map((r) => r.message).join(' | ')}`, 'report this as a bug of the importer; write the recipe by hand meanwhile');
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

function dependencyComments(m: DependencyMapping): string[] {
  const lines: string[] = [];
  if (m.mapped.length) lines.push(`Build-Depends mapped: ${m.mapped.map((d) => `${d.dependency} -> ${d.recipe}${d.arches ? ` (Debian: only ${d.arches.join(' ')})` : ''}`).join(', ')}.`);
  const libs = m.unmapped.filter((u) => u.list === 'makedepends');
  const tools = m.unmapped.filter((u) => u.list === 'makedepends_build');
  if (libs.length) lines.push(`Libraries with no recipe yet: ${libs.map((u) => u.dependency).join(', ')}.`);
  if (tools.length) lines.push(`Build-machine programs with no recipe (host tools): ${tools.map((u) => u.dependency).join(', ')}.`);
  return lines;
}

function safeYaml(text: string): Record<string, unknown> | undefined {
  try {
    const v = parseYaml(text, { maxAliasCount: 10 });
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const httpUrl = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  try {
    const u = new URL(t);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname && !/\s/.test(t) ? t : undefined;
  } catch {
    return undefined;
  }
};

function pickHomepage(name: string, src: Deb822Paragraph, record: SourceRecord, metadata: Record<string, unknown> | undefined, copyright: Copyright, warnings: string[]): { url: string; from: string } {
  const choices: [unknown, string][] = [
    [src.get('Homepage'), 'debian/control Homepage'],
    [record.homepage, "the Sources index's Homepage"],
    [metadata?.['Repository-Browse'], 'debian/upstream/metadata Repository-Browse'],
    [typeof metadata?.Repository === 'string' ? (metadata.Repository as string).replace(/\.git$/, '') : undefined, 'debian/upstream/metadata Repository'],
    [copyright.source, 'debian/copyright Source'],
  ];
  for (const [v, from] of choices) {
    const url = httpUrl(v);
    if (url) return { url, from };
  }
  const url = `https://tracker.debian.org/pkg/${name}`;
  warnings.push(`${name}: Debian names no upstream homepage (debian/control Homepage, debian/upstream/metadata, debian/copyright Source); homepage is set to Debian's package tracker ${url}: put upstream's page there`);
  return { url, from: "Debian's package tracker, no upstream homepage given" };
}

/**
 * One line for the recipe: the synopsis of the binary package that is the software itself (not
 * a -dev, -doc, -dbg or udeb package), with Debian's split suffix (` - shared library`,
 * ` (development files)`) dropped.
 */
export function pickDescription(name: string, binaries: readonly Deb822Paragraph[], warnings: string[]): { text: string; from: string } {
  const rank = (p: Deb822Paragraph) => {
    const n = p.get('Package') ?? '';
    if (p.get('Package-Type') === 'udeb' || /-udeb$/.test(n)) return 5;
    if (/-(dbg|dbgsym|doc)$/.test(n)) return 4;
    if (/-dev$/.test(n)) return 2;
    if (n === name) return 0;
    return 1;
  };
  const described = binaries.filter((p) => p.get('Description') && rank(p) < 4).sort((a, b) => rank(a) - rank(b));
  const p = described[0];
  if (!p) {
    warnings.push(`${name}: debian/control describes no binary package; description is a placeholder: write one`);
    return { text: `${name} (describe me)`, from: 'placeholder' };
  }
  const synopsis = (q: Deb822Paragraph) => q.get('Description')!.split('\n')[0].trim();
  // Split packages share a synopsis head: "XML parsing C library - runtime library", "... - development kit".
  const head = (text: string) => /^(.*?\S)\s*[-\u2013\u2014]\s+\S/.exec(text)?.[1];
  const heads = described.map((q) => head(synopsis(q))).filter((h): h is string => h !== undefined);
  const shared = heads.find((h, i) => heads.indexOf(h) !== i);
  if (shared) return { text: shared, from: `the synopsis ${described.length} binary packages share` };
  const own = synopsis(p);
  const text = own
    .replace(/\s+-\s+(?:shared librar(?:y|ies)|runtime(?: library| files)?|library|development (?:files|headers|package|kit)|header files|utilities|programs|binaries|tools)(?:\s*\(.*\))?$/i, '')
    .replace(/\s*\((?:development files|runtime|shared library|runtime library|library)\)$/i, '')
    .trim();
  return { text: text || own || `${name} (describe me)`, from: `synopsis of ${p.get('Package')}` };
}

function pickLicense(name: string, copyright: Copyright, warnings: string[]): { expression: string; from: string } {
  if (!copyright.machineReadable) {
    warnings.push(`${name}: debian/copyright is not machine-readable (DEP-5); license is LicenseRef-Unknown: read the file and set it`);
    return { expression: 'LicenseRef-Unknown', from: 'not DEP-5: not read' };
  }
  const main = mainLicense(copyright);
  if (!main) {
    warnings.push(`${name}: debian/copyright has no "Files: *" paragraph; license is LicenseRef-Unknown: read the file and set it`);
    return { expression: 'LicenseRef-Unknown', from: 'no Files: * paragraph' };
  }
  const spdx = dep5ToSpdx(main);
  const others = [...new Set(copyright.stanzas.filter((s) => !s.files.includes('*') && !s.files.every((f) => f.startsWith('debian/'))).map((s) => s.license))].filter((l) => l !== main);
  if (spdx.unmapped.length) warnings.push(`${name}: license ${spdx.unmapped.map((u) => quote(u)).join(', ')} of debian/copyright has no SPDX id: written as LicenseRef-; use an SPDX id if one fits`);
  return {
    expression: spdx.expression,
    from: `Files: * says ${quote(main)}${others.length ? `; other files: ${others.map((o) => quote(o)).join(', ')}` : ''}`,
  };
}

/** Why the orig tarball is not upstream's bytes: a repack suffix, Files-Excluded, a repacking watch file. */
function repackedBecause(upstream: string, copyright: Copyright, watch: WatchFile | undefined): string[] {
  const reasons: string[] = [];
  if (hasRepackSuffix(upstream)) reasons.push(`version ${upstream}`);
  if (copyright.filesExcluded.length) reasons.push(`debian/copyright Files-Excluded: ${copyright.filesExcluded.slice(0, 4).join(' ')}${copyright.filesExcluded.length > 4 ? ' ...' : ''}`);
  if (watch?.entries.some((e) => e.opts.has('repack'))) reasons.push('debian/watch repack');
  return reasons;
}

interface UpstreamUrl {
  readonly url: string;
  readonly from: string;
  readonly guessed?: string;
  readonly sameExtension: boolean;
}

/**
 * upstream's URL for the orig tarball: from debian/watch; when the orig tarball's folder says it
 * is another file than the watch line's (expat's orig is GitHub's archive of tag R_2_5_0,
 * `libexpat-R_2_5_0/`, its watch file names the release tarball `expat-2.5.0.tar.gz`), GitHub's
 * archive of that tag; without either, a guess from the homepage.
 */
function upstreamUrl(name: string, debianUpstream: string, orig: OrigTarball, watch: WatchFile | undefined, homepage: string, homepageFrom: string, metadata: Record<string, unknown> | undefined): UpstreamUrl {
  const top = orig.topFolder;
  const release = upstreamRelease(debianUpstream);
  const spellings = top ? [top.replace(/^.*?[-_](?=v?\d)/, '').replace(/^v(?=\d)/, '')] : [];
  let fromWatch: UpstreamUrl | undefined;
  for (const entry of watch?.entries ?? []) {
    let target = release;
    if (entry.opts.has('dversionmangle')) {
      try {
        target = mangle(entry.opts.get('dversionmangle'), debianUpstream);
      } catch {
        // a rule JavaScript cannot read: the repack suffix dropped will do
      }
    }
    const got = watchUrl(entry, { packageName: name, version: target, spellings, extension: orig.extension, ...(top ? { topFolder: top } : {}) });
    if (!got) continue;
    let url = got.url;
    let guessed = got.guessed;
    if (url.startsWith('ftp://')) {
      url = `https://${url.slice('ftp://'.length)}`;
      guessed = `https for the watch file's ftp:// (recipes take http(s) URLs)${guessed ? ` and ${guessed}` : ''}`;
    }
    fromWatch = { url, from: 'debian/watch', sameExtension: got.sameExtension, ...(guessed ? { guessed } : {}) };
    break;
  }
  const file = fromWatch ? decodeURIComponent(fromWatch.url.split('/').pop()!) : undefined;
  if (top && (!file || !matchesFolder(file, top))) {
    const tag = githubTagArchive(name, top, release, orig.extension, [...(watch?.entries.map((e) => e.url) ?? []), metadata?.Repository, metadata?.['Repository-Browse'], homepage]);
    if (tag) return { url: tag.url, from: `the orig tarball's folder ${top}: GitHub's archive of tag ${tag.tag}${file ? `; debian/watch names ${file}, another file` : ''}`, sameExtension: true };
    if (fromWatch) return { ...fromWatch, guessed: `that it is Debian's orig tarball (whose folder is ${top})${fromWatch.guessed ? ` and ${fromWatch.guessed}` : ''}` };
  }
  if (fromWatch) return fromWatch;
  const base = homepage.endsWith('/') ? homepage : homepage.replace(/[^/]*$/, '');
  const stem = top && !hasRepackSuffix(top) ? top : `${name}-${release}`;
  const extension = hasRepackSuffix(debianUpstream) ? '.tar.gz' : orig.extension;
  return {
    url: `${base}${encodeURIComponent(`${stem}${extension}`)}`,
    from: `${watch ? 'no debian/watch line gives this version; ' : 'no debian/watch; '}a guess from ${homepageFrom}`,
    guessed: 'the whole URL',
    sameExtension: true,
  };
}

/**
 * GitHub's archive of a tag, when the orig tarball's folder is GitHub's `<repo>-<tag>` and the
 * tag names the version (`libexpat-R_2_5_0`: repo libexpat, tag R_2_5_0, version 2.5.0) and a
 * GitHub repository of that name is known (debian/watch, debian/upstream/metadata, the homepage;
 * `<owner>.github.io` gives the owner).
 */
function githubTagArchive(name: string, top: string, version: string, extension: string, hints: readonly unknown[]): { url: string; tag: string } | undefined {
  if (extension !== '.tar.gz') return undefined;
  const repos: { owner: string; repo?: string }[] = [];
  for (const h of hints) {
    if (typeof h !== 'string') continue;
    const gh = /^https?:\/\/(?:api\.)?github\.com\/(?:repos\/)?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?(?:[/?#].*)?$/.exec(h.trim());
    if (gh) repos.push({ owner: gh[1], repo: gh[2] });
    const pages = /^https?:\/\/([A-Za-z0-9-]+)\.github\.io(?:\/|$)/.exec(h.trim());
    if (pages) repos.push({ owner: pages[1] });
  }
  for (let i = top.indexOf('-'); i > 0; i = top.indexOf('-', i + 1)) {
    const repo = top.slice(0, i);
    const tag = top.slice(i + 1);
    if (versionFromTag(tag, name) !== version && versionFromTag(tag, repo) !== version) continue;
    const known = repos.find((r) => r.repo?.toLowerCase() === repo.toLowerCase()) ?? repos.find((r) => r.repo === undefined);
    if (known) return { url: `https://github.com/${known.owner}/${known.repo ?? repo}/archive/refs/tags/${tag}.tar.gz`, tag };
  }
  return undefined;
}

function githubRepo(homepage: string, metadata: Record<string, unknown> | undefined): string | undefined {
  for (const v of [metadata?.Repository, metadata?.['Repository-Browse'], homepage]) {
    const m = typeof v === 'string' ? /^https?:\/\/github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?(?:\/.*)?$/.exec(v.trim()) : null;
    if (m) return `https://github.com/${m[1]}/${m[2]}`;
  }
  return undefined;
}
