#!/usr/bin/env node
// The nx-distro command: `nx-distro explain [TASK...]` (why tasks missed the cache, see
// docs/cache-keys.md) and `nx-distro reproducibility [SYSTEM_TARGET...]` (the reproducibility
// checks' report, see docs/reproducibility.md). The TypeScript sources are loaded with swc.
const path = require('node:path');
// Always its own swc settings: an inherited SWC_NODE_PROJECT (relative, or for other code) would not fit.
process.env.SWC_NODE_PROJECT = path.join(__dirname, 'tsconfig.swc.json');
require('@swc-node/register');
process.exitCode = require('../src/cli').main(process.argv.slice(2));
