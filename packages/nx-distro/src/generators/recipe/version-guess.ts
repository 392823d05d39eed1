/**
 * Upstream versions from the names upstream gives its releases: archive names
 * (`zlib-1.3.1.tar.xz`) and version-control tags in their common styles (`v2.5`, `R_2_5_0`,
 * `json-c-0.16-20220414`, `curl-8_5_0`, `release-1.2.3`).
 */

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The version a tag or an archive's stem names, or `undefined` when it names none:
 * the package's name and a `v`/`V`, `R`/`R_`, `release-`, `rel-`, `version-` prefix dropped;
 * `_` as the only separator between numbers read as `.` (`R_2_5_0` -> `2.5.0`,
 * `curl-8_5_0` -> `8.5.0`); a release date after `-` or `_` dropped (`0.16-20220414` -> `0.16`);
 * any `-` left read as `.` in a pacman-style version (`1.2-3` -> `1.2.3`).
 * @param tag the tag or file stem (no `.tar.gz`)
 * @param name the package's name, when known (`json-c`)
 */
export function versionFromTag(tag: string, name?: string): string | undefined {
  let t = tag.trim();
  const names = name ? [name, name.replace(/^lib/, ''), `lib${name}`] : [];
  for (const n of names) {
    const m = new RegExp(`^${escapeRegExp(n)}[-_]?`, 'i').exec(t);
    if (m && /\d/.test(t[m[0].length] ?? '')) {
      t = t.slice(m[0].length);
      break;
    }
    if (m && /^[vV]\d/.test(t.slice(m[0].length))) {
      t = t.slice(m[0].length);
      break;
    }
  }
  t = t.replace(/^(?:release|rel|version|ver)[-_]?/i, '').replace(/^(?:[vV]|R_?)(?=\d)/, '');
  if (!/^\d/.test(t)) return undefined;
  if (/^\d+(?:_\d+)+$/.test(t)) t = t.replace(/_/g, '.');
  t = t.replace(/[-_](?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$/, '');
  t = t.replace(/-/g, '.');
  return /^\d[A-Za-z0-9._+~]*$/.test(t) ? t : undefined;
}

const ARCHIVE_SUFFIX = /\.(tar\.(gz|bz2|xz|zst|lz|lzma)|tgz|tbz2?|txz|zip)$/;

/**
 * Guesses the upstream version from an archive URL: the file name (`.../zlib-1.3.1.tar.xz` ->
 * `1.3.1`, `.../v2.5.tar.gz` -> `2.5`, GitHub's `.../archive/refs/tags/R_2_5_0.tar.gz` ->
 * `2.5.0`), else the release tag in a GitHub release download URL
 * (`.../releases/download/R_2_5_0/expat-2.5.0.tar.gz`).
 * @returns the version, or `undefined` when the URL names none
 */
export function guessVersion(name: string, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const parts = parsed.pathname.split('/').map((p) => decodeURIComponent(p));
  const file = (parts.pop() ?? '').replace(ARCHIVE_SUFFIX, '');
  const fromFile = versionFromTag(file, name);
  if (fromFile) return fromFile;
  const release = parts.indexOf('download');
  return release > 0 && parts[release - 1] === 'releases' && parts[release + 1] ? versionFromTag(parts[release + 1], name) : undefined;
}
