import path from 'node:path';
import { InputError } from '../model/errors';
import type { NormalizedOptions } from '../model/plugin-options';
import type { FetchSettings } from './fetch';
import { DistfilesStore, distfilesRoot } from './store';

/**
 * The distfiles store and fetch settings of a workspace, from the nx.json plugin options and
 * the environment (`NX_DISTRO_DISTFILES`, `NX_DISTRO_MIRRORS`: space-separated, replaces the
 * `mirrors` option, like GENTOO_MIRRORS replaces make.conf's). The folders a recipe's `file:`
 * URL may point into are the workspace root and the option `localSourceDirs`.
 * @param workspaceRoot absolute workspace root
 * @throws {InputError} naming nx.json and the option when an option has the wrong type
 */
export function fetchSetup(workspaceRoot: string, options: NormalizedOptions, env: NodeJS.ProcessEnv = process.env): { store: DistfilesStore; settings: FetchSettings } {
  const where = 'nx.json';
  if (!Array.isArray(options.mirrors) || options.mirrors.some((m) => typeof m !== 'string')) {
    throw new InputError(where, 'plugins[nx-distro].options.mirrors', 'must be a list of URLs or absolute folders', 'write e.g. ["https://mirror.example/distfiles"]');
  }
  for (const [field, value] of [['fetchTimeoutSeconds', options.fetchTimeoutSeconds], ['fetchRetries', options.fetchRetries]] as const) {
    if (typeof value !== 'number' || !(value >= 0)) throw new InputError(where, `plugins[nx-distro].options.${field}`, `must be a number ≥ 0, got ${JSON.stringify(value)}`);
  }
  if (!Array.isArray(options.localSourceDirs) || options.localSourceDirs.some((d) => typeof d !== 'string' || d === '')) {
    throw new InputError(where, 'plugins[nx-distro].options.localSourceDirs', 'must be a list of folders', 'write e.g. ["/srv/tarballs"] (absolute, or relative to the workspace root)');
  }
  const mirrors = env.NX_DISTRO_MIRRORS !== undefined ? env.NX_DISTRO_MIRRORS.split(/\s+/).filter(Boolean) : options.mirrors;
  return {
    store: new DistfilesStore(distfilesRoot(workspaceRoot, options.distfilesDir || undefined, env)),
    settings: {
      mirrors,
      localRoots: [workspaceRoot, ...options.localSourceDirs.map((d) => path.resolve(workspaceRoot, d))],
      http: { idleTimeoutSeconds: options.fetchTimeoutSeconds, retries: options.fetchRetries, retryDelayMs: 1000 },
    },
  };
}
