import type { BuildExecutorOptions } from '../../pipeline/build-recipe';

/** Options of the `nx-distro:cross` executor (see schema.json). */
export type CrossExecutorOptions = BuildExecutorOptions;
