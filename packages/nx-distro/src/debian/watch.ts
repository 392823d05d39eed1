/**
 * debian/watch (uscan's format, versions 3 and 4: `man uscan`, "WATCH FILE"), read the other way
 * round: uscan scans a page for links matching a pattern and takes the newest version; an importer
 * knows the version and needs the one URL that pattern stands for. Nothing here touches the
 * network, so a URL built here is a well-founded guess that the recipe's sha256 then proves or
 * disproves at its first fetch.
 */

/** One watch line: the page or folder uscan reads, the link pattern, and its options. */
export interface WatchEntry {
  /** `opts=` options by name (`uversionmangle`, `dversionmangle`, `repacksuffix`, `mode`, ...); flags have `''`. */
  readonly opts: ReadonlyMap<string, string>;
  /** The URL uscan reads (a folder, a web page, an API answer) with uscan's substitutions applied. */
  readonly url: string;
  /** The link pattern (a Perl regex, anchored by uscan at both ends) with substitutions applied. */
  readonly pattern: string;
}

/** A parsed watch file. */
export interface WatchFile {
  /** The `version=` line's number (3 or 4; files without one are version 1, which uscan no longer reads). */
  readonly version: number;
  readonly entries: readonly WatchEntry[];
}

/** uscan's substitutions (uscan(1), "WATCH FILE VERSION 4"). */
function substitute(text: string, packageName: string): string {
  return text
    .replace(/@PACKAGE@/g, packageName)
    .replace(/@ANY_VERSION@/g, '[-_]?v?(\\d[\\-+\\.:\\~\\da-zA-Z]*)')
    .replace(/@ARCHIVE_EXT@/g, '(?i)(?:\\.(?:tar\\.xz|tar\\.bz2|tar\\.gz|tar\\.zstd?|zip|tgz|tbz|txz))')
    .replace(/@SIGNATURE_EXT@/g, '(?i)(?:\\.(?:tar\\.xz|tar\\.bz2|tar\\.gz|tar\\.zstd?|zip|tgz|tbz|txz))?(?:\\.(?:asc|pgp|gpg|sig|sign))')
    .replace(/@DEB_EXT@/g, '[\\+~](debian|dfsg|ds|deb)(\\.)?(\\d+)?$');
}

/**
 * Splits an `opts=` value into options: commas separate them, except inside a mangling rule
 * (a comma there is followed by no `name=` / known flag).
 */
function parseOpts(text: string): Map<string, string> {
  const opts = new Map<string, string>();
  for (const part of text.split(/,(?=\s*[a-z][a-z0-9-]*(?:=|\s*,|\s*$))/i)) {
    const t = part.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq < 0) opts.set(t.toLowerCase(), '');
    else opts.set(t.slice(0, eq).trim().toLowerCase(), t.slice(eq + 1).trim());
  }
  return opts;
}

/**
 * Parses a watch file: `#` comments and blank lines dropped, `\`-continued lines joined, then
 * per line an optional `opts=...` (or `opts="..."`) and the URL, with the pattern either as the
 * next token or, when there is none, the URL's last path component. Further tokens (version
 * policy, script) are ignored.
 * @param packageName the source package (`@PACKAGE@`)
 */
export function parseWatch(text: string, packageName: string): WatchFile {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\r?\n\s*/g, '');
  const lines = joined.split('\n').map((l) => l.trim()).filter(Boolean);
  let version = 1;
  const entries: WatchEntry[] = [];
  for (const line of lines) {
    const v = /^version\s*=\s*(\d+)$/.exec(line);
    if (v) {
      version = Number(v[1]);
      continue;
    }
    let rest = line;
    let opts = new Map<string, string>();
    const o = /^opts\s*=\s*(?:"([^"]*)"|(\S+))\s*/.exec(rest);
    if (o) {
      opts = parseOpts(o[1] ?? o[2]);
      rest = rest.slice(o[0].length);
    }
    const tokens = rest.split(/\s+/).filter(Boolean);
    if (!tokens.length) continue;
    let url = substitute(tokens[0], packageName);
    let pattern = tokens[1] !== undefined && !/^(debian|same|ignore|previous|group|checksum|uupdate|\d[\d.]*)$/.test(tokens[1]) ? tokens[1] : undefined;
    if (pattern === undefined) {
      const slash = url.lastIndexOf('/');
      pattern = url.slice(slash + 1);
      url = url.slice(0, slash + 1);
    }
    entries.push({ opts, url, pattern: substitute(pattern, packageName) });
  }
  return { version, entries };
}

/** A Perl `s/pattern/replacement/flags` rule, as uscan's mangling options hold them. */
interface MangleRule {
  readonly regex: RegExp;
  readonly replacement: string;
}

/**
 * Parses uscan mangling rules (`s/a/b/g;s/c/d/`), any delimiter (`s%a%b%`, `s|a|b|`), as JS
 * regular expressions: Perl's `(?i)` becomes the `i` flag; `\$1`, `${1}` and `\1` in the
 * replacement become `$1`. `tr///` and `y///` rules are ignored.
 * @throws Error for a rule that is not `s` followed by a delimited pattern and replacement
 */
export function parseMangle(text: string): MangleRule[] {
  const rules: MangleRule[] = [];
  let i = 0;
  const t = text.trim();
  while (i < t.length) {
    while (t[i] === ';' || t[i] === ' ') i++;
    if (i >= t.length) break;
    const op = t[i] === 's' ? 's' : t.startsWith('tr', i) ? 'tr' : t[i] === 'y' ? 'y' : '';
    if (!op) throw new Error(`not a s/pattern/replacement/ rule: ${JSON.stringify(t.slice(i))}`);
    i += op.length;
    const delim = t[i++];
    const parts: string[] = [];
    for (let n = 0; n < 2; n++) {
      let s = '';
      while (i < t.length && t[i] !== delim) {
        if (t[i] === '\\' && i + 1 < t.length) {
          s += t[i + 1] === delim ? delim : t.slice(i, i + 2);
          i += 2;
        } else s += t[i++];
      }
      if (t[i] !== delim) throw new Error(`unterminated rule: ${JSON.stringify(t)}`);
      i++;
      parts.push(s);
    }
    const flags = /^[a-z]*/.exec(t.slice(i))![0];
    i += flags.length;
    if (op !== 's') continue;
    let source = parts[0];
    let jsFlags = flags.includes('g') ? 'g' : '';
    if (flags.includes('i') || source.includes('(?i)')) jsFlags += 'i';
    source = source.replace(/\(\?i\)/g, '');
    const replacement = parts[1].replace(/\\\$(\d)/g, '$$$1').replace(/\$\{(\d+)\}/g, '$$$1').replace(/\\(\d)/g, '$$$1');
    rules.push({ regex: new RegExp(source, jsFlags), replacement });
  }
  return rules;
}

/** Applies mangling rules in order. `auto` (for dversionmangle) is uscan's `s/@DEB_EXT@//`. */
export function mangle(rulesText: string | undefined, value: string): string {
  if (rulesText === undefined || rulesText === '') return value;
  const text = rulesText === 'auto' ? `s/${substitute('@DEB_EXT@', '')}//` : rulesText;
  return parseMangle(text).reduce((v, r) => v.replace(r.regex, r.replacement), value);
}

/** What the importer knows when it asks for the URL. */
export interface UrlContext {
  /** Source package name (`@PACKAGE@`). */
  readonly packageName: string;
  /**
   * The upstream version as uscan compares it: Debian's upstream version after the entry's
   * `dversionmangle` (or with the repack suffix dropped when it has none).
   */
  readonly version: string;
  /** More spellings of the version as upstream may write it (the orig tarball's folder name's tail). */
  readonly spellings: readonly string[];
  /** The orig tarball's top folder (`expat-2.5.0`), which is often upstream's file name without extension. */
  readonly topFolder?: string;
  /** The orig tarball's extension (`.tar.gz`): upstream's file must have it for the bytes to be the same. */
  readonly extension: string;
}

/** A URL derived from a watch entry. */
export interface WatchUrl {
  readonly url: string;
  /** What in the URL had to be guessed (a release tag, a folder the page links into), if anything. */
  readonly guessed?: string;
  /** Whether the file's extension is the orig tarball's (otherwise Debian recompressed, and the sums differ). */
  readonly sameExtension: boolean;
}

// Prefixes of a link pattern that only say "any folder" (uscan matches the link's full URL).
const ANY_PATH = /^(?:\.\*\/\?|\(\?:\|\.\*\/\)|\(\?:\.\*\/\)\?|\(\?:\.\*\?\/\)\?|\.\*\??\/|\[\^"'\]\*\/|https?:\/\/github\.com\/\[\^"'\]\*\/)/;

/**
 * The download URL a watch entry gives for the version, or `undefined` when no URL of the entry's
 * form matches (the version is a snapshot the pattern cannot produce, `mode=git` off GitHub, a
 * `component=` entry). Spellings of the version are tried as the capture group, kept when
 * `uversionmangle` maps them to {@link UrlContext.version}, and every candidate file name is
 * checked against the entry's own pattern. Among matches, upstream's file named like the orig
 * tarball's top folder and with its extension comes first. Hosts uscan treats specially:
 * `sf.net/<project>/` (SourceForge's download redirector), GitHub's tags and releases pages and
 * API (`archive/refs/tags/<file>`, `releases/download/<tag>/<file>`).
 */
export function watchUrl(entry: WatchEntry, ctx: UrlContext): WatchUrl | undefined {
  if (entry.opts.has('component')) return undefined;
  const uv = entry.opts.get('uversionmangle');
  const spellings = [...new Set([ctx.version, ...ctx.spellings, ctx.version.replace(/~/g, '-'), ctx.version.replace(/~/g, ''), ctx.version.replace(/\./g, '_')])].filter(
    (s) => safeMangle(uv, s) === ctx.version,
  );
  const github = /^https?:\/\/(?:api\.)?github\.com\/(?:repos\/)?([^/]+)\/([^/]+)\/(tags|releases)\b/.exec(entry.url);
  if (entry.opts.get('mode') === 'git') {
    const repo = /^https?:\/\/github\.com\/([^/]+)\/([^/.]+)/.exec(entry.url);
    if (!repo) return undefined;
    return { url: `https://github.com/${repo[1]}/${repo[2]}/archive/refs/tags/v${spellings[0] ?? ctx.version}.tar.gz`, guessed: 'the tag (a git-mode watch names no tarball)', sameExtension: ctx.extension === '.tar.gz' };
  }
  let pattern = entry.pattern.replace(/^\^/, '').replace(/\$$/, '');
  let anyPath = false;
  while (ANY_PATH.test(pattern)) {
    pattern = pattern.replace(ANY_PATH, '');
    anyPath = true;
  }
  // A pattern with folders (`[\d.]+[02468]/glib-...`): the folders are matched one by one.
  const components = splitPath(pattern);
  const file = components.pop()!;
  const names = fileNames(file, spellings, ctx, entry.pattern);
  if (!names.length) return undefined;
  const name = names[0];
  const sameExtension = name.toLowerCase().endsWith(ctx.extension.toLowerCase());
  const folders: string[] = [];
  let guessed: string | undefined;
  for (const c of components) {
    const folder = versionFolder(c, ctx.version);
    if (folder === undefined) return undefined;
    if (folder !== c) guessed = 'the version folder';
    folders.push(folder);
  }
  const sf = /^https?:\/\/(?:www\.)?(?:sf|sourceforge)\.net\/([^/]+)\/?/.exec(entry.url);
  if (sf) return { url: `https://downloads.sourceforge.net/${sf[1]}/${[...folders, name].join('/')}`, sameExtension };
  if (github) {
    const [, owner, repo, kind] = github;
    if (kind === 'tags') return { url: `https://github.com/${owner}/${repo}/archive/refs/tags/${name}`, sameExtension };
    return { url: `https://github.com/${owner}/${repo}/releases/download/v${spellings[0] ?? ctx.version}/${name}`, guessed: 'the release tag', sameExtension };
  }
  // The URL's own folders may hold patterns too (`.../util-linux/v([\d+\.]+)/`).
  const base = entry.opts.has('downloadurlmangle') ? mangleDownloadBase(entry) : entry.url;
  const m = /^([a-z]+:\/\/[^/]+)(\/.*)?$/.exec(base);
  if (!m) return undefined;
  const urlFolders = (m[2] ?? '/').split('/');
  urlFolders.pop(); // what follows the last slash is a page (index.html, cache.json), not a folder
  const resolved: string[] = [];
  for (const c of urlFolders) {
    if (!/[\\()[\]*+?|^$]/.test(c)) {
      resolved.push(c);
      continue;
    }
    const folder = versionFolder(c, ctx.version);
    if (folder === undefined) return undefined;
    guessed = 'the version folder';
    resolved.push(folder);
  }
  // A folder listing (`https://ftp.gnu.org/gnu/readline/`) links its own files; a web page may link anywhere.
  const listing = entry.url.endsWith('/') && (m[2] ?? '/').split('/').filter(Boolean).length >= 2;
  if (anyPath && !folders.length && !listing) guessed ??= 'the folder (the page may link into another one)';
  return { url: `${m[1]}${resolved.join('/')}/${[...folders, name].join('/')}`, ...(guessed ? { guessed } : {}), sameExtension };
}

function safeMangle(rules: string | undefined, value: string): string | undefined {
  try {
    return mangle(rules, value);
  } catch {
    return undefined;
  }
}

// GNOME's `downloadurlmangle=s|cache.json||`: the page's own URL with the rule applied is the base.
function mangleDownloadBase(entry: WatchEntry): string {
  const mangled = safeMangle(entry.opts.get('downloadurlmangle'), entry.url);
  return mangled === undefined ? entry.url : mangled.endsWith('/') ? mangled : `${mangled}/`;
}

/** Splits a pattern at `/` outside character classes and groups. */
function splitPath(pattern: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let cls = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      cur += pattern.slice(i, i + 2);
      i++;
      continue;
    }
    if (cls) cls = c !== ']';
    else if (c === '[') cls = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '/' && depth === 0 && !/[?*+{]/.test(pattern[i + 1] ?? '')) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * The folder a version lives in, for a folder pattern (`v([\d+\.]+)`, `(\d[\d\.]+)`,
 * `[\d.]+[02468]`): the shortest dotted prefix of the version with at least two parts that
 * matches (GNOME's and kernel.org's `2.38/` for 2.38.1), else the whole version; the literal text
 * around a capture group is kept.
 */
function versionFolder(component: string, version: string): string | undefined {
  const re = toRegExp(`^${component}$`);
  if (!re) return undefined;
  if (re.test(component)) return component;
  const parts = version.split('.');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('.')).filter((p, i) => i >= 1 || parts.length === 1);
  for (const p of prefixes) {
    for (const candidate of [p, `v${p}`]) if (re.test(candidate)) return candidate;
  }
  return undefined;
}

function toRegExp(source: string): RegExp | undefined {
  const insensitive = source.includes('(?i)');
  try {
    return new RegExp(source.replace(/\(\?i\)/g, ''), insensitive ? 'i' : '');
  } catch {
    return undefined;
  }
}

/**
 * File names the pattern matches with one of the spellings as its first capture group,
 * best first. Built by enumerating the pattern (alternatives and optional parts expanded, the
 * first capture group replaced by the spelling, open-ended parts such as `.*` left empty or,
 * at the end, given the orig tarball's extension), then each checked against the real pattern.
 */
function fileNames(pattern: string, spellings: readonly string[], ctx: UrlContext, fullPattern: string): string[] {
  const re = toRegExp(`^(?:${pattern})$`);
  if (!re) return [];
  // The orig tarball's folder name is often upstream's file name: taken first when the entry's
  // whole pattern (any-folder prefix included) matches it with a spelling of the version.
  if (ctx.topFolder) {
    const full = toRegExp(`^(?:${fullPattern.replace(/^\^/, '').replace(/\$$/, '')})$`);
    const name = `${ctx.topFolder}${ctx.extension}`;
    for (const candidate of [name, `/${name}`]) {
      const m = full?.exec(candidate);
      if (m && spellings.includes(m[1])) return [name];
    }
  }
  let ast: Node;
  try {
    ast = new PatternParser(pattern.replace(/\(\?i\)/g, '')).parse();
  } catch {
    return [];
  }
  const found: { name: string; score: number }[] = [];
  for (const spelling of spellings) {
    for (let raw of expand(ast, spelling)) {
      const candidates = raw.endsWith(WILD) ? [raw.slice(0, -1), fillExtension(raw.slice(0, -1), ctx.extension)] : [raw];
      for (const c of candidates.map((x) => x.split(WILD).join(''))) {
        const m = re.exec(c);
        if (!m || m[1] !== spelling) continue;
        const lower = c.toLowerCase();
        const score =
          (ctx.topFolder && matchesFolder(c, ctx.topFolder) ? 8 : 0) +
          (/^v\d/.test(c) ? 1 : 0) +
          (lower.endsWith(ctx.extension.toLowerCase()) ? 4 : 0) +
          (c.includes(`${ctx.packageName}-${spelling}`) || /^[^-_]+-\d/.test(c) ? 2 : 0) +
          (spelling === ctx.version ? 1 : 0);
        if (!found.some((f) => f.name === c)) found.push({ name: c, score });
      }
    }
  }
  return found.sort((a, b) => b.score - a.score).map((f) => f.name);
}

/**
 * Whether upstream's file name fits the orig tarball's top folder: the same stem (`expat-2.5.0`),
 * or a GitHub archive's `<repo>-<tag>` folder, whose tag lost its leading `v`.
 */
export function matchesFolder(file: string, folder: string): boolean {
  const stem = file.replace(/\.(?:tar\.[a-z0-9]+|tgz|tbz2?|txz|zip)$/i, '');
  return stem === folder || folder.endsWith(`-${stem}`) || (/^v\d/.test(stem) && folder.endsWith(`-${stem.slice(1)}`));
}

function fillExtension(stem: string, extension: string): string {
  for (let i = extension.length; i > 0; i--) if (stem.endsWith(extension.slice(0, i))) return stem + extension.slice(i);
  return stem + extension;
}

// --- a small regex enumerator ------------------------------------------------------------------

/** Marks where an open-ended part (`.*`, `\S+`) stood in an expanded name. */
const WILD = '\u0000';
const MAX_EXPANSIONS = 512;

type Node =
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'lit'; text: string }
  | { kind: 'chars'; chars: string[] } // a class with literal members: each is an option
  | { kind: 'wild' } // a class or escape matching "anything" (\S, \d, [^/])
  | { kind: 'dot' } // `.`: alone, most often meant as a literal dot (`libcap-(.+).tar.xz`)
  | { kind: 'group'; capture: boolean; index: number; body: Node }
  | { kind: 'repeat'; min: number; body: Node };

class PatternParser {
  private i = 0;
  private groups = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const n = this.alternation();
    if (this.i < this.src.length) throw new Error('unbalanced');
    return n;
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] : { kind: 'alt', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      let atom = this.atom();
      for (;;) {
        const c = this.src[this.i];
        if (c === '?' || c === '*') {
          atom = { kind: 'repeat', min: 0, body: atom };
          this.i++;
        } else if (c === '+') {
          atom = { kind: 'repeat', min: 1, body: atom };
          this.i++;
        } else if (c === '{') {
          const m = /^\{(\d*)(?:,(\d*))?\}/.exec(this.src.slice(this.i));
          if (!m) break;
          atom = { kind: 'repeat', min: Number(m[1] || 0), body: atom };
          this.i += m[0].length;
        } else break;
        if (this.src[this.i] === '?' || this.src[this.i] === '+') this.i++; // lazy / possessive
      }
      items.push(atom);
    }
    return { kind: 'seq', items };
  }

  private atom(): Node {
    const c = this.src[this.i++];
    if (c === '(') {
      let capture = true;
      if (this.src[this.i] === '?') {
        capture = false;
        const m = /^\?(?:[:=!]|<[=!]|P?<[A-Za-z_]\w*>)/.exec(this.src.slice(this.i));
        if (!m) throw new Error('group');
        capture = m[0].startsWith('?<') && !/^\?<[=!]/.test(m[0]) ? true : m[0].startsWith('?P<');
        this.i += m[0].length;
      }
      const index = capture ? ++this.groups : 0;
      const body = this.alternation();
      if (this.src[this.i++] !== ')') throw new Error('unbalanced');
      return { kind: 'group', capture, index, body };
    }
    if (c === '[') return this.charClass();
    if (c === '.') return { kind: 'dot' };
    if (c === '^' || c === '$') return { kind: 'lit', text: '' };
    if (c === '\\') {
      const e = this.src[this.i++];
      if (/[dDsSwWbB]/.test(e)) return e === 'b' || e === 'B' ? { kind: 'lit', text: '' } : { kind: 'wild' };
      return { kind: 'lit', text: e };
    }
    return { kind: 'lit', text: c };
  }

  private charClass(): Node {
    let negated = false;
    if (this.src[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const chars: string[] = [];
    let wild = negated;
    let first = true;
    while (this.i < this.src.length && (this.src[this.i] !== ']' || first)) {
      first = false;
      let c = this.src[this.i++];
      if (c === '\\') {
        c = this.src[this.i++];
        if (/[dDsSwW]/.test(c)) {
          wild = true;
          continue;
        }
      }
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.i + 1 < this.src.length) {
        this.i += 2;
        wild = true; // a range: any member will do, none is the obvious one
        continue;
      }
      chars.push(c);
    }
    if (this.src[this.i++] !== ']') throw new Error('class');
    return wild ? { kind: 'wild' } : { kind: 'chars', chars };
  }
}

/** Every string the pattern stands for (bounded), the first capture group replaced by `version`. */
function expand(node: Node, version: string): string[] {
  const cap = (xs: string[]) => [...new Set(xs)].slice(0, MAX_EXPANSIONS);
  switch (node.kind) {
    case 'lit':
      return [node.text];
    case 'chars':
      return node.chars;
    case 'wild':
      return [WILD];
    case 'dot':
      return ['.'];
    case 'group':
      return node.capture && node.index === 1 ? [version] : expand(node.body, version);
    case 'alt':
      return cap(node.options.flatMap((o) => expand(o, version)));
    case 'repeat': {
      if (node.body.kind === 'dot' || node.body.kind === 'wild') return [WILD];
      const body = expand(node.body, version);
      if (body.length === 1 && body[0] === WILD) return [WILD];
      return cap(node.min === 0 ? ['', ...body] : body.map((b) => b.repeat(node.min)));
    }
    case 'seq': {
      let acc = [''];
      for (const item of node.items) {
        const parts = expand(item, version);
        acc = cap(acc.flatMap((a) => parts.map((p) => (a.endsWith(WILD) && p === WILD ? a : a + p))));
      }
      return acc;
    }
  }
}
