import type { BuildExecutorOptions } from '../../build/build-recipe';

/** Options of the `nx-distro:cross` executor (see schema.json). */
export type CrossExecutorOptions = BuildExecutorOptions;
