/**
 * Patch headers in DEP-3 form (https://dep-team.pages.debian.net/deps/dep3/), Debian's way of
 * saying where a patch comes from and where it went, and quilt's `debian/patches/series`.
 * DEP-3 accepts git format-patch headers too (`From:`, `Subject:`), and so does this parser.
 */

/** What a patch's header says. */
export interface PatchHeader {
  /** Header fields by lower-case name (`origin`, `bug`, `bug-debian`, `forwarded`, ...), values folded to one line. */
  readonly fields: ReadonlyMap<string, string>;
  /** One-line summary: `Description`'s or `Subject`'s first line (`[PATCH n/m]` dropped). */
  readonly summary?: string;
  /** The commit a `git format-patch` (`From <sha> Mon Sep 17 ...`) or `git show` (`commit <sha>`) header names. */
  readonly commit?: string;
  /** The first http(s) URL in the header's free text (not a DEP-3 field), a hint for the maintainer. */
  readonly textUrl?: string;
}

const DIFF_START = /^(?:--- |\+\+\+ |diff |Index: |={5,}|---\s*$)/;

/**
 * Reads a patch's header: the lines before its first diff line (`--- `, `diff `, `Index:`, or
 * format-patch's lone `---`). Field lines are `Name: value` (a continuation starts with a space);
 * every other line is free text, which DEP-3 allows after the fields.
 */
export function parsePatchHeader(text: string): PatchHeader {
  const fields = new Map<string, string>();
  let commit: string | undefined;
  let textUrl: string | undefined;
  let last: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (DIFF_START.test(line)) break;
    const fromLine = n === 0 ? /^From ([0-9a-f]{40}) /.exec(line) : null;
    const showLine = /^commit ([0-9a-f]{40})\b/.exec(line);
    if (fromLine || showLine) {
      commit ??= (fromLine ?? showLine)![1];
      last = undefined;
      continue;
    }
    const f = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)$/.exec(line);
    if (f && !/^https?$/i.test(f[1])) {
      const key = f[1].toLowerCase();
      if (!fields.has(key)) fields.set(key, f[2].trim());
      last = fields.get(key) === f[2].trim() ? key : undefined;
      continue;
    }
    if (last && /^[ \t]/.test(line) && line.trim() && line.trim() !== '.') {
      // A continuation of a folded field (Description's long text only adds to the summary's paragraph).
      if (last !== 'description' && last !== 'subject') fields.set(last, `${fields.get(last)} ${line.trim()}`.trim());
      continue;
    }
    last = undefined;
    const url = /https?:\/\/[^\s<>"')\]]+/.exec(line);
    if (url && !textUrl) textUrl = url[0].replace(/[.,;:]+$/, '');
  }
  const rawSummary = fields.get('description') ?? fields.get('subject');
  const summary = rawSummary?.replace(/^\[PATCH[^\]]*\]\s*/, '').trim();
  return { fields, ...(summary ? { summary } : {}), ...(commit ? { commit } : {}), ...(textUrl ? { textUrl } : {}) };
}

/** The link a recipe's `upstream:` takes from a header, and the field it came from. */
export interface UpstreamLink {
  readonly url: string;
  /** The DEP-3 field it came from, as DEP-3 spells it (`Applied-Upstream`, `Origin`, `Bug`, `Forwarded`, `Bug-Debian`). */
  readonly field: string;
}

const firstUrl = (v: string | undefined) => (v ? /https?:\/\/[^\s,<>"]+/.exec(v)?.[0].replace(/[.;:]+$/, '') : undefined);

/**
 * The link that best says where the change lives upstream, in this order: `Applied-Upstream`;
 * `Origin` of kind `upstream` or `backport` (or a bare URL); `Bug` (upstream's bug tracker);
 * `Forwarded` (where Debian sent it); another vendor's or Debian's bug (`Bug-Debian`,
 * `Bug-Ubuntu`, ...); any other `Origin` URL (`vendor`, `other`). DEP-3 §"Structure".
 * @returns the link, or `undefined` when no field holds an http(s) URL
 */
export function upstreamLink(header: PatchHeader): UpstreamLink | undefined {
  const f = header.fields;
  const origin = f.get('origin');
  const originKind = origin ? /^\s*(upstream|backport|vendor|other)\b/i.exec(origin)?.[1].toLowerCase() : undefined;
  const order: [string, string | undefined][] = [
    ['Applied-Upstream', firstUrl(f.get('applied-upstream'))],
    ['Origin', originKind === undefined || originKind === 'upstream' || originKind === 'backport' ? firstUrl(origin) : undefined],
    ['Bug', firstUrl(f.get('bug'))],
    ['Forwarded', firstUrl(f.get('forwarded'))],
    ...[...f.keys()].filter((k) => k.startsWith('bug-')).sort((a, b) => Number(b === 'bug-debian') - Number(a === 'bug-debian')).map((k): [string, string | undefined] => [dep3Name(k), firstUrl(f.get(k))]),
    ['Origin', firstUrl(origin)],
  ];
  const hit = order.find(([, url]) => url !== undefined);
  return hit ? { url: hit[1]!, field: hit[0] } : undefined;
}

function dep3Name(key: string): string {
  return key.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** One line of `debian/patches/series`. */
export interface SeriesEntry {
  /** The patch's path under debian/patches/. */
  readonly name: string;
  /** quilt options after the name (`-p0`, `-R`); the recipe's patches apply with `-p1` only. */
  readonly options: readonly string[];
  /** 1-based line number in the series file. */
  readonly line: number;
}

/** Parses quilt's series file: one patch per line, `#` comments (whole line or after the name), options after the name. */
export function parseSeries(text: string): SeriesEntry[] {
  const out: SeriesEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const [name, ...options] = line.split(/\s+/);
    out.push({ name, options, line: i + 1 });
  });
  return out;
}
