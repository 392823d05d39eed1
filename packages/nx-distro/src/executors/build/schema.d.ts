/** Options of the `nx-distro:build` executor (see schema.json). */
export interface BuildExecutorOptions {
  /** Workspace-relative path of the recipe file; default `<projectRoot>/recipe.yaml`. */
  recipe?: string;
  /** Stage to build, absent for the final package. */
  stage?: string;
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
}
