/** Options of the `nx-distro:buildroot` executor (see schema.json). */
export interface BuildrootExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
}
