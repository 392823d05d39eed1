import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { sha256File } from '../util/hash';
import type { LoadedSystemTarget, SystemTarget } from './system-target';

/** File name of a system target's identity, in `<distDir>/<systemTarget>/system-target/`. */
export const SYSTEM_TARGET_IDENTITY_FILE = 'system-target.json';

/**
 * Everything of one system target a build reads, and nothing of another target: what the
 * `system:system-target` task writes, and every build task and system task of that target
 * reads through `dependentTasksOutputFiles` instead of the whole targets folder. Editing
 * `targets/x86_64.yaml`, or upgrading riscv64's cross compiler, then changes no aarch64 key.
 */
export interface SystemTargetIdentity {
  /** Configuration name (`aarch64`). */
  readonly name: string;
  /** The target file as validated, keys sorted (comments and formatting do not count). */
  readonly target: SystemTarget;
  /** sha256 of each file under `targets/<name>/` (kernel configs, ...), by path relative to it, sorted. */
  readonly files: Readonly<Record<string, string>>;
  /**
   * The compiler's identity (bin/toolchain-identity.mjs: `--version`, sha256 of its binary and of
   * the C runtime it links against): the external toolchain's, or for a bootstrap toolchain the
   * build machine's own gcc, which compiles the toolchain recipes (their packages, in
   * `system:toolchain`'s output, are the rest of that toolchain's identity). `null` when the
   * script printed nothing.
   */
  readonly toolchain: string | null;
}

/**
 * The target without its `execution` block: where builds run (this machine or a Slurm cluster,
 * cluster/build-job.ts) changes no byte of what they write, so it is no part of any key.
 */
export function withoutExecution(target: SystemTarget): SystemTarget {
  const { execution: _execution, ...rest } = target;
  return rest;
}

/** `value` with every object's keys sorted (arrays keep their order), for canonical JSON. */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])])) as T;
  }
  return value;
}

/** sha256 of every regular file under `dir` (recursive), by `/`-separated relative path, sorted; `{}` when there is no such folder. */
async function fileDigests(dir: string): Promise<Record<string, string>> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return {};
  }
  const out: [string, string][] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    out.push([path.relative(dir, abs).split(path.sep).join('/'), await sha256File(abs)]);
  }
  return Object.fromEntries(out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The identity of one system target.
 * @param workspaceRoot absolute workspace root
 * @param targetsDir workspace-relative targets folder
 * @param loaded the target, as {@link loadSystemTargets} read it
 * @param toolchainScript absolute path of bin/toolchain-identity.mjs (run with this Node, from the workspace root)
 * @throws the child process error when the identity script fails
 */
export async function systemTargetIdentity(workspaceRoot: string, targetsDir: string, loaded: LoadedSystemTarget, toolchainScript: string): Promise<SystemTargetIdentity> {
  const out = execFileSync(process.execPath, [toolchainScript, targetsDir, loaded.name], { cwd: workspaceRoot, encoding: 'utf8' }).trim();
  const toolchain = out === '' ? null : out.startsWith(`${loaded.name}: `) ? out.slice(loaded.name.length + 2) : out;
  return {
    name: loaded.name,
    target: sortKeys(withoutExecution(loaded.target)),
    files: await fileDigests(path.join(workspaceRoot, targetsDir, loaded.name)),
    toolchain,
  };
}
