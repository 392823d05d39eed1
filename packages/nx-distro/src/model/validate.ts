import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import recipeSchema from './recipe.schema.json';
import targetSchema from './target.schema.json';
import { fieldKey, InputError, quote } from './errors';
import type { Recipe } from './recipe.generated';
import type { SystemTarget } from './target.generated';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
const validators = {
  recipe: ajv.compile(recipeSchema) as ValidateFunction<Recipe>,
  target: ajv.compile(targetSchema) as ValidateFunction<SystemTarget>,
};

/** Hints for `pattern` failures, keyed by the last segment of the field path. */
const PATTERN_HINTS: Record<string, string> = {
  name: 'use lower-case letters, digits and + . _ - (pacman package name rules)',
  version: 'a pacman pkgver has no "-", ":", "/" or spaces (put the Debian revision in `release`)',
  sha256: 'give the 64 lower-case hex digits printed by `sha256sum FILE`',
  homepage: 'give an http(s) URL',
  upstream: 'give the http(s) link of the bug report or commit that carries the change',
  url: 'give an http, https or file URL',
  apt: 'write the Debian source package as NAME=VERSION, e.g. zlib=1:1.3.dfsg-3',
  triplet: 'give a GNU triplet such as aarch64-linux-gnu',
};

function fieldPath(instancePath: string): string {
  // Ajv's instancePath is a JSON Pointer (/sources/0/sha256) -> sources[0].sha256
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out = /^\d+$/.test(seg) ? `${out}[${seg}]` : fieldKey(out, seg);
  }
  return out;
}

function lastKey(field: string): string {
  return field.replace(/\[\d+\]$/, '').split('.').pop() ?? '';
}

/** Longest value shown in a message. */
const MAX_SHOWN = 60;

/**
 * A value for a message, at most {@link MAX_SHOWN} characters: strings and keys {@link quote}d,
 * the rest as JSON. Walks the value only as far as it shows: a YAML alias bomb (anchors nested
 * ten deep, 10^10 elements) or a multi-MB string costs no more than a small value.
 */
function describe(value: unknown): string {
  let out = '';
  const full = () => out.length > MAX_SHOWN;
  const walk = (v: unknown): void => {
    if (full()) return;
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && !full(); i++) {
        if (i) out += ',';
        walk(v[i]);
      }
      out += ']';
    } else if (v !== null && typeof v === 'object') {
      out += '{';
      let first = true;
      for (const k in v) {
        if (full()) break;
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        out += `${first ? '' : ','}${quote(k, MAX_SHOWN)}:`;
        first = false;
        walk((v as Record<string, unknown>)[k]);
      }
      out += '}';
    } else if (typeof v === 'string') {
      out += quote(v, MAX_SHOWN);
    } else {
      out += JSON.stringify(v) ?? String(v);
    }
  };
  walk(value);
  return out.length > MAX_SHOWN ? `${out.slice(0, MAX_SHOWN - 3)}...` : out;
}

/** The error for a file holding nothing (or only comments): a clearer line than "must be object". */
function emptyFile(file: string, data: unknown, what: string): InputError[] {
  return data === undefined || data === null ? [new InputError(file, '', 'the file is empty', `write the ${what} (see docs/${what === 'recipe' ? 'recipe' : 'target'}-format.md)`)] : [];
}

/** Turns Ajv's errors into one {@link InputError} per faulty field (the most telling one). */
function toInputErrors(file: string, errors: ErrorObject[]): InputError[] {
  // anyOf/oneOf/if report their branch failures too; keep only the summary at that path.
  const summarised = new Set(
    errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath),
  );
  const out: InputError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    if (summarised.has(e.instancePath) && e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    let field = fieldPath(e.instancePath);
    const value = e.data; // Ajv's verbose mode gives the failing value
    let problem: string;
    let fix: string | undefined;
    switch (e.keyword) {
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        if (missing === 'urls') {
          problem = 'has no url';
          fix = 'add `url:` (or a list `urls:`)';
        } else {
          problem = `missing required field "${missing}"`;
          fix = `add \`${missing}:\``;
        }
        break;
      }
      case 'not':
        problem = 'has both url and urls';
        fix = 'keep `url:` for one address or `urls:` for several';
        break;
      case 'additionalProperties': {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        field = fieldKey(field, extra);
        const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
        problem = 'unknown field';
        fix = allowed.length ? `remove it, or use one of: ${allowed.join(', ')}` : 'remove it';
        break;
      }
      case 'propertyNames': {
        continue; // reported by the nested pattern error with the key itself
      }
      case 'pattern': {
        if (e.propertyName !== undefined) {
          field = fieldKey(field, e.propertyName);
          problem = `invalid key ${quote(e.propertyName)}`;
          fix =
            lastKey(fieldPath(e.instancePath)) === 'stages'
              ? 'name stages stage1, stage2, ...'
              : `keys must match ${(e.params as { pattern: string }).pattern}`;
          break;
        }
        problem = `invalid value ${describe(value)}`;
        fix = PATTERN_HINTS[lastKey(field)] ?? `must match ${(e.params as { pattern: string }).pattern}`;
        if (/depends/.test(field)) fix = 'write a recipe name, or name@stageN for a stage build';
        break;
      }
      case 'enum':
        problem = `invalid value ${describe(value)}`;
        fix = `use one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
        break;
      case 'const':
        problem = `invalid value ${describe(value)}`;
        fix = `use ${describe((e.params as { allowedValue: unknown }).allowedValue)}`;
        break;
      case 'type':
        problem = `must be ${(e.params as { type: string }).type}, not ${describe(value)}`;
        if ((e.params as { type: string }).type === 'string' && typeof value !== 'object') {
          fix = 'quote the value (YAML reads unquoted digits, true/false and dates as other types)';
        }
        break;
      case 'anyOf':
      case 'oneOf': {
        problem = `invalid value ${describe(value)}`;
        const desc = (e.parentSchema as { description?: string })?.description;
        fix = desc ? `expected: ${desc}` : undefined;
        break;
      }
      case 'minimum':
      case 'maximum':
      case 'minItems':
      case 'maxLength':
      case 'minLength':
      case 'uniqueItems':
        problem = `${e.message} (got ${describe(value)})`;
        break;
      default:
        problem = e.message ?? `fails ${e.keyword}`;
    }
    const err = new InputError(file, field, problem, fix);
    if (!seen.has(err.message)) {
      seen.add(err.message);
      out.push(err);
    }
  }
  return out;
}

/**
 * Validates a parsed recipe against recipe.schema.json.
 * @param file workspace-relative path used in error messages
 * @param data the parsed YAML document
 * @returns `[]` when valid (then `data` is a {@link Recipe}), else one error per faulty field
 */
export function validateRecipeData(file: string, data: unknown): InputError[] {
  const empty = emptyFile(file, data, 'recipe');
  if (empty.length) return empty;
  return validators.recipe(data) ? [] : toInputErrors(file, validators.recipe.errors ?? []);
}

/**
 * Validates a parsed system target against target.schema.json.
 * @param file workspace-relative path used in error messages
 * @param data the parsed YAML document
 * @returns `[]` when valid (then `data` is a {@link SystemTarget}), else one error per faulty field
 */
export function validateSystemTargetData(file: string, data: unknown): InputError[] {
  const empty = emptyFile(file, data, 'system target');
  if (empty.length) return empty;
  return validators.target(data) ? [] : toInputErrors(file, validators.target.errors ?? []);
}
