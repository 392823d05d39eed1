/**
 * A reference to a recipe's build from a `depends`/`makedepends`/`makedepends_build` entry:
 * `name` is the final build (Nx target `build`), `name@stageN` the reduced stage build
 * (Nx target `build--stageN`).
 */
export interface DependencyRef {
  /** Recipe (and Nx project) name. */
  readonly name: string;
  /** Stage name (`stage1`, ...) or `undefined` for the final build. */
  readonly stage: string | undefined;
}

/** Separator between recipe name and stage in a dependency entry (`gcc@stage1`). */
export const STAGE_SEPARATOR = '@';

/** Nx target of a recipe's final build. */
export const BUILD_TARGET = 'build';

/** Nx target that makes a recipe's sources available (arch-independent). */
export const FETCH_TARGET = 'fetch';

/** Parses `name` or `name@stageN`; the schema has already checked the syntax. */
export function parseDependencyRef(entry: string): DependencyRef {
  const at = entry.indexOf(STAGE_SEPARATOR);
  return at < 0 ? { name: entry, stage: undefined } : { name: entry.slice(0, at), stage: entry.slice(at + 1) };
}

/** The Nx target that builds a stage (`build--stage1`) or the final package (`build`). */
export function buildTargetName(stage: string | undefined): string {
  return stage ? `${BUILD_TARGET}--${stage}` : BUILD_TARGET;
}

/**
 * The inverse of {@link buildTargetName}: what an Nx target name says of the build it runs.
 * @returns `{ stage: undefined }` for `build`, `{ stage: 'stage1' }` for `build--stage1`, and
 *   undefined for any other target (`fetch`, `reproduce`)
 */
export function buildOfTarget(target: string): { stage: string | undefined } | undefined {
  if (target === BUILD_TARGET) return { stage: undefined };
  const stage = new RegExp(`^${BUILD_TARGET}--([a-z0-9_]+)$`).exec(target)?.[1];
  return stage ? { stage } : undefined;
}

/** The graph node key of a build: `name` or `name@stageN`, the form used in recipes. */
export function nodeKey(name: string, stage: string | undefined): string {
  return stage ? `${name}${STAGE_SEPARATOR}${stage}` : name;
}
