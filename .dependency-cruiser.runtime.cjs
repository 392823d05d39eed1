// What the plugin's graph code loads at run time, checked by dependency-cruiser with type-only
// imports left out (they load nothing): test/layers.test.ts runs it beside .dependency-cruiser.cjs
// (by hand: npx depcruise packages/nx-distro/src --config .dependency-cruiser.runtime.cjs).

const main = require('./.dependency-cruiser.cjs');

module.exports = {
  forbidden: [
    {
      name: 'plugin-without-execa',
      comment: "the plugin's graph code (plugin/plugin.ts and what it loads) does not load execa: every Nx command loads the plugin, and execa (ESM) costs it time; use node:child_process there",
      severity: 'error',
      from: { path: '^packages/nx-distro/src/plugin/plugin\\.ts$' },
      to: { path: 'node_modules/execa/', reachable: true },
    },
  ],
  options: { ...main.options, tsPreCompilationDeps: false },
};
