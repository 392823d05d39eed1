import { execaSync } from 'execa';

/**
 * Which of the given Debian packages are not installed on the build machine, by dpkg's own
 * status (`dpkg-query -W`: `ii` is installed).
 * @param packages Debian package names (a recipe's host tools)
 * @returns the missing ones, in the given order
 */
export function missingHostPackages(packages: readonly string[]): string[] {
  if (!packages.length) return [];
  // dpkg-query exits 1 when it knows one of the names not at all: its output still lists the others.
  const r = execaSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\\n', ...packages], { reject: false, stderr: 'ignore' });
  const installed = new Set(
    (r.stdout ?? '').split('\n').filter((l) => /^\S+ ii/.test(l)).map((l) => l.split(' ')[0].replace(/:.*$/, '')),
  );
  return packages.filter((p) => !installed.has(p));
}

/**
 * Which of the given Debian packages a build root lacks, from its `packages.txt` (`name version
 * arch` per line, buildroot.ts).
 * @returns the missing ones, in the given order
 */
export function missingBuildrootPackages(packages: readonly string[], packagesTxt: string): string[] {
  const present = new Set(packagesTxt.split('\n').map((l) => l.split(' ')[0]).filter(Boolean));
  return packages.filter((p) => !present.has(p));
}
