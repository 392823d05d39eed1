import { RESUME_USAGE, resumeCommand } from './pipeline/resume-cli';
import { BUILD_JOB_USAGE, buildJobCommand } from './cluster/build-job-cli';
import { SHELL_USAGE, shellCommand } from './pipeline/shell-cli';
import { EXPLAIN_USAGE, explainCommand } from './explain/cli';
import { LINT_USAGE, lintCommand } from './lint/cli';
import { REPRODUCIBILITY_USAGE, reproducibilityCommand } from './reproducible/cli';

const USAGE = `usage: nx-distro COMMAND [ARG...]

${EXPLAIN_USAGE}

${REPRODUCIBILITY_USAGE}

${LINT_USAGE}

${SHELL_USAGE}

${RESUME_USAGE}

${BUILD_JOB_USAGE}`;

/** The commands of the `nx-distro` bin, by name. */
const COMMANDS: Record<string, (args: readonly string[]) => number | Promise<number>> = {
  explain: explainCommand,
  reproducibility: reproducibilityCommand,
  lint: lintCommand,
  shell: shellCommand,
  resume: resumeCommand,
  'build-job': buildJobCommand,
};

/**
 * The `nx-distro` command line (bin/nx-distro.js): `explain`, `reproducibility`, `lint`, `shell`, `resume`, and `build-job` (what a build's Slurm job runs).
 * @param argv the arguments after the program name
 * @returns the exit status (2 for a usage error), a promise of it for a command that reads
 *   packages (`lint`) or runs steps (`shell`, `resume`, `build-job`)
 */
export function main(argv: readonly string[]): number | Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  const run = command === undefined ? undefined : COMMANDS[command];
  if (!run) {
    console.error(`nx-distro: ${command === undefined ? 'no command' : `unknown command ${command}`}; fix: nx-distro ${Object.keys(COMMANDS).join('|')} (nx-distro --help)`);
    return 2;
  }
  const failed = (e: unknown) => {
    console.error(`nx-distro ${command}: ${(e as Error).message}`);
    return 1;
  };
  try {
    const status = run(rest);
    return typeof status === 'number' ? status : status.catch(failed);
  } catch (e) {
    return failed(e);
  }
}
