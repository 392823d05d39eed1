import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * The dependencies a split package's pkg-config files name: a `-dev` package whose `foo.pc`
 * says `Requires: zlib` is of no use without the package holding `zlib.pc` (what Alpine's abuild
 * records as `pc:` dependencies, and Debian's `libfoo-dev` packages declare by hand).
 */

/** Where pkg-config looks for `<module>.pc` in a package tree (pkgconf's default path under /usr). */
export const PC_DIRS: readonly string[] = ['usr/lib/pkgconfig', 'usr/share/pkgconfig'];

const OPERATOR = /^(=|==|!=|<|<=|>|>=)$/;

/**
 * The module names of a `.pc` file's `Requires` and `Requires.private` fields (pkg-config's
 * format: entries separated by commas or spaces, each `name [op version]`); both count, as
 * `pkg-config --cflags` of the module reads the private ones' `Cflags` too. Entries holding a
 * variable (`${...}`) are left out.
 * @param text the file's contents
 * @returns module names in order of appearance, each once
 */
export function pcRequires(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*Requires(?:\.private)?\s*:(.*)$/.exec(line);
    if (!m) continue;
    const tokens = m[1].replace(/([<>!=]=?)/g, ' $1 ').split(/[\s,]+/).filter(Boolean);
    for (let i = 0; i < tokens.length; i++) {
      if (OPERATOR.test(tokens[i])) {
        i++; // and its version
        continue;
      }
      if (!tokens[i].includes('$') && !out.includes(tokens[i])) out.push(tokens[i]);
    }
  }
  return out;
}

/** A package tree: its name and its absolute folder (an extracted or unwritten package). */
export interface PackageTree {
  readonly name: string;
  readonly dir: string;
}

/** What {@link pkgconfigDepends} found for one package. */
export interface PkgconfigDepends {
  /** Package names to depend on, in order of the modules. */
  readonly depends: readonly string[];
  /** `<file>: <module>` entries no package provides. */
  readonly unresolved: readonly string[];
}

/** The package holding `<module>.pc`, first match in order. */
function providerOf(module: string, trees: readonly PackageTree[]): string | undefined {
  return trees.find((t) => PC_DIRS.some((d) => existsSync(path.join(t.dir, d, `${module}.pc`))))?.name;
}

/**
 * For each of `packages`, the packages its `.pc` files' requirements need: one of `own` (the
 * packages of the same build, the package itself among them) when it holds the module, else one
 * of `staged` (the dependencies' packages staged for the build).
 * @param packages the trees to read `.pc` files from (a build's split packages)
 * @param own every package tree of the build (the main package's and the split ones)
 * @param staged the staged dependencies' package trees
 * @param ownDepend what to depend on for a package of the same build (e.g. `name=version-release`)
 * @returns by package name
 */
export async function pkgconfigDepends(packages: readonly PackageTree[], own: readonly PackageTree[], staged: readonly PackageTree[], ownDepend: (name: string) => string): Promise<Map<string, PkgconfigDepends>> {
  const out = new Map<string, PkgconfigDepends>();
  for (const pkg of packages) {
    const depends: string[] = [];
    const unresolved: string[] = [];
    for (const dir of PC_DIRS) {
      const abs = path.join(pkg.dir, dir);
      if (!existsSync(abs)) continue;
      for (const file of (await fs.readdir(abs)).filter((f) => f.endsWith('.pc')).sort()) {
        for (const module of pcRequires(await fs.readFile(path.join(abs, file), 'utf8'))) {
          const mine = providerOf(module, own);
          const provider = mine ? (mine === pkg.name ? undefined : ownDepend(mine)) : providerOf(module, staged);
          if (mine === pkg.name) continue;
          if (provider === undefined) unresolved.push(`${dir}/${file}: ${module}`);
          else if (!depends.includes(provider)) depends.push(provider);
        }
      }
    }
    out.set(pkg.name, { depends, unresolved });
  }
  return out;
}
