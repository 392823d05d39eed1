import { diskFullMessage, isDiskFull } from '../util/disk-full';

/**
 * Characters that would let a value echoed in a message change how the terminal or log shows it:
 * C0 and C1 control characters and DEL (line feeds, carriage returns, ANSI escape sequences,
 * the 8-bit CSI U+009B), Unicode's line and paragraph separators, format characters (bidi
 * overrides and isolates, zero-width characters: "Trojan Source", CVE-2021-42574) and lone
 * surrogates (not text at all).
 */
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
const IS_CONTROL = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]$/u;

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The escape of one character (a code point: two `\\u` escapes, as JSON's, beyond U+FFFF). */
function escapeOne(c: string): string {
  if (SHORT_ESCAPES[c]) return SHORT_ESCAPES[c];
  let out = '';
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * `text` with every control character (see {@link CONTROL}) written as an escape (`\n`, `\t`,
 * `\u001b`), so it shows as one line of plain characters. For the unquoted parts of a message
 * (a file path found on disk) and as the last line of defence of every error class that carries
 * input text; values themselves are shown with {@link quote}.
 * @param keep characters left as they are: `'\n\t'` for text shown as several lines on
 *   purpose (a rejected hunk of a patch), still free of escape sequences
 */
export function escapeControls(text: string, keep = ''): string {
  return text.replace(CONTROL, (c) => (keep.includes(c) ? c : escapeOne(c)));
}

/** Longest part of a value {@link quote} shows by default, in characters of its output. */
export const MAX_QUOTED = 60;

/**
 * A value taken from an input file (recipe, system target, a file name on disk) as a message
 * shows it: in double quotes, `"` and `\` escaped with a backslash and every control character
 * as an escape (`\n`, `\u001b`: JSON's escapes, plus DEL, C1 controls, line separators and bidi
 * controls, which JSON leaves raw). A value longer than `max` characters (counted in the output)
 * is cut and marked by `...` after the closing quote: `"aaaa"...`. The one helper every message
 * uses for input values, so that an error is always one line whose values have visible ends.
 * @param max longest output between the quotes, in characters (default {@link MAX_QUOTED})
 */
export function quote(value: string, max: number = MAX_QUOTED): string {
  let out = '';
  let cut = false;
  for (const c of value) {
    const shown = c === '"' || c === '\\' ? `\\${c}` : IS_CONTROL.test(c) ? escapeOne(c) : c;
    if (out.length + shown.length > max) {
      cut = true;
      break;
    }
    out += shown;
  }
  return `"${out}"${cut ? '...' : ''}`;
}

/**
 * One step of a field path whose key comes from the input file (a package set's name, an `env`
 * variable, an unknown field): `.key` for a plain key (letters, digits, `_` and `-`, at most 64),
 * `["key"]` ({@link quote}d) for any other, so a key can neither hide a control character nor
 * pass for more of the path (`a.b`, `x: y`).
 * @param parent the path so far (`package_sets`), `''` for a top-level key
 */
export function fieldKey(parent: string, key: string): string {
  if (/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${quote(key)}]`;
}

/**
 * A user's mistake in an input file (recipe, system target, nx.json option), reported as one
 * line: `<file>: <field>: <problem>[; <fix>]`. Never carries a stack trace to the user: the
 * plugin and executors print `message` only. Values from the file belong in `problem` through
 * {@link quote}; every part is also passed through {@link escapeControls}, so the message is one
 * line whatever a caller put in it.
 */
export class InputError extends Error {
  /** Workspace-relative path of the file at fault (e.g. `recipes/zlib/recipe.yaml`). */
  readonly file: string;
  /** Dotted field path inside the file (e.g. `sources[0].sha256`), or `''` for the whole file. */
  readonly field: string;

  /**
   * @param file workspace-relative path of the file at fault
   * @param field dotted field path, `''` for the file as a whole
   * @param problem what is wrong, without the file and field
   * @param fix how to fix it, if there is a single obvious way
   */
  constructor(file: string, field: string, problem: string, fix?: string) {
    super(escapeControls(`${file}: ${field ? `${field}: ` : ''}${problem}${fix ? `; ${fix}` : ''}`));
    this.name = 'InputError';
    this.file = file;
    this.field = field;
  }
}

/**
 * Several {@link InputError}s found in one pass (every bad recipe in a run, not only the first).
 * `message` lists them one per line.
 */
export class InputErrors extends Error {
  readonly errors: readonly InputError[];
  constructor(errors: readonly InputError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'InputErrors';
    this.errors = errors;
  }
}

/**
 * A failure a user can act on whose `message` is already the whole report: what failed, the file
 * or tool, and the fix (a download or checksum that failed, an archive or patch refused, a build
 * step that failed, a missing toolchain, a packages folder a repository cannot be made of). Logged
 * as it is, never with a stack trace ({@link failureReport}). A mistake in an input file is an
 * {@link InputError} instead.
 */
export class ReportedError extends Error {}

/**
 * How a task reports an error that is not a bug, the one rule every executor and the build
 * pipeline share: an {@link InputError}, {@link InputErrors} or {@link ReportedError} by its
 * message; a full file system (`isDiskFull`) by `diskFullMessage(subject, writing)`.
 * @param subject the task's subject for a full disk (`zlib`, `zlib@stage1`, `system-target`)
 * @param writing the folders the task was writing (workspace-relative), named in the disk-full fix
 * @returns the message to log (one line, or one line per input error); undefined for any other
 *   error: a bug, which the caller rethrows so that Nx prints it with its stack
 */
export function failureReport(e: unknown, subject: string, writing: readonly string[]): string | undefined {
  if (e instanceof InputError || e instanceof InputErrors || e instanceof ReportedError) return e.message;
  if (isDiskFull(e)) return diskFullMessage(subject, writing.length ? writing : ['the workspace'], e);
  return undefined;
}
