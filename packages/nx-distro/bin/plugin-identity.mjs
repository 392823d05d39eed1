#!/usr/bin/env node
// Prints the sha256 of the nx-distro plugin's own files (sorted paths and contents, tests and
// node_modules excluded). Used as a runtime input of every task when the plugin is neither
// inside the workspace (then its files are a fileset input) nor an npm dependency of it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';

const dir = fileURLToPath(new URL('..', import.meta.url));
const files = fg.sync(['**/*'], { cwd: dir, ignore: ['node_modules/**', '**/*.test.ts'], dot: false }).sort();
const hash = createHash('sha256');
for (const f of files) hash.update(`${f}\0`).update(readFileSync(new URL(f, `file://${dir}`))).update('\0');
process.stdout.write(`nx-distro ${hash.digest('hex')}\n`);
