// Run from a workspace root with NX_DAEMON=false (test/nx-patch.test.ts): plans and hashes every
// `build` task of `<configuration>` as a cold `nx run-many` does (the up-front batch, then each
// deferred task once its dependencies have run and written their outputs), counting the calls to
// Nx's native planner; then hashes every task again with a fresh hasher, each on its own, as
// unpatched Nx hashed a deferred task (one planning pass per task). Prints one JSON line:
// `{ "tasks", "deferred", "plannerCalls", "referencePlannerCalls", "mismatches": [task ids] }`.
//
//   node test/helpers/hash-plans.cjs <configuration>
const { mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { createProjectGraphAsync } = require('@nx/devkit');
const { readNxJson } = require('nx/src/config/configuration');
const { createTaskGraph } = require('nx/src/tasks-runner/create-task-graph');
const { createTaskHasher } = require('nx/src/hasher/create-task-hasher');
const { getTaskSpecificEnv } = require('nx/src/tasks-runner/task-env');
const { hashTasksThatDoNotDependOnOutputsOfOtherTasks, hashTask } = require('nx/src/hasher/hash-task');
const { HashPlanner } = require('nx/src/native');

let plannerCalls = 0;
const getPlansReference = HashPlanner.prototype.getPlansReference;
HashPlanner.prototype.getPlansReference = function (...args) {
  plannerCalls++;
  return getPlansReference.apply(this, args);
};

async function main() {
  const configuration = process.argv[2];
  const graph = await createProjectGraphAsync({ exitOnError: true });
  const projects = Object.keys(graph.nodes).filter((p) => graph.nodes[p].data.targets?.build);
  const taskGraph = createTaskGraph(graph, {}, projects, ['build'], configuration, {});
  const nxJson = readNxJson();
  const hasher = createTaskHasher(graph, nxJson);
  const deferred = await hashTasksThatDoNotDependOnOutputsOfOtherTasks(hasher, graph, taskGraph, nxJson, null);
  // Run in dependency order: hash a task when its dependencies are done, then "run" it (write
  // its outputs), so a dependent's hash reads real dependency outputs.
  const done = new Set();
  const ids = Object.keys(taskGraph.tasks);
  while (done.size < ids.length) {
    for (const id of ids) {
      if (done.has(id) || !taskGraph.dependencies[id].every((d) => done.has(typeof d === 'string' ? d : d.id))) continue;
      const task = taskGraph.tasks[id];
      if (!task.hash) await hashTask(hasher, graph, taskGraph, task, getTaskSpecificEnv(task, graph), null);
      for (const output of task.outputs ?? []) {
        mkdirSync(path.join(process.cwd(), output), { recursive: true });
        writeFileSync(path.join(process.cwd(), output, 'out'), `${id} ${task.hash}\n`);
      }
      done.add(id);
    }
  }
  const patchedCalls = plannerCalls;
  plannerCalls = 0;
  const reference = createTaskHasher(graph, nxJson);
  const mismatches = [];
  for (const id of ids) {
    const task = taskGraph.tasks[id];
    const { value } = await reference.hashTask(task, taskGraph, getTaskSpecificEnv(task, graph));
    if (value !== task.hash) mismatches.push(id);
  }
  console.log(JSON.stringify({ tasks: ids.length, deferred: deferred.size, plannerCalls: patchedCalls, referencePlannerCalls: plannerCalls, mismatches }));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e.stack ?? String(e));
    process.exit(1);
  },
);
