import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execaSync } from 'execa';
import { parseElf } from './elf';

/**
 * Checks that built files inherit nothing from the build machine's toolchains: the proof a
 * "greenfield" system (Funtoo From Scratch's word: built by a toolchain bootstrapped from source)
 * asks for. Each ELF file under a folder (an extracted package, a rootfs) is checked:
 *
 * - its program interpreter (`PT_INTERP`), when it has one, is the expected loader (musl's
 *   `/lib/ld-musl-<arch>.so.1`), never glibc's `ld-linux*`;
 * - no `DT_NEEDED` entry names a glibc library (`libc.so.6`, `ld-linux*`);
 * - its `.comment` section (`readelf -p .comment`, binutils: where each compiler that built an
 *   object file writes `GCC: (<pkgversion>) <version>`) names no distributor's compiler build
 *   (`Debian`, `Ubuntu`);
 * - its bytes hold none of the build machine's library paths (`/usr/lib/<triplet>`,
 *   `/usr/<triplet>/` of a Debian cross toolchain, `/build/sysroot`, the build sandbox's
 *   sysroot) nor glibc symbol versions (`GLIBC_2.`);
 * - it needs no `GLIBC_*` symbol version of a library other than GCC's `libgcc_s`.
 *
 * One `GLIBC_2.` string is GCC's own, not glibc's: `libgcc_s.so.1` of every `*-linux*` target,
 * musl's too, exports its frame-registration functions (`__register_frame_info`...) under a
 * version node named `GLIBC_2.0` (gcc `libgcc/config/t-linux`, `libgcc/config/libgcc-glibc.ver`),
 * and on musl `crtbegin.o` calls them (no `PT_GNU_EH_FRAME` lookup without `__GLIBC__`:
 * `libgcc/crtstuff.c`), so a C++ program linked with `libgcc_s` needs `GLIBC_2.0` of
 * `libgcc_s.so.1`. Those names (the version string, or `<symbol>@GLIBC_2.0` in a symbol table)
 * are allowed when the file's own version tables explain them: versions it needs from
 * `libgcc_s.so.*`, or defines as `libgcc_s.so.*` itself.
 */

/** One finding: the file (relative to the folder checked) and what is wrong with it. */
export interface GreenfieldProblem {
  readonly file: string;
  readonly problem: string;
}

/** What {@link greenfieldProblems} expects. */
export interface GreenfieldExpectation {
  /** The only program interpreter allowed (absolute path, e.g. `/lib/ld-musl-aarch64.so.1`). */
  readonly loader: string;
  /** Strings no file may hold, besides the built-in ones (e.g. another triplet's paths). */
  readonly forbidden?: readonly string[];
}

/** Compiler builds a `.comment` entry must not name: the distributions whose compilers the build machine has. */
const DISTRIBUTOR_COMPILERS = /\b(Debian|Ubuntu)\b/;

/** Paths and names of the build machine's toolchains and C library that must not reach a greenfield file. */
const BUILD_MACHINE_STRINGS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/aarch64-linux-gnu/',
  '/usr/arm-linux-gnueabihf/',
  '/usr/riscv64-linux-gnu/',
  '/usr/x86_64-linux-gnu/',
  '/build/sysroot',
  'GLIBC_2.',
];

/** GCC's runtime library, whose `GLIBC_2.0` version node is GCC's own (see the module comment). */
const LIBGCC_S = /^libgcc_s\.so(\.\d+)*$/;

/**
 * Whether `buf` holds `s` anywhere but as one of `allowed` (symbol version names): an occurrence
 * is allowed when the whole NUL-terminated string starting there is an allowed name and it
 * starts a string (after a NUL: a string table entry) or follows `@` (`<symbol>@<version>` or
 * `@@<version>`, the names binutils writes into `.symtab`).
 */
function holds(buf: Buffer, s: string, allowed: ReadonlySet<string>): boolean {
  for (let at = buf.indexOf(s); at >= 0; at = buf.indexOf(s, at + 1)) {
    const end = buf.indexOf(0, at);
    const before = at > 0 ? buf[at - 1] : 0;
    if (end < 0 || !(before === 0 || before === 0x40) || !allowed.has(buf.toString('latin1', at, end))) return true;
  }
  return false;
}

/** `.comment` strings of an ELF file (`readelf -p .comment`), empty when it has none. */
export function elfComments(file: string): string[] {
  let out: string;
  try {
    out = execaSync('readelf', ['-p', '.comment', file], { stdin: 'ignore' }).stdout;
  } catch {
    return [];
  }
  return out.split('\n').map((l) => /^\s*\[\s*[0-9a-f]+\]\s+(.*)$/.exec(l)?.[1]).filter((s): s is string => s !== undefined);
}

/**
 * Every problem of every ELF file under `dir` (symbolic links not followed).
 * @param dir absolute folder
 * @returns problems sorted by file; empty when the folder is greenfield
 * @throws the file system's error when the folder cannot be read
 */
export async function greenfieldProblems(dir: string, expect: GreenfieldExpectation): Promise<GreenfieldProblem[]> {
  const problems: GreenfieldProblem[] = [];
  const forbidden = [...BUILD_MACHINE_STRINGS, ...(expect.forbidden ?? [])];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const abs = path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const rel = path.relative(dir, abs);
    const buf = await fs.readFile(abs);
    if (buf.length < 4 || buf.readUInt32BE(0) !== 0x7f454c46) continue;
    const add = (problem: string) => problems.push({ file: rel, problem });
    const libgccVersions = new Set<string>();
    try {
      const elf = parseElf(buf, rel);
      if (elf.interpreter !== undefined && elf.interpreter !== expect.loader) add(`program interpreter ${elf.interpreter}, not ${expect.loader}`);
      for (const n of elf.needed) if (n === 'libc.so.6' || n.startsWith('ld-linux')) add(`needs glibc's ${n}`);
      for (const { file, versions } of elf.versionNeeds) {
        for (const v of versions) {
          if (LIBGCC_S.test(file)) libgccVersions.add(v);
          else if (v.startsWith('GLIBC_')) add(`needs glibc's symbol version ${v} (of ${file})`);
        }
      }
      if (elf.soname !== undefined && LIBGCC_S.test(elf.soname)) for (const v of elf.versionDefinitions) libgccVersions.add(v);
    } catch (e) {
      add((e as Error).message);
    }
    for (const c of elfComments(abs)) if (DISTRIBUTOR_COMPILERS.test(c)) add(`.comment names a distributor's compiler: ${c}`);
    for (const s of forbidden) if (holds(buf, s, libgccVersions)) add(`holds the build machine's ${JSON.stringify(s)}`);
  }
  return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
