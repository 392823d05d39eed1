/**
 * What apt knows about Debian's source and binary packages, asked of the build machine's apt
 * (`apt-cache`, `apt-get source --download-only`) with whatever archive it is configured with:
 * no host name is written here, and apt checks every file it downloads against the signed
 * Sources index. `tools/setup-host` adds the `deb-src` entries source packages need.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { parseDeb822 } from './deb822';
import { quote } from '../model/errors';
import { compareDebianVersions } from './version';

/** Debian's package name rule (Policy §5.6.1, §5.6.7): what may be passed to apt as a name. */
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** A user-facing problem with one package: `<package>: <problem>; <fix>`, shown without a stack trace. */
export class DebianPackageError extends Error {
  constructor(
    readonly packageName: string,
    problem: string,
    fix?: string,
  ) {
    super(`${PACKAGE_NAME.test(packageName) ? packageName : quote(packageName)}: ${problem}${fix ? `; ${fix}` : ''}`);
    this.name = 'DebianPackageError';
  }
}

/** apt could not download a source package's files (a network problem, a file gone from the archive). */
export class DownloadError extends DebianPackageError {}

/** One file of a source package, as the Sources index lists it. */
export interface SourceFile {
  readonly name: string;
  readonly sha256: string;
  /** Size in bytes. */
  readonly size: number;
}

/** One version of a source package in apt's Sources indexes. */
export interface SourceRecord {
  readonly package: string;
  readonly version: string;
  /** `3.0 (quilt)`, `3.0 (native)`, `1.0`. */
  readonly format: string;
  /** Pool folders holding its files (`pool/main/e/expat`; `pool/updates/...` in the security archive), main archive first. */
  readonly directories: readonly string[];
  readonly files: readonly SourceFile[];
  /** Binary packages it builds. */
  readonly binaries: readonly string[];
  readonly homepage?: string;
}

async function run(cmd: string, args: readonly string[], cwd?: string) {
  return execa(cmd, args, { reject: false, all: true, env: { LC_ALL: 'C' }, ...(cwd ? { cwd } : {}) });
}

/** Whether apt has any source index (a `deb-src` entry whose index was downloaded by `apt-get update`). */
export async function hasSourceIndexes(): Promise<boolean> {
  const r = await run('apt-get', ['indextargets', '--format', '$(CREATED_BY)', 'Created-By: Sources']);
  return r.exitCode === 0 && /\bSources\b/.test(String(r.stdout));
}

/** The error for a machine whose apt has no source index. */
export function noDebSrcError(name: string): DebianPackageError {
  return new DebianPackageError(name, "apt's sources have no deb-src entry (or apt-get update has not fetched its index)", 'run tools/setup-host, which adds them, or add deb-src to /etc/apt/sources.list.d/ and run apt-get update');
}

/**
 * Every version of a source package apt knows, newest first, one record per version (a version
 * listed by several archives keeps every pool folder, the main archive's first).
 * @param name a source package name (checked against {@link PACKAGE_NAME} by the caller)
 */
export async function sourceRecords(name: string): Promise<SourceRecord[]> {
  const r = await run('apt-cache', ['showsrc', '--only-source', name]);
  const byVersion = new Map<string, SourceRecord>();
  for (const p of parseDeb822(String(r.stdout))) {
    const version = p.get('Version');
    if (p.get('Package') !== name || !version) continue;
    const directory = p.get('Directory') ?? '';
    const known = byVersion.get(version);
    if (known) {
      const dirs = [...known.directories, directory].sort((a, b) => Number(a.startsWith('pool/updates/')) - Number(b.startsWith('pool/updates/')));
      byVersion.set(version, { ...known, directories: [...new Set(dirs)] });
      continue;
    }
    const files = (p.get('Checksums-Sha256') ?? '')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 3)
      .map(([sha256, size, file]) => ({ name: file, sha256, size: Number(size) }));
    const homepage = p.get('Homepage');
    byVersion.set(version, {
      package: name,
      version,
      format: p.get('Format') ?? '1.0',
      directories: [directory],
      files,
      binaries: (p.get('Binary') ?? '').split(/[\s,]+/).filter(Boolean),
      ...(homepage ? { homepage } : {}),
    });
  }
  return [...byVersion.values()].sort((a, b) => compareDebianVersions(b.version, a.version));
}

/** The source package that builds a binary package of this name, when there is one (for "did you mean"). */
export async function sourceOfBinaryName(name: string): Promise<string | undefined> {
  const r = await run('apt-cache', ['showsrc', name]);
  for (const p of parseDeb822(String(r.stdout))) {
    const binaries = (p.get('Binary') ?? '').split(/[\s,]+/);
    if (binaries.includes(name)) return p.get('Package');
  }
  return undefined;
}

/**
 * Downloads a source package's files (`.dsc`, orig tarball(s), Debian tarball or diff) into
 * `dir` with `apt-get source --download-only NAME=VERSION`, without unpacking them.
 * @param dir an absolute, empty folder; made writable for apt's `_apt` user
 * @throws {DebianPackageError} with apt's first error line (quoted) when apt fails
 */
export async function downloadSource(name: string, version: string, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.chmod(dir, 0o777); // apt downloads as the unprivileged _apt user when run as root
  const r = await run('apt-get', ['source', '--download-only', '-q', `${name}=${version}`], dir);
  if (r.exitCode !== 0) {
    const first = String(r.all).split('\n').find((l) => /^E:/.test(l)) ?? `apt-get source exited with ${r.exitCode}`;
    throw new DownloadError(name, `apt-get source --download-only ${name}=${version} failed: ${quote(first.replace(/^E:\s*/, ''))}`, 'check the network to the Debian archive, or name another version (NAME=VERSION)');
  }
}

/** What apt says about one binary package, as far as mapping it to a recipe needs. */
export interface BinaryPackage {
  readonly name: string;
  /** Its source package (`Source:` without the version; the package's own name when absent). */
  readonly source: string;
  /** `Multi-Arch:` (`foreign` for tools that serve any architecture, `same` for libraries), `''` when absent. */
  readonly multiArch: string;
  /** Set when the name is purely virtual: the real package chosen among its providers. */
  readonly providedBy?: string;
}

/**
 * Looks up binary packages: `apt-cache show --no-all-versions` for real ones, and for a name no
 * package has, its providers (`apt-cache showpkg`'s Reverse Provides, the first listed
 * taken; `libz-dev` is provided by `zlib1g-dev`).
 * @param names binary package names, each matching {@link PACKAGE_NAME}
 * @returns found packages by the name asked for; names apt does not know are absent
 */
export async function binaryPackages(names: readonly string[]): Promise<Map<string, BinaryPackage>> {
  const out = new Map<string, BinaryPackage>();
  if (!names.length) return out;
  const shown = async (list: readonly string[]) => {
    const r = await run('apt-cache', ['show', '--no-all-versions', ...list]);
    const found = new Map<string, { source: string; multiArch: string }>();
    for (const p of parseDeb822(String(r.stdout))) {
      const name = p.get('Package');
      if (!name || found.has(name)) continue;
      found.set(name, { source: (p.get('Source') ?? name).split(/\s/)[0], multiArch: p.get('Multi-Arch') ?? '' });
    }
    return found;
  };
  const real = await shown(names);
  for (const [name, v] of real) out.set(name, { name, ...v });
  const virtual = names.filter((n) => !real.has(n));
  if (virtual.length) {
    const r = await run('apt-cache', ['showpkg', ...virtual]);
    const providers = new Map<string, string>();
    for (const section of String(r.stdout).split(/^Package: /m).slice(1)) {
      const name = section.split('\n')[0].trim();
      const rp = /^Reverse Provides:\s*\n((?:\S.*\n?)*)/m.exec(section);
      const first = rp?.[1].split('\n')[0]?.split(' ')[0];
      if (first && PACKAGE_NAME.test(first) && !providers.has(name)) providers.set(name, first);
    }
    const provided = await shown([...new Set(providers.values())]);
    for (const [name, provider] of providers) {
      const p = provided.get(provider);
      if (p) out.set(name, { name, ...p, providedBy: provider });
    }
  }
  return out;
}

/** The https URL of a pool file in Debian's archive (the security archive for `pool/updates/`). */
export function poolUrl(directory: string, file: string): string {
  const archive = directory.startsWith('pool/updates/') ? 'https://deb.debian.org/debian-security' : 'https://deb.debian.org/debian';
  return `${archive}/${directory}/${encodeURIComponent(file).replace(/%2B/g, '+')}`;
}

/** Lists a folder's regular files (what apt-get source left), sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir);
  const files: string[] = [];
  for (const n of names.sort()) if ((await fs.lstat(path.join(dir, n))).isFile()) files.push(n);
  return files;
}
