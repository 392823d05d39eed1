import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

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
  /**
   * The distfiles store (absolute, or relative to the workspace root). The environment variable
   * `NX_DISTRO_DISTFILES` overrides it. Default `$XDG_CACHE_HOME/nx-distro/distfiles`
   * (`~/.cache/nx-distro/distfiles`), shared by every workspace of the user.
   */
  distfilesDir?: string;
  /**
   * Distfile mirrors tried before each recipe's URLs, in order: http(s) or file URLs, or absolute
   * folders, laid out as `by-sha256/<sha256>/<filename>` or flat. The environment variable
   * `NX_DISTRO_MIRRORS` (space-separated, like GENTOO_MIRRORS) replaces the list. Default none.
   */
  mirrors?: string[];
  /**
   * Folders outside the workspace that a recipe's `file:` source URL may point into (absolute, or
   * relative to the workspace root), e.g. a local tarball archive. A `file:` URL must resolve,
   * symbolic links included, inside the workspace or one of these; anything else is refused
   * (a recipe may come from a pull request). Default none.
   */
  localSourceDirs?: string[];
  /** Seconds without a byte before an http(s) download attempt is aborted. Default 30. */
  fetchTimeoutSeconds?: number;
  /** Further attempts after a transient http(s) failure. Default 2. */
  fetchRetries?: number;
  /**
   * Whether every recipe gets the reproducibility check targets `reproduce` and
   * `reproduce-native` (docs/reproducibility.md). Default `true`. `false` leaves them out: on a
   * distribution-sized tree they are about half of the project graph that Nx builds, writes and
   * reads for every command, `nx run-many -t build` included (docs/benchmarks-scale.md).
   */
  reproduceTargets?: boolean;
  /**
   * Whether every nx command that runs tasks writes the run report: one HTML page with the
   * tasks' timeline per worker, the critical path and the totals, `<distDir>/run-report/latest.html`
   * (and a copy named by the run's start; the newest 20 kept). Default `true`.
   */
  runReport?: boolean;
}

/** Options with every default filled in. */
export type NormalizedOptions = Required<NxDistroPluginOptions>;

/** Fills in every default in one place. */
export function normalizeOptions(options: NxDistroPluginOptions | undefined): NormalizedOptions {
  return {
    targetsDir: stripSlashes(options?.targetsDir ?? 'targets'),
    defaultSystemTarget: options?.defaultSystemTarget ?? 'x86_64',
    distDir: stripSlashes(options?.distDir ?? 'dist'),
    distfilesDir: options?.distfilesDir ?? '',
    mirrors: options?.mirrors ?? [],
    localSourceDirs: options?.localSourceDirs ?? [],
    fetchTimeoutSeconds: options?.fetchTimeoutSeconds ?? 30,
    fetchRetries: options?.fetchRetries ?? 2,
    reproduceTargets: options?.reproduceTargets ?? true,
    runReport: options?.runReport ?? true,
  };
}

/** The plugin's name in nx.json's `plugins` (a string entry, or an object entry's `plugin`). */
export const PLUGIN_NAME = 'nx-distro';

/**
 * The options of the nx-distro entry among nx.json's `plugins` as written there (no defaults
 * filled in).
 * @param plugins nx.json's `plugins` array (entries are a plugin name, or `{ plugin, options }`)
 * @returns the entry's `options` object; undefined when there is no entry, or it is a bare name
 */
export function pluginEntryOptions(plugins: readonly (string | { plugin: string; options?: unknown })[] | undefined): object | undefined {
  const entry = plugins?.find((p) => (typeof p === 'string' ? p : p.plugin) === PLUGIN_NAME);
  return typeof entry === 'object' ? (entry.options as object | undefined) : undefined;
}

/**
 * The plugin's options read from `<workspaceRoot>/nx.json`, defaults filled in (all defaults when
 * the file or the entry is missing): what the commands outside Nx read (`nx-distro lint`,
 * `nx-distro reproducibility`, a Slurm job).
 * @param workspaceRoot absolute workspace root
 * @throws SyntaxError when nx.json is not JSON
 */
export function readPluginOptions(workspaceRoot: string): NormalizedOptions {
  const file = path.join(workspaceRoot, 'nx.json');
  if (!existsSync(file)) return normalizeOptions(undefined);
  const nxJson = JSON.parse(readFileSync(file, 'utf8')) as { plugins?: (string | { plugin: string; options?: unknown })[] };
  return normalizeOptions(pluginEntryOptions(nxJson.plugins) as NxDistroPluginOptions | undefined);
}

function stripSlashes(p: string): string {
  return p.replace(/^\.\//, '').replace(/\/+$/, '');
}
