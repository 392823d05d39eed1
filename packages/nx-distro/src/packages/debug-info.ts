import { existsSync, promises as fs, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Recipe } from '../model/recipe.generated';
import type { SystemTarget } from '../model/target.generated';
import { parseElf, sectionNames } from './elf';

/**
 * Debug packages: what makepkg's `debug` and `strip` options and cports' debug hook do, for the
 * packages nx-distro writes. A build with debug packages ({@link debugBuild}) compiles with `-g`,
 * maps its sources to `/usr/src/debug/<name>` (pipeline/environment.ts adds the flags) and links
 * with a GNU build-id; then {@link splitDebugInfo} moves each ELF file's debug information out of
 * `$pkgdir` into the tree of the `<name>-debug` package:
 *
 * - `usr/lib/debug/.build-id/xx/yyyy.debug`: the debug file of the program or library whose
 *   build-id is `xxyyyy` (hex), where gdb, elfutils and debuginfod look it up (the GNU
 *   "Separate Debug Files" convention); a file linked without a build-id gets
 *   `usr/lib/debug/<its path>.debug` instead (found through its `.gnu_debuglink`);
 * - `usr/src/debug/<name>/...`: the source files that debug information names and the build's
 *   source folder holds (listed by `debugedit -l`, as rpm's find-debuginfo and makepkg do), so a
 *   debugger or `debuginfod-find source` shows the code.
 *
 * Each file is split with the system target's own binutils (`objcopy --only-keep-debug`, then
 * `strip`, then `objcopy --add-gnu-debuglink`): programs lose `.symtab` and the debug sections
 * (`--strip-all`), shared libraries what they do not export (`--strip-unneeded`); object files,
 * kernel modules and static archives keep their symbols and lose only the debug sections
 * (`--strip-debug`, archives written deterministically with `-D`) and get no debug file.
 */

/** Where a debug build's source folder (`$srcdir`) appears in its debug information, and where its `-debug` package holds the sources: `/usr/src/debug/<name>` (makepkg's and Fedora's folder). */
export function debugSourceDir(name: string): string {
  return `/usr/src/debug/${name}`;
}

/**
 * Whether a build compiles with debug information and writes a `-debug` package: unless the
 * recipe or the system target says `debug: false`; never for a `toolchain: true` recipe (a
 * program of the build machine, whose package also holds the target's libraries: Arch's cross
 * toolchains use `!strip` too) nor for a stage build (an intermediate of the bootstrap).
 * @param stage the stage built, undefined for the final build
 */
export function debugBuild(recipe: Pick<Recipe, 'debug' | 'toolchain'>, target: Pick<SystemTarget, 'debug'>, stage?: string): boolean {
  return recipe.debug !== false && target.debug !== false && recipe.toolchain !== true && stage === undefined;
}

/** The target's binutils that split and strip its ELF files: absolute paths (or names on the PATH). */
export interface TargetBinutils {
  readonly objcopy: string;
  readonly strip: string;
}

/**
 * The system target's own `objcopy` and `strip` (the build machine's binutils read only its own
 * arch): the external toolchain's `<prefix>objcopy` on the PATH, or the bootstrap toolchain's
 * staged `usr/bin/<triplet>-objcopy`.
 * @param prefix the cross tool prefix (`aarch64-linux-gnu-`)
 * @param stagedToolchain absolute path of the staged toolchain folder (the build's
 *   `/build/toolchain`), or undefined when none is staged
 * @param pathDirs the folders searched for an external toolchain's tools (default: `$PATH`)
 * @returns the tools, or undefined when either is missing
 */
export function targetBinutils(prefix: string, stagedToolchain: string | undefined, pathDirs: readonly string[] = (process.env.PATH ?? '/usr/bin:/bin').split(':')): TargetBinutils | undefined {
  const find = (tool: string): string | undefined => {
    const dirs = stagedToolchain ? [path.join(stagedToolchain, 'usr', 'bin'), ...pathDirs] : pathDirs;
    for (const dir of dirs) {
      const candidate = path.join(dir, `${prefix}${tool}`);
      if (dir && existsSync(candidate)) return candidate;
    }
    return undefined;
  };
  const objcopy = find('objcopy');
  const strip = find('strip');
  return objcopy && strip ? { objcopy, strip } : undefined;
}

/** What {@link splitDebugInfo} needs. Paths are absolute. */
export interface DebugSplitInput {
  /** The installed tree (`$pkgdir`): its ELF files are stripped in place. */
  readonly pkgdir: string;
  /** The `-debug` package's tree, created (must not exist yet). */
  readonly debugdir: string;
  /** The build's source folder as the build left it (the sandbox's `$srcdir`), where the sources the debug information names are read. */
  readonly srcdir: string;
  /** The recipe's name: the sources go to `usr/src/debug/<name>/` ({@link debugSourceDir}). */
  readonly name: string;
  readonly binutils: TargetBinutils;
}

/** What {@link splitDebugInfo} did. */
export interface DebugSplitResult {
  /** Package-relative paths of the files stripped, sorted. */
  readonly stripped: readonly string[];
  /** `-debug`-package-relative paths of the debug files written, sorted. */
  readonly debugFiles: readonly string[];
  /** How many source files were copied into `usr/src/debug/<name>/`. */
  readonly sources: number;
  /** Bytes the stripped files lost, all together. */
  readonly bytesSaved: number;
  /** One line per file the tools refused (left as it was), e.g. an ELF file of another arch. */
  readonly warnings: readonly string[];
}

const AR_MAGIC = Buffer.from('!<arch>\n');
const ET_REL = 1;
const ET_EXEC = 2;
const ET_DYN = 3;

/**
 * Splits the debug information of every ELF file of `$pkgdir` into the `-debug` package's tree
 * and strips the files (module comment for the layout and the tools). Symbolic links are not
 * followed; each file is handled once however many hard links it has (strip keeps them); nothing
 * under `usr/lib/debug/` of `$pkgdir` is touched. A source path named by debug information is
 * copied only when it resolves to a regular file inside `srcdir` (a recipe's build is untrusted:
 * `../` and symbolic links out of the folder are skipped).
 * @returns see {@link DebugSplitResult}; `debugdir` holds nothing when nothing had debug information
 * @throws the file system's errors; a tool's failure on one file is a warning, not an error
 */
export async function splitDebugInfo(input: DebugSplitInput): Promise<DebugSplitResult> {
  const { pkgdir, debugdir, binutils } = input;
  const stripped: string[] = [];
  const debugFiles: string[] = [];
  const warnings: string[] = [];
  const sourceNames = new Set<string>();
  let bytesSaved = 0;
  const seen = new Set<string>();
  const sourceRoot = debugSourceDir(input.name);
  const entries = (await fs.readdir(pkgdir, { withFileTypes: true, recursive: true }))
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
  for (const file of entries) {
    const rel = path.relative(pkgdir, file);
    if (rel === 'usr/lib/debug' || rel.startsWith('usr/lib/debug/')) continue;
    const st = await fs.lstat(file);
    if (!st.isFile() || st.size < 8) continue;
    const inode = `${st.dev}:${st.ino}`;
    if (seen.has(inode)) continue;
    seen.add(inode);
    const kind = await fileKind(file);
    if (!kind) continue;
    const tool = async (argv0: string, args: string[]) => {
      await execa(argv0, args, { env: { LC_ALL: 'C' } });
    };
    try {
      if (kind.kind === 'archive' || kind.kind === 'object') {
        if (kind.kind === 'object' && !kind.sections.some(isDebugSection)) continue;
        await tool(binutils.strip, ['--strip-debug', ...(kind.kind === 'archive' ? ['--enable-deterministic-archives'] : []), file]);
      } else {
        if (!kind.sections.some((s) => s === '.symtab' || isDebugSection(s))) continue;
        const debugRel = kind.buildId && kind.buildId.length > 2
          ? path.join('usr/lib/debug/.build-id', kind.buildId.slice(0, 2), `${kind.buildId.slice(2)}.debug`)
          : path.join('usr/lib/debug', `${rel}.debug`);
        const debugFile = path.join(debugdir, debugRel);
        // Two copies of one program (not hard links) share a build-id and so one debug file.
        if (!existsSync(debugFile)) {
          await fs.mkdir(path.dirname(debugFile), { recursive: true });
          await tool(binutils.objcopy, ['--only-keep-debug', file, debugFile]);
          await fs.chmod(debugFile, 0o644);
          // The sources are a help, not the debug file: a debugedit failure only leaves them out.
          const listed = await debugSources(debugFile, sourceRoot).catch((e: { stderr?: string; message: string }) => {
            warnings.push(`${rel}: debugedit could not list its sources (${(e.stderr || e.message).trim().split('\n').at(-1)}); its debug file is kept without them`);
            return [] as string[];
          });
          for (const name of listed) sourceNames.add(name);
          debugFiles.push(debugRel);
        }
        await tool(binutils.strip, [kind.executable ? '--strip-all' : '--strip-unneeded', file]);
        await tool(binutils.objcopy, [`--add-gnu-debuglink=${debugFile}`, file]);
      }
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      warnings.push(`${rel}: ${(err.stderr || err.message).trim().split('\n').at(-1)}; left as it was`);
      continue;
    }
    stripped.push(rel);
    bytesSaved += st.size - (await fs.stat(file)).size;
  }
  const sources = await copySources([...sourceNames].sort(), input.srcdir, path.join(debugdir, sourceRoot.slice(1)));
  return { stripped: stripped.sort(), debugFiles: debugFiles.sort(), sources, bytesSaved, warnings };
}

/** `.debug_info`, `.debug_line`, ... and the compressed `.zdebug_*` of old toolchains. */
function isDebugSection(name: string): boolean {
  return name.startsWith('.debug_') || name.startsWith('.zdebug_');
}

type FileKind =
  | { kind: 'archive' }
  | { kind: 'object'; sections: string[] }
  | { kind: 'linked'; sections: string[]; buildId?: string; executable: boolean };

/** What a file is for stripping: an `ar` archive, an ELF object file (`.o`, `.ko`), a linked ELF file, or nothing to strip (undefined). A damaged ELF file is left alone. */
async function fileKind(file: string): Promise<FileKind | undefined> {
  const head = Buffer.alloc(8);
  const fd = await fs.open(file, 'r');
  try {
    await fd.read(head, 0, 8, 0);
  } finally {
    await fd.close();
  }
  if (head.equals(AR_MAGIC)) return { kind: 'archive' };
  if (head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const buf = readFileSync(file);
  try {
    const info = parseElf(buf, file);
    const sections = sectionNames(buf, file);
    if (info.type === ET_REL) return { kind: 'object', sections };
    if (info.type !== ET_EXEC && info.type !== ET_DYN) return undefined;
    // A PIE program is ET_DYN too: what requests an interpreter is a program.
    return { kind: 'linked', sections, ...(info.buildId ? { buildId: info.buildId } : {}), executable: info.type === ET_EXEC || info.interpreter !== undefined };
  } catch {
    return undefined;
  }
}

/**
 * The source files a debug file names under `sourceRoot`, relative to it: `debugedit -l` (the
 * tool rpm's find-debuginfo and makepkg use), with the same folder as base and destination so
 * nothing is rewritten.
 */
async function debugSources(debugFile: string, sourceRoot: string): Promise<string[]> {
  const list = `${debugFile}.sources`;
  try {
    await execa('debugedit', ['--no-recompute-build-id', '-b', sourceRoot, '-d', sourceRoot, '-l', list, debugFile], { env: { LC_ALL: 'C' } });
    return (await fs.readFile(list, 'latin1')).split('\0').filter((n) => n !== '');
  } finally {
    await fs.rm(list, { force: true });
  }
}

/**
 * Copies the named sources from `srcdir` into `dest`, keeping their relative paths: only names
 * that stay inside the folder (no `..`, not absolute) and resolve, symbolic links followed, to a
 * regular file inside it; the others (generated and removed, or outside) are skipped.
 * @returns how many were copied
 */
async function copySources(names: readonly string[], srcdir: string, dest: string): Promise<number> {
  let copied = 0;
  const realSrc = realpathSync(srcdir);
  for (const name of names) {
    const rel = path.posix.normalize(name);
    if (rel.startsWith('/') || rel === '..' || rel.startsWith('../') || rel === '.' || rel.includes('\0')) continue;
    let real: string;
    try {
      real = realpathSync(path.join(srcdir, rel));
    } catch {
      continue;
    }
    if (!real.startsWith(`${realSrc}/`)) continue;
    const st = await fs.stat(real);
    if (!st.isFile()) continue;
    const target = path.join(dest, rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(real, target);
    await fs.chmod(target, 0o644);
    copied++;
  }
  return copied;
}
