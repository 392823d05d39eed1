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
  arch: 'give a pacman arch name such as x86_64 or aarch64',
  filename: 'give a file name: one path segment without whitespace, not "." or ".."',
  file: "give the patch file's path in the recipe folder: relative, without whitespace or control characters",
  kernel: 'name the recipe of the kernel (a recipe name)',
  packages: 'write a package name: a recipe, or a split package of one (zlib-dev)',
  into: 'give a folder inside srcdir, relative (no leading /)',
  member: 'give the member path as the outer archive lists it, relative (no leading /)',
  setuid: 'give the path inside the package, relative (no leading /), without ".." or "." (usr/bin/passwd)',
  backup: 'give the path inside the package, relative (no leading /), without "..", "." or spaces (etc/foo.conf)',
  provides: 'write a package name, or name=version (libz.so=1-64)',
  conflicts: 'write a package name, or a name with a version constraint (name<2.0)',
  replaces: 'write a package name, or a name with a version constraint (name<2.0)',
  optdepends: 'write a package name, or "name: reason" (bash-completion: completion for bash)',
  groups: 'write a group name: lower-case letters, digits and @ + . _ -',
  files: 'give a glob of paths inside the package, relative (no leading /), without "..", "." or spaces (usr/include/**)',
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

/** What kind of YAML value `v` is, in words, for a file that is not a mapping (its text is not shown). */
function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'true or false';
  return typeof v;
}

/** The error for a file holding nothing (or only comments): a clearer line than "must be object". */
function emptyFile(file: string, data: unknown, what: string): InputError[] {
  return data === undefined || data === null ? [new InputError(file, '', 'the file is empty', `write the ${what} (see docs/${what === 'recipe' ? 'recipe' : 'target'}-format.md)`)] : [];
}

/** A branch of an `anyOf`/`oneOf`, as far as the messages read it. */
interface Branch {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, { const?: unknown }>;
}

/** A branch in a few words (`"any"`, `a list`, `an object with kind "external"`), from the schema. */
function branchInWords(b: Branch, tag: string | undefined): string {
  if ('const' in b) return JSON.stringify(b.const);
  if (b.enum) return b.enum.map((v) => JSON.stringify(v)).join(', ');
  switch (b.type) {
    case 'boolean':
      return 'true, false';
    case 'array':
      return 'a list';
    case 'object':
      return tag ? `an object with ${tag} ${JSON.stringify(b.properties![tag].const)}` : `an object (${Object.keys(b.properties ?? {}).join(', ')})`;
    default:
      return b.type ? `a${/^[aeiou]/.test(b.type) ? 'n' : ''} ${b.type}` : 'a value';
  }
}

/** The property that tells an `oneOf`'s object branches apart: one with a `const` in every branch (`kind`). */
function discriminator(branches: readonly Branch[]): string | undefined {
  if (!branches.every((b) => b.type === 'object' && b.properties)) return undefined;
  return Object.keys(branches[0].properties!).find((k) => branches.every((b) => b.properties![k] && 'const' in b.properties![k]));
}

/** First sentence of a schema description, when it is short enough to help as a fix. */
function shortDescription(desc: string | undefined): string | undefined {
  const first = desc?.split(/(?<=\.)\s/)[0].replace(/\.$/, '');
  return first && first.length <= 80 ? first : undefined;
}

/**
 * Ajv reports a failed `anyOf`/`oneOf` with the failures of every branch; one problem should be
 * one line, without the whole schema description. Each such failure becomes: the failures of
 * the one branch the value was meant for (the branch its discriminator names, `kind:`, or the
 * only branch whose type and constants it has), or else one line naming the alternatives.
 * Failures inside a branch are found by their schema path (`<anyOf path>/<index>/...`).
 * @returns the failures to report, and the lines already written for the alternatives replaced
 */
function resolveAlternatives(file: string, errors: ErrorObject[]): { errors: ErrorObject[]; lines: InputError[] } {
  const dropped = new Set<ErrorObject>();
  const lines: InputError[] = [];
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const alt of alternatives) {
    if (dropped.has(alt)) continue;
    const branches = alt.schema as Branch[];
    const of = (i: number) => errors.filter((x) => x.schemaPath.startsWith(`${alt.schemaPath}/${i}/`));
    const perBranch = branches.map((_, i) => of(i));
    if (perBranch.every((b) => !b.length)) continue; // a oneOf that more than one branch passed: the summary says it
    const value = alt.data;
    const field = fieldPath(alt.instancePath);
    const keep = (i: number | undefined, line?: InputError) => {
      perBranch.forEach((b, j) => j !== i && b.forEach((x) => dropped.add(x)));
      if (i !== undefined) dropped.add(alt);
      else if (line) {
        dropped.add(alt);
        lines.push(line);
      }
    };
    const tag = discriminator(branches);
    const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
    if (tag && isObject) {
      const named = (value as Record<string, unknown>)[tag];
      const choices = branches.map((b) => String(b.properties![tag].const)).join(', ');
      const i = branches.findIndex((b) => b.properties![tag].const === named);
      if (named === undefined) keep(undefined, new InputError(file, field, `missing required field "${tag}"`, `add \`${tag}:\` (one of: ${choices})`));
      else if (i < 0) keep(undefined, new InputError(file, fieldKey(field, tag), `invalid value ${describe(named)}`, `use one of: ${choices}`));
      else keep(i);
      continue;
    }
    const fits = perBranch.map((b) => !b.some((x) => x.instancePath === alt.instancePath && (x.keyword === 'type' || x.keyword === 'const' || x.keyword === 'enum')));
    const fitting = fits.flatMap((f, i) => (f ? [i] : []));
    if (fitting.length === 1) {
      keep(fitting[0]);
      continue;
    }
    const words = branches.map((b) => branchInWords(b, tag));
    const expected = words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : words[0];
    const desc = shortDescription((alt.parentSchema as { description?: string })?.description);
    keep(undefined, new InputError(file, field, `invalid value ${describe(value)}`, `expected ${expected}${desc ? ` (${desc})` : ''}`));
  }
  return { errors: errors.filter((e) => !dropped.has(e)), lines };
}

/** Turns Ajv's errors into one {@link InputError} per faulty field (the most telling one). */
function toInputErrors(file: string, all: ErrorObject[]): InputError[] {
  const { errors, lines } = resolveAlternatives(file, all);
  const out: InputError[] = [];
  const seen = new Set<string>();
  const add = (err: InputError) => {
    if (!seen.has(err.message)) {
      seen.add(err.message);
      out.push(err);
    }
  };
  for (const e of errors) {
    if (e.keyword === 'if') continue;
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
              : lastKey(fieldPath(e.instancePath)) === 'arch_overrides'
                ? 'use a pacman arch name (x86_64, aarch64, armv7h, riscv64)'
                : `keys must match ${(e.params as { pattern: string }).pattern}`;
          break;
        }
        problem = `invalid value ${describe(value)}`;
        fix = PATTERN_HINTS[lastKey(field)] ?? `must match ${(e.params as { pattern: string }).pattern}`;
        if (/^subpackages\[\d+\]\.depends/.test(field)) fix = 'write a package name, or a name with a version constraint (zlib=1.3-1)';
        else if (/depends/.test(field) && lastKey(field) !== 'optdepends') fix = 'write a recipe name, or name@stageN for a stage build';
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
        if (e.instancePath === '' && (e.params as { type: string }).type === 'object') {
          // The whole document is not a mapping: say what it is, never echo its text.
          problem = `must be object (a mapping of fields), not ${kindOf(value)}`;
          fix = 'write one `field: value` line per field';
          break;
        }
        problem = `must be ${(e.params as { type: string }).type}, not ${describe(value)}`;
        if ((e.params as { type: string }).type === 'string' && typeof value !== 'object') {
          fix = 'quote the value (YAML reads unquoted digits, true/false and dates as other types)';
        }
        break;
      case 'anyOf':
      case 'oneOf':
        problem = `invalid value ${describe(value)}`;
        break;
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
    add(new InputError(file, field, problem, fix));
  }
  for (const l of lines) add(l);
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
