import * as fs from 'node:fs';
import path from 'node:path';

/**
 * The JSON files that hand an image from one task to the next: `rootfs.json` (system:rootfs →
 * system:image) and `manifest.json` (system:image → system:boot, and people booting by hand).
 * Both are written with sorted content and no times or absolute paths, so they are reproducible.
 */

/** Version of both formats; bump on an incompatible change. */
export const MANIFEST_FORMAT = 1;

/** One package of a layer. */
export interface ManifestPackage {
  readonly name: string;
  /** `<pkgver>-<pkgrel>`. */
  readonly version: string;
  /** Named by a package set (pacman's "explicitly installed"), not only pulled in as a dependency. */
  readonly explicit: boolean;
  /** Workspace-relative package file it was installed from. */
  readonly file: string;
  readonly sha256: string;
}

/** `<distDir>/<target>/rootfs/rootfs.json`. */
export interface RootfsManifest {
  readonly format: number;
  readonly target: string;
  readonly arch: string;
  /** Seconds; every mtime is clamped to it, pacman's install dates are set to it. */
  readonly sourceDateEpoch: number;
  /** The repository the image's `/etc/pacman.conf` names. */
  readonly repository: { readonly name: string; readonly server: string };
  /** Bottom first (stacking order). */
  readonly layers: ReadonlyArray<{ readonly set: string; readonly on: string | null; readonly packages: readonly ManifestPackage[] }>;
  /** The tarball beside this file. */
  readonly tarball: { readonly file: string; readonly sha256: string; readonly size: number; readonly entries: number };
}

/** A file of the image folder. */
export interface ImageFile {
  /** Relative to the image folder. */
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
}

/** `<distDir>/<target>/image/manifest.json`. */
export interface ImageManifest {
  readonly format: number;
  readonly target: string;
  readonly arch: string;
  readonly sourceDateEpoch: number;
  readonly kernel: ImageFile & { readonly package: string; readonly version: string; readonly config: string };
  readonly initramfs: {
    readonly compression: string;
    /** The whole system and /init: boots alone. */
    readonly initramfs: ImageFile & { readonly entries: number; readonly uncompressedSize: number };
    /** /init with busybox and what it needs: mounts the layers. */
    readonly layers: ImageFile & { readonly entries: number; readonly uncompressedSize: number; readonly packages: readonly string[] };
  };
  readonly squashfs: { readonly compression: string };
  /** Bottom first: the i-th layer is the i-th virtio disk. */
  readonly layers: ReadonlyArray<ImageFile & { readonly set: string; readonly on: string | null; readonly packages: readonly string[] }>;
  /** Every package of the booted system, `name version`, sorted. */
  readonly packages: readonly string[];
  /** The rootfs tarball the image was made from, relative to the image folder. */
  readonly rootfs: ImageFile;
  /** The QEMU command lines, run in the image folder (`boot.sh` runs them). */
  readonly boot: { readonly initramfs: readonly string[]; readonly layers: readonly string[] };
}

/**
 * Reads one of the JSON files, checking its format version.
 * @param file absolute path
 * @param rel workspace-relative path, for the error
 * @param producer the task that writes it (`system:rootfs`), for the error
 * @throws Error `<rel>: missing; run nx run <producer> -c <target>` or `<rel>: format <n>, not <m>; …`
 */
export function readManifest<T extends { format: number }>(file: string, rel: string, producer: string, target: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${rel}: missing; run nx run ${producer} -c ${target}`);
    throw e;
  }
  const data = JSON.parse(text) as T;
  if (data.format !== MANIFEST_FORMAT) throw new Error(`${rel}: format ${data.format}, not ${MANIFEST_FORMAT}; run nx run ${producer} -c ${target} --skip-nx-cache`);
  return data;
}

/** JSON with two-space indentation and a final newline. */
export function manifestText(data: unknown): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** Workspace-relative path with `/` separators. */
export function workspaceRel(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join('/');
}
