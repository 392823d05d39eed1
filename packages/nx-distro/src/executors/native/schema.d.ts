import type { BuildExecutorOptions } from '../../pipeline/build-recipe';

/** Options of the `nx-distro:native` executor (see schema.json). */
export type NativeExecutorOptions = BuildExecutorOptions;
