import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { ABI_MANIFEST_FILE, manifestEntry, type AbiManifest } from '../packages/abi-manifest';
import { parseElf } from '../packages/elf';
import { parsePkginfo } from '../packages/pacman-package';
import { readBody, readTar, skipBody } from '../packages/tar-input';
import { scanTree } from '../util/file-tree';
import { dependencyName, providedNames, SANDBOX_PATHS, type LintFile, type LintPackage } from './lint';

/** Files larger than this are not read for ELF facts or sandbox paths (a package's data blobs). */
const MAX_READ_BYTES = 256 << 20;

const ELF_MAGIC = 0x7f454c46;

/** The package metadata entries, which are not files of the installed system. */
const METADATA = new Set(['.PKGINFO', '.BUILDINFO', '.MTREE', '.INSTALL', '.CHANGELOG']);

/**
 * What lint needs of one regular file's bytes: its ELF facts (a damaged ELF file gets none) and
 * the sandbox paths it mentions.
 */
export function describeBytes(bytes: Buffer): Pick<LintFile, 'elf' | 'buildRefs'> {
  let elf: LintFile['elf'];
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === ELF_MAGIC) {
    try {
      elf = parseElf(bytes);
    } catch {
      elf = undefined;
    }
  }
  const refs: string[] = [];
  for (const p of SANDBOX_PATHS) {
    // `/build/src` followed by `/`, a NUL, a quote, whitespace or the end: not `/build/srcfoo`.
    let at = bytes.indexOf(p);
    while (at >= 0) {
      const next = bytes[at + p.length];
      if (next === undefined || !/[A-Za-z0-9_.-]/.test(String.fromCharCode(next))) {
        refs.push(p);
        break;
      }
      at = bytes.indexOf(p, at + 1);
    }
  }
  return { ...(elf ? { elf } : {}), ...(refs.length ? { buildRefs: refs } : {}) };
}

/**
 * Reads a pacman package file for lint: its `.PKGINFO` and every entry with its ELF facts and
 * sandbox paths (files over 256 MiB are listed unread).
 * @param file absolute path of a `.pkg.tar.zst` (or any tar the project's reader takes)
 * @throws Error `<file>: not a pacman package (no .PKGINFO entry)`, or the tar reader's errors
 */
export async function readPackageForLint(file: string): Promise<LintPackage> {
  let pkginfo: Record<string, string[]> | undefined;
  const files: LintFile[] = [];
  await readTar(file, async (header, body) => {
    const rel = header.name.replace(/^\.\//, '').replace(/\/$/, '');
    if (METADATA.has(rel)) {
      if (rel === '.PKGINFO') pkginfo = parsePkginfo((await readBody(body, 1 << 20)).toString('utf8'), file);
      else await skipBody(header, body);
      return undefined;
    }
    const mode = (header.mode ?? 0) & 0o7777;
    if (header.type === 'directory') files.push({ rel, kind: 'dir', mode });
    else if (header.type === 'symlink') files.push({ rel, kind: 'symlink', mode: 0o777, target: header.linkname ?? '' });
    else if (header.type === 'link') files.push({ rel, kind: 'hardlink', mode, target: (header.linkname ?? '').replace(/^\.\//, '') });
    else if (header.type === 'file' || header.type === 'contiguous-file') {
      const size = header.size ?? 0;
      if (size > MAX_READ_BYTES) {
        await skipBody(header, body);
        files.push({ rel, kind: 'file', mode, size });
      } else files.push({ rel, kind: 'file', mode, size, ...describeBytes(await readBody(body, MAX_READ_BYTES)) });
      return undefined;
    } else files.push({ rel, kind: 'char', mode });
    await skipBody(header, body);
    return undefined;
  });
  if (!pkginfo) throw new Error(`${file}: not a pacman package (no .PKGINFO entry)`);
  return {
    name: pkginfo.pkgname?.[0] ?? path.basename(file),
    arch: pkginfo.arch?.[0] ?? '',
    depends: (pkginfo.depend ?? []).map(dependencyName),
    files,
  };
}

/**
 * Reads an installed package tree (a build's `$pkgdir`) for lint, as the package written from
 * it will hold it.
 * @param pkgdir absolute folder
 * @param meta the package's name, arch and depends names (what its `.PKGINFO` says)
 */
export async function readTreeForLint(pkgdir: string, meta: Pick<LintPackage, 'name' | 'arch' | 'depends'>): Promise<LintPackage> {
  const files: LintFile[] = [];
  for (const e of scanTree(pkgdir, 2 ** 31 - 1, 'which a package cannot carry')) {
    if (e.kind !== 'file') {
      files.push({ rel: e.rel, kind: e.kind, mode: e.mode, ...(e.target !== undefined ? { target: e.target } : {}) });
      continue;
    }
    const described = e.size > MAX_READ_BYTES ? {} : describeBytes(await fs.readFile(e.abs));
    files.push({ rel: e.rel, kind: 'file', mode: e.mode, size: e.size, ...described });
  }
  return { ...meta, depends: meta.depends.map(dependencyName), files };
}

/**
 * The library names a built package provides ({@link providedNames}): from the `abi.json`
 * beside it when there is one (its `shlib` lines name the sonames, its paths the file names;
 * cheap), else from the package file itself (`toolchain-runtime` has no `abi.json`); kept in
 * memory for the process while the file is unchanged.
 * @param packageFile absolute path of the `.pkg.tar.zst`
 */
export async function providedNamesOfPackage(packageFile: string): Promise<ReadonlySet<string>> {
  const st = await fs.stat(packageFile);
  const key = `${packageFile}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const cached = providedCache.get(key);
  if (cached) return cached;
  const names = await providedNamesUncached(packageFile);
  if (providedCache.size > 4096) providedCache.clear();
  providedCache.set(key, names);
  return names;
}

/** {@link providedNamesOfPackage}'s answers in this process, by file, size, mtime and inode (builds of one Nx worker share it). */
const providedCache = new Map<string, ReadonlySet<string>>();

async function providedNamesUncached(packageFile: string): Promise<Set<string>> {
  const manifest = path.join(path.dirname(packageFile), ABI_MANIFEST_FILE);
  if (existsSync(manifest)) {
    try {
      const abi = JSON.parse(readFileSync(manifest, 'utf8')) as AbiManifest;
      const files = Object.entries(abi.files).map(([rel, line]) => {
        const entry = manifestEntry(line);
        const kind: LintFile['kind'] = entry.kind === 'dir' ? 'dir' : entry.kind === 'symlink' ? 'symlink' : 'file';
        return { rel, kind, ...(entry.soname ? { elf: { soname: entry.soname } as LintFile['elf'] } : {}) };
      });
      return providedNames(files);
    } catch {
      // an unreadable manifest: read the package instead
    }
  }
  return providedNames((await readPackageForLint(packageFile)).files);
}
