// Shared by the build benchmarks (busybox.mjs, cached.mjs): a throw-away Nx workspace like the
// tests' (test/helpers/workspace.ts: nx.json registering nx-distro, node_modules linked to this
// repo's, the repo's targets/ and recipes/ copied), `nx` runs with their own cache folders and
// no daemon, output lines time-stamped as they arrive, and NX_PROFILE traces read back.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

export const arg = (name, def) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=') ?? def;

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Seconds with two decimals. */
export const sec = (ms) => (ms / 1000).toFixed(2);

/**
 * A workspace folder (kept if it exists and `reuse` is set): package.json, nx.json with the
 * nx-distro plugin, tsconfig.base.json for swc, this repo's .gitignore (so Nx neither scans nor
 * hashes dist/ and tmp/, the executors' output and work folders), targets/ and recipes/ copied
 * fresh from the repo (so the workspace builds what the repo has now), and the plugin laid out
 * in one of two ways:
 * - `repo` (default): as in this repository, the plugin's source copied to packages/nx-distro and
 *   node_modules/nx-distro pointing at it (the other packages linked to the repo's), so the
 *   plugin's own code is a fileset input of every task, as when you run nx here;
 * - `tests`: as in test/helpers/workspace.ts, node_modules linked to the repo's, the plugin
 *   outside the workspace, so its code is a runtime input (bin/plugin-identity.mjs).
 * @returns { dir, env, layout } where env is the environment of every nx run in it
 */
export function workspace(dir, { store, reuse = false, layout = 'repo' } = {}) {
  if (layout !== 'repo' && layout !== 'tests') throw new Error(`--layout must be repo or tests, not ${layout}`);
  if (!reuse) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
  rmSync(path.join(dir, 'packages'), { recursive: true, force: true });
  if (layout === 'tests') {
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  } else {
    const plugin = path.join(dir, 'packages', 'nx-distro');
    cpSync(path.join(root, 'packages', 'nx-distro'), plugin, { recursive: true, filter: (src) => path.basename(src) !== 'node_modules' });
    const own = path.join(root, 'packages', 'nx-distro', 'node_modules');
    if (existsSync(own)) symlinkSync(own, path.join(plugin, 'node_modules'));
    mkdirSync(path.join(dir, 'node_modules'));
    for (const name of readdirSync(path.join(root, 'node_modules'))) {
      if (name !== 'nx-distro') symlinkSync(path.join(root, 'node_modules', name), path.join(dir, 'node_modules', name));
    }
    symlinkSync(path.join('..', 'packages', 'nx-distro'), path.join(dir, 'node_modules', 'nx-distro'));
  }
  writeFileSync(path.join(dir, '.gitignore'), `${readFileSync(path.join(root, '.gitignore'), 'utf8')}.nx-bench/\n`);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench-ws', private: true }, null, 2));
  writeFileSync(path.join(dir, 'nx.json'), JSON.stringify({ plugins: [{ plugin: 'nx-distro', options: { defaultSystemTarget: 'x86_64' } }] }, null, 2));
  writeFileSync(path.join(dir, 'tsconfig.base.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', target: 'ES2022', esModuleInterop: true, resolveJsonModule: true } }, null, 2));
  for (const d of ['targets', 'recipes']) {
    rmSync(path.join(dir, d), { recursive: true, force: true });
    cpSync(path.join(root, d), path.join(dir, d), { recursive: true });
  }
  const env = {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    FORCE_COLOR: '0',
    NX_CACHE_DIRECTORY: path.join(dir, '.nx-bench', 'cache'),
    NX_WORKSPACE_DATA_DIRECTORY: path.join(dir, '.nx-bench', 'data'),
    NX_DISTRO_DISTFILES: store,
  };
  delete env.NX_DISTRO_MIRRORS;
  delete env.NX_PROFILE;
  return { dir, env, layout };
}

/** bash's `times` for its children, written to fd 3: the CPU time of the whole waited-for process tree. */
const CPU_WRAPPER = '"$@"; rc=$?; times >&3; exit $rc';

/** Milliseconds of user + system CPU from the second line of bash's `times` ("0m1.234s 0m0.100s"). */
function parseTimes(text) {
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(text.trim().split('\n')[1] ?? '');
  return m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : NaN;
}

/**
 * Runs a command, recording when each output line arrived (ms since the spawn) and the CPU time
 * (user + system) of its process tree as getrusage(RUSAGE_CHILDREN) counts it (descendants that
 * were waited for), which a loaded machine disturbs far less than wall time. Processes inside a
 * bwrap sandbox are not counted (bwrap's processes in the new namespaces are not reaped into the
 * caller's figures), so it means nothing for a command that builds.
 * @returns { exitCode, ms, cpuMs, startEpochMs, lines: [{ at, text }], all }
 */
export function timed(cmd, args, { cwd, env, input } = {}) {
  return new Promise((resolve, reject) => {
    const startEpochMs = Date.now();
    const t0 = performance.now();
    const child = spawn('bash', ['-c', CPU_WRAPPER, 'bash', cmd, ...args], { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', 'pipe'] });
    let times = '';
    child.stdio[3].on('data', (b) => { times += b; });
    const lines = [];
    const chunks = [];
    const reader = () => {
      let rest = '';
      return (buf) => {
        const at = performance.now() - t0;
        chunks.push(buf);
        const parts = (rest + buf.toString()).split('\n');
        rest = parts.pop();
        for (const text of parts) lines.push({ at, text });
      };
    };
    child.stdout.on('data', reader());
    child.stderr.on('data', reader());
    if (input !== undefined) child.stdin.end(input);
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? 1, ms: performance.now() - t0, cpuMs: parseTimes(times), startEpochMs, lines, all: Buffer.concat(chunks).toString() }));
  });
}

/** `nx ...` in a workspace; with `profile`, NX_PROFILE=<profile> (a path relative to the workspace) and its trace read back. */
export async function nx(ws, args, { profile } = {}) {
  const env = profile ? { ...ws.env, NX_PROFILE: profile } : ws.env;
  if (profile) rmSync(path.join(ws.dir, profile), { force: true });
  const r = await timed(path.join(root, 'node_modules', '.bin', 'nx'), args, { cwd: ws.dir, env });
  if (profile && existsSync(path.join(ws.dir, profile))) r.trace = readTrace(path.join(ws.dir, profile), r.startEpochMs);
  return r;
}

/**
 * The complete events of an NX_PROFILE Chrome trace (Nx's TaskProfilingLifeCycle: `ts` and `dur`
 * in microseconds, `ts` from Date.now()).
 * @returns [{ task, status, startMs (since the spawn), ms }] in start order
 */
export function readTrace(file, startEpochMs) {
  return JSON.parse(readFileSync(file, 'utf8'))
    .filter((e) => e.ph === 'X')
    .map((e) => ({ task: e.name, status: e.args?.status, startMs: e.ts / 1000 - startEpochMs, ms: e.dur / 1000 }))
    .sort((a, b) => a.startMs - b.startMs);
}

/** Throws with the output's tail when a run failed. */
export function check(r, what) {
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}):\n${r.all.slice(-4000)}`);
  return r;
}

/** One line describing the machine, for the record (load matters: these machines are shared). */
export function hostLine() {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `host: ${os.availableParallelism()} CPUs, load average ${load}, node ${process.version}`;
}
