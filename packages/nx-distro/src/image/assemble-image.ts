import * as fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { sha256File } from '../util/hash';
import { writeCpio } from './archive';
import { compressionSuffix } from './compress';
import { initramfsExtras } from './init';
import { checkKernelConfig, KernelConfigError, parseKernelConfig } from './kernel-config';
import { readKernelPackage } from './kernel';
import { MANIFEST_FORMAT, manifestText, readManifest, workspaceRel, type ImageFile, type ImageManifest, type RootfsManifest } from './manifest';
import { readLocalDb, type InstalledPackage } from './pacman-root';
import { kernelCmdline, qemuArgv, shellCommand, type BootMode, type QemuSettings } from './qemu';
import { ROOTFS_MANIFEST } from './rootfs';
import { layerEntries, materialize, packageEntries } from './split';
import { makeSquashfs } from './squashfs';
import { mergeEntries, scanTree } from '../util/file-tree';

/** File names in `<distDir>/<target>/image/`. */
export const IMAGE_FILES = {
  kernel: 'vmlinuz',
  kernelConfig: 'kernel.config',
  manifest: 'manifest.json',
  bootScript: 'boot.sh',
  layersDir: 'layers',
} as const;

/** The program the initramfs' `/init` runs; its package and that package's dependencies go into the layered boot's initramfs. */
export const INIT_PACKAGE = 'busybox';

/** Inputs of {@link assembleImage}. */
export interface ImageParams {
  /** Absolute workspace root. */
  readonly root: string;
  readonly target: string;
  /** Workspace-relative target file, for errors. */
  readonly targetFile: string;
  readonly arch: string;
  readonly qemu: QemuSettings;
  readonly sourceDateEpoch: number;
  /** Absolute `<distDir>/<target>/rootfs` (rootfs.json and the tarball). */
  readonly rootfsDir: string;
  /** The kernel package: absolute file, name, version. */
  readonly kernelPackage: { readonly file: string; readonly name: string; readonly version: string };
  /** Where the kernel configuration is kept, for errors (`targets/aarch64/linux.config`). */
  readonly kernelConfigHint: string;
  /** Absolute empty work folder. */
  readonly work: string;
  /** Absolute output (staging) folder. */
  readonly out: string;
}

/** Runtime dependencies of a package in the root, transitively, by name (itself included), sorted. */
function closure(db: readonly InstalledPackage[], name: string): string[] {
  const byName = new Map(db.map((p) => [p.name, p]));
  const seen = new Set<string>();
  const queue = [name];
  while (queue.length) {
    const n = queue.shift()!;
    const p = byName.get(n);
    if (!p || seen.has(n)) continue;
    seen.add(n);
    for (const d of p.depends) queue.push(d.replace(/[<>=].*$/, ''));
  }
  return [...seen].sort();
}

async function fileInfo(out: string, rel: string): Promise<ImageFile> {
  const abs = path.join(out, rel);
  return { file: rel, sha256: await sha256File(abs), size: fs.statSync(abs).size };
}

/**
 * The argv of a boot in the image folder (relative file names), for the manifest and boot.sh.
 * @param layers bottom first
 */
export function imageBootArgv(q: QemuSettings, mode: BootMode, initrd: string, layers: ReadonlyArray<{ set: string; file: string }>, extra: readonly string[] = []): string[] {
  const used = mode === 'layers' ? layers : [];
  return qemuArgv(q, { kernel: IMAGE_FILES.kernel, initrd, layers: used }, kernelCmdline(q.console, used.map((l) => l.set), extra));
}

/** boot.sh: runs the manifest's QEMU command of a mode in the image folder, extra kernel parameters appended. */
function bootScript(target: string, commands: Record<BootMode, string[]>): string {
  const line = (argv: string[]) => {
    const i = argv.indexOf('-append');
    const marked = [...argv];
    marked[i + 1] = '@APPEND@';
    return `exec ${shellCommand(marked).replace('@APPEND@', `"${argv[i + 1]}\${*:+ $*}"`)}`;
  };
  return `#!/bin/sh
# Boots the nx-distro image of ${target} in QEMU (docs/images.md), serial console on this terminal
# (Ctrl-a x quits QEMU). Usage: ./boot.sh [layers|initramfs] [kernel parameters...]
#   layers     the squashfs layers stacked as an overlay (default)
#   initramfs  the initramfs alone, holding the whole system
# e.g. ./boot.sh layers nxdistro.shell=1   for a shell after the checks.
set -e
cd "$(dirname "$0")"
mode=\${1:-layers}
[ $# -gt 0 ] && shift
case $mode in
  initramfs) ${line(commands.initramfs)} ;;
  layers) ${line(commands.layers)} ;;
  *) echo "usage: $0 [layers|initramfs] [kernel parameters...]" >&2; exit 2 ;;
esac
`;
}

/**
 * Writes a system target's bootable image into `out`, reproducibly (the same rootfs, kernel
 * package, epoch and tool versions give the same bytes):
 * - `vmlinuz` and `kernel.config`: the kernel package's `/boot/vmlinuz` and `/boot/config`; the
 *   configuration is checked for what the boot needs and picks the compressors
 *   ({@link checkKernelConfig});
 * - `layers/<set>.squashfs`: per package set of rootfs.json, its packages' files and database
 *   entries ({@link layerEntries}), made with {@link makeSquashfs};
 * - `initramfs.cpio.<zst|gz>`: the whole root and `/init` ({@link initramfsExtras}), which boots
 *   alone;
 * - `initramfs-layers.cpio.<zst|gz>`: `/init` with busybox and its dependencies only (the C
 *   runtime), which mounts the layers;
 * - `manifest.json` ({@link ImageManifest}) and `boot.sh` (the QEMU command lines).
 * The rootfs tarball is unpacked with `bsdtar -xpf` (checked against its sha256 in rootfs.json).
 * @returns the manifest
 * @throws KernelConfigError for a kernel that cannot boot the image; Error for a missing rootfs
 *   (naming the task to run), a package without busybox, or a tool's failure
 */
export async function assembleImage(p: ImageParams): Promise<ImageManifest> {
  const rootfsRel = workspaceRel(p.root, path.join(p.rootfsDir, ROOTFS_MANIFEST));
  const rootfs = readManifest<RootfsManifest>(path.join(p.rootfsDir, ROOTFS_MANIFEST), rootfsRel, 'system:rootfs', p.target);
  const tarball = path.join(p.rootfsDir, rootfs.tarball.file);
  if ((await sha256File(tarball)) !== rootfs.tarball.sha256) throw new Error(`${workspaceRel(p.root, tarball)}: its sha256 is not the one in ${rootfsRel}; run nx run system:rootfs -c ${p.target} --skip-nx-cache`);

  const kernel = await readKernelPackage(p.kernelPackage.file);
  const kernelRel = workspaceRel(p.root, p.kernelPackage.file);
  if (kernel.config === undefined) throw new KernelConfigError(`${kernelRel}: has no /boot/config, so the image cannot check that this kernel boots it; install the kernel's .config as /boot/config in the kernel recipe`);
  const choices = checkKernelConfig(parseKernelConfig(kernel.config), `${kernelRel}: /boot/config`, p.kernelConfigHint);

  const unpacked = path.join(p.work, 'root');
  fs.mkdirSync(unpacked);
  const x = await execa('bsdtar', ['-xpf', tarball, '-C', unpacked, '--numeric-owner'], { reject: false, all: true });
  if ((x as { code?: string }).code === 'ENOENT') throw new Error('cannot run bsdtar: install the Debian package libarchive-tools');
  if (x.failed) throw new Error(`bsdtar -xpf ${tarball} failed: ${String(x.all).trim().split('\n').slice(-3).join(' | ')}`);
  const tree = scanTree(unpacked, p.sourceDateEpoch);
  const db = readLocalDb(unpacked);
  if (!db.some((d) => d.name === INIT_PACKAGE)) {
    throw new Error(`${p.targetFile}: package_sets: no set installs ${INIT_PACKAGE}, which the image's /init runs; add it to the base set`);
  }

  const byLayer = layerEntries(tree, db, rootfs.layers.map((l) => ({ set: l.set, packages: l.packages.map((x) => x.name) })));
  fs.mkdirSync(path.join(p.out, IMAGE_FILES.layersDir));
  const layers: Array<ImageFile & { set: string; on: string | null; packages: string[] }> = [];
  for (const l of rootfs.layers) {
    const tree = path.join(p.work, 'layers', l.set);
    fs.mkdirSync(tree, { recursive: true });
    materialize(byLayer.get(l.set)!, tree);
    const rel = `${IMAGE_FILES.layersDir}/${l.set}.squashfs`;
    await makeSquashfs(tree, path.join(p.out, rel), choices.squashfs, p.sourceDateEpoch);
    layers.push({ set: l.set, on: l.on, packages: l.packages.map((x) => `${x.name} ${x.version}`), ...(await fileInfo(p.out, rel)) });
  }

  const extras = initramfsExtras(p.target, p.sourceDateEpoch);
  const suffix = compressionSuffix(choices.initramfs);
  const full = mergeEntries(tree, extras);
  const fullRel = `initramfs.cpio${suffix}`;
  const fullSize = await writeCpio(path.join(p.out, fullRel), full, choices.initramfs);
  const initPackages = closure(db, INIT_PACKAGE);
  const small = mergeEntries(packageEntries(tree, db, initPackages), extras);
  const smallRel = `initramfs-layers.cpio${suffix}`;
  const smallSize = await writeCpio(path.join(p.out, smallRel), small, choices.initramfs);

  fs.writeFileSync(path.join(p.out, IMAGE_FILES.kernel), kernel.image, { mode: 0o644 });
  fs.writeFileSync(path.join(p.out, IMAGE_FILES.kernelConfig), kernel.config, { mode: 0o644 });

  const commands: Record<BootMode, string[]> = {
    initramfs: imageBootArgv(p.qemu, 'initramfs', fullRel, []),
    layers: imageBootArgv(p.qemu, 'layers', smallRel, layers.map((l) => ({ set: l.set, file: l.file }))),
  };
  const manifest: ImageManifest = {
    format: MANIFEST_FORMAT,
    target: p.target,
    arch: p.arch,
    sourceDateEpoch: p.sourceDateEpoch,
    kernel: { package: p.kernelPackage.name, version: p.kernelPackage.version, config: IMAGE_FILES.kernelConfig, ...(await fileInfo(p.out, IMAGE_FILES.kernel)) },
    initramfs: {
      compression: choices.initramfs,
      initramfs: { ...(await fileInfo(p.out, fullRel)), entries: full.length, uncompressedSize: fullSize },
      layers: { ...(await fileInfo(p.out, smallRel)), entries: small.length, uncompressedSize: smallSize, packages: initPackages },
    },
    squashfs: { compression: choices.squashfs },
    layers,
    packages: db.map((d) => `${d.name} ${d.version}`),
    rootfs: { file: path.relative(p.out, tarball).split(path.sep).join('/'), sha256: rootfs.tarball.sha256, size: rootfs.tarball.size },
    boot: commands,
  };
  fs.writeFileSync(path.join(p.out, IMAGE_FILES.manifest), manifestText(manifest), { mode: 0o644 });
  fs.writeFileSync(path.join(p.out, IMAGE_FILES.bootScript), bootScript(p.target, commands), { mode: 0o755 });
  fs.chmodSync(path.join(p.out, IMAGE_FILES.bootScript), 0o755);
  return manifest;
}
