import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildEnvironment } from '../pipeline/environment';
import type { Recipe } from '../model/recipe.generated';
import { loadSystemTargets, type LoadedSystemTarget } from '../model/system-target';

/** The workspace root of this repository (where targets/ are). */
export const REPO_ROOT = path.resolve(__dirname, '../../../..');

/** Every system target this repository ships (targets/*.yaml). */
export function shippedTargets(): readonly LoadedSystemTarget[] {
  return loadSystemTargets(REPO_ROOT, 'targets');
}

/**
 * Runs a style's generator script with `sh -e` in a fresh folder, with exactly the build
 * environment of `target` (cross, or native) and the build machine's PATH after it, and returns
 * the files it wrote (path relative to that folder → text).
 */
export function runGenerator(script: string, target: LoadedSystemTarget, recipe: Recipe, mode: 'cross' | 'native', files: readonly string[]): Record<string, string | undefined> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-style-'));
  try {
    const env = buildEnvironment({ recipe, systemTarget: target.target, systemTargetName: target.name, sourceDateEpoch: 1, mode });
    env.PATH = `${env.PATH}:${process.env.PATH ?? ''}`;
    execFileSync('/bin/sh', ['-e', '-c', script], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Record<string, string | undefined> = {};
    for (const f of files) {
      try {
        out[f] = readFileSync(path.join(dir, f), 'utf8');
      } catch {
        out[f] = undefined;
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
