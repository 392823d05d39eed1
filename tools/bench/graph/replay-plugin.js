// A second baseline of the graph benchmark: nx-distro's own graph (every project configuration
// and static dependency nx-distro made for this tree, saved by run.mjs to replay.json), handed to
// Nx without reading a recipe. Its time is what Nx spends on a graph of nx-distro's shape: the
// least any plugin producing that graph could take; what nx-distro takes beyond it is its own.
const fs = require('node:fs');
const path = require('node:path');

let saved;
const load = (workspaceRoot) => (saved ??= JSON.parse(fs.readFileSync(path.join(workspaceRoot, 'replay.json'), 'utf8')));

exports.createNodes = [
  'recipes/{*,*/*}/recipe.yaml',
  (files, _options, context) => {
    const { projects } = load(context.workspaceRoot);
    const results = files.map((file) => {
      const root = path.posix.dirname(file);
      return [file, { projects: { [root]: projects[root] } }];
    });
    // nx-distro's project of the system targets (root `targets`), made from a recipe file here.
    for (const [root, project] of Object.entries(projects)) {
      if (!root.startsWith('recipes/')) results.push([files[0], { projects: { [root]: project } }]);
    }
    return results;
  },
];

exports.createDependencies = (_options, context) => load(context.workspaceRoot).dependencies;
