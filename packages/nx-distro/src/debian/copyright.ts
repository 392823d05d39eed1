/**
 * debian/copyright in the machine-readable format (DEP-5, "copyright-format 1.0",
 * https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/), and its license short
 * names turned into SPDX license expressions.
 */
import parseSpdx from 'spdx-expression-parse';
import spdxExceptions from 'spdx-exceptions/index.json';
import spdxIds from 'spdx-license-ids/index.json';
import { foldedValue, parseDeb822 } from './deb822';

/** A `Files:` paragraph. */
export interface FilesStanza {
  /** The `Files:` patterns, whitespace-separated (`*`, `debian/*`, `src/*.c`). */
  readonly files: readonly string[];
  /** The `License:` field's first line: the DEP-5 license expression (`GPL-2+ or Artistic`). */
  readonly license: string;
}

/** What debian/copyright says, as far as a recipe needs it. */
export interface Copyright {
  /** Whether the file is in DEP-5 format (its first paragraph has `Format:`). */
  readonly machineReadable: boolean;
  /** `Files-Excluded` patterns of the header: what Debian removed from the upstream tarball. */
  readonly filesExcluded: readonly string[];
  /** The header's `Source:` (where upstream's sources come from), if any. */
  readonly source?: string;
  /** Every `Files:` paragraph, in file order. */
  readonly stanzas: readonly FilesStanza[];
}

/**
 * Parses debian/copyright. A file that is not DEP-5 (free text) gives `machineReadable: false`
 * and no stanzas.
 * @throws {Deb822Error} when a DEP-5 file does not parse
 */
export function parseCopyright(text: string): Copyright {
  if (!/^Format:/im.test(text.split(/\n\s*\n/)[0] ?? '')) return { machineReadable: false, filesExcluded: [], stanzas: [] };
  const [header, ...rest] = parseDeb822(text);
  const stanzas = rest
    .filter((p) => p.has('Files') && p.has('License'))
    .map((p) => ({ files: foldedValue(p.get('Files')!).split(' '), license: p.get('License')!.split('\n')[0].trim() }));
  const source = header.get('Source');
  return {
    machineReadable: true,
    filesExcluded: foldedValue(header.get('Files-Excluded') ?? '').split(' ').filter(Boolean),
    ...(source ? { source: foldedValue(source) } : {}),
    stanzas,
  };
}

/** The license expression of the `Files: *` paragraph, the package's own license, if there is one. */
export function mainLicense(copyright: Copyright): string | undefined {
  return copyright.stanzas.find((s) => s.files.includes('*'))?.license;
}

/** A DEP-5 expression turned into SPDX: the expression, and the short names that had no SPDX id. */
export interface SpdxResult {
  /** A valid SPDX license expression (checked with spdx-expression-parse). */
  readonly expression: string;
  /** DEP-5 names written as `LicenseRef-<name>` because SPDX has no id for them. */
  readonly unmapped: readonly string[];
}

const LICENSE_IDS = new Map<string, string>(spdxIds.map((id: string) => [id.toLowerCase(), id]));
const EXCEPTION_IDS = new Map<string, string>(spdxExceptions.map((id: string) => [id.toLowerCase(), id]));

// DEP-5's short names whose SPDX id is spelled differently (§ "License short name"), and the
// names Debian uses often beyond that list. GNU licenses without `+` are "only", with `+` "or later".
const RENAMED: Record<string, string> = {
  expat: 'MIT',
  mit: 'MIT',
  'mit/x11': 'MIT',
  perl: 'Artistic-1.0-Perl OR GPL-1.0-or-later',
  artistic: 'Artistic-1.0',
  apache: 'Apache-1.0',
  cc0: 'CC0-1.0',
  zope: 'ZPL-1.1',
  'zope-2.1': 'ZPL-2.1',
  'psf-2': 'PSF-2.0',
  python: 'Python-2.0',
  gpl: 'GPL-1.0-or-later',
  lgpl: 'LGPL-2.0-or-later',
  gfdl: 'GFDL-1.1-or-later',
  'gfdl-niv': 'GFDL-1.1-no-invariants-or-later',
  'bsd-2-clause': 'BSD-2-Clause',
  'bsd-3-clause': 'BSD-3-Clause',
  'bsd-4-clause': 'BSD-4-Clause',
};

// The exceptions DEP-5 files name with words (`GPL-3+ with GCC-Runtime-Library exception`).
const EXCEPTIONS: Record<string, string> = {
  autoconf: 'Autoconf-exception-2.0',
  'autoconf-3': 'Autoconf-exception-3.0',
  'autoconf-3.0': 'Autoconf-exception-3.0',
  'gcc-runtime-library': 'GCC-exception-3.1',
  'gcc-runtime-library-3.1': 'GCC-exception-3.1',
  'gcc-3.1': 'GCC-exception-3.1',
  gcc: 'GCC-exception-2.0',
  libtool: 'Libtool-exception',
  bison: 'Bison-exception-2.2',
  classpath: 'Classpath-exception-2.0',
  font: 'Font-exception-2.0',
  texinfo: 'Texinfo-exception',
  'linux-syscall-note': 'Linux-syscall-note',
  'linux-syscall': 'Linux-syscall-note',
};

/**
 * One DEP-5 short name as an SPDX id: `GPL-2+` -> `GPL-2.0-or-later`, `LGPL-2.1` ->
 * `LGPL-2.1-only`, `Expat` -> `MIT`, `BSD-3-clause` -> `BSD-3-Clause`, `MPL-1.1+` -> `MPL-1.1+`,
 * any SPDX id in any case; `undefined` when SPDX has none.
 */
export function spdxForShortName(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (RENAMED[lower]) return RENAMED[lower];
  const gnu = /^(a?gpl|lgpl|gfdl(?:-niv)?)-(\d+(?:\.\d+)?)(\+?)$/.exec(lower);
  if (gnu) {
    const family = gnu[1] === 'gfdl-niv' ? 'GFDL' : gnu[1].toUpperCase();
    const version = gnu[2].includes('.') ? gnu[2] : `${gnu[2]}.0`;
    const base = `${family}-${family === 'GFDL' ? gnu[2] : version}${gnu[1] === 'gfdl-niv' ? '-no-invariants' : ''}`;
    const id = `${base}-${gnu[3] ? 'or-later' : 'only'}`;
    return LICENSE_IDS.get(id.toLowerCase());
  }
  const plus = lower.endsWith('+') ? '+' : '';
  const id = LICENSE_IDS.get(plus ? lower.slice(0, -1) : lower) ?? LICENSE_IDS.get(`${plus ? lower.slice(0, -1) : lower}.0`);
  return id && `${id}${plus}`;
}

/** `LicenseRef-<name>` with the characters SPDX does not allow there (`[A-Za-z0-9.-]`) made `-`. */
export function licenseRef(name: string): string {
  return `LicenseRef-${name.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown'}`;
}

/**
 * A DEP-5 license expression as an SPDX expression. DEP-5's grammar: short names joined by
 * `or` and `and` (`and` binds tighter, as in SPDX), a comma before `and`/`or` lowering that
 * operator below the others (`A or B, and C` is `(A OR B) AND C`), and `<name> with <words>
 * exception`. Names SPDX has no id for become `LicenseRef-<name>` (`public-domain` ->
 * `LicenseRef-public-domain`); an exception SPDX does not know makes the whole
 * `name with ... exception` one `LicenseRef-`.
 * @param dep5 the `License:` field's first line
 */
export function dep5ToSpdx(dep5: string): SpdxResult {
  const unmapped: string[] = [];
  const item = (text: string): string => {
    const w = /^(\S+)\s+with\s+(.+?)\s+exception$/i.exec(text);
    if (w) {
      const base = spdxForShortName(w[1]);
      const exception = EXCEPTIONS[w[2].toLowerCase()] ?? EXCEPTION_IDS.get(w[2].toLowerCase()) ?? EXCEPTION_IDS.get(`${w[2].toLowerCase()}-exception`);
      if (base && exception && !base.includes(' ')) return `${base} WITH ${exception}`;
      unmapped.push(text);
      return licenseRef(`${w[1]}-with-${w[2]}-exception`);
    }
    const id = spdxForShortName(text);
    if (id) return id.includes(' ') ? `(${id})` : id;
    unmapped.push(text);
    return licenseRef(/^(?:pd|public[- ]domain)$/i.test(text) ? 'public-domain' : text);
  };
  const andLevel = (text: string) => text.split(/\s+and\s+/i).map((p) => item(p.trim())).join(' AND ');
  const orLevel = (text: string) => text.split(/\s+or\s+/i).map(andLevel).join(' OR ');
  // Comma groups: `A or B, and C` is `(A OR B) AND C`; each group parenthesised when it has an operator.
  const groups = dep5.trim().split(/\s*,\s*(?=(?:and|or)\s)/i);
  const expression = groups
    .map((g, i) => {
      const op = i === 0 ? '' : /^or\s/i.test(g) ? 'OR ' : 'AND ';
      const inner = orLevel(i === 0 ? g : g.replace(/^(?:and|or)\s+/i, ''));
      return `${op}${groups.length > 1 && /\s(?:OR|AND)\s/.test(inner) ? `(${inner})` : inner}`;
    })
    .join(' ');
  parseSpdx(expression); // throws if this code ever builds an invalid expression
  return { expression, unmapped };
}
