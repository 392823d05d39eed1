/** Options of the `nx-distro:source-bundle` executor (see schema.json). */
export interface SourceBundleExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
}
