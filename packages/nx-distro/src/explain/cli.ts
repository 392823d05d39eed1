import { explain } from './explain';
import { signaturesDir } from './signatures';

const USAGE = `usage: nx-distro explain [TASK...]

Says why tasks missed Nx's cache: for each task that ran in the last nx run of this workspace
(or each TASK given, e.g. zlib:build:aarch64), the inputs whose hash differs from the task's
signature before (the command, every input Nx hashed, runtime inputs, and each file of the
recipe and targets folders).`;

/**
 * The `nx-distro` command line.
 * @returns the exit status: 0, or 2 for a usage error
 */
export function main(argv: readonly string[]): number {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command !== 'explain') {
    console.error(`nx-distro: ${command === undefined ? 'no command' : `unknown command ${command}`}; fix: nx-distro explain [TASK...]`);
    return 2;
  }
  const bad = rest.find((a) => a.startsWith('-') || !/^[^:\s]+:[^:\s]+(:[^:\s]+)?$/.test(a));
  if (bad !== undefined) {
    console.error(`nx-distro explain: ${bad}: not a task id; fix: PROJECT:TARGET[:CONFIGURATION], e.g. zlib:build:aarch64`);
    return 2;
  }
  // Nx's own resolution of the workspace data folder (NX_WORKSPACE_DATA_DIRECTORY or .nx/workspace-data).
  const { workspaceDataDirectory } = require('@nx/devkit/internal') as { workspaceDataDirectory: string };
  for (const line of explain(signaturesDir(workspaceDataDirectory), rest)) console.log(line);
  return 0;
}
