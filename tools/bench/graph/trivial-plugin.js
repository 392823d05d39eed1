// The baseline of the graph benchmark: a trivial Nx plugin over the same recipe files that
// reads nothing and adds no dependency, only one project per recipe with fetch/build targets.
const path = require('node:path');

exports.createNodes = [
  'recipes/{*,*/*}/recipe.yaml',
  (files) =>
    files.map((file) => {
      const root = path.posix.dirname(file);
      return [
        file,
        {
          projects: {
            [root]: {
              name: path.posix.basename(root),
              root,
              targets: { fetch: { executor: 'nx:noop' }, build: { executor: 'nx:noop', dependsOn: ['fetch'] } },
            },
          },
        },
      ];
    }),
];
