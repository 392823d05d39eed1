import path from 'node:path';
import type { NxJsonConfiguration, ProjectGraph } from '@nx/devkit';

/** What the report reads of Nx's task graph: every task of the command and their dependencies. */
export interface CommandTaskGraph {
  /** Task id -> its project, target and configuration. */
  readonly tasks: Readonly<Record<string, { readonly id: string; readonly target: { project: string; target: string; configuration?: string }; readonly outputs?: readonly string[] }>>;
  /** Task id -> ids of the tasks it depends on. */
  readonly dependencies: Readonly<Record<string, readonly string[]>>;
}

type Args = Record<string, unknown> & { _: unknown[] };

/**
 * Nx's task graph of an nx command line, made the way the command made it: its arguments
 * parsed by Nx's own yargs command (`run-many`, `run`, or the infix `nx <target> <project>`),
 * Nx's options and overrides split out of them, its projects chosen as Nx chooses them, and
 * Nx's `createTaskGraph` (what `selectTasksForProjects` runs). Unlike `postTasksExecution`'s
 * task results, it holds the tasks that never started (a dependency failed): Nx 24 reports no
 * result for those. Other commands (`affected`, ...) give undefined.
 * @param argv the whole process argv of the command (`['node', '.../nx', 'run-many', ...]`)
 * @param cwd the command's working folder (absolute), which `nx run` and the infix form take a default project from
 * @throws {Error} what Nx's parsing or planning throws (an unknown project, a missing target...)
 */
export function commandTaskGraph(argv: readonly string[], cwd: string, projectGraph: ProjectGraph, nxJson: NxJsonConfiguration): CommandTaskGraph | undefined {
  const args = argv.slice(2);
  const first = args.find((a) => !a.startsWith('-'));
  if (first === undefined) return undefined;
  // Nx's own modules (not its public API): the command objects its CLI is made of.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const nxDir = path.dirname(require.resolve('nx/package.json'));
  const yargs = require(require.resolve('yargs', { paths: [nxDir] })) as (args: string[]) => YargsLike;
  const { parserConfiguration, commandsObject } = require('nx/src/command-line/nx-commands') as {
    parserConfiguration: object;
    commandsObject: { getInternalMethods(): { getCommandInstance(): { getCommands(): string[] } } };
  };
  const { withOverrides } = require('nx/src/command-line/yargs-utils/shared-options') as { withOverrides(args: Args, level?: number): Record<string, unknown> };
  const { splitArgsIntoNxArgsAndOverrides } = require('nx/src/utils/command-line-utils') as {
    splitArgsIntoNxArgsAndOverrides(args: object, mode: string, options: object, nxJson: NxJsonConfiguration): { nxArgs: { targets: string[]; configuration?: string; excludeTaskDependencies?: boolean }; overrides: Record<string, unknown> };
  };
  const { createTaskGraph } = require('nx/src/tasks-runner/create-task-graph') as {
    createTaskGraph(graph: ProjectGraph, extra: object, projects: string[], targets: string[], configuration: string | undefined, overrides: object, excludeTaskDependencies: boolean): {
      tasks: CommandTaskGraph['tasks'];
      dependencies: Record<string, ReadonlyArray<string | { id: string }>>;
    };
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const parse = (command: { command: string; builder: (y: YargsLike) => YargsLike }): Args => {
    let parsed: Args | undefined;
    yargs(args)
      .parserConfiguration(parserConfiguration)
      .help(false)
      .version(false)
      .exitProcess(false)
      .fail((message: string, error?: Error) => {
        throw error ?? new Error(message);
      })
      .command({ ...command, handler: (a: Args) => void (parsed = a) })
      .parse();
    if (!parsed) throw new Error(`nx ${args.join(' ')}: not parsed as \`${command.command}\``);
    return parsed;
  };

  let projects: string[];
  let nxArgs: { targets: string[]; configuration?: string; excludeTaskDependencies?: boolean };
  let overrides: Record<string, unknown>;
  let excludeTaskDependencies: boolean;
  if (first === 'run-many') {
    const { yargsRunManyCommand } = require('nx/src/command-line/run-many/command-object'); // eslint-disable-line @typescript-eslint/no-require-imports
    const { projectsToRun } = require('nx/src/command-line/run-many/run-many') as { projectsToRun(nxArgs: object, graph: ProjectGraph): { name: string }[] }; // eslint-disable-line @typescript-eslint/no-require-imports
    const parsed = parse(yargsRunManyCommand);
    excludeTaskDependencies = parsed.excludeTaskDependencies === true;
    ({ nxArgs, overrides } = splitArgsIntoNxArgsAndOverrides(withOverrides(parsed), 'run-many', { printWarnings: false }, nxJson));
    projects = projectsToRun(nxArgs, projectGraph).map((p) => p.name);
  } else {
    // `nx run p:t[:c]`, or the infix `nx t p`; any other word is another nx command.
    const { yargsRunCommand, yargsNxInfixCommand } = require('nx/src/command-line/run/command-object'); // eslint-disable-line @typescript-eslint/no-require-imports
    const { parseRunOneOptions } = require('nx/src/command-line/run/run-one') as { // eslint-disable-line @typescript-eslint/no-require-imports
      parseRunOneOptions(cwd: string, args: object, graph: ProjectGraph, nxJson: NxJsonConfiguration): { project: string; target: string; configuration?: string; parsedArgs: object };
    };
    const infix = first !== 'run';
    // Any other of Nx's commands (`affected`, ...) is no infix target.
    if (infix && commandsObject.getInternalMethods().getCommandInstance().getCommands().includes(first)) return undefined;
    const parsed = parse(infix ? yargsNxInfixCommand : yargsRunCommand);
    excludeTaskDependencies = parsed.excludeTaskDependencies === true;
    const opts = parseRunOneOptions(cwd, withOverrides(parsed, infix ? 0 : 1), projectGraph, nxJson);
    ({ nxArgs, overrides } = splitArgsIntoNxArgsAndOverrides({ ...opts.parsedArgs, configuration: opts.configuration, targets: [opts.target] }, 'run-one', { printWarnings: false }, nxJson));
    if (!projectGraph.nodes[opts.project]) throw new Error(`no project ${JSON.stringify(opts.project)}`);
    projects = [opts.project];
  }
  const graph = createTaskGraph(projectGraph, {}, projects, nxArgs.targets, nxArgs.configuration, overrides, excludeTaskDependencies);
  const dependencies: Record<string, string[]> = {};
  for (const id of Object.keys(graph.tasks)) dependencies[id] = (graph.dependencies[id] ?? []).map((e) => (typeof e === 'string' ? e : e.id));
  return { tasks: graph.tasks, dependencies };
}


/** The part of yargs 17 this uses. */
interface YargsLike {
  parserConfiguration(config: object): YargsLike;
  help(enable: boolean): YargsLike;
  version(enable: boolean): YargsLike;
  exitProcess(enable: boolean): YargsLike;
  fail(handler: (message: string, error?: Error) => void): YargsLike;
  command(command: object): YargsLike;
  parse(): unknown;
}
