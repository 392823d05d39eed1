/** Options of the `nx-distro:recipe` generator (see schema.json). */
export interface RecipeGeneratorOptions {
  name: string;
  url: string;
  /** When left out: downloaded, or taken from Debian's orig tarball through apt. */
  sha256?: string;
  /** The upstream version (`--upstream-version`; Nx keeps `--version` for itself). */
  upstreamVersion?: string;
  description?: string;
  homepage?: string;
  /** Comma-separated SPDX ids; default `LicenseRef-Unknown`. */
  license?: string;
  /** `NAME=VERSION` pin, or `NAME` of the Debian source package to take the sum from. */
  apt?: string;
  style?: 'cmake' | 'gnu-configure' | 'make' | 'meson' | 'none';
  category?: string;
}
