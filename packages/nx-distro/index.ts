/**
 * nx-distro: the Nx plugin. nx.json registers it as `{ "plugin": "nx-distro" }`; Nx reads
 * `createNodes` (one project per `recipes/<name>/recipe.yaml`), `createDependencies` and
 * `preTasksExecution` (refuses a configuration that is not a system target) and
 * `postTasksExecution` (records the tasks' signatures for `nx-distro explain`).
 */
export { createNodes, createDependencies, preTasksExecution, postTasksExecution } from './src/plugin/plugin';
export type { NxDistroPluginOptions } from './src/model/plugin-options';
