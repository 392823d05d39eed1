import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One apt source, as a one-line `sources.list` entry would carry it. */
export interface AptSource {
  /** Archive root URI, e.g. `http://deb.debian.org/debian`. */
  readonly uri: string;
  /** Suite (codename), e.g. `bookworm-updates`. */
  readonly suite: string;
  readonly components: readonly string[];
  /** `signed-by` keyring path, when the entry names one. */
  readonly signedBy?: string;
  /** `arch=`/`Architectures:` restriction, when the entry has one. */
  readonly architectures?: readonly string[];
  /** The file it came from (absolute). */
  readonly file: string;
}

/**
 * The binary (`deb`) sources apt reads on this machine, from `sources.list` and
 * `sources.list.d/*.list` (one-line style) and `sources.list.d/*.sources` (deb822 style), as
 * described in sources.list(5). `Enabled: no` stanzas, `deb-src` entries and comments are left out.
 * @param aptDir absolute apt configuration folder (default `/etc/apt`)
 */
export function hostAptSources(aptDir = '/etc/apt'): AptSource[] {
  const files: string[] = [path.join(aptDir, 'sources.list')];
  try {
    for (const f of readdirSync(path.join(aptDir, 'sources.list.d')).sort()) {
      if (f.endsWith('.list') || f.endsWith('.sources')) files.push(path.join(aptDir, 'sources.list.d', f));
    }
  } catch {
    // no sources.list.d
  }
  const out: AptSource[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (file.endsWith('.sources')) out.push(...deb822Sources(text, file));
    else out.push(...oneLineSources(text, file));
  }
  return out;
}

function oneLineSources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m || m[1] !== 'deb') continue;
    const opts = new Map((m[2] ?? '').trim().split(/\s+/).filter(Boolean).map((o) => o.split('=') as [string, string]));
    out.push({
      uri: m[3],
      suite: m[4],
      components: m[5].split(/\s+/).filter(Boolean),
      signedBy: opts.get('signed-by'),
      architectures: opts.get('arch')?.split(','),
      file,
    });
  }
  return out;
}

function deb822Sources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1].toLowerCase();
        fields.set(last, m[2].trim());
      }
    }
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb') || /^(no|false)$/i.test(fields.get('enabled') ?? '')) continue;
    for (const uri of words('uris')) {
      for (const suite of words('suites')) {
        out.push({
          uri,
          suite,
          components: words('components'),
          signedBy: fields.get('signed-by'),
          architectures: fields.has('architectures') ? words('architectures') : undefined,
          file,
        });
      }
    }
  }
  return out;
}

/**
 * The sources a build root of `suite` for `debianArch` uses: the machine's entries for the suite
 * itself and its `-updates` and `-security` companions that are not restricted to other
 * architectures, as one-line `sources.list` text (mmdebstrap reads it as its mirror argument).
 * @returns the text, or undefined when no entry names the suite
 */
export function buildrootSourcesList(sources: readonly AptSource[], suite: string, debianArch: string): string | undefined {
  const suites = new Set([suite, `${suite}-updates`, `${suite}-security`]);
  const lines = sources
    .filter((s) => suites.has(s.suite) && (!s.architectures || s.architectures.includes(debianArch)))
    .map((s) => `deb ${s.signedBy ? `[signed-by=${s.signedBy}] ` : ''}${s.uri} ${s.suite} ${s.components.join(' ')}`);
  if (!lines.some((l) => l.split(' ').includes(suite))) return undefined;
  return [...new Set(lines)].join('\n') + '\n';
}

/** The build machine's Debian codename (`VERSION_CODENAME` in /etc/os-release), or undefined. */
export function hostCodename(osRelease = '/etc/os-release'): string | undefined {
  try {
    return /^VERSION_CODENAME=["']?([a-z0-9-]+)/m.exec(readFileSync(osRelease, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
