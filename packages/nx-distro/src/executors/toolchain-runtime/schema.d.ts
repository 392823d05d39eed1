/** Options of the `nx-distro:toolchain-runtime` executor (see schema.json). */
export interface ToolchainRuntimeExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
}
