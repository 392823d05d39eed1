#!/usr/bin/env node
// Benchmark of sharing builds through the remote cache server (packages/cache-server): the
// time a fresh clone takes to restore a system target's every task (packages, repository,
// kernel, rootfs, image) from the server, against the cold build of the same tasks in the same
// run (the baseline), and against a restore from the clone's own local cache.
//
//   node tools/bench/remote/run.mjs [--target=aarch64] [--task=system:image] [--store=tmp/bench-distfiles]
//       [--dir=tmp/bench-remote]
//
// 1. Starts `nx-distro-cache-server` on a free loopback port (storage in the work folder).
// 2. Clone A (its own empty Nx cache; the distfiles store --store) runs `nx run <task> -c <target>`
//    cold and uploads every task.
// 3. Clone B (its own empty Nx cache and an empty distfiles store) runs the same: every task a
//    remote hit.
// 4. Clone B again after removing dist/: every task from its local cache.
// Prints each time, the number of tasks, the bytes the server holds, and the ratios. Never
// asserts on time. KEEP=1 keeps the work folder.
import { spawn } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { arg, check, hostLine, nx, root, sec, workspace } from '../build/common.mjs';

const target = arg('target', 'aarch64');
const task = arg('task', 'system:image');
const store = path.resolve(root, arg('store', 'tmp/bench-distfiles'));
const work = path.resolve(root, arg('dir', 'tmp/bench-remote'));
rmSync(work, { recursive: true, force: true });

/** Starts the server; resolves with its URL once it listens. */
function startServer(storage) {
  const child = spawn(process.execPath, [path.join(root, 'node_modules', '.bin', 'nx-distro-cache-server'), '--storage', storage, '--no-auth', '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`cache server exited with ${code}: ${out}`)));
  });
}

/** Bytes of the files under a folder. */
function bytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  return n;
}

const HIT = /Nx read the output from the cache instead of running the command for (\d+) out of (\d+) tasks/;
const remoteHits = (all) => (all.match(/\[remote cache\]/g) ?? []).length;

console.log(hostLine());
const server = await startServer(path.join(work, 'server'));
try {
  const withRemote = (ws) => ({ ...ws, env: { ...ws.env, NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url } });
  const a = withRemote(workspace(path.join(work, 'a'), { store }));
  const cold = check(await nx(a, ['run', task, '-c', target, '--output-style=static']), 'clone A (cold)');
  const tasks = Number(/Successfully ran target \S+ for project \S+ and (\d+) tasks? it depends on/.exec(cold.all)?.[1] ?? NaN) + 1;
  console.log(`clone A, cold build and upload of ${tasks} tasks: ${sec(cold.ms)} s`);

  const b = withRemote(workspace(path.join(work, 'b'), { store: path.join(work, 'b-distfiles') }));
  const remote = check(await nx(b, ['run', task, '-c', target, '--output-style=static']), 'clone B (remote)');
  console.log(`clone B, restore from the server (${remoteHits(remote.all)} remote hits; server holds ${(bytes(path.join(work, 'server', 'entries')) / 2 ** 20).toFixed(1)} MiB): ${sec(remote.ms)} s`);

  rmSync(path.join(b.dir, 'dist'), { recursive: true, force: true });
  const local = check(await nx(b, ['run', task, '-c', target, '--output-style=static']), 'clone B (local)');
  const localHits = HIT.exec(local.all);
  console.log(`clone B again after rm -rf dist, from its local cache (${localHits ? `${localHits[1]} of ${localHits[2]}` : '?'} tasks): ${sec(local.ms)} s`);

  console.log(`ratios: remote restore / cold build = ${(remote.ms / cold.ms).toFixed(3)}; local restore / cold build = ${(local.ms / cold.ms).toFixed(3)}; remote / local restore = ${(remote.ms / local.ms).toFixed(2)}`);
  console.log(`per task: remote restore ${(remote.ms / tasks).toFixed(0)} ms, local restore ${(local.ms / tasks).toFixed(0)} ms`);
} finally {
  server.child.kill('SIGTERM');
  if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
}
