#!/usr/bin/env node
// Starts the remote cache server (see ../README.md). The TypeScript source is loaded with swc.
const path = require('node:path');
process.env.SWC_NODE_PROJECT ??= path.join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
require('../src/cli').main(process.argv.slice(2));
