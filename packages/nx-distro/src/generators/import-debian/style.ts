import { existsSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** A build style guessed from an unpacked source tree, and why. */
export interface StyleGuess {
  /** The recipe's `style` (`gnu-configure`, `cmake`, `meson`, `make`, `none`). */
  readonly style: string;
  /** What decided it, for the report (`configure`, `debian/rules: dh --buildsystem=cmake`). */
  readonly reason: string;
  /** True when only configure.ac/configure.in is there: the recipe must run `autoreconf -fi` first. */
  readonly autoreconf: boolean;
  /** The sub-folder holding the build files when the top of the tree has none (expat's `expat/`). */
  readonly subfolder?: string;
}

// debhelper's build system names (dh_auto_configure --buildsystem) and the styles they mean.
const DH_BUILDSYSTEMS: Record<string, string> = { autoconf: 'gnu-configure', cmake: 'cmake', meson: 'meson', makefile: 'make' };

const isFile = (root: string, name: string) => existsSync(path.join(root, name)) && lstatSync(path.join(root, name)).isFile();

function fromFiles(root: string): Omit<StyleGuess, 'subfolder'> | undefined {
  const hasConfigure = isFile(root, 'configure');
  const ac = isFile(root, 'configure.ac') ? 'configure.ac' : isFile(root, 'configure.in') ? 'configure.in' : undefined;
  if (hasConfigure) return { style: 'gnu-configure', reason: 'configure', autoreconf: false };
  if (isFile(root, 'meson.build')) return { style: 'meson', reason: 'meson.build', autoreconf: false };
  if (isFile(root, 'CMakeLists.txt')) return { style: 'cmake', reason: 'CMakeLists.txt', autoreconf: false };
  if (ac) return { style: 'gnu-configure', reason: `${ac} without configure`, autoreconf: true };
  for (const m of ['GNUmakefile', 'Makefile', 'makefile']) if (isFile(root, m)) return { style: 'make', reason: m, autoreconf: false };
  return undefined;
}

/**
 * Guesses the build style of an upstream tree. Debian's own choice wins when debian/rules' `dh`
 * line names it (`dh $@ --buildsystem=cmake`); otherwise the files at the top of the tree, in
 * this order: `configure` -> gnu-configure, `meson.build` -> meson, `CMakeLists.txt` -> cmake,
 * `configure.ac`/`configure.in` without `configure` -> gnu-configure with autoreconf,
 * `GNUmakefile`/`Makefile`/`makefile` -> make. When the top has none of them, the one
 * sub-folder that has (the package's name preferred) is taken, and named; else none.
 * @param root absolute path of the unpacked tree
 * @param rules debian/rules' text, if any
 * @param name the package's name (to prefer its sub-folder)
 */
export function guessStyle(root: string, rules?: string, name?: string): StyleGuess {
  const dh = rules ? /^\s*dh\s+\S+.*--buildsystem[= ](\w+)/m.exec(rules) : null;
  const fromRules = dh ? DH_BUILDSYSTEMS[dh[1]] : undefined;
  let found = fromFiles(root);
  let subfolder: string | undefined;
  if (!found) {
    const subs = readdirSync(root)
      .filter((d) => d !== 'debian' && !d.startsWith('.') && lstatSync(path.join(root, d)).isDirectory())
      .sort((a, b) => Number(b === name) - Number(a === name));
    for (const d of subs) {
      const f = fromFiles(path.join(root, d));
      if (f) {
        found = { ...f, reason: `${d}/${f.reason}` };
        subfolder = d;
        break;
      }
    }
  }
  const where = subfolder ? path.join(root, subfolder) : root;
  if (fromRules) {
    const autoreconf = fromRules === 'gnu-configure' && !isFile(where, 'configure') && (isFile(where, 'configure.ac') || isFile(where, 'configure.in'));
    return { style: fromRules, reason: `debian/rules: dh --buildsystem=${dh![1]}`, autoreconf, ...(subfolder ? { subfolder } : {}) };
  }
  if (found) return { ...found, ...(subfolder ? { subfolder } : {}) };
  return { style: 'none', reason: 'no configure, meson.build, CMakeLists.txt or Makefile at the top of the tree or in a sub-folder', autoreconf: false };
}
