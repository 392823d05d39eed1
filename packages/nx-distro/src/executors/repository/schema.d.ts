/** Options of the `nx-distro:repository` executor (see schema.json). */
export interface RepositoryExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`); also the repository's name (`[<systemTarget>]` in pacman.conf). */
  systemTarget?: string;
}
