import type { ReproducibilityCheck } from '../../reproducible/compare';

/** Options of the `nx-distro:reproduce` executor (see schema.json). */
export interface ReproduceExecutorOptions {
  /** Workspace-relative path of the recipe file; default `<projectRoot>/recipe.yaml`. */
  recipe?: string;
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
  /** Which second build the package is compared with. */
  check: ReproducibilityCheck;
  /** Days added to a rebuild's wall clock (libfaketime, cross builds only); default 398, 0 = off. */
  clockOffsetDays?: number;
  /** Parallel make jobs of the second build; default the CPU count plus one. */
  jobs?: number;
}
