#!/usr/bin/env node
// The nx-distro command: `nx-distro explain [TASK...]` (why tasks missed the cache, see
// docs/cache-keys.md), `nx-distro reproducibility [SYSTEM_TARGET...]` (the reproducibility
// checks' report, see docs/reproducibility.md), `nx-distro lint SYSTEM_TARGET [PACKAGE...]` (the
// built packages checked, see README.md) and `nx-distro shell PROJECT -c SYSTEM_TARGET` (a shell in a
// build's sandbox). The TypeScript sources are loaded with swc.
const path = require('node:path');
// Always its own swc settings: an inherited SWC_NODE_PROJECT (relative, or for other code) would not fit.
process.env.SWC_NODE_PROJECT = path.join(__dirname, 'tsconfig.swc.json');
require('@swc-node/register');
Promise.resolve(require('../src/cli').main(process.argv.slice(2))).then((status) => {
  process.exitCode = status;
});
