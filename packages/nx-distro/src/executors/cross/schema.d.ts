/** Options of the `nx-distro:cross` executor (see schema.json). */
export interface CrossExecutorOptions {
  /** Workspace-relative path of the recipe file; default `<projectRoot>/recipe.yaml`. */
  recipe?: string;
  /** Stage to build, absent for the final package. */
  stage?: string;
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
  /** Run the recipe's `check` step (native builds only). Default false. */
  check?: boolean;
  /** Parallel make jobs (`$JOBS`); default the number of CPUs. */
  jobs?: number;
}
