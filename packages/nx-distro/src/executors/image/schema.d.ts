/** Options of the `nx-distro:image` executor (see schema.json). */
export interface ImageExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
}
