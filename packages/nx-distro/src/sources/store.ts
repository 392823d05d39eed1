import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withFileLock } from '../util/lock';
import { sha256File, type Sha256 } from '../util/hash';

/**
 * The distfiles store: a content-addressed folder of verified source files shared by every
 * system target and every workspace on a machine (Gentoo's DISTDIR, content-addressed like its
 * newer mirror layout).
 *
 * Layout (all under the absolute `root`):
 * - `by-sha256/<sha256>/<filename>`: a verified file, mode 0444; a folder may hold the same
 *   bytes under several names;
 * - `locks/<sha256>.lock`: proper-lockfile's lock folder, held while one file is checked or
 *   fetched, so concurrent fetches (several `nx` processes, several workspaces) of the same
 *   file wait for each other and download once;
 * - `tmp/`: partial downloads; a file only enters `by-sha256/` by `rename` after its sum was
 *   checked, so the store never holds unverified bytes under a final name.
 *
 * The same layout served over http or as a folder is a mirror (see providers.ts).
 */
export class DistfilesStore {
  /** @param root absolute path of the store folder (created on first use) */
  constructor(readonly root: string) {}

  /** Absolute path where the file with this sum and name lives once stored. */
  pathOf(sha256: Sha256, filename: string): string {
    return path.join(this.root, 'by-sha256', sha256, filename);
  }

  /**
   * Runs `fn` while holding the lock of one sum. Waits (polling, up to about 2 hours) for
   * another process holding it; a lock left by a killed process is taken over once stale
   * (not refreshed for 60 s; the holder refreshes it every 10 s).
   * @throws proper-lockfile's `ELOCKED` error when the wait times out
   */
  async withLock<T>(sha256: Sha256, fn: () => Promise<T>): Promise<T> {
    const locks = path.join(this.root, 'locks');
    await fs.mkdir(locks, { recursive: true });
    return withFileLock(path.join(this.root, 'by-sha256', sha256), path.join(locks, `${sha256}.lock`), fn, 200);
  }

  /**
   * Looks the file up and re-verifies it. Call with the sum's lock held.
   *
   * A file with this sum under another name is reused (hard-linked under the new name). A file
   * whose bytes no longer match (corrupted, tampered with) is removed and reported through
   * `onCorrupt`, so the caller fetches it again.
   * @returns the absolute path of the verified file, or `null` when the store does not hold it
   */
  async lookup(sha256: Sha256, filename: string, onCorrupt: (file: string, actual: Sha256) => void = () => undefined): Promise<string | null> {
    const dir = path.join(this.root, 'by-sha256', sha256);
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return null;
    }
    // The wanted name first, then any other name for the same bytes.
    names.sort((a, b) => Number(b === filename) - Number(a === filename));
    for (const name of names) {
      const file = path.join(dir, name);
      const actual = await sha256File(file).catch(() => null);
      if (actual === sha256) {
        if (name === filename) return file;
        const wanted = path.join(dir, filename);
        await linkOrCopy(file, wanted);
        return wanted;
      }
      onCorrupt(file, actual ?? 'unreadable');
      await fs.rm(file, { force: true });
    }
    return null;
  }

  /** A fresh absolute path in the store's `tmp/` folder (same filesystem as `by-sha256/`). */
  async tempPath(hint: string): Promise<string> {
    const tmp = path.join(this.root, 'tmp');
    await fs.mkdir(tmp, { recursive: true });
    return path.join(tmp, `${process.pid}-${randomBytes(6).toString('hex')}-${hint.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  }

  /**
   * Moves a verified temporary file into the store under its final name (atomic rename, mode
   * 0444). Call with the sum's lock held, after checking the file's sum equals `sha256`.
   * @param tempFile absolute path from {@link tempPath}
   * @returns the absolute stored path
   */
  async commit(tempFile: string, sha256: Sha256, filename: string): Promise<string> {
    const final = this.pathOf(sha256, filename);
    await fs.mkdir(path.dirname(final), { recursive: true });
    await fs.chmod(tempFile, 0o444);
    await fs.rename(tempFile, final);
    return final;
  }
}

/**
 * Hard-links `from` to `to` (replacing `to`), or copies when a link is impossible (another
 * filesystem, EXDEV; a filesystem without hard links, EPERM).
 * @param from absolute existing file
 * @param to absolute destination; its folder must exist
 */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  await fs.rm(to, { force: true });
  try {
    await fs.link(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw e;
    await fs.copyFile(from, to);
  }
}

/**
 * Where the store is, first match wins:
 * 1. the environment variable `NX_DISTRO_DISTFILES` (absolute, or relative to the workspace root);
 * 2. the nx.json plugin option `distfilesDir` (absolute, or relative to the workspace root);
 * 3. `$XDG_CACHE_HOME/nx-distro/distfiles`, default `~/.cache/nx-distro/distfiles`: one store per
 *    user and machine, shared by every workspace.
 * @param workspaceRoot absolute workspace root
 * @returns an absolute path
 */
export function distfilesRoot(workspaceRoot: string, optionValue: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.NX_DISTRO_DISTFILES || optionValue;
  if (configured) return path.resolve(workspaceRoot, configured);
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'nx-distro', 'distfiles');
}
