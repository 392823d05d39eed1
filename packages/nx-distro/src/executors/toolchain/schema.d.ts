/** Options of the `nx-distro:toolchain` executor (see schema.json). */
export interface ToolchainExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
}
