import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { withFileLock } from '../util/lock';
import { replaceFolder, stagingFolderFor } from '../util/replace-folder';
import { sha256File } from '../util/hash';

/**
 * A pacman repository per system target: a folder holding package files and the database
 * `<dbName>.db.tar.zst` (with `<dbName>.files.tar.zst` and the `<dbName>.db` / `<dbName>.files`
 * symlinks) written by pacman's own `repo-add`, so that pacman installs from it with
 *
 *     [<dbName>]
 *     Server = file:///<repoDir>
 *
 * (or the folder served over http).
 */

const INSTALL = 'install the Debian packages pacman-package-manager, makepkg (its shell library and vercmp) and libarchive-tools (bsdtar), and zstd';

/** Names repo-add and pacman.conf accept for a repository, without surprises in file names. */
const DB_NAME = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/;

/**
 * Adds packages to the repository in `repoDir`: copies them into it (a hard link when on the
 * same filesystem, else a copy; both through a temporary name and a rename, so a reader never
 * sees a partial file; a file already there with the same sha256 is kept) and runs
 * `repo-add -q -R <repoDir>/<dbName>.db.tar.zst <copies…>`, which adds or replaces the entries
 * and, `-R`, deletes the file of an older version of a package it replaces (pacman 6.0.2's
 * `scripts/repo-add.sh.in`).
 *
 * Concurrent calls (several Nx tasks, several processes) on the same `repoDir` are serialised by
 * a proper-lockfile lock, the folder `<repoDir>/.nx-distro-repo.lock` (refreshed every 10 s,
 * taken over when not refreshed for 60 s, waited for up to about 2 hours). repo-add's own lock
 * file (`<db>.lck`, which makes a second repo-add fail instead of wait) can then only be left
 * over by a killed run, and is removed.
 *
 * Needs on the host: `repo-add` (Debian package pacman-package-manager), the shell library it
 * sources and `vercmp` (package makepkg, only recommended by pacman-package-manager, so
 * `--no-install-recommends` leaves repo-add broken), `bsdtar` (libarchive-tools) and `zstd`.
 * It runs under `LC_ALL=C.UTF-8`. Signing is not done.
 *
 * @param repoDir absolute folder of the repository (created if missing)
 * @param dbName repository name (`[dbName]` in pacman.conf): letters, digits, `. _ + -`, not
 *   starting with `.` or `-`
 * @param pkgFiles absolute paths of package files (`*.pkg.tar.*`), e.g. from writePackage
 * @throws TypeError for a relative path, a bad `dbName` or a file not named like a package
 * @throws Error when a package file cannot be read, the lock cannot be taken, or repo-add fails
 *   (the message carries repo-add's error lines)
 */
export async function addToRepository(repoDir: string, dbName: string, pkgFiles: string[]): Promise<void> {
  if (!path.isAbsolute(repoDir)) throw new TypeError(`addToRepository: repoDir must be absolute, got ${JSON.stringify(repoDir)}`);
  if (!DB_NAME.test(dbName)) throw new TypeError(`addToRepository: ${JSON.stringify(dbName)} is not a repository name (letters, digits, . _ + -, not starting with . or -)`);
  for (const f of pkgFiles) {
    if (!path.isAbsolute(f)) throw new TypeError(`addToRepository: package paths must be absolute, got ${JSON.stringify(f)}`);
    if (!/\.pkg\.tar(\.[a-z0-9]+)?$/.test(path.basename(f))) throw new TypeError(`addToRepository: ${f} is not named like a package (*.pkg.tar.zst)`);
  }
  if (pkgFiles.length === 0) return;
  fs.mkdirSync(repoDir, { recursive: true });
  await withFileLock(repoDir, path.join(repoDir, '.nx-distro-repo.lock'), async () => {
    const copies: string[] = [];
    for (const f of pkgFiles) copies.push(await placeInRepo(repoDir, f));
    const db = path.join(repoDir, `${dbName}.db.tar.zst`);
    fs.rmSync(`${db}.lck`, { force: true }); // only a killed repo-add leaves it while we hold the lock
    // A UTF-8 locale: under LC_ALL=C, repo-add's `bsdtar -tf` writes non-ASCII file names into
    // the .files database as octal escapes (`\303\274`) instead of the names.
    const env: Record<string, string | undefined> = { ...process.env, LC_ALL: 'C.UTF-8' };
    delete env.COMPRESSZST; // repo-add takes its compressor from it; use its default
    let r;
    try {
      r = await execa('repo-add', ['-q', '-R', db, ...copies], { reject: false, all: true, env, extendEnv: false, cwd: repoDir });
    } catch (e) {
      throw new Error(`cannot run repo-add: ${(e as Error).message}`, { cause: e });
    }
    if (r.failed) {
      if ((r as { code?: string }).code === 'ENOENT') throw new Error(`cannot run repo-add: ${INSTALL}`);
      const all = String(r.all ?? '');
      const lines = all
        .split('\n')
        .filter((l) => l.trim() !== '')
        .join('; ');
      // Debian ships repo-add in pacman-package-manager but the shell library it sources
      // (/usr/share/makepkg/util/*.sh) and vercmp in makepkg, only a Recommends; bsdtar is in neither.
      const missing = /\/makepkg\/util\/[^:]*: No such file|vercmp: command not found|bsdtar: command not found|zstd: command not found/.test(all);
      throw new Error(`repo-add ${db} failed (exit ${r.exitCode ?? r.signal}): ${lines || r.shortMessage}${missing ? `; ${INSTALL}` : ''}`);
    }
    for (const kind of ['db', 'files']) await normalizeDatabase(path.join(repoDir, `${dbName}.${kind}.tar.zst`));
  });
}

/**
 * Makes a database repo-add wrote reproducible: repo-add's `bsdtar` stores each entry with the
 * time it ran, the caller's uid and gid and modes under its umask, so two runs over the same
 * packages differ. The tar is rewritten with GNU tar's reproducible options (the Reproducible
 * Builds project's recipe: `--sort=name`, `--mtime`, `--owner=0 --group=0 --numeric-owner`,
 * `--mode`), every entry dated by the newest `%BUILDDATE%` of its `desc` files (the packages'
 * own SOURCE_DATE_EPOCH, so nothing of the run's clock), folders 0755 and files 0644 as repo-add
 * makes them under umask 022, and compressed again as repo-add does (`zstd -c -z -q -`, one
 * thread). Entry names stay repo-add's (`<name>-<version>-<release>/desc`). Written through a
 * temporary file and a rename.
 * @param file absolute path of `<dbName>.db.tar.zst` or `<dbName>.files.tar.zst`
 * @throws Error when zstd or tar fail
 */
export async function normalizeDatabase(file: string): Promise<void> {
  const work = fs.mkdtempSync(path.join(path.dirname(file), '.normalize-'));
  try {
    const tarFile = path.join(work, 'db.tar');
    await execa('zstd', ['-d', '-q', '-c', file], { stdout: { file: tarFile } });
    const tree = path.join(work, 'tree');
    fs.mkdirSync(tree);
    await execa('tar', ['-x', '-f', tarFile, '-C', tree]);
    const entries = fs.readdirSync(tree).sort();
    let newest = 0;
    for (const entry of entries) {
      const desc = path.join(tree, entry, 'desc');
      if (!fs.existsSync(desc)) continue;
      const m = /^%BUILDDATE%\n(\d+)$/m.exec(fs.readFileSync(desc, 'utf8'));
      if (m) newest = Math.max(newest, Number(m[1]));
    }
    const out = path.join(work, 'out.tar');
    await execa('tar', ['--sort=name', '--format=gnu', `--mtime=@${newest}`, '--owner=0', '--group=0', '--numeric-owner', '--mode=u=rwX,go=rX', '-c', '-f', out, '-C', tree, '--', ...entries], { env: { LC_ALL: 'C' } });
    const temp = path.join(work, 'out.tar.zst');
    await execa('zstd', ['-c', '-z', '-q', '-T1', out], { stdout: { file: temp } });
    fs.chmodSync(temp, 0o644);
    fs.renameSync(temp, file);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Puts one package file into the repository folder under its own name; returns the absolute
 * path there. Call with the repository lock held.
 */
async function placeInRepo(repoDir: string, file: string): Promise<string> {
  const dest = path.join(repoDir, path.basename(file));
  const src = fs.statSync(file);
  if (!src.isFile()) throw new Error(`${file}: not a regular file`);
  let existing: fs.Stats | undefined;
  try {
    existing = fs.statSync(dest);
  } catch {
    existing = undefined;
  }
  if (existing !== undefined) {
    if (existing.ino === src.ino && existing.dev === src.dev) return dest;
    if (existing.size === src.size && (await sha256File(dest)) === (await sha256File(file))) return dest;
  }
  const temp = path.join(repoDir, `.${path.basename(file)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  try {
    try {
      fs.linkSync(file, temp);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw e;
      fs.copyFileSync(file, temp);
      fs.chmodSync(temp, 0o644);
    }
    fs.renameSync(temp, dest);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
  return dest;
}

/**
 * Writes the repository in `repoDir` afresh from exactly `pkgFiles`: it is built in a staging
 * folder beside `repoDir` ({@link addToRepository}, or {@link writeEmptyRepository} for no
 * package) and renamed over the old one ({@link replaceFolder}), so the result holds these
 * packages and nothing else: a package rebuilt at a new version never leaves its older file or
 * entry behind, a package no longer built disappears, and a reader never sees a half-written
 * repository. The staging folder is removed on failure, leaving the old repository as it was.
 * @param repoDir absolute folder of the repository (its parent is created if missing)
 * @param dbName repository name, as for {@link addToRepository}
 * @param pkgFiles absolute paths of package files, at most one per package name (repo-add would
 *   keep only the last one added)
 * @throws as {@link addToRepository} and {@link writeEmptyRepository}
 */
export async function writeRepository(repoDir: string, dbName: string, pkgFiles: string[]): Promise<void> {
  if (!path.isAbsolute(repoDir)) throw new TypeError(`writeRepository: repoDir must be absolute, got ${JSON.stringify(repoDir)}`);
  const staging = stagingFolderFor(repoDir);
  try {
    if (pkgFiles.length === 0) await writeEmptyRepository(staging, dbName);
    else await addToRepository(staging, dbName, pkgFiles);
    await replaceFolder(staging, repoDir);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Writes an empty repository, as repo-remove leaves one when its last package is removed
 * (pacman 6.0.2 `scripts/repo-add.sh.in`, `create_db`: "No packages remain, creating empty
 * database."): `<dbName>.db.tar.zst` and `<dbName>.files.tar.zst` are an empty tar
 * (`bsdtar -cf - -T /dev/null`) compressed by `zstd -c -z -q -` (makepkg's default
 * `COMPRESSZST`), with the `<dbName>.db` and `<dbName>.files` symlinks beside them. `pacman -Sy`
 * accepts it; repo-add itself cannot be run without a package. Other files in `repoDir` are left alone.
 * @param repoDir absolute folder (created if missing)
 * @param dbName repository name, as for {@link addToRepository}
 * @throws TypeError for a relative path or a bad `dbName`
 * @throws Error when bsdtar or zstd are missing or fail
 */
export async function writeEmptyRepository(repoDir: string, dbName: string): Promise<void> {
  if (!path.isAbsolute(repoDir)) throw new TypeError(`writeEmptyRepository: repoDir must be absolute, got ${JSON.stringify(repoDir)}`);
  if (!DB_NAME.test(dbName)) throw new TypeError(`writeEmptyRepository: ${JSON.stringify(dbName)} is not a repository name (letters, digits, . _ + -, not starting with . or -)`);
  fs.mkdirSync(repoDir, { recursive: true });
  const run = async (file: string, args: string[], input?: Buffer): Promise<Buffer> => {
    let r;
    try {
      r = await execa(file, args, { input, encoding: 'buffer', reject: false, env: { LC_ALL: 'C.UTF-8' } });
    } catch (e) {
      throw new Error(`cannot run ${file}: ${(e as Error).message}; ${INSTALL}`, { cause: e });
    }
    if ((r as { code?: string }).code === 'ENOENT') throw new Error(`cannot run ${file}: ${INSTALL}`);
    if (r.failed || r.stdout.length === 0) throw new Error(`${file} ${args.join(' ')} failed (exit ${r.exitCode ?? r.signal}): ${Buffer.from(r.stderr ?? '').toString().trim() || r.shortMessage}`);
    return Buffer.from(r.stdout);
  };
  const emptyTar = await run('bsdtar', ['-cf', '-', '-T', '/dev/null']);
  const compressed = await run('zstd', ['-c', '-z', '-q', '-'], emptyTar);
  for (const kind of ['db', 'files']) {
    const file = path.join(repoDir, `${dbName}.${kind}.tar.zst`);
    const temp = path.join(repoDir, `.tmp.${dbName}.${kind}.tar.zst`);
    try {
      fs.writeFileSync(temp, compressed, { mode: 0o644 });
      fs.renameSync(temp, file);
    } finally {
      fs.rmSync(temp, { force: true });
    }
    const link = path.join(repoDir, `${dbName}.${kind}`);
    fs.rmSync(link, { force: true });
    fs.symlinkSync(path.basename(file), link);
  }
}
