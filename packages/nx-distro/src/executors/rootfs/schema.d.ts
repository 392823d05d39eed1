/** Options of the `nx-distro:rootfs` executor (see schema.json). */
export interface RootfsExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
}
