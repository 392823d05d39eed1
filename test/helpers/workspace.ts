import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { tierRecipes } from './tier';

/** The repository root (absolute). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** A real, throw-away Nx workspace in a temporary folder using this repo's nx and nx-distro. */
export interface TestWorkspace {
  /** Absolute path of the workspace root. */
  readonly root: string;
  /** Writes a file (workspace-relative path), creating folders. */
  write(file: string, text: string): void;
  /** Removes a file or folder (workspace-relative). */
  remove(file: string): void;
  /**
   * Extra environment of every `nx` run; starts with `NX_DISTRO_DISTFILES` set to the
   * workspace's own empty store (`<root>/.distfiles`) and no `NX_DISTRO_MIRRORS`.
   */
  readonly env: Record<string, string | undefined>;
  /** Runs `nx ...` in the workspace without the daemon and with its own cache folders. */
  nx(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; all: string }>;
  /** Runs another command of the repo's `node_modules/.bin` (e.g. `nx-distro`) in the workspace, with the environment `nx` gets. */
  bin(command: string, ...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; all: string }>;
  /**
   * Starts a command of the repo's `node_modules/.bin` like {@link bin}, in a process group of its
   * own (`detached`), and returns at once: `process.kill(-child.pid, 'SIGKILL')` then kills the
   * whole run. Never rejects; output in `all`.
   */
  spawn(command: string, ...args: string[]): ResultPromise<{ all: true; reject: false; detached: true }>;
  /** Reads a text file (workspace-relative). */
  read(file: string): string;
  /** Reads a JSON file (workspace-relative). */
  readJson<T = any>(file: string): T;
  /** Deletes the workspace. */
  dispose(): void;
}

/** How a test workspace is made. */
export interface WorkspaceOptions {
  /**
   * Use the test run's Nx cache (with its index, the workspace data folder) and distfiles store
   * instead of the workspace's own empty ones: `<NX_DISTRO_TEST_RUN_DIR>/nx-cache`, `<...>/nx-data`
   * and `<...>/distfiles`, when tools/run-tests.mjs set
   * that variable (a folder it creates empty for each run and removes afterwards). Builds of the
   * same recipes in several test files then run once per test run, still never from a cache left
   * on the machine. Run alone (no variable), the workspace keeps its own empty ones.
   */
  readonly shareRunCache?: boolean;
  /**
   * Give the workspace its own copy of the plugin at `packages/nx-distro` (its `node_modules`
   * folder a real one whose `nx-distro` entry points there, every other entry a link to the
   * repo's): the plugin then lives in the workspace, so its code is a fileset input of every task,
   * and a test may edit it without touching the repository.
   */
  readonly ownPlugin?: boolean;
  /**
   * The repo's system targets copied into the workspace (each `targets/<name>.yaml` and its folder
   * `targets/<name>/`); default {@link EXTERNAL_SYSTEM_TARGETS}, the ones with an external
   * toolchain. A bootstrap target (`aarch64-musl`) adds `system:toolchain` before every build
   * and needs the toolchain recipes in the workspace, so only the tests about it name one.
   */
  readonly systemTargets?: readonly string[];
  /**
   * Milliseconds after which a command run by `nx`/`bin` is killed; default 1,800,000 (30 min).
   * The greenfield bootstrap's cold toolchain takes 27 to 37 min here, so its test sets more.
   */
  readonly commandTimeoutMs?: number;
  /**
   * Absolute folder to make the workspace in (created with its parents; it must not exist or be
   * empty), instead of a new `<tmpdir>/nx-distro-ws-XXXXXX`: a test of two checkouts at different
   * paths (test/clones.test.ts) puts the second one deeper. {@link TestWorkspace.dispose} removes it.
   */
  readonly root?: string;
}

/** The repo's system targets with an external toolchain (Debian's cross compilers). */
export const EXTERNAL_SYSTEM_TARGETS: readonly string[] = ['aarch64', 'armv7h', 'riscv64', 'x86_64'];

/**
 * Creates a workspace with nx.json registering nx-distro, `node_modules` linked to this
 * repo's, the repo's system targets copied (`options.systemTargets`), and the given fixture
 * folder copied into `recipes/`.
 * @param fixture folder under test/fixtures whose subfolders are recipes, or undefined for none
 */
export function createWorkspace(fixture?: string, options: WorkspaceOptions = {}): TestWorkspace {
  const root = options.root ?? mkdtempSync(path.join(tmpdir(), 'nx-distro-ws-'));
  if (options.root) mkdirSync(root, { recursive: true });
  if (options.ownPlugin) {
    const plugin = path.join(root, 'packages', 'nx-distro');
    cpSync(path.join(REPO_ROOT, 'packages', 'nx-distro'), plugin, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
    symlinkSync(path.join(REPO_ROOT, 'packages', 'nx-distro', 'node_modules'), path.join(plugin, 'node_modules'));
    mkdirSync(path.join(root, 'node_modules'));
    for (const entry of readdirSync(path.join(REPO_ROOT, 'node_modules'))) {
      const target = entry === 'nx-distro' ? plugin : path.join(REPO_ROOT, 'node_modules', entry);
      symlinkSync(target, path.join(root, 'node_modules', entry));
    }
  } else symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'test-ws', private: true }, null, 2));
  writeFileSync(
    path.join(root, 'nx.json'),
    JSON.stringify({ plugins: [{ plugin: 'nx-distro', options: { defaultSystemTarget: 'x86_64' } }] }, null, 2),
  );
  // Nx loads the plugin's TypeScript with swc, which takes its module format from here.
  writeFileSync(
    path.join(root, 'tsconfig.base.json'),
    JSON.stringify({ compilerOptions: { module: 'commonjs', target: 'ES2022', esModuleInterop: true, resolveJsonModule: true } }, null, 2),
  );
  const systemTargets = new Set(options.systemTargets ?? EXTERNAL_SYSTEM_TARGETS);
  cpSync(path.join(REPO_ROOT, 'targets'), path.join(root, 'targets'), {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(path.join(REPO_ROOT, 'targets'), src).split(path.sep);
      return rel[0] === '' || systemTargets.has(rel[0].replace(/\.yaml$/, ''));
    },
  });
  mkdirSync(path.join(root, 'recipes'));
  if (fixture) cpSync(path.join(REPO_ROOT, 'test', 'fixtures', fixture), path.join(root, 'recipes'), { recursive: true });
  const runDir = options.shareRunCache ? process.env.NX_DISTRO_TEST_RUN_DIR : undefined;
  const cacheDir = runDir ? path.join(runDir, 'nx-cache') : path.join(root, '.nx-test', 'cache');
  // Nx 24 indexes its local cache in a database kept in the workspace data folder whenever
  // NX_CACHE_DIRECTORY is set (nx/src/utils/db-connection.js): a cache folder shared without that
  // folder is never hit. So a shared run cache shares the data folder too (the project graph's
  // own cache files there are checked against the workspace's files and rebuilt when they differ).
  const dataDir = runDir ? path.join(runDir, 'nx-data') : path.join(root, '.nx-test', 'data');
  const env: Record<string, string | undefined> = { NX_DISTRO_DISTFILES: runDir ? path.join(runDir, 'distfiles') : path.join(root, '.distfiles'), NX_DISTRO_MIRRORS: undefined };
  const childEnv = () => ({
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_CACHE_DIRECTORY: cacheDir,
    NX_WORKSPACE_DATA_DIRECTORY: dataDir,
    NX_TUI: 'false',
    FORCE_COLOR: '0',
    ...env,
  });
  const bin: TestWorkspace['bin'] = async (command, ...args) => {
    const r = await execa(path.join(REPO_ROOT, 'node_modules', '.bin', command), args, {
      cwd: root,
      reject: false,
      all: true,
      env: childEnv(),
      timeout: options.commandTimeoutMs ?? 1_800_000,
    });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr), all: String(r.all) };
  };
  const spawn: TestWorkspace['spawn'] = (command, ...args) =>
    execa(path.join(REPO_ROOT, 'node_modules', '.bin', command), args, { cwd: root, reject: false, all: true, detached: true, env: childEnv() });
  return {
    root,
    env,
    write(file, text) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
    },
    remove(file) {
      rmSync(path.join(root, file), { recursive: true, force: true });
    },
    nx: (...args) => bin('nx', ...args),
    bin,
    spawn,
    read(file) {
      return readFileSync(path.join(root, file), 'utf8');
    },
    readJson(file) {
      return JSON.parse(readFileSync(path.join(root, file), 'utf8'));
    },
    dispose() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Makes the workspace a git repository whose one commit, made at `epoch`, holds `targets/`, and
 * removes `SOURCE_DATE_EPOCH` from the workspace's environment: the system project's tasks
 * (toolchain runtime, rootfs, image) then take `epoch` as their SOURCE_DATE_EPOCH (the commit
 * time of the target file), while recipes, not committed, keep the fallback one.
 * @param epoch commit time, seconds since the epoch
 */
export function commitTargets(ws: TestWorkspace, epoch: number): void {
  execFileSync('git', ['init', '-q'], { cwd: ws.root, stdio: 'ignore' });
  writeFileSync(path.join(ws.root, '.gitignore'), 'node_modules\ndist\ntmp\n.nx-test\n.distfiles\n');
  commitPaths(ws, epoch, ['targets'], 'targets');
  ws.env.SOURCE_DATE_EPOCH = undefined; // never the caller's: undefined removes it from the child's environment
}

/**
 * Commits `paths` (workspace-relative) in the workspace's git repository ({@link commitTargets}
 * made it) as one commit made at `epoch`, with a fixed test identity.
 * @param epoch author and commit time, seconds since the epoch
 */
export function commitPaths(ws: TestWorkspace, epoch: number, paths: readonly string[], message: string): void {
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.org', '-c', 'commit.gpgsign=false', ...args], {
    cwd: ws.root,
    env: { ...process.env, GIT_AUTHOR_DATE: `@${epoch} +0000`, GIT_COMMITTER_DATE: `@${epoch} +0000` },
    stdio: 'ignore',
  });
  git('add', ...paths);
  git('commit', '-q', '-m', message);
}

/**
 * sha256 of every file under a folder whose relative path passes `keep`, by relative path
 * (`/`-separated below `dir`): what tests compare to call two builds byte-identical.
 * @param dir absolute folder
 */
export function digests(dir: string, keep: (rel: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (keep(path.relative(dir, p))) out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/**
 * Copies the recipes a tier builds end to end ({@link tierRecipes}: every one in the full tier,
 * the quick set in the quick one) from the repository into the workspace's `recipes/`, replacing
 * what it held. The files that share test/build.test.ts's builds through the run's cache copy the
 * same set, so their workspaces hold the same projects.
 */
export function copyTierRecipes(ws: TestWorkspace): string[] {
  const names = tierRecipes(REPO_ROOT);
  rmSync(path.join(ws.root, 'recipes'), { recursive: true, force: true });
  for (const name of names) cpSync(path.join(REPO_ROOT, 'recipes', name), path.join(ws.root, 'recipes', name), { recursive: true });
  return names;
}
