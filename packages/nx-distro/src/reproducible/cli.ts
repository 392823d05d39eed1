import path from 'node:path';
import { readPluginOptions } from '../model/plugin-options';
import { formatReport, readResults } from './report';

/** Usage of `nx-distro reproducibility`. */
export const REPRODUCIBILITY_USAGE = `nx-distro reproducibility [SYSTEM_TARGET...]
  Summarises the reproducibility checks run in this workspace (nx run-many -t reproduce
  reproduce-native -c SYSTEM_TARGET): per system target and check, each recipe's status and the
  share of compared recipes whose two packages are byte-identical. Exit 1 when one differs.`;

/**
 * `nx-distro reproducibility [SYSTEM_TARGET...]`, run in the workspace root.
 * @param args the arguments after `reproducibility`
 * @param workspaceRoot absolute workspace root (default: the current folder)
 * @returns the exit status: 0 when every compared package is reproducible, 1 when one differs or
 *   no result exists, 2 for a usage error
 */
export function reproducibilityCommand(args: readonly string[], workspaceRoot = process.cwd()): number {
  const bad = args.find((a) => a.startsWith('-') || !/^[A-Za-z0-9._-]+$/.test(a));
  if (bad !== undefined) {
    console.error(`nx-distro reproducibility: ${bad}: not a system target name; fix: nx-distro reproducibility [SYSTEM_TARGET...], e.g. aarch64`);
    return 2;
  }
  const { distDir, reproduceTargets } = readPluginOptions(workspaceRoot);
  const summaries = readResults(path.join(workspaceRoot, distDir), args);
  if (!summaries.length) {
    const enable = reproduceTargets ? '' : ' (after setting the plugin option reproduceTargets to true in nx.json: it is false)';
    console.error(`nx-distro reproducibility: no results under ${distDir}/${args.length === 1 ? args[0] : '<system target>'}/reproduce; fix: nx run-many -t reproduce reproduce-native -c ${args[0] ?? '<system target>'}${enable}`);
    return 1;
  }
  for (const line of formatReport(summaries)) console.log(line);
  return summaries.every((s) => s.reproducible === s.compared) ? 0 : 1;
}
