/** Options of the `nx-distro:fetch` executor (see schema.json). */
export interface FetchExecutorOptions {
  /** Workspace-relative path of the recipe file; default `<projectRoot>/recipe.yaml`. */
  recipe?: string;
}
