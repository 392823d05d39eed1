// The scale benchmark's `plan-only` step: plans `nx run-many -t build -c <configuration>` with
// Nx's own functions, as `--graph=file` does (project graph, task graph of every project's
// `build`, every task's hash against its own environment: nx/src/command-line/graph/graph.js
// createJsonOutput), without writing Nx's JSON. Nx writes that file as one JSON string, which a
// large enough task graph makes longer than V8's longest string ("Invalid string length").
// Run from the workspace root with NX_DAEMON=false; prints one JSON line
// `{ "tasks": <count>, "edges": <task dependency count>, "hashed": <count>, "filled": <count> }`.
//
// With --fill, it also stores every task in Nx's local cache under the hash it planned, through
// Nx's own cache (`getCache().put`, what Nx calls after running a task), as a task that exited 0
// with no output files (after recording the tasks' details, as Nx does once it has hashed them):
// the `cached` step's set-up, in one pass instead of running every task.
// The all-cached run that follows then checks Nx's own count of cache hits.
//
// With --affected=<file>, it plans `nx affected -t build -c <configuration> --files=<file>`
// instead: Nx's task-based selection of the affected tasks (computeAffectedTasks, as the affected
// command), then, as `--graph=file` does for it, the task graph of the projects of those tasks
// and every task's hash; the line also gives `"affected"`, the number of affected tasks.
//
//   node tools/bench/scale/plan.cjs <configuration> [--fill | --affected=<workspace-relative file>]
const { createProjectGraphAsync } = require('@nx/devkit');
const { readNxJson } = require('nx/src/config/configuration');
const { createTaskGraph } = require('nx/src/tasks-runner/create-task-graph');
const { createTaskHasher } = require('nx/src/hasher/create-task-hasher');
const { getTaskSpecificEnv } = require('nx/src/tasks-runner/task-env');
const { getCache } = require('nx/src/tasks-runner/cache');
const { getTaskDetails } = require('nx/src/hasher/hash-task');
const { computeAffectedTasks } = require('nx/src/project-graph/affected/affected-tasks');
const { calculateFileChanges } = require('nx/src/project-graph/file-utils');

async function main() {
  const configuration = process.argv[2];
  if (!configuration || configuration.startsWith('-')) throw new Error('usage: node plan.cjs <configuration> [--fill | --affected=<workspace-relative file>]');
  const graph = await createProjectGraphAsync({ exitOnError: true });
  let projects = Object.keys(graph.nodes).filter((p) => graph.nodes[p].data.targets?.build);
  const changed = process.argv.find((a) => a.startsWith('--affected='))?.slice('--affected='.length);
  let affected;
  if (changed) {
    const selection = await computeAffectedTasks({
      nxJson: readNxJson(),
      projectGraph: graph,
      targets: ['build'],
      touchedFiles: calculateFileChanges([changed], { files: [changed] }),
      fileChangeArgs: { files: [changed] },
      configuration,
      overrides: {},
      extraTargetDependencies: {},
      excludeTaskDependencies: false,
      exclude: [],
      explain: false,
      selectivelyHashTsConfig: false,
    });
    affected = selection.affectedTaskIds.size;
    const byId = selection.taskSelection.taskGraph.tasks;
    projects = [...new Set(selection.taskSelection.initiatingTaskIds.map((id) => byId[id].target.project))];
  }
  const taskGraph = createTaskGraph(graph, {}, projects, ['build'], configuration, {});
  const tasks = Object.values(taskGraph.tasks);
  const envs = {};
  for (const task of tasks) envs[task.id] = getTaskSpecificEnv(task, graph);
  const hashes = await createTaskHasher(graph, readNxJson()).hashTasks(tasks, taskGraph, envs);
  let edges = 0;
  for (const deps of Object.values(taskGraph.dependencies)) edges += deps.length;
  let filled = 0;
  if (process.argv.includes('--fill')) {
    for (const [i, task] of tasks.entries()) task.hash = hashes[i].value;
    // What Nx records once a task is hashed (a cache entry refers to its task's record).
    getTaskDetails()?.recordTaskDetails(tasks.map((t) => ({ hash: t.hash, project: t.target.project, target: t.target.target, configuration: t.target.configuration })));
    const cache = getCache({ skipRemoteCache: true });
    for (const task of tasks) {
      await cache.put(task, '', task.outputs, 0);
      filled++;
    }
  }
  console.log(JSON.stringify({ tasks: tasks.length, edges, hashed: hashes.filter((h) => h.value).length, filled, ...(changed ? { affected } : {}) }));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e.stack ?? String(e));
    process.exit(1);
  },
);
