/** Options of the `nx-distro:import-debian` generator (see schema.json). */
export interface ImportDebianOptions {
  /** Source packages, `NAME` or `NAME=VERSION`, separated by spaces or commas. */
  packages: string;
  /** Further source packages given as more positional arguments. */
  _?: readonly (string | number)[];
  withDependencies?: boolean;
  /** Active build profiles, comma-separated; default `nocheck,nobiarch`. */
  profiles?: string;
  category?: string;
}
