/** Options of the `nx-distro:fetch` executor (see schema.json). */
export interface FetchExecutorOptions {
  /** Workspace-relative path of the recipe file. */
  recipe: string;
}
