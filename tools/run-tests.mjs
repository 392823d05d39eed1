#!/usr/bin/env node
// Runs every test with Node's built-in runner (its summary is what CI reads): unit tests beside
// the code (packages/**/src/**/*.test.ts), then integration tests under test/. TypeScript is
// loaded through @swc-node/register. Extra arguments are passed to `node --test`
// (e.g. --test-name-pattern=cycle).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';

const files = await fg(['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'], { ignore: ['**/node_modules/**', 'test/fixtures/**'] });
files.sort((a, b) => Number(a.startsWith('test/')) - Number(b.startsWith('test/')) || a.localeCompare(b));
const args = ['--require', '@swc-node/register', '--test', '--test-concurrency=1', ...process.argv.slice(2), ...files];
// One Nx cache and distfiles store for this run, empty at its start, shared by the test
// workspaces that ask for it (test/helpers/workspace.ts `shareRunCache`): the same package is
// then built once per run, not once per test file, and never served from a cache left on the
// machine by an earlier run.
const runDir = mkdtempSync(path.join(tmpdir(), 'nx-distro-test-run-'));
let res;
try {
  res = spawnSync(process.execPath, args, {
    stdio: 'inherit',
    env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.base.json', NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_DISTRO_TEST_RUN_DIR: runDir },
  });
} finally {
  rmSync(runDir, { recursive: true, force: true });
}
process.exit(res.status ?? 1);
