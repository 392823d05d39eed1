import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { withFileLock } from './lock';

/**
 * Creates an empty staging folder beside `final` (same parent, so same filesystem and a `rename`
 * can move it into place): `<parent>/.<name>.<pid>-<random>.tmp`. The leading dot keeps it out
 * of globs such as `packages/*` while it is filled.
 * @param final absolute path of the folder the staging folder will replace
 * @returns the absolute path of the new, empty staging folder (the parent is created if missing)
 */
export function stagingFolderFor(final: string): string {
  if (!path.isAbsolute(final)) throw new TypeError(`stagingFolderFor: path must be absolute, got ${JSON.stringify(final)}`);
  const parent = path.dirname(final);
  fs.mkdirSync(parent, { recursive: true });
  const staging = path.join(parent, `.${path.basename(final)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  fs.mkdirSync(staging);
  return staging;
}

/**
 * Puts the complete folder `staging` in place of `final`, replacing whatever was there: the old
 * folder is renamed aside (`<parent>/.<name>.old-<pid>-<random>`), `staging` renamed to `final`,
 * and the old folder deleted. Readers see the old tree or the new one, never a mix of both; for
 * the instant between the two renames `final` does not exist (Linux's `renameat2(RENAME_EXCHANGE)`
 * would close that gap but Node does not expose it). If the second rename fails, the old folder
 * is put back.
 *
 * Concurrent calls for the same `final` (several processes) are serialised by a proper-lockfile
 * lock folder `<parent>/.<name>.lock`; the last to run wins.
 * @param staging absolute path of a folder on the same filesystem as `final` (from {@link stagingFolderFor})
 * @param final absolute path of the folder to replace (need not exist)
 * @throws Error from the file system (the staging folder is left for the caller to remove)
 */
export async function replaceFolder(staging: string, final: string): Promise<void> {
  if (!path.isAbsolute(staging) || !path.isAbsolute(final)) throw new TypeError(`replaceFolder: paths must be absolute, got ${JSON.stringify(staging)} and ${JSON.stringify(final)}`);
  const parent = path.dirname(final);
  const name = path.basename(final);
  await withFileLock(final, path.join(parent, `.${name}.lock`), async () => {
    const old = path.join(parent, `.${name}.old-${process.pid}-${randomBytes(6).toString('hex')}`);
    let moved = false;
    try {
      fs.renameSync(final, old);
      moved = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    try {
      fs.renameSync(staging, final);
    } catch (e) {
      if (moved) fs.renameSync(old, final);
      throw e;
    }
    if (moved) fs.rmSync(old, { recursive: true, force: true });
  });
}
