#!/usr/bin/env node
// Runs the tests with Node's built-in runner (its summary is what CI reads): unit tests beside
// the code (packages/**/src/**/*.test.ts), then integration tests under test/. TypeScript is
// loaded through @swc-node/register.
//
//   node tools/run-tests.mjs            the quick tier (`npm test`, what CI runs)
//   node tools/run-tests.mjs --full     the full tier (`npm run test:full`): NX_DISTRO_TEST_TIER=full,
//                                       and the long suites' switches (Slurm cluster, greenfield
//                                       bootstrap, 50 fault iterations) unless already set
//
// test/helpers/tier.ts says which cases are in which tier. Other arguments are passed to
// `node --test` (e.g. --test-name-pattern=cycle, or test files to run instead of all).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';

const argv = process.argv.slice(2);
const full = argv.includes('--full');
const rest = argv.filter((a) => a !== '--full');
const named = rest.filter((a) => a.endsWith('.test.ts'));
const options = rest.filter((a) => !a.endsWith('.test.ts'));
const files = named.length ? named : await fg(['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'], { ignore: ['**/node_modules/**', 'test/fixtures/**'] });
files.sort((a, b) => Number(a.startsWith('test/')) - Number(b.startsWith('test/')) || a.localeCompare(b));
const args = ['--require', '@swc-node/register', '--test', '--test-concurrency=1', ...options, ...files];
const tierEnv = full
  ? { NX_DISTRO_TEST_TIER: 'full', NX_DISTRO_SLURM: process.env.NX_DISTRO_SLURM ?? '1', NX_DISTRO_BOOTSTRAP: process.env.NX_DISTRO_BOOTSTRAP ?? '1', NX_DISTRO_FAULT_ITERATIONS: process.env.NX_DISTRO_FAULT_ITERATIONS ?? '50' }
  : { NX_DISTRO_TEST_TIER: process.env.NX_DISTRO_TEST_TIER ?? 'quick' };
// One Nx cache and distfiles store for this run, empty at its start, shared by the test
// workspaces that ask for it (test/helpers/workspace.ts `shareRunCache`): the same package is
// then built once per run, not once per test file, and never served from a cache left on the
// machine by an earlier run.
const runDir = mkdtempSync(path.join(tmpdir(), 'nx-distro-test-run-'));
const started = Date.now();
let res;
try {
  res = spawnSync(process.execPath, args, {
    stdio: 'inherit',
    env: { ...process.env, ...tierEnv, SWC_NODE_PROJECT: 'tsconfig.base.json', NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_DISTRO_TEST_RUN_DIR: runDir },
  });
} finally {
  rmSync(runDir, { recursive: true, force: true });
}
console.log(`# ${tierEnv.NX_DISTRO_TEST_TIER} tier: ${files.length} test files in ${((Date.now() - started) / 60000).toFixed(1)} min`);
process.exit(res.status ?? 1);
