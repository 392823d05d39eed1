/**
 * A Debian source package downloaded with apt and unpacked the way dpkg-source would, but with
 * nx-distro's own safe extraction (src/sources/extract.ts: a source package is untrusted input)
 * and without applying Debian's quilt patches, which the importer checks one by one.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execa } from 'execa';
import { DebianPackageError, downloadSource, listFiles, type SourceRecord } from '../../debian/apt';
import { extractArchive } from '../../sources/extract';
import { sha256File } from '../../util/hash';
import { describeProblem, readInputFile } from '../../model/input-file';

/** One upstream tarball of the source package. */
export interface OrigTarball {
  /** The file name in Debian's pool (`expat_2.5.0.orig.tar.gz`). */
  readonly file: string;
  /** Absolute path of the downloaded file. */
  readonly path: string;
  readonly sha256: string;
  /** `.tar.gz`, `.tar.xz`, ... */
  readonly extension: string;
  /** The component name of a `.orig-<component>.tar.*` tarball (unpacked into that folder), undefined for the main one. */
  readonly component?: string;
  /** The single top folder of its entries (`expat-2.5.0`), undefined when the entries are not under one folder. */
  readonly topFolder?: string;
}

/** The unpacked source package. */
export interface SourceTree {
  readonly record: SourceRecord;
  /** The orig tarball(s), main first; for a native package its only tarball. */
  readonly origs: readonly OrigTarball[];
  /** Whether the package is native (`3.0 (native)`, or `1.0` without a diff). */
  readonly native: boolean;
  /** Absolute path of the unpacked upstream tree with Debian's `debian/` folder in it, no quilt patch applied. */
  readonly root: string;
  /** For format 1.0: Debian's changes outside debian/ (the .diff.gz's other files), already applied to `root`; `''` when none. */
  readonly outsideDebianDiff: string;
}

const TARBALL = /\.(tar(?:\.(?:gz|bz2|xz|lzma|zst))?)$/;

/**
 * Downloads one version of a source package into `scratch/download` and unpacks it into
 * `scratch/tree`: the orig tarball (its single top folder stripped, as dpkg-source does),
 * component tarballs into their folders, then the Debian tarball (3.0) or the diff (1.0,
 * applied with GNU patch, which refuses paths outside the tree).
 * @param scratch an absolute, empty folder the caller removes afterwards
 * @throws {DebianPackageError} when apt fails or a file is missing or not what the index says
 * @throws ArchiveError when an archive is unsafe or damaged
 */
export async function fetchSourceTree(record: SourceRecord, scratch: string): Promise<SourceTree> {
  const download = path.join(scratch, 'download');
  await downloadSource(record.package, record.version, download);
  const present = new Set(await listFiles(download));
  for (const f of record.files) {
    if (!present.has(f.name)) throw new DebianPackageError(record.package, `apt-get source left no ${f.name}`, 'run apt-get update and try again');
    if ((await sha256File(path.join(download, f.name))) !== f.sha256) throw new DebianPackageError(record.package, `${f.name} does not have the sha256 of the Sources index`, 'run apt-get update and try again');
  }
  const names = record.files.map((f) => f.name);
  const debianTar = names.find((n) => /\.debian\.tar\.[a-z0-9]+$/.test(n));
  const diff = names.find((n) => n.endsWith('.diff.gz'));
  const origNames = names.filter((n) => /\.orig(?:-[A-Za-z0-9][A-Za-z0-9-]*)?\.tar\.[a-z0-9]+$/.test(n));
  const native = !origNames.length;
  const tarballs = native ? names.filter((n) => TARBALL.test(n) && !n.endsWith('.dsc')) : origNames.sort((a, b) => Number(/\.orig-/.test(a)) - Number(/\.orig-/.test(b)));
  if (!tarballs.length) throw new DebianPackageError(record.package, `no tarball among ${names.join(', ')}`, 'import another version (NAME=VERSION)');

  const root = path.join(scratch, 'tree');
  const origs: OrigTarball[] = [];
  for (const name of tarballs) {
    const file = path.join(download, name);
    const component = /\.orig-([A-Za-z0-9][A-Za-z0-9-]*)\.tar\./.exec(name)?.[1];
    const raw = path.join(scratch, `raw-${origs.length}`);
    await extractArchive(file, raw);
    const entries = await fs.readdir(raw);
    const single = entries.length === 1 && (await fs.lstat(path.join(raw, entries[0]))).isDirectory() ? entries[0] : undefined;
    const from = single ? path.join(raw, single) : raw;
    const to = component ? path.join(root, component) : root;
    if (component) await fs.mkdir(root, { recursive: true });
    await fs.rename(from, to);
    origs.push({
      file: name,
      path: file,
      sha256: record.files.find((f) => f.name === name)!.sha256,
      extension: `.${TARBALL.exec(name)![1]}`,
      ...(component ? { component } : {}),
      ...(single ? { topFolder: single } : {}),
    });
  }
  let outsideDebianDiff = '';
  if (debianTar) {
    await fs.rm(path.join(root, 'debian'), { recursive: true, force: true }); // dpkg-source replaces an upstream debian/
    await extractArchive(path.join(download, debianTar), root);
  } else if (diff) {
    const text = zlib.gunzipSync(await fs.readFile(path.join(download, diff))).toString('utf8');
    const r = await execa('patch', ['-p1', '--batch', '--forward', '--no-backup-if-mismatch', '-r', '-'], { cwd: root, input: text, reject: false, all: true, env: { LC_ALL: 'C' } });
    if (r.exitCode !== 0) throw new DebianPackageError(record.package, `${diff} does not apply to the orig tarball (${String(r.all).split('\n').find((l) => /FAILED|dangerous|malformed/.test(l)) ?? `patch exited with ${r.exitCode}`})`, 'import another version (NAME=VERSION)');
    outsideDebianDiff = outsideDebian(text);
  }
  return { record, origs, native: native && !diff, root, outsideDebianDiff };
}

/**
 * The file sections of a unified diff whose file is not under `debian/` (a format 1.0 diff
 * carries both Debian's packaging and its changes to upstream files), in order.
 */
export function outsideDebian(diff: string): string {
  const lines = diff.split('\n');
  const sections: string[][] = [];
  let current: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      current = [];
      sections.push(current);
    }
    current?.push(lines[i]);
  }
  return sections
    .filter((s) => {
      const target = s[1].slice(4).split('\t')[0].split('/').slice(1).join('/');
      return !target.startsWith('debian/') && target !== 'debian';
    })
    .map((s) => `${s.join('\n').replace(/\n+$/, '')}\n`)
    .join('');
}

/** Limit on a metadata file the importer reads (debian/control and friends are kilobytes). */
const MAX_METADATA_BYTES = 4 << 20;

/**
 * Reads a file of the unpacked tree under the plugin's input-file rule (model/input-file.ts: a
 * regular file reached through real folders, opened without following a link; the tree is
 * untrusted, and a link could name a file of the build machine).
 * @param rel path relative to the tree root (`debian/control`)
 * @param maxBytes the largest file accepted (default 4 MiB)
 * @returns the bytes, or `undefined` when there is no such file
 * @throws {DebianPackageError} for a link, a folder or special file on the way, or an oversized file
 */
export function readTreeBytes(tree: SourceTree, rel: string, maxBytes = MAX_METADATA_BYTES): Buffer | undefined {
  let missing = false;
  let bytes: Buffer;
  try {
    bytes = readInputFile(tree.root, rel, (p) => {
      if (p.what === 'not found') missing = true;
      return new DebianPackageError(tree.record.package, `${rel}: ${describeProblem(rel, p)}`, 'import another version, or write the recipe by hand');
    });
  } catch (e) {
    if (missing) return undefined;
    throw e;
  }
  if (bytes.length > maxBytes) throw new DebianPackageError(tree.record.package, `${rel} is larger than ${maxBytes >> 20} MiB`, 'write the recipe by hand');
  return bytes;
}

/** {@link readTreeBytes} as UTF-8 text. */
export async function readTreeFile(tree: SourceTree, rel: string, maxBytes = MAX_METADATA_BYTES): Promise<string | undefined> {
  return readTreeBytes(tree, rel, maxBytes)?.toString('utf8');
}
