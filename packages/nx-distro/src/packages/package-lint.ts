import { promises as fs } from 'node:fs';
import path from 'node:path';
import { quote } from '../model/errors';
import type { TreeEntry } from '../util/file-tree';

/** One thing a package tree must not carry, for one line of an error. */
export interface PackageProblem {
  /** The recipe field at fault: `setuid` or `steps.install`. */
  readonly field: 'setuid' | 'steps.install';
  /** Which rule: its name in `nx-distro lint` (src/lint/lint.ts), which reports these too. */
  readonly check: 'setuid' | 'world-writable' | 'symlink-escape';
  /** The path inside the package the problem is about. */
  readonly path: string;
  /** What is wrong, naming the path inside the package (quoted). */
  readonly problem: string;
  /** How to fix it. */
  readonly fix: string;
}

/** Most symlinks followed while resolving one link inside the package (Linux's limit). */
const MAX_LINK_HOPS = 40;

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/**
 * Whether a symlink of the package, resolved inside the package as the installed system would
 * resolve it (the package root standing for `/`, links of the package followed), ever steps
 * above the package root: `usr/share/x -> ../../../../etc/passwd`, or `p -> .` then
 * `q -> p/..`. An absolute target is read from the package root (`etc/x -> /etc/shadow` stays
 * inside: it names the installed system's file), but `..` above the root is refused for it too.
 * A dangling link or a loop is no escape.
 */
function escapesRoot(entry: TreeEntry, links: ReadonlyMap<string, string>): boolean {
  let hops = 0;
  // Where `target` leads from the folder `from` (components), an escape, or a loop.
  const resolve = (from: readonly string[], target: string): string[] | 'escape' | 'loop' => {
    const stack = target.startsWith('/') ? [] : [...from];
    for (const part of target.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length === 0) return 'escape';
        stack.pop();
        continue;
      }
      stack.push(part);
      const next = links.get(stack.join('/'));
      if (next === undefined) continue;
      if (++hops > MAX_LINK_HOPS) return 'loop';
      const r = resolve(stack.slice(0, -1), next);
      if (typeof r === 'string') return r;
      stack.splice(0, stack.length, ...r);
    }
    return stack;
  };
  return resolve(entry.rel.split('/').slice(0, -1), entry.target ?? '') === 'escape';
}

/**
 * What a package tree carries that it must not, as makepkg's and Chimera Linux cports' checks
 * refuse it (refused, never silently changed: the recipe says what it means):
 * - a setuid or setgid file or folder the recipe does not list in `setuid`, and a listed path
 *   the package does not hold with such a bit (cports' `file_modes` declaration; a setuid file
 *   the package's author did not ask for is how a build plants a root shell);
 * - a world-writable folder without the sticky bit (`/tmp`-like folders are `1777`), and a
 *   world-writable file (anyone could change what root runs or reads);
 * - a symlink that leaves the package root when resolved inside it ({@link escapesRoot}).
 * @param entries the package tree (util/file-tree's `scanTree`)
 * @param setuid the recipe's `setuid` list (paths inside the package)
 * @returns the problems, in tree order (empty when the tree is fine)
 */
export function lintPackageTree(entries: readonly TreeEntry[], setuid: readonly string[] = []): PackageProblem[] {
  const problems: PackageProblem[] = [];
  const declared = new Set(setuid);
  const links = new Map(entries.filter((e) => e.kind === 'symlink').map((e) => [e.rel, e.target ?? '']));
  const special = new Set<string>();
  for (const e of entries) {
    const mode = e.mode;
    if (e.kind !== 'symlink' && mode & 0o6000) {
      special.add(e.rel);
      if (!declared.has(e.rel)) {
        const bits = mode & 0o4000 && mode & 0o2000 ? 'setuid and setgid' : mode & 0o4000 ? 'setuid' : 'setgid';
        problems.push({
          field: 'setuid',
          check: 'setuid',
          path: e.rel,
          problem: `${quote(e.rel, 200)} is ${bits} (mode ${octal(mode)}) but not listed`,
          fix: `add ${quote(e.rel, 200)} to \`setuid:\` if the package must carry it so, else drop the bit in the install step (chmod ug-s)`,
        });
      }
    }
    if (e.kind === 'dir' && mode & 0o002 && !(mode & 0o1000)) {
      problems.push({ field: 'steps.install', check: 'world-writable', path: e.rel, problem: `the folder ${quote(e.rel, 200)} is world-writable without the sticky bit (mode ${octal(mode)})`, fix: 'chmod o-w it in the install step, or chmod +t for a shared folder like /tmp (1777)' });
    }
    if ((e.kind === 'file' || e.kind === 'hardlink') && mode & 0o002) {
      problems.push({ field: 'steps.install', check: 'world-writable', path: e.rel, problem: `the file ${quote(e.rel, 200)} is world-writable (mode ${octal(mode)})`, fix: 'chmod o-w it in the install step' });
    }
    if (e.kind === 'symlink' && escapesRoot(e, links)) {
      problems.push({ field: 'steps.install', check: 'symlink-escape', path: e.rel, problem: `the symlink ${quote(e.rel, 200)} -> ${quote(e.target ?? '', 200)} leaves the package root`, fix: 'point it at a path inside the package (an absolute target such as /usr/lib/x is read from the installed root), or remove it' });
    }
  }
  for (const rel of setuid) {
    if (!special.has(rel)) {
      problems.push({ field: 'setuid', check: 'setuid', path: rel, problem: `${quote(rel, 200)} is listed but the package ${entries.some((e) => e.rel === rel) ? 'holds it without a setuid or setgid bit' : 'does not hold it'}`, fix: 'remove it from `setuid:`, or set the bit in the install step (chmod u+s)' });
    }
  }
  return problems;
}

/**
 * Takes the setuid and setgid bits off every file and folder under `dir` (symlinks are left as
 * they are, never followed): after a build, so that nothing a build wrote keeps those bits in
 * the host's work folder (`tmp/build/...`), where, with nx run as root, a setuid file would be
 * root's. A missing `dir` is fine.
 * @returns how many entries lost a bit
 */
export async function stripSpecialBits(dir: string): Promise<number> {
  let n = 0;
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  for (const entry of [{ name: '', parentPath: dir, isSymbolicLink: () => false } as unknown as (typeof entries)[number], ...entries]) {
    if (entry.isSymbolicLink()) continue;
    const abs = path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const st = await fs.lstat(abs).catch(() => undefined);
    if (!st || st.isSymbolicLink() || !(st.mode & 0o6000)) continue;
    await fs.chmod(abs, st.mode & 0o1777);
    n++;
  }
  return n;
}

