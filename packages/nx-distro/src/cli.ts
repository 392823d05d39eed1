import { EXPLAIN_USAGE, explainCommand } from './explain/cli';
import { REPRODUCIBILITY_USAGE, reproducibilityCommand } from './reproducible/cli';

const USAGE = `usage: nx-distro COMMAND [ARG...]

${EXPLAIN_USAGE}

${REPRODUCIBILITY_USAGE}`;

/** The commands of the `nx-distro` bin, by name. */
const COMMANDS: Record<string, (args: readonly string[]) => number> = {
  explain: explainCommand,
  reproducibility: reproducibilityCommand,
};

/**
 * The `nx-distro` command line (bin/nx-distro.js): `explain` and `reproducibility`.
 * @param argv the arguments after the program name
 * @returns the exit status (2 for a usage error)
 */
export function main(argv: readonly string[]): number {
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
  try {
    return run(rest);
  } catch (e) {
    console.error(`nx-distro ${command}: ${(e as Error).message}`);
    return 1;
  }
}
