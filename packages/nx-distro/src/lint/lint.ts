import path from 'node:path';
import { SANDBOX } from '../sandbox/layout';
import { quote } from '../model/errors';
import { EM, type ElfInfo } from '../packages/elf';
import { lintPackageTree } from '../packages/package-lint';
import type { TreeEntry } from '../util/file-tree';

/**
 * `nx-distro lint`: what namcap (Arch's package checker) and Chimera Linux cports' lint hooks
 * catch in a built package, as pure functions over the package's file list and the parsed ELF
 * facts of its files ({@link LintPackage}); reading packages and trees is `load.ts`'s.
 *
 * Every check has a name (a recipe's or a target's `lint.errors` / `lint.ignore` lists name
 * them, see {@link severityOf}) and a source:
 * - `needed-without-depends`: an ELF file's `DT_NEEDED` library that neither the package itself
 *   nor any of its declared `depends` provides (namcap's `sodepends` rule, tag
 *   `link-level-dependence` / `library-no-package-associated`);
 * - `depends-not-needed`: a declared `depends` that provides shared libraries of which no ELF
 *   file of the package needs one (namcap's `dependency-not-needed`); a depends that provides no
 *   shared library (programs, data) is never flagged: a script may run it;
 * - `build-rpath`: a `DT_RPATH` or `DT_RUNPATH` entry inside the build sandbox (`/build/...`)
 *   (namcap's `rpath` rule, `insecure-rpath`);
 * - `build-reference`: a file whose bytes hold a sandbox path (`/build/src`, `/build/pkg`,
 *   `/build/sysroot`, `/build/toolchain`, `/build/target`): makepkg's `lint_package`
 *   `build_references` check (which greps for `$srcdir` and `$pkgdir`);
 * - `fhs-path`: a top-level entry other than the folders `usr`, `etc`, `var`, `boot`, `opt`,
 *   `srv` and the merged-/usr links `bin`, `sbin`, `lib`, `lib32`, `lib64`, `libx32` pointing
 *   into `usr/`, or a folder `/usr` must not hold (`usr/local`, `usr/etc`, `usr/var`, `usr/man`,
 *   `usr/doc`, `usr/tmp`, `usr/usr`), or any other entry of `/usr` that is none of FHS 3.0's
 *   (`bin`, `sbin`, `lib`, `lib32`, `lib64`, `libx32`, `libexec`, `include`, `share`, `src`,
 *   `games`; e.g. a CMake package folder at `usr/cmake`): cports' `098_lint` hook
 *   (`forbidden directory`, `forbidden path`), namcap's `directorynames`, FHS 3.0 section 4.2;
 * - `setuid`, `world-writable`, `symlink-escape`: packages/package-lint.ts's
 *   {@link lintPackageTree} (cports' `check_suid`; the build refuses these already, so they are
 *   found in packages built elsewhere or before that check);
 * - `libtool-archive`: a `.la` file (cports' `004_remove_libtool_archives`, namcap's
 *   `libtool`); the build removes them, so again a package built elsewhere;
 * - `arch-mismatch`: an ELF file for another machine or word size than the system target's
 *   arch, or a package whose `.PKGINFO` arch is neither the target's nor `any`, or an ELF file in
 *   an `any` package (namcap's `elfarch` / `anyelf` rules).
 */

/** Every check's name, in report order. */
export const LINT_CHECKS = [
  'needed-without-depends',
  'depends-not-needed',
  'build-rpath',
  'build-reference',
  'fhs-path',
  'setuid',
  'world-writable',
  'symlink-escape',
  'libtool-archive',
  'arch-mismatch',
] as const;

/** One check's name, see {@link LINT_CHECKS}. */
export type LintCheck = (typeof LINT_CHECKS)[number];

/** What a finding does: `error` fails `nx-distro lint` (exit 1) and the build; `warning` is printed only. */
export type LintSeverity = 'error' | 'warning';

/** A recipe's or a system target's `lint` field: checks made errors, and checks not run. */
export interface LintPolicy {
  /** Check names whose findings are errors (default: every finding is a warning). */
  readonly errors?: readonly string[];
  /** Check names not reported at all. */
  readonly ignore?: readonly string[];
}

/** One entry of a package, with what lint needs of its bytes (load.ts fills these in). */
export interface LintFile {
  /** Path inside the package, `/`-separated, no leading `/` (`usr/lib/libz.so.1.3`). */
  readonly rel: string;
  /** As in util/file-tree's TreeEntry (`hardlink`: another name of a file, its first name in `target`). */
  readonly kind: TreeEntry['kind'];
  /** Permission bits, setuid, setgid and sticky included (mask 0o7777). */
  readonly mode: number;
  /** Symlink target, or a hard link's first name. */
  readonly target?: string;
  /** Bytes of a regular file (0 otherwise). */
  readonly size?: number;
  /** The ELF facts of a regular file that is ELF (absent for any other file). */
  readonly elf?: ElfInfo;
  /** Sandbox paths (`/build/src`...) found in the file's bytes, each once, in first-seen order. */
  readonly buildRefs?: readonly string[];
}

/** One package as lint sees it. */
export interface LintPackage {
  /** `.PKGINFO` `pkgname`. */
  readonly name: string;
  /** `.PKGINFO` `arch`. */
  readonly arch: string;
  /** `.PKGINFO` `depend` entries, version constraints removed (`zlib`, not `zlib>=1.3`). */
  readonly depends: readonly string[];
  /** Every entry but the package's metadata (`.PKGINFO`, `.BUILDINFO`, `.MTREE`), in any order. */
  readonly files: readonly LintFile[];
}

/** What lint knows beyond the package itself. */
export interface LintContext {
  /** The system target's arch (`aarch64`; the build machine's for a `toolchain: true` recipe's package). */
  readonly arch: string;
  /**
   * Library names each known package provides ({@link providedNames}), by package name: the
   * declared depends, and any other package of the target (named in the fix of a
   * `needed-without-depends` finding). A depends missing here is not judged, and while one is
   * missing no `needed-without-depends` finding is made (it might provide the library).
   */
  readonly providers: ReadonlyMap<string, ReadonlySet<string>>;
  /** The recipe's `setuid` list, when known (undeclared setuid files are findings). */
  readonly setuid?: readonly string[];
}

/** One finding: one line of output, {@link formatFinding}. */
export interface LintFinding {
  readonly package: string;
  /** The path inside the package (no leading `/`), or `.PKGINFO` for what concerns the package's metadata. */
  readonly file: string;
  readonly check: LintCheck;
  readonly severity: LintSeverity;
  /** What is wrong; values in it are {@link quote}d. */
  readonly problem: string;
  /** How to fix it. */
  readonly fix: string;
}

/** The sandbox paths a package must not mention (sandbox/layout.ts's SANDBOX, `$SYSTEM_TARGET_DIR` included). */
export const SANDBOX_PATHS: readonly string[] = [SANDBOX.srcdir, SANDBOX.pkgdir, SANDBOX.sysroot, SANDBOX.toolchain, SANDBOX.systemTargetDir];

/** Top-level folders a package may hold (cports allows `boot`, `etc`, `usr`; `var`, `opt` and `srv` are FHS folders this project's images have). */
const TOP_FOLDERS = new Set(['usr', 'etc', 'var', 'boot', 'opt', 'srv']);
/** Top-level merged-/usr links (`lib -> usr/lib`, as musl's and toolchain-runtime's packages carry). */
const TOP_LINKS = new Set(['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']);
/** Folders under `usr/` that must not exist, with where their contents belong. */
const FORBIDDEN_USR: ReadonlyMap<string, string> = new Map([
  ['usr/local', '/usr (configure --prefix=/usr)'],
  ['usr/etc', '/etc (configure --sysconfdir=/etc)'],
  ['usr/var', '/var (configure --localstatedir=/var)'],
  ['usr/man', '/usr/share/man (configure --mandir=/usr/share/man)'],
  ['usr/doc', '/usr/share/doc'],
  ['usr/tmp', 'nowhere: a package holds no temporary files'],
  ['usr/usr', '/usr (a doubled prefix: DESTDIR="$pkgdir" with --prefix=/usr, not --prefix="$pkgdir/usr" too)'],
]);

/** What `/usr` may hold: FHS 3.0 section 4.2's required and optional folders (`local` is FORBIDDEN_USR's: a package never installs there). */
const USR_FOLDERS = new Set(['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'libexec', 'include', 'share', 'src', 'games']);

/** Folders the dynamic loader searches by default: a library there is found by its file name. */
const LIBRARY_DIR = /^(?:usr\/)?lib(?:32|64|x32)?\/[^/]+$/;

/** A shared object's file name (`libz.so`, `libz.so.1.3`, `ld-linux-armhf.so.3`), not a static archive or a crt object. */
const SHARED_OBJECT = /\.so(?:\.[0-9A-Za-z_]+)*$/;

/** `e_machine` and word size of each pacman arch name the targets use (unknown arches are not judged). */
const ARCH_MACHINES: ReadonlyMap<string, { machine: number; bits: 32 | 64 }> = new Map([
  ['aarch64', { machine: EM.AARCH64, bits: 64 }],
  ['x86_64', { machine: EM.X86_64, bits: 64 }],
  ['armv7h', { machine: EM.ARM, bits: 32 }],
  ['armv7', { machine: EM.ARM, bits: 32 }],
  ['riscv64', { machine: EM.RISCV, bits: 64 }],
  ['i686', { machine: EM.I386, bits: 32 }],
]);

const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [EM.AARCH64, 'aarch64'],
  [EM.X86_64, 'x86-64'],
  [EM.ARM, 'ARM'],
  [EM.RISCV, 'RISC-V'],
  [EM.I386, 'i386'],
]);

/**
 * The library names a package provides to the dynamic loader: the `DT_SONAME` and the file name
 * (when it is a shared object's, `*.so[.N...]`) of every file and symlink directly in `lib/`,
 * `usr/lib/` (and their `32`, `64`, `x32` variants).
 * @param files the package's entries (paths without a leading `/`)
 */
export function providedNames(files: readonly Pick<LintFile, 'rel' | 'kind' | 'elf'>[]): Set<string> {
  const names = new Set<string>();
  for (const f of files) {
    if (!LIBRARY_DIR.test(f.rel) || f.kind === 'dir') continue;
    const base = path.posix.basename(f.rel);
    if (SHARED_OBJECT.test(base)) names.add(base);
    if (f.elf?.soname) names.add(f.elf.soname);
  }
  return names;
}

/**
 * The severity of a check under a recipe's and a target's `lint` policies: the recipe's word
 * wins over the target's, and within one policy `ignore` wins over `errors`; a check named by
 * neither is a warning.
 * @returns `'ignore'` when the check is not to be reported
 */
export function severityOf(check: LintCheck, recipe?: LintPolicy, target?: LintPolicy): LintSeverity | 'ignore' {
  for (const policy of [recipe, target]) {
    if (policy?.ignore?.includes(check)) return 'ignore';
    if (policy?.errors?.includes(check)) return 'error';
  }
  return 'warning';
}

/** A `depend` entry's package name: `zlib>=1.3` → `zlib`. */
export function dependencyName(entry: string): string {
  return entry.split(/[<>=]/)[0];
}

/**
 * Runs every check on one package.
 * @param pkg the package ({@link LintPackage}; load.ts's `readPackageForLint` or `readTreeForLint`)
 * @param context the target's arch and the providers of the package's depends
 * @param policies the recipe's and the target's `lint` fields (see {@link severityOf})
 * @returns the findings, sorted by check (in {@link LINT_CHECKS} order), then file; ignored checks left out
 */
export function lintPackage(pkg: LintPackage, context: LintContext, policies: { recipe?: LintPolicy; target?: LintPolicy } = {}): LintFinding[] {
  const out: LintFinding[] = [];
  const add = (check: LintCheck, file: string, problem: string, fix: string) => {
    const severity = severityOf(check, policies.recipe, policies.target);
    if (severity !== 'ignore') out.push({ package: pkg.name, file, check, severity, problem, fix });
  };
  const elves = pkg.files.filter((f): f is LintFile & { elf: ElfInfo } => f.elf !== undefined);

  // needed-without-depends / depends-not-needed
  const own = new Set<string>();
  for (const f of pkg.files) {
    if (f.kind === 'dir') continue;
    own.add(path.posix.basename(f.rel));
    if (f.elf?.soname) own.add(f.elf.soname);
  }
  const depends = [...new Set(pkg.depends.map(dependencyName))];
  const used = new Set<string>();
  for (const f of elves) {
    if (f.elf.interpreter) used.add(path.posix.basename(f.elf.interpreter));
    for (const lib of f.elf.needed) {
      used.add(lib);
      if (own.has(lib) || depends.some((d) => context.providers.get(d)?.has(lib))) continue;
      // A depends not known here (not built yet: runtime depends do not order builds) might provide it.
      if (depends.some((d) => !context.providers.has(d))) continue;
      const candidates = [...context.providers].filter(([name, names]) => name !== pkg.name && names.has(lib)).map(([name]) => name).sort();
      add(
        'needed-without-depends',
        f.rel,
        `needs ${quote(lib)} (DT_NEEDED), which neither the package nor its depends (${depends.length ? depends.map((d) => quote(d)).join(', ') : 'none'}) provide`,
        candidates.length ? `add ${candidates.map((c) => quote(c)).join(' or ')} to the recipe's \`depends\` (and \`makedepends\`)` : 'add the recipe that provides it to `depends` (and `makedepends`), or build without it (configure --without-..., or link with -Wl,--as-needed)',
      );
    }
  }
  if (elves.some((f) => f.elf.interpreter !== undefined || f.elf.needed.length > 0)) {
    for (const d of depends) {
      const names = context.providers.get(d);
      if (!names || names.size === 0) continue;
      if ([...names].some((n) => used.has(n))) continue;
      add('depends-not-needed', '.PKGINFO', `depends on ${quote(d)}, whose libraries (${[...names].sort().slice(0, 4).map((n) => quote(n)).join(', ')}${names.size > 4 ? ', ...' : ''}) no file of the package needs`, `remove ${quote(d)} from the recipe's \`depends\` if nothing else of it is used at run time (a program it runs, its data), or add it to \`lint.ignore\``);
    }
  }

  // build-rpath / build-reference
  for (const f of elves) {
    for (const [tag, value] of [['DT_RPATH', f.elf.rpath], ['DT_RUNPATH', f.elf.runpath]] as const) {
      if (value === undefined) continue;
      const inside = value.split(':').filter((p) => p === '/build' || p.startsWith('/build/'));
      if (inside.length) add('build-rpath', f.rel, `${tag} ${quote(value)} points into the build sandbox (${inside.map((p) => quote(p)).join(', ')})`, 'link without the sandbox folder in the rpath (configure --disable-rpath, cmake -DCMAKE_SKIP_INSTALL_RPATH=ON, or drop -Wl,-rpath), or clear it in the install step (patchelf --remove-rpath, chrpath -d)');
    }
  }
  for (const f of pkg.files) {
    if (!f.buildRefs?.length) continue;
    const rpathOnly = f.elf && [f.elf.rpath, f.elf.runpath].some((v) => v !== undefined && f.buildRefs!.every((r) => v.includes(r)));
    if (rpathOnly) continue;
    add('build-reference', f.rel, `mentions the build sandbox path ${f.buildRefs.map((r) => quote(r)).join(', ')}`, 'find where the build writes its own folder into the file (a configure-time path, a pkg-config or libtool file, an unstripped binary without -ffile-prefix-map) and make it the installed path (/usr/...), or add the check to `lint.ignore` if the text is harmless');
  }

  // fhs-path
  for (const f of pkg.files) {
    if (!f.rel.includes('/')) {
      if (f.kind === 'dir' && TOP_FOLDERS.has(f.rel)) continue;
      if (f.kind === 'symlink' && TOP_LINKS.has(f.rel) && /^\/?usr\//.test(f.target ?? '')) continue;
      const what = f.kind === 'dir' ? 'folder' : f.kind === 'symlink' ? `symlink (to ${quote(f.target ?? '')})` : 'file';
      add('fhs-path', f.rel, `a top-level ${what} outside the allowed paths (/usr, /etc, /var, /boot, /opt, /srv, and bin, sbin, lib, lib32, lib64, libx32 as links into usr/)`, 'install under /usr (configure --prefix=/usr, DESTDIR="$pkgdir"), or move it in the install step');
      continue;
    }
    const where = FORBIDDEN_USR.get(f.rel);
    if (where !== undefined) add('fhs-path', f.rel, `/${f.rel} is a path packages must not hold`, `install it into ${where}`);
    else if (/^usr\/[^/]+$/.test(f.rel) && !USR_FOLDERS.has(f.rel.slice(4))) {
      add('fhs-path', f.rel, `/${f.rel} is not one of the FHS folders of /usr (${[...USR_FOLDERS].join(', ')})`, 'install it under one of them (a CMake package folder belongs in /usr/lib/cmake/<name>, data in /usr/share), or move it in the install step');
    }
  }

  // setuid / world-writable / symlink-escape: package-lint.ts's rules
  const entries: TreeEntry[] = pkg.files.map((f) => ({ rel: f.rel, abs: '', kind: f.kind, mode: f.mode, mtime: 0, size: f.size ?? 0, ...(f.target !== undefined ? { target: f.target } : {}) }));
  for (const p of lintPackageTree(entries, context.setuid ?? [])) {
    add(p.check, p.path, p.problem, p.fix);
  }

  // libtool-archive
  for (const f of pkg.files) {
    if (f.kind !== 'dir' && f.rel.endsWith('.la')) add('libtool-archive', f.rel, 'a libtool archive (.la): its paths name the build sysroot, and nothing on the installed system needs it', 'remove it in the install step (rm "$pkgdir"/usr/lib/*.la); nx-distro builds remove them already');
  }

  // arch-mismatch
  const expected = ARCH_MACHINES.get(context.arch);
  if (pkg.arch !== context.arch && pkg.arch !== 'any') {
    add('arch-mismatch', '.PKGINFO', `arch ${quote(pkg.arch)}, but the system target's is ${quote(context.arch)}`, `build the package for ${quote(context.arch)}`);
  }
  for (const f of elves) {
    if (pkg.arch === 'any') {
      add('arch-mismatch', f.rel, `an ELF file (${MACHINE_NAMES.get(f.elf.machine) ?? `e_machine ${f.elf.machine}`}) in a package of arch "any"`, `give the recipe the arch it is built for (${quote(context.arch)}), or drop the file`);
      continue;
    }
    if (!expected || (f.elf.machine === expected.machine && f.elf.bits === expected.bits)) continue;
    add('arch-mismatch', f.rel, `an ELF file for ${MACHINE_NAMES.get(f.elf.machine) ?? `e_machine ${f.elf.machine}`} (${f.elf.bits}-bit), not for ${quote(context.arch)}`, `build it with the target's compiler ($CC, $CHOST-gcc), not the build machine's; or drop it if it is not meant to run on ${quote(context.arch)}`);
  }

  const order = new Map<string, number>(LINT_CHECKS.map((c, i) => [c, i]));
  return out.sort((a, b) => order.get(a.check)! - order.get(b.check)! || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/**
 * One finding as one line: `<package>: <file>: <problem> [<severity> <check>]; <fix>`, the
 * file as `/` + its path inside the package, {@link quote}d (control characters escaped), the
 * package name quoted unless it is a plain pacman name.
 */
export function formatFinding(f: LintFinding): string {
  const name = /^[a-z0-9_+@][a-z0-9_+.@-]*$/.test(f.package) ? f.package : quote(f.package);
  const file = f.file === '.PKGINFO' ? '.PKGINFO' : quote(`/${f.file}`, 300);
  return `${name}: ${file}: ${f.problem} [${f.severity} ${f.check}]; ${f.fix}`;
}
