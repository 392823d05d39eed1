import type { BuildExecutorOptions } from '../../build/build-recipe';

/** Options of the `nx-distro:native` executor (see schema.json). */
export type NativeExecutorOptions = BuildExecutorOptions;
