import { BUILD_TARGET } from '../model/dependency-ref';

/** What a run of tasks needs of the build machine. */
export interface HostNeeds {
  /** The run builds packages (`build` or `build--<stage>` tasks): sandbox, toolchain, emulator, disk. */
  readonly build: boolean;
}

/** Nx targets besides the build targets that build packages: the reproducibility checks (src/plugin/targets.ts). */
const REBUILD_TARGETS = ['reproduce', 'reproduce-native'];

/** Whether an Nx target name builds packages: `build`, `build--<stage>`, or a reproducibility check (`reproduce`, `reproduce-native`). */
export function isBuildTarget(target: string): boolean {
  return target === BUILD_TARGET || target.startsWith(`${BUILD_TARGET}--`) || REBUILD_TARGETS.includes(target);
}

/**
 * The Nx target names an nx command line asks for (before Nx adds their dependencies), from its
 * argv as Nx passes it to `preTasksExecution`:
 * - `run-many` / `affected`: every `-t`/`--target`/`--targets` value (space- or comma-separated,
 *   `=` forms too);
 * - `run project:target[:configuration]` and the bare `project:target[:configuration]`;
 * - otherwise the first argument, Nx's inferred form `nx build gcc` (for commands that run no
 *   task, e.g. `show`, that name is simply not a target of this plugin).
 * @param argv the whole process argv (`['node', '.../nx', 'run-many', '-t', 'build']`)
 * @returns target names, possibly with `*` globs as typed; `[]` when there is no command
 */
export function requestedTargets(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  const command = args[0];
  if (command === undefined || command.startsWith('-')) return [];
  if (command === 'run-many' || command === 'affected') {
    const out: string[] = [];
    for (let i = 1; i < args.length; i++) {
      const a = args[i];
      const eq = /^(?:-t|--targets?)=(.*)$/.exec(a);
      if (eq) out.push(...split(eq[1]));
      else if (a === '-t' || a === '--target' || a === '--targets') {
        while (i + 1 < args.length && !args[i + 1].startsWith('-')) out.push(...split(args[++i]));
      }
    }
    return out;
  }
  const spec = command === 'run' ? args[1] : command;
  if (spec === undefined) return [];
  const parts = spec.split(':');
  if (parts.length >= 2) return parts[1] ? [parts[1]] : [];
  return command === 'run' ? [] : [command];
}

function split(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function globMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/**
 * What the run an nx command line starts needs of the build machine: `build` when any requested
 * target is a build target ({@link isBuildTarget}), a `*` glob matching one included. Targets that
 * only depend on builds are not seen here (Nx passes the argv, not the task graph).
 * @param argv the whole process argv
 */
export function hostNeedsOfRun(argv: readonly string[]): HostNeeds {
  const targets = requestedTargets(argv);
  return { build: targets.some((t) => isBuildTarget(t) || [BUILD_TARGET, `${BUILD_TARGET}--stage1`, ...REBUILD_TARGETS].some((name) => globMatches(t, name))) };
}
