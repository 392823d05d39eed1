import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { InputError } from './errors';

/**
 * The fix shown with every refused input file: the plugin follows no link and opens no special
 * file on a recipe's or a system target's behalf (a recipe may come from a pull request).
 */
export const INPUT_FILE_FIX = 'replace it with a regular file inside the workspace (nx-distro reads no link, folder or special file on behalf of a recipe or system target)';

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** Why one input file may not be read: the path at fault (workspace-relative) and what it is. */
export interface InputFileProblem {
  /** The file itself or the folder on its way that is at fault (`recipes/x/patches`). */
  readonly path: string;
  /** `a symbolic link, not a regular file`, `a FIFO, not a regular file`, `not found`... */
  readonly what: string;
}

/**
 * The problem as a message part, relative to `file` (the path it was found for, as given):
 * `is a symbolic link, not a regular file`, or `recipes/x/p is a symbolic link, not a folder`
 * for a folder on its way.
 */
export function describeProblem(file: string, p: InputFileProblem): string {
  const what = p.what === 'not found' ? 'not found' : `is ${p.what}`;
  return p.path === path.posix.normalize(file).replace(/\/+$/, '') ? what : `${p.path} ${what}`;
}

function errnoWhat(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'not found';
  return `unreadable (${code ?? (e as Error).message})`;
}

/** lstat of every folder between the workspace root and `file`: each must be a real folder. */
function folderProblem(workspaceRoot: string, file: string): InputFileProblem | undefined {
  const parts = file.split('/');
  for (let i = 1; i < parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    let st: Stats;
    try {
      st = lstatSync(path.join(workspaceRoot, rel));
    } catch (e) {
      return { path: rel, what: errnoWhat(e) };
    }
    if (!st.isDirectory()) return { path: rel, what: `${kindOf(st)}, not a folder` };
  }
  return undefined;
}

/** `file` normalised (`recipes/x/./a.patch` -> `recipes/x/a.patch`), checked to stay in the workspace. */
function normalised(file: string): string {
  const n = path.posix.normalize(file).replace(/\/+$/, '');
  if (path.posix.isAbsolute(n) || n === '..' || n.startsWith('../') || n === '.') {
    throw new TypeError(`input file ${JSON.stringify(file)}: not a path inside the workspace`);
  }
  return n;
}

/**
 * Why `file` may not be read on behalf of a recipe or system target, or `undefined` when it may:
 * the one rule for every file nx-distro reads for them (recipe.yaml, patches, system target
 * files). The file must be a regular file (lstat: not a symbolic link, folder, FIFO, socket or
 * device) and every folder on its way from the workspace root a real folder, not a link, so
 * that the file lies inside its own folder: a recipe linked to a host file, or a patch linked
 * to `/etc/shadow`, is refused before anything reads it.
 * @param workspaceRoot absolute workspace root
 * @param file workspace-relative path, `/`-separated (`recipes/x/fix.patch`; normalised first)
 * @returns the problem, its `path` workspace-relative and normalised
 * @throws {TypeError} for a path that leaves the workspace (a caller's bug: recipes are checked for `..` first)
 */
export function inputFileProblem(workspaceRoot: string, file: string): InputFileProblem | undefined {
  file = normalised(file);
  const folder = folderProblem(workspaceRoot, file);
  if (folder) return folder;
  let st: Stats;
  try {
    st = lstatSync(path.join(workspaceRoot, file));
  } catch (e) {
    return { path: file, what: errnoWhat(e) };
  }
  return st.isFile() ? undefined : { path: file, what: `${kindOf(st)}, not a regular file` };
}

/**
 * Reads a file on behalf of a recipe or system target under {@link inputFileProblem}'s rule. The
 * file is opened with `O_NOFOLLOW | O_NONBLOCK` and checked with fstat, so a link or FIFO put in
 * its place after the check is not followed or waited on either.
 * @param workspaceRoot absolute workspace root
 * @param file workspace-relative path, `/`-separated (`recipes/zlib/recipe.yaml`)
 * @param refuse makes the error for a refused file (default: an {@link InputError} naming `file`
 *   itself, `<file>: is a symbolic link, not a regular file; <fix>`)
 * @returns the file's bytes
 * @throws {InputError} (or what `refuse` returns) when the file is refused or cannot be read
 */
export function readInputFile(
  workspaceRoot: string,
  file: string,
  refuse: (problem: InputFileProblem) => Error = (p) => new InputError(file, '', describeProblem(file, p), p.what === 'not found' ? undefined : INPUT_FILE_FIX),
): Buffer {
  file = normalised(file);
  const folder = folderProblem(workspaceRoot, file);
  if (folder) throw refuse(folder);
  let fd: number;
  try {
    fd = openSync(path.join(workspaceRoot, file), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw refuse({ path: file, what: 'a symbolic link, not a regular file' });
    throw refuse({ path: file, what: errnoWhat(e) });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refuse({ path: file, what: `${kindOf(st)}, not a regular file` });
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
