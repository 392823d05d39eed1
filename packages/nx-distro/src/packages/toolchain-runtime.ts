import { promises as fs, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ReportedError } from '../model/errors';
import { readElf } from './elf';

/**
 * The C runtime of an external cross toolchain, packaged from the toolchain's own files: the
 * approach of Buildroot's "external toolchain" backend (`toolchain/toolchain-external/`, whose
 * `copy_toolchain_lib_root` copies the loader and the shared libraries of the toolchain's
 * sysroot into the target root, following symlinks and keeping the sonames), so that a system
 * image built from the packages is complete without the build machine's sysroot.
 *
 * The toolchain is asked, not assumed: its version (`<prefix>gcc -dumpfullversion`), the
 * dynamic loader its programs request (the `PT_INTERP` of a tiny program it links with the
 * target's flags) and where each library is (`<prefix>gcc -print-file-name=<soname>`, i.e. its
 * own search path, whatever the target file's `sysroot` says: Debian's native
 * `x86_64-linux-gnu-gcc` has sysroot `/` and its C library in `/usr/lib/x86_64-linux-gnu`).
 * Only glibc toolchains are supported (the libraries are glibc's and gcc's).
 */

/** The package's name. */
export const RUNTIME_PACKAGE = 'toolchain-runtime';

/** Licenses of what is packaged: glibc (LGPL-2.1-or-later) and gcc's runtime libraries (libgcc_s, libstdc++, libatomic, libgomp). */
export const RUNTIME_LICENSES: readonly string[] = ['LGPL-2.1-or-later', 'GPL-3.0-or-later WITH GCC-exception-3.1'];

/** One shared library looked up through the compiler. */
export interface RuntimeLibrarySpec {
  /** The soname, which is also the file name asked for and the name in the package (`libm.so.6`). */
  readonly soname: string;
  /** Whether a glibc gcc toolchain without it is refused as incomplete. */
  readonly required: boolean;
}

/**
 * The shared libraries a program built by a glibc gcc toolchain may need at run time (besides
 * the dynamic loader, found through `PT_INTERP`): glibc's public libraries (libmvec because
 * `libm.so` links it as needed on x86-64 and aarch64; the files and dns NSS modules, which
 * `getpwnam`/`getaddrinfo` load with `dlopen`) and gcc's runtime libraries. Optional ones are
 * packaged when the toolchain has them. Not packaged: the sanitizer runtimes (debugging, several
 * MB each), libthread_db, libc_malloc_debug, libmemusage, libpcprofile, libnsl (a compatibility
 * library without a link-time name), libBrokenLocale and the compat and hesiod NSS modules.
 */
export const RUNTIME_LIBRARIES: readonly RuntimeLibrarySpec[] = [
  { soname: 'libc.so.6', required: true },
  { soname: 'libm.so.6', required: true },
  { soname: 'libmvec.so.1', required: false },
  { soname: 'libpthread.so.0', required: false },
  { soname: 'libdl.so.2', required: false },
  { soname: 'librt.so.1', required: false },
  { soname: 'libresolv.so.2', required: false },
  { soname: 'libutil.so.1', required: false },
  { soname: 'libanl.so.1', required: false },
  { soname: 'libnss_files.so.2', required: false },
  { soname: 'libnss_dns.so.2', required: false },
  { soname: 'libgcc_s.so.1', required: true },
  { soname: 'libstdc++.so.6', required: false },
  { soname: 'libatomic.so.1', required: false },
  { soname: 'libgomp.so.1', required: false },
];

/** Top-level folders a dynamic loader may be requested from, linked to `usr/lib` (merged /usr, Arch's `filesystem` package). */
const LOADER_DIRS = new Set(['/lib', '/lib64', '/lib32', '/libx32', '/usr/lib']);

/** A problem with the toolchain on the build machine (missing, broken, not glibc): one line, no stack. */
export class ToolchainError extends ReportedError {
  constructor(message: string) {
    super(message);
    this.name = 'ToolchainError';
  }
}

/** One file of the runtime: where it is on the build machine and its name in the package. */
export interface RuntimeLibrary {
  /** File name in `/usr/lib` of the package: the library's `DT_SONAME` (`libstdc++.so.6`), for the loader the basename of `PT_INTERP`. */
  readonly name: string;
  /** Absolute path of the real file on the build machine, symlinks resolved (`/usr/aarch64-linux-gnu/lib/libstdc++.so.6.0.30`). */
  readonly source: string;
  /** Its `DT_NEEDED` entries. */
  readonly needed: readonly string[];
}

/** What {@link probeToolchainRuntime} found out about a toolchain. */
export interface ToolchainRuntime {
  /** The compiler asked: `<prefix>gcc`. */
  readonly compiler: string;
  /** gcc's full version, `-dumpfullversion` (`12.2.0`). */
  readonly gccVersion: string;
  /** glibc's version from the banner inside `libc.so.6` (`2.36`). */
  readonly glibcVersion: string;
  /** Who built glibc, from the same banner (`Debian GLIBC 2.36-8`), or `''` when it names nobody. */
  readonly glibcDistributor: string;
  /** pacman pkgver: see {@link runtimePkgver} (`2.36+gcc12.2.0`). */
  readonly pkgver: string;
  /** The absolute `PT_INTERP` of programs the toolchain links (`/lib/ld-linux-aarch64.so.1`). */
  readonly interpreter: string;
  /** `e_machine` of those programs (see `EM` in ./elf.ts); every packaged file has it too. */
  readonly machine: number;
  /** ELF class of those programs. */
  readonly bits: 32 | 64;
  /** The loader first, then the libraries of {@link RUNTIME_LIBRARIES} found, in that order. */
  readonly libraries: readonly RuntimeLibrary[];
  /** Optional sonames the toolchain does not have. */
  readonly missing: readonly string[];
  /** Folders linked to `usr/lib` in the package, without the leading `/` (`['lib']`, `['lib', 'lib64']`). */
  readonly links: readonly string[];
}

/**
 * glibc's version and distributor, from the banner every `libc.so.6` carries (glibc's
 * `csu/version.c`: `GNU C Library <PKGVERSION> <release> release version <VERSION>.`, e.g.
 * `GNU C Library (Debian GLIBC 2.36-8) stable release version 2.36.`).
 * @param libc the bytes of `libc.so.6`
 * @returns `{ version: '2.36', distributor: 'Debian GLIBC 2.36-8' }`, or undefined when there is no banner (not glibc)
 */
export function glibcVersionOf(libc: Buffer): { version: string; distributor: string } | undefined {
  const at = libc.indexOf('GNU C Library ');
  if (at < 0) return undefined;
  const end = libc.indexOf(0, at);
  const banner = libc.toString('latin1', at, end < 0 ? Math.min(libc.length, at + 400) : end);
  const m = /^GNU C Library (?:\(([^)]*)\) )?.*?release version (\d+\.\d+(?:\.\d+)?)/.exec(banner);
  return m ? { version: m[2], distributor: m[1] ?? '' } : undefined;
}

/**
 * The package version: `<glibc>+gcc<gcc>` (`2.36+gcc12.2.0`), so that either upgrade gives a
 * newer version by pacman's `vercmp` (alpm's rpmvercmp: `+` separates segments like `.`).
 * @throws ToolchainError when a version holds something pacman forbids in a pkgver (`-`, `:`, `/`, whitespace) or anything but letters, digits, `.`, `_`, `+`, `~`
 */
export function runtimePkgver(glibcVersion: string, gccVersion: string): string {
  const pkgver = `${glibcVersion}+gcc${gccVersion}`;
  if (!/^[A-Za-z0-9._+~]+$/.test(pkgver)) throw new ToolchainError(`cannot make a pacman pkgver of glibc ${JSON.stringify(glibcVersion)} and gcc ${JSON.stringify(gccVersion)}`);
  return pkgver;
}

/** Where the runtime's files go, relative to the package root. */
export const RUNTIME_LIBDIR = 'usr/lib';

/**
 * The top-level folders to link to `usr/lib` so that the loader path in binaries resolves:
 * always `lib` (merged /usr), plus the interpreter's own folder when it is another one
 * (`lib64` for x86-64's `/lib64/ld-linux-x86-64.so.2`).
 * @param interpreter absolute `PT_INTERP`
 * @throws ToolchainError when the loader lives elsewhere than `/lib`, `/lib64`, `/lib32`, `/libx32` or `/usr/lib`
 */
export function loaderLinks(interpreter: string): string[] {
  const dir = path.posix.dirname(interpreter);
  if (!path.posix.isAbsolute(interpreter) || !LOADER_DIRS.has(dir)) {
    throw new ToolchainError(`the toolchain's programs request the dynamic loader ${interpreter}; only loaders in ${[...LOADER_DIRS].join(', ')} can be packaged`);
  }
  const links = new Set(['lib']);
  if (dir !== '/usr/lib') links.add(dir.slice(1));
  return [...links].sort();
}

/** Runs the compiler; returns its stdout. */
async function runCompiler(compiler: string, args: string[], cwd: string, hint: string): Promise<string> {
  let r;
  try {
    r = await execa(compiler, args, { cwd, reject: false, all: true, env: { LC_ALL: 'C' } });
  } catch (e) {
    throw new ToolchainError(`cannot run ${compiler}: ${(e as Error).message}; ${hint}`);
  }
  if ((r as { code?: string }).code === 'ENOENT') throw new ToolchainError(`cannot run ${compiler}: not found; ${hint}`);
  if (r.failed) {
    throw new ToolchainError(`${compiler} ${args.join(' ')} failed (exit ${r.exitCode ?? r.signal}): ${String(r.all ?? '').trim().split('\n').slice(0, 3).join(' | ')}`);
  }
  return String(r.stdout).trim();
}

/** Options of {@link probeToolchainRuntime}. */
export interface ProbeOptions {
  /** The toolchain's program prefix (`aarch64-linux-gnu-`): the compiler is `<prefix>gcc`. */
  readonly prefix: string;
  /** The target's compiler flags (`cflags`, whitespace-separated), which can select the ABI and so the loader. */
  readonly cflags?: string;
  /** The target's linker flags (`ldflags`). */
  readonly ldflags?: string;
  /** Appended to "cannot run <compiler>" (e.g. `install gcc-aarch64-linux-gnu (tools/setup-host)`). */
  readonly installHint?: string;
}

/**
 * Finds the C runtime of a glibc gcc toolchain on the build machine:
 * 1. gcc's version (`-dumpfullversion`);
 * 2. the dynamic loader: a `int main(void){return 0;}` is compiled and linked in a temporary
 *    folder with the target's `cflags` and `ldflags`, and its `PT_INTERP` read;
 * 3. each library of {@link RUNTIME_LIBRARIES}, and the loader by its basename, through
 *    `<prefix>gcc <cflags> -print-file-name=<soname>` (gcc prints the name unchanged when its
 *    search path has no such file), symlinks resolved;
 * 4. checks: every file is an ELF shared object of the program's machine and class; each
 *    library's `DT_SONAME` is the name asked for; every `DT_NEEDED` of a packaged file is itself
 *    packaged (so the set is closed);
 * 5. glibc's version from the banner in `libc.so.6`.
 * @returns see {@link ToolchainRuntime}
 * @throws ToolchainError when the compiler is missing or fails, links static programs, the
 *   loader lives in an unsupported folder, a required library is missing, a file is of another
 *   architecture, a soname differs, the set is not closed, or `libc.so.6` is not glibc's
 */
export async function probeToolchainRuntime(options: ProbeOptions): Promise<ToolchainRuntime> {
  const compiler = `${options.prefix}gcc`;
  const hint = options.installHint ?? 'install the toolchain (tools/setup-host)';
  const cflags = (options.cflags ?? '').split(/\s+/).filter(Boolean);
  const ldflags = (options.ldflags ?? '').split(/\s+/).filter(Boolean);
  const work = mkdtempSync(path.join(tmpdir(), 'nx-distro-toolchain-'));
  try {
    const gccVersion = await runCompiler(compiler, ['-dumpfullversion'], work, hint);
    writeFileSync(path.join(work, 'probe.c'), 'int main(void) { return 0; }\n');
    await runCompiler(compiler, [...cflags, ...ldflags, '-o', 'probe', 'probe.c'], work, hint);
    const program = readElf(path.join(work, 'probe'));
    if (!program.interpreter) throw new ToolchainError(`${compiler} links static programs (no PT_INTERP): there is no C runtime to package`);
    const interpreter = program.interpreter;
    const links = loaderLinks(interpreter);
    const loaderName = path.posix.basename(interpreter);

    const lookup = async (soname: string): Promise<string | undefined> => {
      const found = await runCompiler(compiler, [...cflags, `-print-file-name=${soname}`], work, hint);
      if (found === soname || !path.isAbsolute(found)) return undefined;
      try {
        return realpathSync(found);
      } catch {
        return undefined; // a dangling symlink: as good as missing
      }
    };
    const specs: RuntimeLibrarySpec[] = [{ soname: loaderName, required: true }, ...RUNTIME_LIBRARIES.filter((s) => s.soname !== loaderName)];
    const sources = await Promise.all(specs.map((s) => lookup(s.soname)));
    const libraries: RuntimeLibrary[] = [];
    const missing: string[] = [];
    for (const [i, spec] of specs.entries()) {
      const source = sources[i];
      if (source === undefined) {
        if (spec.required) throw new ToolchainError(`${compiler} has no ${spec.soname} (${compiler} -print-file-name=${spec.soname} finds nothing): only complete glibc toolchains are supported`);
        missing.push(spec.soname);
        continue;
      }
      const elf = readElf(source);
      if (elf.machine !== program.machine || elf.bits !== program.bits) {
        throw new ToolchainError(`${source} (${spec.soname} of ${compiler}) is for ELF machine ${elf.machine}/${elf.bits}-bit, the toolchain's programs for ${program.machine}/${program.bits}-bit`);
      }
      if (elf.type !== 3) throw new ToolchainError(`${source} (${spec.soname} of ${compiler}) is not a shared object (e_type ${elf.type})`);
      if (elf.soname !== undefined && elf.soname !== spec.soname) throw new ToolchainError(`${source} has soname ${elf.soname}, not ${spec.soname}`);
      libraries.push({ name: spec.soname, source, needed: elf.needed });
    }
    const names = new Set(libraries.map((l) => l.name));
    for (const lib of libraries) {
      const absent = lib.needed.filter((n) => !names.has(n));
      if (absent.length) throw new ToolchainError(`${lib.source} (${lib.name}) needs ${absent.join(', ')}, which ${compiler} does not have: the runtime would be incomplete`);
    }
    const libc = libraries.find((l) => l.name === 'libc.so.6')!;
    const glibc = glibcVersionOf(readFileSync(libc.source));
    if (!glibc) throw new ToolchainError(`${libc.source} carries no "GNU C Library ... release version" banner: only glibc toolchains are supported`);
    return {
      compiler,
      gccVersion,
      glibcVersion: glibc.version,
      glibcDistributor: glibc.distributor,
      pkgver: runtimePkgver(glibc.version, gccVersion),
      interpreter,
      machine: program.machine,
      bits: program.bits,
      libraries,
      missing,
      links,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The package's one-line description, naming the toolchain and what it carries. */
export function runtimeDescription(rt: ToolchainRuntime): string {
  const gccLibs = rt.libraries.map((l) => l.name).filter((n) => /^lib(gcc_s|stdc\+\+|atomic|gomp)\.so/.test(n)).map((n) => n.replace(/\.so.*$/, ''));
  return `C runtime of the external toolchain ${rt.compiler} ${rt.gccVersion}: glibc ${rt.glibcVersion}${rt.glibcDistributor ? ` (${rt.glibcDistributor})` : ''} dynamic loader and libraries, ${gccLibs.join(', ')}`;
}

/**
 * Writes the runtime's tree into the empty or missing folder `pkgdir`, reproducibly: every
 * library (the real file's bytes, never a link to it) as `usr/lib/<soname>` mode 0755, the
 * folders `usr` and `usr/lib` mode 0755, and each of {@link ToolchainRuntime.links} as a
 * relative symlink to `usr/lib` (`lib -> usr/lib`, `lib64 -> usr/lib`). Every mtime is set to
 * `sourceDateEpoch`, so nothing of the build machine's file dates or the umask reaches the package.
 * @param rt from {@link probeToolchainRuntime}
 * @param pkgdir absolute folder (created)
 * @param sourceDateEpoch seconds since the epoch
 * @returns the package-relative paths written, sorted
 * @throws Error when a file cannot be read or written
 */
export async function stageToolchainRuntime(rt: ToolchainRuntime, pkgdir: string, sourceDateEpoch: number): Promise<string[]> {
  if (!path.isAbsolute(pkgdir)) throw new TypeError(`stageToolchainRuntime: pkgdir must be absolute, got ${JSON.stringify(pkgdir)}`);
  const libdir = path.join(pkgdir, RUNTIME_LIBDIR);
  await fs.mkdir(libdir, { recursive: true });
  const written: string[] = ['usr', RUNTIME_LIBDIR];
  for (const lib of rt.libraries) {
    const dest = path.join(libdir, lib.name);
    await fs.copyFile(lib.source, dest); // a copy: the toolchain's files are never touched (no hard link whose mtime would change)
    await fs.chmod(dest, 0o755);
    await fs.utimes(dest, sourceDateEpoch, sourceDateEpoch);
    written.push(`${RUNTIME_LIBDIR}/${lib.name}`);
  }
  for (const link of rt.links) {
    await fs.symlink(RUNTIME_LIBDIR, path.join(pkgdir, link));
    await fs.lutimes(path.join(pkgdir, link), sourceDateEpoch, sourceDateEpoch);
    written.push(link);
  }
  for (const dir of [libdir, path.join(pkgdir, 'usr'), pkgdir]) {
    await fs.chmod(dir, 0o755);
    await fs.utimes(dir, sourceDateEpoch, sourceDateEpoch);
  }
  return written.sort();
}
