/**
 * Debian package relationship fields as debian/control writes them for a source package
 * (`Build-Depends`, `Build-Depends-Arch`, `Build-Depends-Indep`; Debian Policy §7.1 and §7.7):
 * comma-separated relations, each a `|`-separated list of alternatives, each alternative
 * `name[:archqual] [(op version)] [[arch ...]] [<profile ...> ...]`.
 */

/** One alternative of a relation. */
export interface Alternative {
  /** Binary package name (`libltdl-dev`). */
  readonly name: string;
  /** Architecture qualifier after `:` (`native`, `any`), if any. */
  readonly archQualifier?: string;
  /** Version constraint, if any (`>=` `13`); `<` and `>` are read as `<=` and `>=` (Policy 7.1). */
  readonly version?: { readonly op: '<<' | '<=' | '=' | '>=' | '>>'; readonly version: string };
  /** Architecture restriction list (`[linux-any]`, `[!hurd-i386 !kfreebsd-any]`), empty for none. */
  readonly arches: readonly string[];
  /**
   * Build-profile restriction formula: a disjunction of conjunctions, one inner list per
   * `<...>` group (`<!nocheck> <!cross>` is `[['!nocheck'], ['!cross']]`), empty for none.
   */
  readonly profiles: readonly (readonly string[])[];
}

/** One relation: the alternatives, the first preferred (Debian's build daemons take the first). */
export type Relation = readonly Alternative[];

/** A relation field that does not parse: `<problem> in "<the text>"`. */
export class RelationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelationError';
  }
}

const ALTERNATIVE =
  /^([a-z0-9][a-z0-9+.-]+)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^\s)]+)\s*\))?\s*(?:\[([^\]]*)\])?\s*((?:<[^>]*>\s*)*)$/;

/**
 * Parses a relationship field.
 * @param field the field's value (continuation lines included); `${...}` substitution variables
 *   are not expected in build relations and are refused
 * @throws {RelationError} naming the alternative that does not parse
 */
export function parseRelations(field: string): Relation[] {
  const relations: Relation[] = [];
  for (const part of field.split(',')) {
    const text = part.replace(/\s+/g, ' ').trim();
    if (!text) continue; // a trailing comma, as debian/control often has
    relations.push(
      text.split('|').map((alt) => {
        const a = alt.trim();
        const m = ALTERNATIVE.exec(a);
        if (!m) throw new RelationError(`not a package relation (name [(op version)] [[arch]] [<profile>]) in ${JSON.stringify(a)}`);
        const op = m[3] === '<' ? '<=' : m[3] === '>' ? '>=' : (m[3] as '<<' | '<=' | '=' | '>=' | '>>' | undefined);
        return {
          name: m[1],
          ...(m[2] ? { archQualifier: m[2] } : {}),
          ...(op ? { version: { op, version: m[4] } } : {}),
          arches: m[5] ? m[5].trim().split(/\s+/).filter(Boolean) : [],
          profiles: [...m[6].matchAll(/<([^>]*)>/g)].map((g) => g[1].trim().split(/\s+/).filter(Boolean)),
        };
      }),
    );
  }
  return relations;
}

/**
 * Whether an alternative applies when building with the given build profiles active (Policy
 * §7.1: the formula holds when any `<...>` group holds, a group when each of its terms holds;
 * `!name` holds when that profile is not active). No restriction always applies.
 * @param active the active build profiles (`nocheck`, `stage1`, ...)
 */
export function profilesApply(alt: Alternative, active: ReadonlySet<string>): boolean {
  if (!alt.profiles.length) return true;
  return alt.profiles.some((group) => group.every((term) => (term.startsWith('!') ? !active.has(term.slice(1)) : active.has(term))));
}

/**
 * Whether an architecture restriction list admits a Debian architecture (Policy §11.1: `!`
 * entries exclude, plain ones include; wildcards `linux-any`, `any-<cpu>`, `any`). Every
 * architecture this project builds for is a Linux one (`amd64`, `arm64`, `armhf`, `riscv64`).
 * @param debianArch a Debian architecture name of the host machine
 */
export function archApplies(alt: Alternative, debianArch: string): boolean {
  if (!alt.arches.length) return true;
  // Debian's CPU names (dpkg's cputable) of the architectures whose name differs from their CPU's.
  const cpu = ({ armhf: 'arm', armel: 'arm', i386: 'i386', ppc64el: 'ppc64el' } as Record<string, string>)[debianArch] ?? debianArch;
  const matches = (pattern: string) =>
    [debianArch, 'any', 'linux-any', `linux-${debianArch}`, `any-${cpu}`, `linux-gnu-${cpu}`, 'gnu-any'].includes(pattern);
  const negated = alt.arches.filter((a) => a.startsWith('!')).map((a) => a.slice(1));
  const plain = alt.arches.filter((a) => !a.startsWith('!'));
  if (plain.length) return plain.some(matches);
  return !negated.some(matches);
}
