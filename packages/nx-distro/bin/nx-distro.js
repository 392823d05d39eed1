#!/usr/bin/env node
// The nx-distro command. `nx-distro explain [TASK...]`: why tasks missed the cache (see
// docs/cache-keys.md). The TypeScript sources are loaded with swc.
const path = require('node:path');
process.env.SWC_NODE_PROJECT ??= path.join(__dirname, 'tsconfig.swc.json');
require('@swc-node/register');
process.exitCode = require('../src/explain/cli').main(process.argv.slice(2));
