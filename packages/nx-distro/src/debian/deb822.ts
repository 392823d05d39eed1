/**
 * Debian's control-file syntax, deb822 (Debian Policy §5.1; `man 5 deb822`): paragraphs of
 * `Field: value` lines separated by blank lines, continuation lines starting with a space or a
 * tab, `#` comment lines (debian/control allows them; apt and dpkg output have none). Used for
 * debian/control, DEP-5 debian/copyright, DEP-3 patch headers' field form, `.dsc` files (their
 * OpenPGP clear-signing armour is stripped) and `apt-cache show`/`showsrc` output.
 *
 * No npm parser was fit to depend on: `debian-control` (one release, one maintainer, folds every
 * value into one line and drops the line structure DEP-5 license texts need) and `readcontrol`
 * (0.0.2, binary-package fields only) are not maintained; this one is small and tested on real
 * files under `testdata/`.
 */

/** One field of a paragraph. */
export interface Deb822Field {
  /** The field name as written (`Build-Depends`); look-ups ignore case, as Policy says. */
  readonly name: string;
  /**
   * The value: the first line's text (trimmed), then one line per continuation line with its
   * leading space or tab removed and trailing whitespace trimmed, joined with `\n`. An empty
   * first line is dropped (`Description:` followed by continuation lines is their text).
   * Multiline fields keep a lone `.` for an empty line (see {@link multilineText}).
   */
  readonly value: string;
  /** 1-based line number of the field name in the parsed text. */
  readonly line: number;
}

/** A paragraph (stanza): its fields in file order, looked up without regard to case. */
export class Deb822Paragraph {
  readonly fields: readonly Deb822Field[];
  /** 1-based line number of the paragraph's first field. */
  readonly line: number;
  private readonly byName: Map<string, Deb822Field>;

  constructor(fields: readonly Deb822Field[]) {
    this.fields = fields;
    this.line = fields[0]?.line ?? 0;
    this.byName = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
  }

  /** The field's value, or `undefined` when the paragraph has no such field. */
  get(name: string): string | undefined {
    return this.byName.get(name.toLowerCase())?.value;
  }

  /** Whether the paragraph has the field (names compared without regard to case). */
  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }
}

/** A syntax error: `line N: <problem>`; the caller prefixes the file. */
export class Deb822Error extends Error {
  constructor(
    readonly lineNumber: number,
    problem: string,
  ) {
    super(`line ${lineNumber}: ${problem}`);
    this.name = 'Deb822Error';
  }
}

const FIELD = /^([!-9;-~][!-9;-~]*):(.*)$/;

/**
 * Parses deb822 text into paragraphs.
 * @param text the file's contents (UTF-8 decoded); a clear-signed `.dsc` is accepted
 * @throws {Deb822Error} for a line that is neither a field, a continuation, a comment nor blank,
 *   a continuation line before any field, and a field given twice in one paragraph
 */
export function parseDeb822(text: string): Deb822Paragraph[] {
  const lines = stripSignature(text.replace(/^\uFEFF/, '')).split(/\r?\n/);
  const paragraphs: Deb822Paragraph[] = [];
  let fields: { name: string; lines: string[]; line: number }[] = [];
  let seen = new Set<string>();
  const close = () => {
    if (fields.length) {
      paragraphs.push(
        new Deb822Paragraph(
          fields.map((f) => ({ name: f.name, line: f.line, value: f.lines.filter((l, i) => i > 0 || l !== '').join('\n') })),
        ),
      );
    }
    fields = [];
    seen = new Set();
  };
  lines.forEach((raw, index) => {
    const lineNumber = index + 1 + signatureOffset(text);
    if (/^\s*$/.test(raw)) return close();
    if (raw.startsWith('#')) return;
    if (raw.startsWith(' ') || raw.startsWith('\t')) {
      const current = fields[fields.length - 1];
      if (!current) throw new Deb822Error(lineNumber, 'continuation line before any field');
      current.lines.push(raw.slice(1).trimEnd());
      return;
    }
    const m = FIELD.exec(raw);
    if (!m || m[1].startsWith('-')) throw new Deb822Error(lineNumber, 'not a "Field: value" line, a continuation line (starting with a space) or a comment');
    const key = m[1].toLowerCase();
    if (seen.has(key)) throw new Deb822Error(lineNumber, `field ${m[1]} given twice in one paragraph`);
    seen.add(key);
    fields.push({ name: m[1], lines: [m[2].trim()], line: lineNumber });
  });
  close();
  return paragraphs;
}

/**
 * A multiline field's text as lines (Policy §5.1: a continuation line holding only `.` is an
 * empty line), first line included.
 */
export function multilineText(value: string): string[] {
  return value.split('\n').map((l) => (l.trim() === '.' ? '' : l));
}

/** A folded field's value as one line (continuation lines joined with a space). */
export function foldedValue(value: string): string {
  return value
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
}

const SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';

function signatureOffset(text: string): number {
  if (!text.startsWith(SIGNED)) return 0;
  const lines = text.split(/\r?\n/);
  const blank = lines.findIndex((l) => l.trim() === '');
  return blank < 0 ? 0 : blank + 1;
}

// A clear-signed document (RFC 4880 §7): armour headers up to the first blank line, dash-escaped
// text, then the signature block. Only the text is kept; the signature is apt's business.
function stripSignature(text: string): string {
  if (!text.startsWith(SIGNED)) return text;
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === '') + 1;
  const end = lines.indexOf('-----BEGIN PGP SIGNATURE-----');
  return lines
    .slice(start, end < 0 ? undefined : end)
    .map((l) => (l.startsWith('- ') ? l.slice(2) : l))
    .join('\n');
}
