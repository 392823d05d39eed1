/**
 * nx-distro: the Nx plugin. nx.json registers it as `{ "plugin": "nx-distro" }`; Nx reads
 * `createNodes` (one project per `recipes/<name>/recipe.yaml`) and `createDependencies`.
 */
export { createNodes, createDependencies } from './src/plugin/plugin';
export type { NxDistroPluginOptions } from './src/plugin/options';
