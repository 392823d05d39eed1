import * as fs from 'node:fs';
import path from 'node:path';
import { readPackageInfo } from '../packages/pacman-package';
import { sha256File } from '../util/hash';
import { writeTar } from './archive';
import { planLayers, type AvailablePackage, type LayerPlan } from './layers';
import { MANIFEST_FORMAT, manifestText, workspaceRel, type RootfsManifest } from './manifest';
import { imageConfText, installConfText, installPackages, normalizeLocalDb, readLocalDb, runPacman, type PacmanWork } from './pacman-root';
import { scanTree } from '../util/file-tree';

/** File names in `<distDir>/<target>/rootfs/`. */
export const ROOTFS_TARBALL = 'rootfs.tar.zst';
export const ROOTFS_MANIFEST = 'rootfs.json';

/** A built package as the rootfs step finds it (from the repository executor's `findPackages`). */
export interface BuiltPackage {
  readonly file: string;
  readonly name: string;
  readonly version: string;
}

/** Inputs of {@link assembleRootfs}. */
export interface RootfsParams {
  /** Absolute workspace root (for workspace-relative names in rootfs.json). */
  readonly root: string;
  /** System target name: the repository's name in the image's pacman.conf. */
  readonly target: string;
  /** Workspace-relative target file, for errors. */
  readonly targetFile: string;
  readonly arch: string;
  /** `package_sets` of the target file. */
  readonly sets: Readonly<Record<string, { readonly on?: string; readonly packages: readonly string[] }>>;
  /** Every package built for the target. */
  readonly built: readonly BuiltPackage[];
  /** Packages base always gets (the toolchain's C runtime), when built. */
  readonly basePackages: readonly string[];
  /** Why a named package has no built package, and the fix (see {@link planLayers}). */
  readonly missing: (name: string) => string;
  /** `Server` of the repository in the image's `/etc/pacman.conf`. */
  readonly repositoryServer: string;
  readonly sourceDateEpoch: number;
  /** Absolute empty work folder (the install root goes in it). */
  readonly work: string;
  /** Absolute output folder (a staging folder), gets the tarball and rootfs.json. */
  readonly out: string;
}

/** What {@link assembleRootfs} made. */
export interface AssembledRootfs {
  readonly manifest: RootfsManifest;
  readonly layers: readonly LayerPlan[];
  /** Absolute install root, left in the work folder. */
  readonly installRoot: string;
}

/**
 * Makes a system target's root file system:
 * 1. reads every built package's `.PKGINFO` and plans the layers ({@link planLayers});
 * 2. installs the layers in stacking order into one fresh root with real pacman
 *    ({@link installPackages}: `-U --noscriptlet --needed`, dependency and conflict checks,
 *    dependencies marked `--asdeps`), so the root has a pacman database;
 * 3. writes `/etc/pacman.conf` naming the target's repository (unless a package ships one);
 * 4. sets the database's install dates to SOURCE_DATE_EPOCH ({@link normalizeLocalDb}) and
 *    checks it with `pacman -Dk` (every dependency installed, no conflict);
 * 5. writes `rootfs.tar.zst` ({@link writeTar}: sorted, uid/gid 0, mtimes clamped to the epoch,
 *    zstd 19) and `rootfs.json` ({@link RootfsManifest}) into `out`.
 * Needs root (pacman refuses to install otherwise).
 * @throws InputError / UnsatisfiedDependency from the plan; Error from pacman, the writers or the file system
 */
export async function assembleRootfs(p: RootfsParams): Promise<AssembledRootfs> {
  const available: AvailablePackage[] = [];
  for (const b of p.built) {
    const info = await readPackageInfo(b.file);
    available.push({ name: b.name, version: b.version, file: b.file, depends: info.depend ?? [], provides: info.provides ?? [] });
  }
  const layers = planLayers(p.sets, available, { file: p.targetFile, basePackages: p.basePackages, missing: p.missing });

  const installRoot = path.join(p.work, 'root');
  fs.mkdirSync(installRoot, { mode: 0o755 });
  fs.chmodSync(installRoot, 0o755);
  const config = path.join(p.work, 'pacman.conf');
  fs.writeFileSync(config, installConfText(p.arch));
  const w: PacmanWork = { root: installRoot, config, work: path.join(p.work, 'pacman'), arch: p.arch };
  for (const layer of layers) {
    await installPackages(w, layer.packages.map((x) => x.file), layer.packages.filter((x) => !x.explicit).map((x) => x.name));
  }
  const etcConf = path.join(installRoot, 'etc', 'pacman.conf');
  if (!fs.existsSync(etcConf)) {
    fs.mkdirSync(path.dirname(etcConf), { recursive: true, mode: 0o755 });
    fs.writeFileSync(etcConf, imageConfText(p.arch, p.target, p.repositoryServer), { mode: 0o644 });
    fs.chmodSync(etcConf, 0o644);
  }
  normalizeLocalDb(installRoot, p.sourceDateEpoch);
  await runPacman(w, ['-Dk']);
  const installed = readLocalDb(installRoot).map((x) => x.name);
  const planned = layers.flatMap((l) => l.packages.map((x) => x.name)).sort();
  if (installed.join(' ') !== planned.join(' ')) throw new Error(`pacman installed ${installed.join(' ')}, but the plan was ${planned.join(' ')}`);

  const tree = scanTree(installRoot, p.sourceDateEpoch);
  const tarball = path.join(p.out, ROOTFS_TARBALL);
  await writeTar(tarball, tree, 'zstd');
  const sha = new Map<string, string>();
  for (const l of layers) for (const x of l.packages) sha.set(x.file, await sha256File(x.file));
  const manifest: RootfsManifest = {
    format: MANIFEST_FORMAT,
    target: p.target,
    arch: p.arch,
    sourceDateEpoch: p.sourceDateEpoch,
    repository: { name: p.target, server: p.repositoryServer },
    layers: layers.map((l) => ({
      set: l.set,
      on: l.on,
      packages: l.packages.map((x) => ({ name: x.name, version: x.version, explicit: x.explicit, file: workspaceRel(p.root, x.file), sha256: sha.get(x.file)! })),
    })),
    tarball: { file: ROOTFS_TARBALL, sha256: await sha256File(tarball), size: fs.statSync(tarball).size, entries: tree.length },
  };
  fs.writeFileSync(path.join(p.out, ROOTFS_MANIFEST), manifestText(manifest), { mode: 0o644 });
  return { manifest, layers, installRoot };
}
