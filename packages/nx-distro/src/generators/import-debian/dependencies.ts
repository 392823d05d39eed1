/**
 * Build-Depends mapped to recipes: binary package -> its source package (apt) -> the recipe that
 * builds that source package (its `apt:` pin, or its name).
 */
import { PACKAGE_NAME, type BinaryPackage } from '../../debian/apt';
import { quote } from '../../model/errors';
import { archApplies, profilesApply, type Alternative, type Relation } from '../../debian/relations';

/** Debian architectures of the system targets this project builds for (x86_64, aarch64, armv7h, riscv64). */
export const DEBIAN_ARCHES = ['amd64', 'arm64', 'armhf', 'riscv64'] as const;

/**
 * Debian's own packaging machinery: what debian/rules runs, not what the software needs. Dropped
 * without a word (debhelper and its add-ons `dh-*`, dpkg-dev, quilt, cdbs, ...).
 */
export function isDebianTooling(name: string): boolean {
  return /^(?:debhelper(?:-compat)?|dh-.+|dh-sequence-.+|dpkg-dev|dpkg|libdpkg-perl|quilt|cdbs|po-debconf|devscripts|lintian|fakeroot|build-essential|autotools-dev|pkg-kde-tools|gem2deb|javahelper|dctrl-tools|dpatch)$/.test(name);
}

/**
 * Whether a build dependency names what every build's environment already provides, whatever
 * the recipe says: `pkg-config` (Debian's `pkg-config`/`pkgconf` packages, which bookworm marks
 * `Multi-Arch: same` because a host-arch package installs the `<triplet>-pkg-config` wrapper the
 * build machine runs). A build runs the build machine's pkg-config (`PKG_CONFIG`), made to look
 * only in the sysroot (pipeline/environment.ts), so such an entry is no `makedepends`.
 */
export function isBuildEnvironmentTool(name: string): boolean {
  return /^(?:pkg-config|pkgconf|pkgconf-bin)$/.test(name);
}

/** The existing recipes, as far as mapping needs them. */
export interface RecipeIndex {
  /** Recipe name -> workspace-relative recipe file. */
  readonly files: ReadonlyMap<string, string>;
  /** Debian source package (from a source's `apt: NAME=VERSION`) -> recipe name. */
  readonly byDebianSource: ReadonlyMap<string, string>;
}

/** The recipe standing for a Debian source package: one whose `apt:` pin names it, else one of that name. */
export function recipeForSource(index: RecipeIndex, source: string): string | undefined {
  return index.byDebianSource.get(source) ?? (index.files.has(source) ? source : undefined);
}

/** A build dependency that became a recipe reference. */
export interface MappedDependency {
  readonly dependency: string;
  readonly source: string;
  readonly recipe: string;
  readonly list: 'makedepends' | 'makedepends_build';
  /** Set when Debian needs it on some architectures only (`[amd64 i386]`). */
  readonly arches?: readonly string[];
}

/** A build dependency with no recipe (yet). */
export interface UnmappedDependency {
  readonly dependency: string;
  /** Its source package, when apt knows the binary package. */
  readonly source?: string;
  /** Where it would go: a library for the host machine, or a program for the build machine. */
  readonly list: 'makedepends' | 'makedepends_build';
  readonly reason: string;
}

/** What {@link mapBuildDepends} made of a package's build relations. */
export interface DependencyMapping {
  readonly makedepends: string[];
  readonly makedepends_build: string[];
  readonly mapped: MappedDependency[];
  readonly unmapped: UnmappedDependency[];
  /** Relations left out, with why (a build profile, architectures this project does not build for). */
  readonly skipped: { readonly dependency: string; readonly reason: string }[];
}

const describe = (a: Alternative) => `${a.name}${a.archQualifier ? `:${a.archQualifier}` : ''}${a.version ? ` (${a.version.op} ${a.version.version})` : ''}`;

/**
 * Whether a binary package goes on the build machine (a program run during the build:
 * `makedepends_build`) rather than into the host machine's sysroot (a library: `makedepends`):
 * `:native`/`:any` qualifiers and `Multi-Arch: foreign`/`allowed` packages are programs, as for
 * Debian's cross builds; `-dev` packages and `Multi-Arch: same` ones are libraries; anything
 * else is taken for a program.
 */
export function buildMachineSide(alt: Alternative, info: BinaryPackage | undefined): boolean {
  if (alt.archQualifier === 'native' || alt.archQualifier === 'any') return true;
  if (info?.multiArch === 'foreign' || info?.multiArch === 'allowed') return true;
  if (info?.multiArch === 'same' || /-dev$/.test(alt.name)) return false;
  return true;
}

/**
 * Maps build relations to recipe references. For each relation: alternatives for architectures
 * none of {@link DEBIAN_ARCHES} has, or excluded by the active build profiles, are left out; of
 * the rest the first whose source package has a recipe is taken, else the first (Debian's build
 * daemons' choice). Debian tooling ({@link isDebianTooling}) and the package itself are dropped;
 * what the build environment provides ({@link isBuildEnvironmentTool}) is skipped, with the reason.
 * @param relations Build-Depends (and Build-Depends-Arch) parsed
 * @param packages what apt says of the binary packages named (see `binaryPackages`)
 * @param self the source package being imported
 * @param profiles the active build profiles
 */
export function mapBuildDepends(
  relations: readonly Relation[],
  packages: ReadonlyMap<string, BinaryPackage>,
  index: RecipeIndex,
  self: string,
  profiles: ReadonlySet<string>,
): DependencyMapping {
  const out: DependencyMapping = { makedepends: [], makedepends_build: [], mapped: [], unmapped: [], skipped: [] };
  for (const relation of relations) {
    const text = relation.map(describe).join(' | ');
    if (relation.some((a) => isDebianTooling(a.name))) continue;
    if (relation.some((a) => isBuildEnvironmentTool(a.name))) {
      out.skipped.push({ dependency: text, reason: "the build environment's pkg-config (PKG_CONFIG, the build machine's, looking only in the sysroot)" });
      continue;
    }
    const byProfile = relation.filter((a) => profilesApply(a, profiles));
    if (!byProfile.length) {
      const groups = relation[0].profiles.map((g) => `<${g.join(' ')}>`).join(' ');
      out.skipped.push({ dependency: text, reason: `build profile ${groups} (active: ${[...profiles].join(', ') || 'none'})` });
      continue;
    }
    const usable = byProfile.filter((a) => DEBIAN_ARCHES.some((arch) => archApplies(a, arch)));
    if (!usable.length) {
      out.skipped.push({ dependency: text, reason: `only on [${relation[0].arches.join(' ')}], none of ${DEBIAN_ARCHES.join(', ')}` });
      continue;
    }
    const invalid = usable.find((a) => !PACKAGE_NAME.test(a.name));
    if (invalid) {
      out.skipped.push({ dependency: quote(invalid.name), reason: 'not a Debian package name' });
      continue;
    }
    const withRecipe = usable.find((a) => {
      const src = packages.get(a.name)?.source;
      return src !== undefined && recipeForSource(index, src) !== undefined;
    });
    const chosen = withRecipe ?? usable[0];
    const info = packages.get(chosen.name);
    if (info?.source === self) continue;
    const list = buildMachineSide(chosen, info) ? 'makedepends_build' : 'makedepends';
    const arches = DEBIAN_ARCHES.filter((arch) => archApplies(chosen, arch));
    const partial = arches.length < DEBIAN_ARCHES.length ? { arches } : {};
    const recipe = info && recipeForSource(index, info.source);
    if (info && recipe) {
      if (recipe === self) continue;
      if (!out[list].includes(recipe)) out[list].push(recipe);
      out.mapped.push({ dependency: describe(chosen), source: info.source, recipe, list, ...partial });
      continue;
    }
    out.unmapped.push({
      dependency: usable.length > 1 ? text : describe(chosen),
      list,
      ...(info ? { source: info.source } : {}),
      reason: info ? `source package ${info.source}${info.providedBy ? ` (through ${info.providedBy})` : ''} has no recipe` : 'apt knows no such binary package',
    });
  }
  return out;
}
