/**
 * Options of the nx-distro plugin, set in nx.json:
 * `{ "plugin": "nx-distro", "options": { "defaultSystemTarget": "x86_64" } }`.
 */
export interface NxDistroPluginOptions {
  /** Workspace-relative folder of the system target files. Default `targets`. */
  targetsDir?: string;
  /** Configuration used when none is given on the command line. Default `x86_64`. */
  defaultSystemTarget?: string;
  /** Workspace-relative folder for task outputs (`<distDir>/<systemTarget>/...`). Default `dist`. */
  distDir?: string;
}

/** Options with every default filled in. */
export type NormalizedOptions = Required<NxDistroPluginOptions>;

/** Fills in every default in one place. */
export function normalizeOptions(options: NxDistroPluginOptions | undefined): NormalizedOptions {
  return {
    targetsDir: stripSlashes(options?.targetsDir ?? 'targets'),
    defaultSystemTarget: options?.defaultSystemTarget ?? 'x86_64',
    distDir: stripSlashes(options?.distDir ?? 'dist'),
  };
}

function stripSlashes(p: string): string {
  return p.replace(/^\.\//, '').replace(/\/+$/, '');
}
