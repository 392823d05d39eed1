/** Options of the `nx-distro:system-target` executor (see schema.json). */
export interface SystemTargetExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
}
