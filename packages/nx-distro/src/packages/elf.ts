import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';

/**
 * A minimal ELF reader: the few facts about an executable or shared library that packaging the
 * toolchain's C runtime needs, read from the file's own headers (no `readelf`).
 *
 * Reference: the System V ABI's ELF chapters (gABI, "Object Files": ELF header, program header,
 * dynamic section) and glibc's `elf/elf.h` for the constants. 32- and 64-bit, little- and
 * big-endian files are read; section headers are not used (a stripped file has them, a file
 * with damaged ones still loads, and the dynamic loader itself reads only program headers).
 */

/** `e_machine` values of the system targets' architectures (glibc `elf/elf.h`). */
export const EM = {
  /** `EM_386`, 32-bit x86. */
  I386: 3,
  /** `EM_ARM`, 32-bit ARM (armv7h). */
  ARM: 40,
  /** `EM_X86_64`, x86-64. */
  X86_64: 62,
  /** `EM_AARCH64`, 64-bit ARM. */
  AARCH64: 183,
  /** `EM_RISCV`, RISC-V (32 or 64-bit, see {@link ElfInfo.bits}). */
  RISCV: 243,
} as const;

/** What {@link readElf} finds in one ELF file. */
export interface ElfInfo {
  /** `EI_CLASS`: 32 or 64. */
  readonly bits: 32 | 64;
  /** `EI_DATA`: byte order. */
  readonly endian: 'little' | 'big';
  /** `e_type`: 2 `ET_EXEC` (executable), 3 `ET_DYN` (shared object or PIE), 1 `ET_REL`, 4 `ET_CORE`. */
  readonly type: number;
  /** `e_machine`, see {@link EM}. */
  readonly machine: number;
  /** The program interpreter (`PT_INTERP`, the dynamic loader's absolute path, e.g. `/lib/ld-linux-aarch64.so.1`); absent for static files and libraries. */
  readonly interpreter?: string;
  /** `DT_SONAME` of a shared library (e.g. `libstdc++.so.6`); absent when not set. */
  readonly soname?: string;
  /** `DT_NEEDED` entries in file order (e.g. `['libm.so.6', 'libc.so.6']`). */
  readonly needed: readonly string[];
  /** `DT_RPATH`, as stored (colon-separated folders, `$ORIGIN` unexpanded); absent when not set. */
  readonly rpath?: string;
  /** `DT_RUNPATH`, as stored; absent when not set. */
  readonly runpath?: string;
  /**
   * The GNU build-id (the `NT_GNU_BUILD_ID` note of a `PT_NOTE` segment, what `ld --build-id`
   * writes), as lowercase hex (40 digits for `sha1`); absent when the file has none (object
   * files: they have no program headers).
   */
  readonly buildId?: string;
  /**
   * The symbol versions the file needs, per library (`DT_VERNEED`: the `.gnu.version_r` entries
   * `ld` writes for versioned references, e.g. `{ file: 'libc.so.6', versions: ['GLIBC_2.17'] }`),
   * in file order; empty when it has none.
   */
  readonly versionNeeds: readonly VersionNeed[];
  /** The symbol versions the file defines (`DT_VERDEF`, `.gnu.version_d`; a library's own name first, e.g. `libgcc_s.so.1`, then `GCC_3.0`...); empty when it has none. */
  readonly versionDefinitions: readonly string[];
}

/** One `Elf_Verneed` entry with its `Elf_Vernaux` names (GNU symbol versioning, the LSB's "Symbol Versioning" chapter). */
export interface VersionNeed {
  /** The library the versions come from (`vn_file`, a `DT_NEEDED` name such as `libgcc_s.so.1`). */
  readonly file: string;
  /** The version names needed from it (`vna_name`, e.g. `GCC_3.0`, `GLIBC_2.17`). */
  readonly versions: readonly string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_NOTE = 4;
const NT_GNU_BUILD_ID = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const DT_VERDEF = 0x6ffffffc;
const DT_VERDEFNUM = 0x6ffffffd;
const DT_VERNEED = 0x6ffffffe;
const DT_VERNEEDNUM = 0x6fffffff;

/**
 * Reads the ELF header, the program headers and the dynamic section of a file (`DT_SONAME`,
 * `DT_NEEDED`, `DT_RPATH`, `DT_RUNPATH`, the symbol version tables `DT_VERNEED` and `DT_VERDEF`).
 * @param file path of the file (it is read whole: meant for executables and libraries)
 * @returns see {@link ElfInfo}
 * @throws Error `<file>: not an ELF file` (or `damaged ELF file: <what>`) when the headers are
 *   missing or point outside the file; the file system's error when it cannot be read
 */
export function readElf(file: string): ElfInfo {
  return parseElf(readFileSync(file), file);
}

/**
 * {@link readElf} on bytes already read.
 * @param where the file name shown in errors
 */
export function parseElf(buf: Buffer, where = 'ELF file'): ElfInfo {
  const { fail, is64, le, u16, u32, u64 } = elfReader(buf, where);
  const addr = is64 ? u64 : u32;
  const need = (offset: number, length: number, what: string) => {
    if (offset < 0 || length < 0 || offset + length > buf.length) fail(`${what} lies outside the file`);
  };
  if (is64) need(0, 64, 'the ELF header');

  const type = u16(16);
  const machine = u16(18);
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  interface Phdr { type: number; offset: number; vaddr: number; filesz: number; align: number }
  const phdrs: Phdr[] = [];
  if (phnum > 0) {
    if (phentsize < (is64 ? 56 : 32)) fail(`e_phentsize ${phentsize}`);
    need(phoff, phnum * phentsize, 'the program header table');
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      phdrs.push(
        is64
          ? { type: u32(o), offset: u64(o + 8), vaddr: u64(o + 16), filesz: u64(o + 32), align: u64(o + 48) }
          : { type: u32(o), offset: u32(o + 4), vaddr: u32(o + 8), filesz: u32(o + 16), align: u32(o + 28) },
      );
    }
  }
  const cString = (offset: number, what: string): string => {
    need(offset, 1, what);
    const end = buf.indexOf(0, offset);
    if (end < 0) fail(`${what} is not NUL-terminated`);
    return buf.toString('utf8', offset, end);
  };

  let interpreter: string | undefined;
  const interp = phdrs.find((p) => p.type === PT_INTERP);
  if (interp) {
    need(interp.offset, interp.filesz, 'PT_INTERP');
    interpreter = cString(interp.offset, 'PT_INTERP');
  }

  let soname: string | undefined;
  let rpath: string | undefined;
  let runpath: string | undefined;
  const needed: string[] = [];
  const versionNeeds: VersionNeed[] = [];
  const versionDefinitions: string[] = [];
  const dyn = phdrs.find((p) => p.type === PT_DYNAMIC);
  if (dyn) {
    need(dyn.offset, dyn.filesz, 'PT_DYNAMIC');
    const entSize = is64 ? 16 : 8;
    const entries: [number, number][] = [];
    for (let o = dyn.offset; o + entSize <= dyn.offset + dyn.filesz; o += entSize) {
      const tag = is64 ? u64(o) : u32(o);
      if (tag === DT_NULL) break;
      entries.push([tag, addr(o + entSize / 2)]);
    }
    const value = (tag: number) => entries.find(([t]) => t === tag)?.[1];
    // Dynamic entries hold virtual addresses: map one through the PT_LOAD segment holding it.
    const fileOffset = (vaddr: number, what: string): number => {
      const load = phdrs.find((p) => p.type === PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz);
      return load ? load.offset + (vaddr - load.vaddr) : fail(`${what} is in no PT_LOAD segment`);
    };
    const strtabVaddr = value(DT_STRTAB);
    const stringsAt = (index: number, what: string): string => {
      if (strtabVaddr === undefined) return fail(`${what} without DT_STRTAB`);
      return cString(fileOffset(strtabVaddr, 'DT_STRTAB') + index, what);
    };
    for (const [tag, val] of entries) {
      if (tag === DT_SONAME) soname = stringsAt(val, 'DT_SONAME');
      else if (tag === DT_NEEDED) needed.push(stringsAt(val, 'DT_NEEDED'));
      else if (tag === DT_RPATH) rpath = stringsAt(val, 'DT_RPATH');
      else if (tag === DT_RUNPATH) runpath = stringsAt(val, 'DT_RUNPATH');
    }
    // Elf_Verneed (16 bytes in both classes): vn_version, vn_cnt (u16), vn_file, vn_aux, vn_next
    // (u32, the last two relative to the entry); Elf_Vernaux (16): vna_hash (u32), vna_flags,
    // vna_other (u16), vna_name, vna_next (u32).
    const verneed = value(DT_VERNEED);
    if (verneed !== undefined) {
      let o = fileOffset(verneed, 'DT_VERNEED');
      for (let i = 0, n = value(DT_VERNEEDNUM) ?? 0; i < n; i++) {
        need(o, 16, 'an Elf_Verneed entry');
        const versions: string[] = [];
        let a = o + u32(o + 8);
        for (let j = 0, cnt = u16(o + 2); j < cnt; j++) {
          need(a, 16, 'an Elf_Vernaux entry');
          versions.push(stringsAt(u32(a + 8), 'vna_name'));
          a += u32(a + 12);
        }
        versionNeeds.push({ file: stringsAt(u32(o + 4), 'vn_file'), versions });
        o += u32(o + 12);
      }
    }
    // Elf_Verdef (20 bytes): vd_version, vd_flags, vd_ndx, vd_cnt (u16), vd_hash, vd_aux, vd_next
    // (u32); its first Elf_Verdaux (8): vda_name, vda_next (u32) names the version.
    const verdef = value(DT_VERDEF);
    if (verdef !== undefined) {
      let o = fileOffset(verdef, 'DT_VERDEF');
      for (let i = 0, n = value(DT_VERDEFNUM) ?? 0; i < n; i++) {
        need(o, 20, 'an Elf_Verdef entry');
        const aux = o + u32(o + 12);
        need(aux, 8, 'an Elf_Verdaux entry');
        versionDefinitions.push(stringsAt(u32(aux), 'vda_name'));
        o += u32(o + 16);
      }
    }
  }
  // Notes (gABI "Note Section"): namesz, descsz, type, then the name and the descriptor, each
  // padded to the segment's alignment (4, or 8 for an 8-aligned segment).
  let buildId: string | undefined;
  for (const note of phdrs.filter((p) => p.type === PT_NOTE)) {
    need(note.offset, note.filesz, 'PT_NOTE');
    const pad = note.align === 8 ? 8 : 4;
    const round = (n: number) => Math.ceil(n / pad) * pad;
    for (let o = note.offset; o + 12 <= note.offset + note.filesz && buildId === undefined;) {
      const namesz = u32(o);
      const descsz = u32(o + 4);
      const ntype = u32(o + 8);
      const nameAt = o + 12;
      const descAt = nameAt + round(namesz);
      need(descAt, descsz, 'a note');
      if (ntype === NT_GNU_BUILD_ID && namesz === 4 && buf.toString('latin1', nameAt, nameAt + 3) === 'GNU' && descsz > 0) buildId = buf.toString('hex', descAt, descAt + descsz);
      o = descAt + round(descsz);
    }
    if (buildId !== undefined) break;
  }
  return { bits: is64 ? 64 : 32, endian: le ? 'little' : 'big', type, machine, ...(interpreter !== undefined ? { interpreter } : {}), ...(soname !== undefined ? { soname } : {}), needed, ...(rpath !== undefined ? { rpath } : {}), ...(runpath !== undefined ? { runpath } : {}), ...(buildId !== undefined ? { buildId } : {}), versionNeeds, versionDefinitions };
}

/**
 * Whether a folder holds an ELF file that needs a C runtime at run time: a program with a
 * program interpreter (`PT_INTERP`, the dynamic loader) or any file with `DT_NEEDED` entries.
 * Static programs, a C library's own `libc.so` (no interpreter, nothing needed), object files,
 * `ar` archives and non-ELF files (a kernel image, scripts, data) do not. Symbolic links are
 * not followed.
 * @param dir absolute path of the folder (e.g. a build's `$pkgdir`)
 * @returns the first such file, as a path relative to `dir`, or undefined when there is none
 * @throws the file system's error when the folder cannot be read; a damaged ELF file counts as
 *   needing the runtime (the loader would try it) rather than failing
 */
export async function firstDynamicElf(dir: string): Promise<string | undefined> {
  const files = (await fg('**', { cwd: dir, onlyFiles: true, dot: true, followSymbolicLinks: false })).sort();
  for (const rel of files) {
    const file = path.join(dir, rel);
    const handle = await fs.open(file, 'r');
    let magic: Buffer;
    try {
      magic = Buffer.alloc(4);
      if ((await handle.read(magic, 0, 4, 0)).bytesRead < 4 || magic.readUInt32BE(0) !== 0x7f454c46) continue;
    } finally {
      await handle.close();
    }
    try {
      const info = parseElf(await fs.readFile(file), file);
      if (info.interpreter !== undefined || info.needed.length > 0) return rel;
    } catch {
      return rel;
    }
  }
  return undefined;
}

/**
 * The section names of an ELF file, from its section header table and the section-name string
 * table (`e_shstrndx`; gABI "Sections"), in table order (e.g. `['', '.interp', ..., '.symtab',
 * '.strtab', '.shstrtab']`). Used to tell whether a file still has something to strip (`.symtab`,
 * `.debug_*`).
 * @param buf the whole file
 * @param where the file name shown in errors
 * @returns the names; empty when the file has no section header table
 * @throws Error `<where>: not an ELF file` or `<where>: damaged ELF file: <what>` when the table or
 *   its string table lies outside the file
 */
export function sectionNames(buf: Buffer, where = 'ELF file'): string[] {
  const { fail, is64, u16, u32, u64 } = elfReader(buf, where);
  if (is64 && buf.length < 64) fail('the ELF header lies outside the file');
  const shoff = is64 ? u64(40) : u32(32);
  const shentsize = u16(is64 ? 58 : 46);
  const shnum = u16(is64 ? 60 : 48);
  const shstrndx = u16(is64 ? 62 : 50);
  if (shoff === 0 || shnum === 0) return [];
  if (shentsize < (is64 ? 64 : 40)) fail(`e_shentsize ${shentsize}`);
  if (shoff + shnum * shentsize > buf.length) fail('the section header table lies outside the file');
  if (shstrndx >= shnum) fail(`e_shstrndx ${shstrndx}`);
  const header = (i: number) => {
    const o = shoff + i * shentsize;
    return { name: u32(o), offset: is64 ? u64(o + 24) : u32(o + 16), size: is64 ? u64(o + 32) : u32(o + 20) };
  };
  const strtab = header(shstrndx);
  if (strtab.offset + strtab.size > buf.length) fail('the section-name string table lies outside the file');
  const names: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = strtab.offset + header(i).name;
    const end = buf.indexOf(0, at);
    if (at >= strtab.offset + strtab.size || end < 0 || end >= strtab.offset + strtab.size) fail(`the name of section ${i} lies outside its string table`);
    names.push(buf.toString('latin1', at, end));
  }
  return names;
}

/**
 * The ELF identification of `buf` checked (magic, `EI_CLASS`, `EI_DATA`) and readers of its
 * integers in its byte order.
 * @throws Error `<where>: not an ELF file`, or `<where>: damaged ELF file: <what>` from `fail`
 */
function elfReader(buf: Buffer, where: string) {
  const fail = (what: string): never => {
    throw new Error(`${where}: damaged ELF file: ${what}`);
  };
  if (buf.length < 52 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${where}: not an ELF file`);
  const cls = buf[4];
  const data = buf[5];
  if (cls !== 1 && cls !== 2) fail(`EI_CLASS ${cls}`);
  if (data !== 1 && data !== 2) fail(`EI_DATA ${data}`);
  const le = data === 1;
  const u64 = (o: number) => {
    const v = le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`value at offset ${o} is out of range`);
    return Number(v);
  };
  return {
    fail,
    is64: cls === 2,
    le,
    u16: (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o)),
    u32: (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o)),
    u64,
  };
}
