/** Options of the `nx-distro:debuginfod` executor (see schema.json). */
export interface DebuginfodExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
  /** TCP port to listen on; default 8002. */
  port?: number;
  /** Seconds between rescans of the repository (0: once); default 300. */
  rescanSeconds?: number;
}
