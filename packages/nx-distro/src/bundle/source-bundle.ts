import { promises as fs } from 'node:fs';
import { execa } from 'execa';
import { parseDependencyRef } from '../model/dependency-ref';
import { quote } from '../model/errors';
import type { RecipeGraph } from '../model/graph';
import { buildSpec, recipeForArch, type LoadedRecipe } from '../model/recipe';
import type { LoadedSystemTarget } from '../model/system-target';
import { splitPackageSpecs } from '../model/split-packages';
import { shellQuote } from '../sandbox/bwrap';
import { distfileName } from '../model/distfile';
import { extractSettings } from '../sources/prepare';
import { PHASES, resolveSteps } from '../styles';
import { readSnippets } from '../styles/snippets';

/**
 * A source bundle (BuildStream's `source-bundle`): every source a system target's packages need,
 * their recipes and patches, and a generated POSIX shell script that builds them in dependency
 * order natively on the target machine, for machines the build host cannot reach.
 *
 * Layout of the tarball `<distDir>/<systemTarget>/source-bundle/source-bundle-<systemTarget>.tar.zst`
 * (one top folder `source-bundle-<systemTarget>/`):
 * - `build.sh`: the build script (see {@link buildScript});
 * - `ORDER`: the build order, one node (`name` or `name@stage`) per line;
 * - `distfiles/<file>` and `distfiles/SHA256SUMS` (coreutils format, checked before building);
 * - `recipes/<name>/`: each recipe folder as in the workspace (recipe.yaml, patches);
 * - `target/`: the system target's file (`target.yaml`) and its folder `targets/<name>/` if any.
 */

/**
 * The build nodes a system target's packages need, in an order where every node comes after the
 * nodes it needs: the recipes of every package set and the image's kernel, closed over their
 * runtime `depends` and over the build dependencies of each build node (its sysroot and tools,
 * the same lists the Nx graph orders builds by). Depth-first, children by name, so the order is
 * deterministic. Recipes the target's external toolchain stands in for (`toolchain.provides`)
 * are left out: the target machine's own compiler builds the bundle.
 * @param graph the checked recipe graph of the workspace for the target's arch (`buildRecipeGraph(recipes, broken, arch)`)
 * @returns node keys (`zlib`, `gcc@stage1`)
 * @throws Error naming a package set entry that is not a recipe or a recipe's split package
 */
export function bundleOrder(graph: RecipeGraph, target: LoadedSystemTarget): string[] {
  const t = target.target;
  const provided = new Set(t.toolchain.kind === 'external' ? t.toolchain.provides ?? [] : []);
  const roots = new Set<string>();
  // A set may name a split package (zlib-dev): its recipe builds it.
  const owners = new Map<string, string>();
  for (const r of graph.recipes.values()) for (const spec of splitPackageSpecs(r.recipe)) owners.set(spec.name, r.recipe.name);
  for (const [setName, set] of Object.entries(t.package_sets)) {
    for (const name of set.packages) {
      const recipe = graph.recipes.has(name) ? name : owners.get(name);
      if (!recipe) throw new Error(`${target.file}: package_sets.${setName}.packages: ${quote(name)} is not a recipe of this workspace nor a split package of one; add it or remove the entry`);
      roots.add(recipe);
    }
  }
  const kernel = t.image?.kernel;
  if (kernel && graph.recipes.has(kernel)) roots.add(kernel);

  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (key: string) => {
    if (state.get(key) === 'done' || state.get(key) === 'visiting') return; // the graph is acyclic (checked); runtime loops are fine
    state.set(key, 'visiting');
    const ref = parseDependencyRef(key);
    if (provided.has(ref.name)) {
      state.set(key, 'done');
      return;
    }
    const deps = graph.nodes.get(key);
    const recipe = graph.recipes.get(ref.name);
    const next = new Set<string>([...(deps?.sysroot ?? []), ...(deps?.tools ?? [])]);
    if (recipe && !ref.stage) for (const d of buildSpec(recipeForArch(recipe.recipe, t.arch), undefined).depends) next.add(d);
    for (const n of [...next].sort()) visit(n);
    state.set(key, 'done');
    order.push(key);
  };
  for (const r of [...roots].sort()) visit(r);
  return order;
}

/** What {@link buildScript} needs besides the order. */
export interface ScriptInput {
  readonly target: LoadedSystemTarget;
  readonly recipes: ReadonlyMap<string, LoadedRecipe>;
  readonly order: readonly string[];
  /** Seconds since the epoch exported as SOURCE_DATE_EPOCH. */
  readonly sourceDateEpoch: number;
  /** Absolute workspace root, where the recipes' `snippets/<name>.sh` are read; none read without it. */
  readonly workspaceRoot?: string;
}

/**
 * The bundle's `build.sh`: POSIX sh, `set -eu`. Usage on the target machine, from the unpacked
 * bundle: `./build.sh [ROOT]` (default ROOT `/`). It checks `distfiles/SHA256SUMS`
 * (`sha256sum -c`), then for each node of `ORDER`: unpacks its sources into `work/<node>/src`
 * (`tar --strip-components`, as the recipe's `extract`), applies its patches (`patch -p1`), runs
 * the recipe's resolved steps (style defaults overridden by `steps`, as the executors do; no
 * `check`) each in a subshell with `set -e` in `srcdir`, installs into `work/<node>/pkg`
 * (`$pkgdir`), and copies that into ROOT, so later builds find it. The environment is the
 * native one of `nx-distro:native` (CBUILD = CHOST = the target's triplet, `CC=gcc`, the
 * target's flags, `$SYSROOT` empty) except that with a ROOT other than `/` the headers and
 * libraries are looked for in ROOT as well (`CPPFLAGS=-I$ROOT/usr/include`, `LDFLAGS=-L$ROOT/usr/lib`,
 * pkg-config in ROOT), like a sysroot. Needs on the target machine: sh, gcc, make, tar with the
 * archives' decompressors, patch, sha256sum, cp.
 */
export function buildScript(input: ScriptInput): string {
  const t = input.target.target;
  const q = shellQuote;
  const lines: string[] = [
    '#!/bin/sh',
    `# Builds the packages of system target ${input.target.name} (${t.triplet}) natively, in dependency`,
    '# order, from the sources in this bundle. Generated by nx-distro (system:source-bundle).',
    '# Usage: ./build.sh [ROOT]   (ROOT: where packages are installed; default /)',
    'set -eu',
    'BUNDLE=$(cd "$(dirname "$0")" && pwd)',
    'ROOT=${1:-/}',
    'case $ROOT in /*) ;; *) ROOT=$(pwd)/$ROOT ;; esac',
    'mkdir -p "$ROOT"',
    'WORK=$BUNDLE/work',
    '',
    '(cd "$BUNDLE/distfiles" && sha256sum -c --quiet SHA256SUMS)',
    '',
    'export PATH="$ROOT/usr/bin:$PATH" HOME=${HOME:-/tmp} LC_ALL=C TZ=UTC',
    `export CBUILD=${q(t.triplet)} CHOST=${q(t.triplet)} CARCH=${q(t.arch)} KERNEL_ARCH=${q(t.kernel_arch)}`,
    `export SYSTEM_TARGET=${q(input.target.name)} SYSTEM_TARGET_DIR="$BUNDLE/target" SOURCE_DATE_EPOCH=${input.sourceDateEpoch}`,
    'export JOBS=$(nproc 2>/dev/null || echo 1) PROFILES=',
    'export CROSS_COMPILE= CC=gcc CXX=g++ CPP="gcc -E" AR=ar RANLIB=ranlib LD=ld NM=nm STRIP=strip OBJCOPY=objcopy OBJDUMP=objdump READELF=readelf PKG_CONFIG=pkg-config',
    `export CFLAGS=${q(t.cflags ?? '')} CXXFLAGS=${q(t.cxxflags ?? t.cflags ?? '')}`,
    `export LDFLAGS=${q(t.ldflags ?? '')} CPPFLAGS=`,
    'if [ "$ROOT" = / ]; then',
    '  export SYSROOT=',
    'else',
    '  export SYSROOT="$ROOT" CPPFLAGS="-I$ROOT/usr/include" LDFLAGS="$LDFLAGS -L$ROOT/usr/lib -Wl,-rpath-link,$ROOT/usr/lib"',
    '  export PKG_CONFIG_PATH="$ROOT/usr/lib/pkgconfig:$ROOT/usr/share/pkgconfig" LD_LIBRARY_PATH="$ROOT/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"',
    'fi',
    '',
    '# unpack FILE STRIP INTO: an archive into $srcdir[/INTO], or a plain copy',
    'unpack() {',
    '  mkdir -p "$srcdir/$3"',
    '  case $1 in',
    '    *.tar|*.tar.gz|*.tgz|*.tar.bz2|*.tbz2|*.tar.xz|*.txz|*.tar.zst|*.tar.lz4) tar -xf "$BUNDLE/distfiles/$1" -C "$srcdir/$3" --strip-components="$2" --no-same-owner ;;',
    '    *) cp "$BUNDLE/distfiles/$1" "$srcdir/$3/" ;;',
    '  esac',
    '}',
    '',
  ];
  for (const key of input.order) {
    const ref = parseDependencyRef(key);
    const loaded = input.recipes.get(ref.name)!;
    const recipe = recipeForArch(loaded.recipe, t.arch);
    const steps = resolveSteps(recipe, ref.stage, input.workspaceRoot ? readSnippets(input.workspaceRoot, loaded) : []);
    const stageSpec = ref.stage ? recipe.stages?.[ref.stage] : undefined;
    const env = Object.entries(stageSpec?.env ?? recipe.env ?? {});
    lines.push(`# ---- ${key} ${recipe.version}-${recipe.release}`);
    lines.push(`echo ${q(`==> ${key} ${recipe.version}-${recipe.release}`)}`);
    lines.push(`srcdir=$WORK/${key}/src pkgdir=$WORK/${key}/pkg`);
    lines.push('rm -rf "$WORK/' + key + '" && mkdir -p "$srcdir" "$pkgdir"');
    lines.push('export srcdir pkgdir');
    for (const source of recipe.sources ?? []) {
      const s = extractSettings(source);
      const name = distfileName(source);
      if (s.extract) lines.push(`unpack ${q(name)} ${s.strip} ${q(s.into ?? '')}`);
      else lines.push(`cp "$BUNDLE/distfiles/"${q(name)} "$srcdir/"`);
    }
    for (const p of recipe.patches ?? []) {
      lines.push(`(cd "$srcdir" && patch -p1 --forward --batch --quiet < "$BUNDLE/recipes/${recipe.name}/"${q(p.file)})`);
    }
    for (const phase of PHASES) {
      const script = steps[phase];
      if (!script || phase === 'check') continue;
      lines.push(`(`);
      lines.push(`  cd "$srcdir"`);
      if (ref.stage) lines.push(`  export PROFILES=${q((stageSpec?.profiles ?? []).join(' '))}`);
      for (const [k, v] of env) lines.push(`  export ${k}=${q(String(v))}`);
      lines.push(`  set -e`);
      lines.push(...script.trimEnd().split('\n').map((l) => `  ${l}`));
      lines.push(`)`);
    }
    if (steps.install) lines.push('cp -a "$pkgdir/." "$ROOT/"');
    lines.push('');
  }
  lines.push(`echo ${q(`==> built ${input.order.length} package(s) for ${input.target.name} into`)} "$ROOT"`);
  return lines.join('\n') + '\n';
}

/**
 * Writes the bundle tarball reproducibly with GNU tar (`--sort=name`, `--mtime=@<epoch>`
 * `--clamp-mtime`, owner and group 0, numeric ids, pax headers without atime/ctime) piped into
 * `zstd -3` (the distfiles are compressed already), to a temporary name then renamed.
 * @param tree absolute folder holding the one top folder to archive
 * @param top its name
 * @param out absolute path of the `.tar.zst` to write
 * @param sourceDateEpoch seconds since the epoch
 */
export async function writeBundleTarball(tree: string, top: string, out: string, sourceDateEpoch: number): Promise<void> {
  const temp = `${out}.partial`;
  await execa('bash', ['-o', 'pipefail', '-c', 'tar -C "$1" --sort=name --mtime="@$2" --clamp-mtime --owner=0 --group=0 --numeric-owner --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf - "$3" | zstd -q -3 -T0 -o "$4" -f', 'bash', tree, String(sourceDateEpoch), top, temp]);
  await fs.rename(temp, out);
}
