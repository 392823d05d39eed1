/** Options of the `nx-distro:recipe` generator (see schema.json). */
export interface RecipeGeneratorOptions {
  name: string;
  url: string;
  sha256: string;
  version?: string;
  description?: string;
  homepage?: string;
  /** Comma-separated SPDX ids; default `LicenseRef-Unknown`. */
  license?: string;
  apt?: string;
  style?: 'gnu-configure' | 'make' | 'none';
  category?: string;
}
