/**
 * Debian version numbers (Debian Policy §5.6.12: `[epoch:]upstream_version[-debian_revision]`),
 * their order (dpkg's `verrevcmp`, as `dpkg --compare-versions` applies it), and the recipe
 * version a Debian version stands for.
 */

/** A Debian version split into its three parts. */
export interface DebianVersion {
  /** The epoch, 0 when absent (`1:1.2.13.dfsg-1` has 1). */
  readonly epoch: number;
  /** The upstream version as Debian writes it, repack suffix included (`1.2.13.dfsg`). */
  readonly upstream: string;
  /** The Debian revision (`1+deb12u1`), `''` for a native package. */
  readonly revision: string;
}

/**
 * Splits a Debian version: the epoch is up to the first `:`, the revision after the last `-`.
 * @throws Error for a version Policy does not allow (empty upstream part, a non-numeric epoch,
 *   an upstream part not starting with a digit, characters outside `A-Za-z0-9.+~-:`)
 */
export function parseDebianVersion(text: string): DebianVersion {
  const m = /^(?:(\d+):)?(.+?)(?:-([A-Za-z0-9.+~]+))?$/.exec(text.trim());
  if (!m || !/^[0-9][A-Za-z0-9.+~:-]*$/.test(m[2]) || (m[2].includes(':') && m[1] === undefined) || (m[2].includes('-') && m[3] === undefined)) {
    throw new Error(`not a Debian version (Debian Policy 5.6.12: [epoch:]upstream[-revision], upstream starting with a digit)`);
  }
  return { epoch: m[1] === undefined ? 0 : Number(m[1]), upstream: m[2], revision: m[3] ?? '' };
}

/** dpkg's character order: `~` before everything (even the end), letters, then other characters. */
function order(c: string | undefined): number {
  if (c === undefined || (c >= '0' && c <= '9')) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** dpkg's `verrevcmp`: alternating non-digit and digit runs, compared as above and numerically. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const d = order(a[i]) - order(b[j]);
      if (d) return d;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let firstDiff = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/**
 * Compares two Debian versions as dpkg does (epoch, then upstream version, then revision).
 * @returns negative when `a` is older, 0 when equal, positive when `a` is newer
 * @throws Error when either is not a Debian version
 */
export function compareDebianVersions(a: string, b: string): number {
  const x = parseDebianVersion(a);
  const y = parseDebianVersion(b);
  return Math.sign(x.epoch - y.epoch || verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision));
}

// The suffixes Debian appends to a repacked upstream version (Developer's Reference 6.7.8.2:
// `+dfsg`, `+ds`, `+repack`, with an optional number, after `+`, `~` or `.`).
const REPACK_SUFFIX = /[+~.](?:dfsg|ds|repack)(?:[.+~]?\d+)?$/i;
const REPACK_ANYWHERE = /[+~.](?:dfsg|ds|repack)/i;

/** Whether the upstream part of a Debian version says the tarball was repacked (`+dfsg`, `.dfsg`, `+ds1`, `+repack`). */
export function hasRepackSuffix(upstream: string): boolean {
  return REPACK_ANYWHERE.test(upstream);
}

/**
 * The recipe's `version` (pacman `pkgver`) for a Debian upstream version: the repack suffix
 * dropped (`1.2.13.dfsg` -> `1.2.13`, `1.5.4+dfsg2` -> `1.5.4`), `X+reallyY` taken as `Y` (Debian's
 * way of going back to an older upstream version), and a `-` (allowed upstream when Debian adds
 * a revision) or `:` replaced with `_` (pacman versions have neither). The epoch and revision are
 * not part of it: the epoch only orders Debian's own history, and the revision counts Debian's
 * packaging changes, so a new recipe starts at `release: 1`, like every recipe in recipes/.
 */
export function recipeVersion(upstream: string): string {
  return upstreamRelease(upstream).replace(/[-:]/g, '_');
}

/**
 * The version upstream released for a Debian upstream version: `X+reallyY` taken as `Y`, the
 * repack suffix dropped (`1.2.13.dfsg` -> `1.2.13`), nothing else changed.
 */
export function upstreamRelease(upstream: string): string {
  let v = upstream;
  const really = /\+really(.+)$/.exec(v);
  if (really) v = really[1];
  while (REPACK_SUFFIX.test(v)) v = v.replace(REPACK_SUFFIX, '');
  return v;
}
