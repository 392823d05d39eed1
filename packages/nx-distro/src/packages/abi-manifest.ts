import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseElf } from './elf';
import { scanTree } from '../util/file-tree';

/** The file a build writes beside its package, and that its dependents' cache keys read. */
export const ABI_MANIFEST_FILE = 'abi.json';

/**
 * What a package offers the builds that stage it into their sysroot, with everything a
 * dependent cannot observe left out, so a rebuilt dependency whose manifest is unchanged leaves
 * its dependents' cache keys unchanged (early cutoff; Yocto's hash equivalence does this with a
 * server, Bazel with its action cache).
 *
 * `files` maps every path of the package (relative, `/`-separated, sorted) to one line:
 * - `dir <mode>`, `symlink <target>`;
 * - a shared library (ELF with `DT_SONAME`): `shlib <mode> soname=<..> needed=<a,b>
 *   symbols=<sha256>`, the sha256 over its sorted exported dynamic symbols (`symbols` lists them
 *   by file): what a dependent links against. Its code is left out: a dependent linked
 *   against it holds no byte of it;
 * - any other file: `file <mode> <sha256 of its bytes>`: headers (macros and inline functions
 *   are compiled into dependents), pkg-config files, static archives, executables, data.
 *
 * Octal modes (mask 0o7777). The package's own metadata (`.PKGINFO`, `.BUILDINFO`, `.MTREE`)
 * is not in it: version and release do not reach a dependent's bytes. `format` changes when
 * these rules do.
 */
export interface AbiManifest {
  readonly format: 1;
  readonly files: Readonly<Record<string, string>>;
  /** Exported dynamic symbols per shared library path: `name[@[@]version] TYPE[ size][ weak]`, sorted. */
  readonly symbols: Readonly<Record<string, readonly string[]>>;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/**
 * Reads one line of {@link AbiManifest}'s `files` back: its kind (the line's first word: `dir`,
 * `symlink`, `hardlink`, `shlib`, `file`, ...) and, for a shared library, its `DT_SONAME`.
 * @param line a value of `files`, as {@link abiManifest} writes it
 */
export function manifestEntry(line: string): { kind: string; soname?: string } {
  const kind = line.split(' ', 1)[0];
  const soname = kind === 'shlib' ? / soname=(\S+)/.exec(line)?.[1] : undefined;
  return soname ? { kind, soname } : { kind };
}

/**
 * Makes the manifest of an installed package tree (`$pkgdir`).
 * @param pkgdir absolute folder
 * @throws Error when `readelf` (GNU binutils on the build machine; it reads every arch) fails on
 *   a shared library
 */
export async function abiManifest(pkgdir: string): Promise<AbiManifest> {
  const files: Record<string, string> = {};
  const symbols: Record<string, string[]> = {};
  for (const e of scanTree(pkgdir, 0, 'which a package cannot hold')) {
    const mode = (e.mode & 0o7777).toString(8).padStart(4, '0');
    if (e.kind === 'dir') files[e.rel] = `dir ${mode}`;
    else if (e.kind === 'symlink') files[e.rel] = `symlink ${e.target}`;
    else if (e.kind === 'hardlink') files[e.rel] = `hardlink ${e.target}`;
    else if (e.kind === 'file') {
      const bytes = await fs.readFile(e.abs);
      const elf = bytes.subarray(0, 4).equals(ELF_MAGIC) ? tryParseElf(bytes) : undefined;
      if (elf?.soname) {
        const list = await exportedSymbols(e.abs);
        symbols[e.rel] = list;
        files[e.rel] = `shlib ${mode} soname=${elf.soname} needed=${elf.needed.join(',')} symbols=${sha256(list.join('\n'))}`;
      } else files[e.rel] = `file ${mode} ${sha256(bytes)}`;
    } else files[e.rel] = `${e.kind} ${mode}`;
  }
  return { format: 1, files, symbols };
}

/**
 * The exported dynamic symbols of a shared library, from `readelf --dyn-syms --wide`: defined
 * (`Ndx` not `UND`), global, weak or unique binding, default or protected visibility; the size
 * is kept for data (`OBJECT`, `TLS`: a copy relocation in a dependent takes it), not for code.
 * @param file absolute path
 * @returns sorted lines `name[@[@]version] TYPE[ size][ weak]`
 */
export async function exportedSymbols(file: string): Promise<string[]> {
  // node's execFile, not execa: the plugin's graph code imports this module (for its file name)
  const { stdout } = await promisify(execFile)('readelf', ['--dyn-syms', '--wide', file], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 256 << 20 });
  const out = new Set<string>();
  for (const line of stdout.split('\n')) {
    // Num: Value Size Type Bind Vis [other] Ndx Name
    const m = /^\s*\d+:\s+[0-9a-f]+\s+(\d+|0x[0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+\[[^\]]*\])?\s+(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, size, type, bind, vis, ndx, name] = m;
    if (ndx === 'UND' || !['GLOBAL', 'WEAK', 'UNIQUE'].includes(bind) || !['DEFAULT', 'PROTECTED'].includes(vis)) continue;
    if (type === 'SECTION' || type === 'FILE') continue;
    const data = type === 'OBJECT' || type === 'TLS' ? ` ${Number(size)}` : '';
    out.add(`${name} ${type}${data}${bind === 'WEAK' ? ' weak' : ''}`);
  }
  return [...out].sort();
}

/**
 * Writes the manifest as `<outDir>/abi.json` (through a temporary file and a rename).
 * @returns the manifest's path
 */
export async function writeAbiManifest(pkgdir: string, outDir: string): Promise<string> {
  const manifest = await abiManifest(pkgdir);
  const file = path.join(outDir, ABI_MANIFEST_FILE);
  await fs.writeFile(`${file}.tmp`, JSON.stringify(manifest, null, 1) + '\n');
  await fs.rename(`${file}.tmp`, file);
  return file;
}

function tryParseElf(bytes: Buffer) {
  try {
    return parseElf(bytes);
  } catch {
    return undefined; // a damaged or foreign file: hashed as data
  }
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
