import * as fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/**
 * A root file system installed by real pacman (pacman 6.0, Debian 12's pacman-package-manager),
 * and reading back its local database (`var/lib/pacman/local/<name>-<version>/{desc,files}`,
 * libalpm's `be_local.c` format: `%KEY%` lines followed by values, a blank line between keys).
 */

/** The pacman database folder inside a root, as pacman's default `DBPath` (relative to the root). */
export const DB_DIR = 'var/lib/pacman';
/** The local database (installed packages), relative to the root. */
export const LOCAL_DB_DIR = `${DB_DIR}/local`;

/** Folders of one installation outside the root (so pacman leaves no log, cache or hooks in it). */
export interface PacmanWork {
  /** Absolute root being installed into. */
  readonly root: string;
  /** Absolute pacman.conf for the installation ({@link installConfText}). */
  readonly config: string;
  /** Absolute folder for `--logfile`, `--cachedir`, `--hookdir`, `--gpgdir` (created). */
  readonly work: string;
  /** pacman arch of the packages (`aarch64`): `--arch`, so a foreign arch installs. */
  readonly arch: string;
}

/**
 * The pacman.conf used to install: the arch, no signature checks (the packages come straight
 * from the build, unsigned, as local files), no hooks. No repository: packages are installed
 * from their files (`-U`), so the root gets exactly the files the build wrote.
 */
export function installConfText(arch: string): string {
  return `# nx-distro: installing an image root from package files\n[options]\nArchitecture = ${arch}\nSigLevel = Never\nLocalFileSigLevel = Never\n`;
}

/**
 * The `/etc/pacman.conf` of an image: the target's repository, so the installed system can
 * install and upgrade packages later (`pacman -Sy`, `pacman -Su`) from it. Packages are unsigned
 * (`SigLevel = Never`: nx-distro does not sign yet).
 * @param arch pacman arch
 * @param repoName repository name (the system target's name, as `repo-add` wrote the database)
 * @param server `Server` URL of the repository as the installed system reaches it
 */
export function imageConfText(arch: string, repoName: string, server: string): string {
  return [
    '# /etc/pacman.conf of an nx-distro image (pacman.conf(5)).',
    '[options]',
    `Architecture = ${arch}`,
    '# Packages and the repository are not signed (yet).',
    'SigLevel = Never',
    'LocalFileSigLevel = Never',
    '',
    `[${repoName}]`,
    `Server = ${server}`,
    '',
  ].join('\n');
}

/**
 * Runs pacman on the root: `pacman --root <root> --dbpath <root>/var/lib/pacman --config <config>
 * --arch <arch> --noconfirm --logfile/--cachedir/--hookdir/--gpgdir <work>/… <args>`.
 * @returns pacman's combined output
 * @throws Error naming the command and carrying pacman's error lines (and, when pacman is
 *   missing or refuses for want of root, how to fix it)
 */
export async function runPacman(w: PacmanWork, args: readonly string[]): Promise<string> {
  fs.mkdirSync(path.join(w.root, DB_DIR), { recursive: true });
  for (const d of ['cache', 'hooks', 'gnupg']) fs.mkdirSync(path.join(w.work, d), { recursive: true });
  const argv = [
    '--root', w.root,
    '--dbpath', path.join(w.root, DB_DIR),
    '--config', w.config,
    '--arch', w.arch,
    '--noconfirm',
    '--logfile', path.join(w.work, 'pacman.log'),
    '--cachedir', path.join(w.work, 'cache'),
    '--hookdir', path.join(w.work, 'hooks'),
    '--gpgdir', path.join(w.work, 'gnupg'),
    ...args,
  ];
  const r = await execa('pacman', argv, { reject: false, all: true, env: { LC_ALL: 'C.UTF-8' } });
  if ((r as { code?: string }).code === 'ENOENT') throw new Error('cannot run pacman: install the Debian package pacman-package-manager (tools/setup-host)');
  const all = String(r.all ?? '');
  if (r.failed) {
    const errors = all.split('\n').filter((l) => /^error:|^:: |conflict|not found|could not/i.test(l)).slice(0, 8);
    const root = /you cannot perform this operation unless you are root/.test(all) ? '; pacman installs only as root: run as root' : '';
    throw new Error(`pacman ${args.join(' ')} failed (exit ${r.exitCode ?? r.signal}): ${(errors.length ? errors : all.trim().split('\n').slice(-5)).join(' | ')}${root}`);
  }
  return all;
}

/**
 * Installs package files into the root with pacman's dependency and conflict checks, no install
 * scriptlets (`-U --noscriptlet --needed --noprogressbar`), then marks `asDeps` as installed as dependencies
 * (`-D --asdeps`; everything else keeps pacman's `-U` default, explicitly installed).
 * @param files absolute package files
 * @param asDeps package names to mark as dependencies
 * @throws as {@link runPacman}
 */
export async function installPackages(w: PacmanWork, files: readonly string[], asDeps: readonly string[]): Promise<void> {
  if (files.length === 0) return;
  await runPacman(w, ['--noscriptlet', '--needed', '--noprogressbar', '-U', ...files]);
  if (asDeps.length) await runPacman(w, ['-D', '--asdeps', ...asDeps]);
}

/** One installed package, from the local database. */
export interface InstalledPackage {
  readonly name: string;
  /** `<pkgver>-<pkgrel>`. */
  readonly version: string;
  /** `%DEPENDS%` entries. */
  readonly depends: readonly string[];
  /** The package's folder in the local database, relative to the root (`var/lib/pacman/local/zlib-1.2.13-1`). */
  readonly dbDir: string;
  /** `%FILES%`: root-relative paths, folders with a trailing `/`, as pacman lists them. */
  readonly files: readonly string[];
}

/**
 * Parses a libalpm database file (`desc`, `files`): `%KEY%` on a line, its values on the
 * following lines, up to a blank line.
 * @returns every key (without `%`) with its values in order
 */
export function parseDbFile(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let key: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^%([A-Z0-9]+)%$/.exec(line);
    if (m) {
      key = m[1];
      out[key] ??= [];
    } else if (line === '') key = undefined;
    else if (key !== undefined) out[key].push(line);
  }
  return out;
}

/**
 * Every package of the root's local database, sorted by name.
 * @param root absolute root
 * @throws Error when an entry lacks `desc` or its `%NAME%`/`%VERSION%`
 */
export function readLocalDb(root: string): InstalledPackage[] {
  const dir = path.join(root, LOCAL_DB_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: InstalledPackage[] = [];
  for (const n of names) {
    const desc = parseDbFile(fs.readFileSync(path.join(dir, n, 'desc'), 'utf8'));
    const name = desc.NAME?.[0];
    const version = desc.VERSION?.[0];
    if (!name || !version) throw new Error(`${path.join(dir, n, 'desc')}: no %NAME% or %VERSION%`);
    let files: string[] = [];
    try {
      files = parseDbFile(fs.readFileSync(path.join(dir, n, 'files'), 'utf8')).FILES ?? [];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    out.push({ name, version, depends: desc.DEPENDS ?? [], dbDir: `${LOCAL_DB_DIR}/${n}`, files });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Makes the local database reproducible: pacman writes the time of the installation as
 * `%INSTALLDATE%` in every `desc` (libalpm `be_local.c`, `_alpm_local_db_write`); it becomes
 * `epoch`. Nothing else in the database depends on the time or the machine (`files` and the
 * gzipped `mtree` are the package's own). The files' mtimes are left for the archive writers to clamp.
 * @param root absolute root
 * @param epoch SOURCE_DATE_EPOCH, seconds
 * @returns how many `desc` files were rewritten
 */
export function normalizeLocalDb(root: string, epoch: number): number {
  let n = 0;
  for (const p of readLocalDb(root)) {
    const file = path.join(root, p.dbDir, 'desc');
    const text = fs.readFileSync(file, 'utf8');
    const fixed = text.replace(/^%INSTALLDATE%\n[^\n]*$/m, `%INSTALLDATE%\n${epoch}`);
    if (fixed !== text) {
      const st = fs.statSync(file);
      fs.writeFileSync(file, fixed);
      fs.chmodSync(file, st.mode & 0o7777);
      n++;
    }
  }
  return n;
}
