import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fieldKey, InputError, InputErrors, quote } from './errors';
import { readInputFile } from './input-file';
import { validateSystemTargetData } from './validate';
import { parseYamlFile } from './yaml-file';
import type { SystemTarget } from './target.generated';

export type { SystemTarget } from './target.generated';

/** A system target file read and validated. */
export interface LoadedSystemTarget {
  /** Configuration name: the file name without `.yaml` (`armv7h`). */
  readonly name: string;
  /** Workspace-relative path (`targets/armv7h.yaml`). */
  readonly file: string;
  readonly target: SystemTarget;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;

function checkPackageSets(file: string, t: SystemTarget): InputError[] {
  const errors: InputError[] = [];
  const sets = t.package_sets;
  for (const [name, set] of Object.entries(sets)) {
    if (name === 'base' && set.on !== undefined) {
      errors.push(new InputError(file, 'package_sets.base.on', 'the base set is stacked on nothing', 'remove `on:`'));
    } else if (name !== 'base' && set.on === undefined) {
      errors.push(new InputError(file, `${fieldKey('package_sets', name)}.on`, 'missing', 'name the set this one is stacked on (e.g. `on: base`)'));
    } else if (set.on !== undefined && !(set.on in sets)) {
      errors.push(new InputError(file, `${fieldKey('package_sets', name)}.on`, `unknown set ${quote(set.on)}`, `use one of: ${Object.keys(sets).join(', ')}`));
    }
  }
  // Every chain must reach base (no loop among sets).
  for (const name of Object.keys(sets)) {
    const seen = new Set<string>();
    let cur: string | undefined = name;
    while (cur && cur in sets && !seen.has(cur)) {
      seen.add(cur);
      cur = sets[cur].on;
    }
    if (cur && seen.has(cur)) {
      errors.push(new InputError(file, `${fieldKey('package_sets', name)}.on`, `sets are stacked in a loop (${[...seen, cur].join(' -> ')})`, 'stack every set on base eventually'));
      break;
    }
  }
  return errors;
}

/**
 * Reads and validates every `<dir>/*.yaml` system target, each under input-file.ts's rule (a
 * regular file, no link on its way from the workspace root).
 * @param workspaceRoot absolute workspace root
 * @param dir workspace-relative folder of the target files (`targets`)
 * @returns targets sorted by name
 * @throws {InputErrors} listing every problem in every target file (one pass), or when the
 *   folder has no target at all
 */
export function loadSystemTargets(workspaceRoot: string, dir: string): LoadedSystemTarget[] {
  let entries: string[];
  try {
    entries = readdirSync(path.join(workspaceRoot, dir)).filter((f) => f.endsWith('.yaml')).sort();
  } catch {
    entries = [];
  }
  if (!entries.length) {
    throw new InputErrors([new InputError(dir, '', 'no system target (*.yaml) found', 'add one, e.g. targets/x86_64.yaml, or set the plugin option targetsDir')]);
  }
  const errors: InputError[] = [];
  const out: LoadedSystemTarget[] = [];
  for (const entry of entries) {
    const file = `${dir}/${entry}`;
    const name = entry.slice(0, -'.yaml'.length);
    if (!NAME_PATTERN.test(name)) {
      errors.push(new InputError(file, '', `${quote(name)} is not a valid configuration name`, 'rename the file with lower-case letters, digits, . _ -'));
      continue;
    }
    let data: unknown;
    try {
      data = parseYamlFile(file, readInputFile(workspaceRoot, file).toString('utf8'));
    } catch (e) {
      if (e instanceof InputError) {
        errors.push(e);
        continue;
      }
      throw e;
    }
    const schemaErrors = validateSystemTargetData(file, data);
    if (schemaErrors.length) {
      errors.push(...schemaErrors);
      continue;
    }
    const target = data as SystemTarget;
    const setErrors = checkPackageSets(file, target);
    if (setErrors.length) {
      errors.push(...setErrors);
      continue;
    }
    out.push({ name, file, target });
  }
  if (errors.length) throw new InputErrors(errors);
  return out;
}

/** Whether a recipe's `arch` field admits a system target's arch. */
export function recipeSupportsArch(recipeArch: 'any' | readonly string[] | undefined, arch: string): boolean {
  return recipeArch === undefined || recipeArch === 'any' || recipeArch.includes(arch);
}

/**
 * The system target an executor runs for.
 * @param root absolute workspace root
 * @param targetsDir workspace-relative folder of the target files
 * @param name the executor's `systemTarget` option
 * @throws InputError `<targetsDir>/<name>.yaml: no such system target; pass --configuration with one of: …`
 * @throws InputErrors from the target loader
 */
export function loadTargetNamed(root: string, targetsDir: string, name: string | undefined): LoadedSystemTarget {
  const systemTargets = loadSystemTargets(root, targetsDir);
  const loaded = systemTargets.find((t) => t.name === name);
  if (!loaded) {
    throw new InputError(`${targetsDir}/${name ?? '<none>'}.yaml`, '', 'no such system target', `pass --configuration with one of: ${systemTargets.map((t) => t.name).join(', ')}`);
  }
  return loaded;
}
