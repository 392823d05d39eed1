import { explain } from './explain';
import { signaturesDir } from './signatures';

/** Usage of `nx-distro explain`. */
export const EXPLAIN_USAGE = `nx-distro explain [TASK...]
  Says why tasks missed Nx's cache: for each task that ran in the last nx run of this workspace
  (or each TASK given, e.g. zlib:build:aarch64), the inputs whose hash differs from the task's
  signature before (the command, every input Nx hashed, runtime inputs, and each file of the
  recipe and targets folders).`;

/**
 * `nx-distro explain [TASK...]`.
 * @param args the arguments after `explain`
 * @returns the exit status: 0, or 2 for a usage error
 */
export function explainCommand(args: readonly string[]): number {
  const bad = args.find((a) => a.startsWith('-') || !/^[^:\s]+:[^:\s]+(:[^:\s]+)?$/.test(a));
  if (bad !== undefined) {
    console.error(`nx-distro explain: ${bad}: not a task id; fix: PROJECT:TARGET[:CONFIGURATION], e.g. zlib:build:aarch64`);
    return 2;
  }
  // Nx's own resolution of the workspace data folder (NX_WORKSPACE_DATA_DIRECTORY or .nx/workspace-data).
  const { workspaceDataDirectory } = require('@nx/devkit/internal') as { workspaceDataDirectory: string };
  for (const line of explain(signaturesDir(workspaceDataDirectory), args)) console.log(line);
  return 0;
}
