/**
 * pacman packages end to end with the real tools: writePackage's output is bit-reproducible,
 * lists as expected with bsdtar, carries makepkg's exact .MTREE, installs with pacman 6.0
 * (-U, dependencies within one transaction, -Qi, -Qkk), goes through a repository built by
 * repo-add (-Sy, -S), and is extracted into the package store and staged into a sysroot.
 *
 * Needs on the host: pacman and repo-add (Debian package pacman-package-manager), bsdtar
 * (libarchive-tools), zstd, gzip; installing with pacman needs root.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { pack as tarPack } from 'tar-stream';
import { extractedPackage, stageSysroot } from '../packages/nx-distro/src/packages/package-store';
import { readPackageInfo, writePackage, type BuildInfo, type PackageMeta } from '../packages/nx-distro/src/packages/pacman-package';
import { addToRepository } from '../packages/nx-distro/src/packages/repository';
import { readTar, skipBody } from '../packages/nx-distro/src/packages/tar-input';

const EPOCH = 1700000000; // 2023-11-14T22:13:20Z
const OLD = 1600000000; // an mtime older than the epoch: kept
const FUTURE = Math.floor(Date.now() / 1000) + 10 * 365 * 86400; // clamped to the epoch
const isRoot = process.getuid?.() === 0;
const needRoot = isRoot ? false : 'pacman installs need root';

const BI: BuildInfo = {
  pkgbuildSha256: createHash('sha256').update('recipe').digest('hex'),
  builddir: '/build/demo',
  startdir: '/work/recipes/demo',
  buildenv: ['!distcc', '!ccache', 'check'],
  options: ['strip', '!debug'],
  installed: ['musl-1.2.5-1-aarch64'],
  buildtoolver: '0.1.0',
};

function meta(over: Partial<PackageMeta> = {}): PackageMeta {
  return {
    pkgname: 'demo',
    pkgbase: 'demo',
    pkgver: '1.0',
    pkgrel: 1,
    pkgdesc: 'A demo package for the tests',
    url: 'https://example.org/demo',
    arch: 'aarch64',
    license: ['MIT', 'GPL-2.0-only WITH Linux-syscall-note'],
    depends: [],
    packager: 'nx-distro',
    builddate: EPOCH,
    ...over,
  };
}

const BIG_CONTENT = Buffer.from(Array.from({ length: 2.5 * 2 ** 20 }, (_, i) => (i * 31 + (i >> 12)) & 0xff));
const INSTALLED = 3004 + 7 + 5000 + BIG_CONTENT.length + 29 + 37 + 9 + 8 + 11 + 5 + 4 + 7; // hard-linked bytes once
const LONG = `usr/share/demo/${'a-rather-long-folder-name/'.repeat(4)}and-a-file-name-that-does-not-fit-in-ustar-100-bytes.txt`;

/**
 * The demo package tree, created under `umask` with every mode set explicitly; `mtime` is applied
 * to every entry (except the one kept at OLD and the one in the future).
 */
function demoTree(root: string, umask: number, mtime: number): void {
  const old = process.umask(umask);
  try {
    const w = (rel: string, content: string | Buffer, mode: number) => {
      const p = path.join(root, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, content);
      chmodSync(p, mode);
    };
    w('usr/bin/hello', Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(3000, 7)]), 0o755);
    linkSync(path.join(root, 'usr/bin/hello'), path.join(root, 'usr/bin/hello-alias'));
    w('usr/bin/su-helper', 'setuid\n', 0o4755);
    w('usr/lib/libdemo.so.1.0', Buffer.alloc(5000, 1), 0o755);
    w('usr/lib/libdemo.a', BIG_CONTENT, 0o644); // several read chunks
    symlinkSync('libdemo.so.1.0', path.join(root, 'usr/lib/libdemo.so.1'));
    symlinkSync('libdemo.so.1', path.join(root, 'usr/lib/libdemo.so'));
    w('lib/placeholder', '', 0o644);
    symlinkSync('/usr/lib/libdemo.so.1.0', path.join(root, 'lib/ld-demo.so.1')); // absolute, as musl's
    w('usr/include/demo/deep/nested/demo.h', '#pragma once\nint demo(void);\n', 0o644);
    w('usr/lib/pkgconfig/demo.pc', 'Name: demo\nVersion: 1.0\nLibs: -ldemo\n', 0o644);
    w('etc/demo.conf', 'secret=1\n', 0o600);
    w('usr/share/doc/demo/README', 'read me\n', 0o644);
    w('usr/share/doc/demo/ünïcödé name.txt', 'utf-8 name\n', 0o644);
    w(LONG, 'long\n', 0o644);
    symlinkSync(LONG.slice('usr/share/demo/'.length), path.join(root, 'usr/share/demo/long-link')); // target over 100 bytes
    w('usr/share/demo/empty-file', '', 0o644);
    w('usr/share/demo/old-file', 'old\n', 0o644);
    w('usr/share/demo/future-file', 'future\n', 0o644);
    mkdirSync(path.join(root, 'var/lib/demo'), { recursive: true });
    const all: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = path.join(d, n);
        all.push(p);
        if (lstatSync(p).isDirectory()) walk(p);
      }
    };
    walk(root);
    for (const p of all) if (lstatSync(p).isDirectory()) chmodSync(p, 0o755); // not the umask's
    chmodSync(path.join(root, 'var/lib/demo'), 0o700);
    for (const p of all.reverse()) if (!lstatSync(p).isSymbolicLink()) utimesSync(p, mtime, mtime);
    utimesSync(path.join(root, 'usr/share/demo/old-file'), OLD, OLD);
    utimesSync(path.join(root, 'usr/share/demo/future-file'), FUTURE, FUTURE);
  } finally {
    process.umask(old);
  }
}

/** A minimal tree with one file. */
function smallTree(root: string, rel: string, content: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), content);
}

async function run(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}) {
  const r = await execa(cmd, args, { reject: false, all: true, env: { LC_ALL: 'C.UTF-8', TZ: 'UTC' }, encoding: 'utf8', ...opts });
  return { code: r.exitCode, out: String(r.all ?? '') };
}

/** A throw-away pacman installation root with a config that reads nothing of the host's. */
function pacmanRoot(base: string, arch: string, repos: { name: string; dir: string }[] = []) {
  const root = path.join(base, 'root');
  const db = path.join(root, 'var/lib/pacman');
  for (const d of [db, path.join(base, 'hooks'), path.join(base, 'cache'), path.join(base, 'gnupg')]) mkdirSync(d, { recursive: true });
  const conf = path.join(base, 'pacman.conf');
  writeFileSync(
    conf,
    [
      '[options]',
      `RootDir = ${root}`,
      `DBPath = ${db}/`,
      `CacheDir = ${base}/cache/`,
      `LogFile = ${base}/pacman.log`,
      `GPGDir = ${base}/gnupg/`,
      `HookDir = ${base}/hooks/`, // not /etc/pacman.d/hooks/: host hooks must not run
      `Architecture = ${arch}`,
      'SigLevel = Never',
      'LocalFileSigLevel = Never',
      ...repos.flatMap((r) => ['', `[${r.name}]`, `Server = file://${r.dir}`]),
      '',
    ].join('\n'),
  );
  return {
    root,
    pacman: (...args: string[]) => run('pacman', ['--root', root, '--dbpath', db, '--config', conf, '--arch', arch, '--noconfirm', ...args]),
  };
}

describe('pacman packages with the real tools', () => {
  let tmp: string;
  let demoFile: string;
  before(async () => {
    const missing: string[] = [];
    for (const tool of ['pacman', 'repo-add', 'bsdtar', 'zstd', 'gzip']) if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) missing.push(tool);
    if (missing.length > 0) throw new Error(`missing host tools: ${missing.join(', ')}; run tools/setup-host (Debian packages pacman-package-manager, libarchive-tools, zstd, gzip)`);
    tmp = mkdtempSync(path.join(tmpdir(), 'nx-distro-packages-'));
    demoTree(path.join(tmp, 'demo'), 0o022, Math.floor(Date.now() / 1000));
    demoFile = (await writePackage(path.join(tmp, 'demo'), meta(), BI, path.join(tmp, 'out'), EPOCH)).file;
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('writes the same bytes from different folders, on-disk mtimes and umasks, and zstd -T1 agrees with -T0', async () => {
    const a = path.join(tmp, 'repro-a', 'pkgdir');
    const b = path.join(tmp, 'repro-b', 'another-name');
    demoTree(a, 0o022, EPOCH + 50);
    demoTree(b, 0o077, FUTURE);
    const umask = process.umask(0o077);
    const first = await writePackage(a, meta(), BI, path.join(tmp, 'repro-a', 'out'), EPOCH);
    process.umask(0o002);
    const second = await writePackage(b, meta(), BI, path.join(tmp, 'repro-b', 'out'), EPOCH);
    process.umask(umask);
    if (first.sha256 !== second.sha256) {
      const listing = async (f: string) => (await run('bsdtar', ['-tvf', f])).out;
      assert.equal(await listing(first.file), await listing(second.file), 'the entries differ');
    }
    assert.equal(first.sha256, second.sha256);
    assert.equal(first.size, second.size);
    assert.equal(path.basename(first.file), 'demo-1.0-1-aarch64.pkg.tar.zst');
    assert.equal(first.sha256, createHash('sha256').update(readFileSync(demoFile)).digest('hex'), 'same as the package written in before()');
    assert.equal(statSync(first.file).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(path.dirname(first.file)), ['demo-1.0-1-aarch64.pkg.tar.zst'], 'no temporary file left');
    assert.equal(first.installedSize, INSTALLED, 'hard-linked bytes counted once');

    const tar = (await execa('zstd', ['-dcq', first.file], { encoding: 'buffer' })).stdout;
    for (const threads of ['-T1', '-T0', '-T3']) {
      const again = (await execa('zstd', ['-q', '-c', threads, '-19'], { input: Buffer.from(tar), encoding: 'buffer' })).stdout;
      assert.ok(Buffer.from(again).equals(readFileSync(first.file)), `zstd ${threads} -19 gives the same bytes`);
    }
  });

  it('lists in makepkg order with bsdtar: metadata first, then byte order; root/root; modes, links, clamped mtimes', async () => {
    const listing = await run('bsdtar', ['-tvf', demoFile]);
    assert.equal(listing.code, 0, listing.out);
    const lines = listing.out.trimEnd().split('\n');
    const parsed = lines.map((l) => {
      const m = /^(\S{10})\s+\d+\s+(\S+)\s+(\S+)\s+\d+\s+\w{3}\s+\d+\s+\S+\s(.*)$/.exec(l);
      assert.ok(m, `bsdtar line ${JSON.stringify(l)}`);
      return { mode: m[1], owner: `${m[2]}/${m[3]}`, name: m[4] };
    });
    const names = parsed.map((p) => p.name.replace(/ (->|link to) .*$/, '').replace(/\/$/, ''));
    assert.deepEqual(names.slice(0, 3), ['.BUILDINFO', '.MTREE', '.PKGINFO']);
    const rest = names.slice(3);
    assert.deepEqual(rest, [...rest].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))), 'byte order');
    assert.ok(rest.includes(LONG) && rest.includes('usr/share/doc/demo/ünïcödé name.txt'), 'long and non-ASCII names');
    assert.ok(parsed.every((p) => p.owner === 'root/root'), 'root/root');
    const by = new Map(parsed.map((p) => [p.name, p.mode]));
    assert.equal(by.get('usr/bin/su-helper'), '-rwsr-xr-x');
    assert.equal(by.get('usr/bin/hello'), '-rwxr-xr-x');
    assert.equal(by.get('etc/demo.conf'), '-rw-------');
    assert.equal(by.get('var/lib/demo/'), 'drwx------');
    assert.equal(by.get('usr/lib/libdemo.so -> libdemo.so.1'), 'lrwxrwxrwx');
    assert.equal(by.get('lib/ld-demo.so.1 -> /usr/lib/libdemo.so.1.0'), 'lrwxrwxrwx');
    assert.ok(by.has('usr/bin/hello-alias link to usr/bin/hello'), 'the second name of a file is a tar hard link');

    const mtimes = new Map<string, number>();
    const uids = new Set<string>();
    await readTar(demoFile, async (h, body) => {
      mtimes.set(h.name, h.mtime!.getTime() / 1000);
      uids.add(`${h.uid}:${h.gid}:${h.uname}:${h.gname}`);
      await skipBody(h, body);
    });
    assert.deepEqual([...uids], ['0:0:root:root']);
    assert.equal(mtimes.get('usr/share/demo/old-file'), OLD, 'an older mtime is kept');
    assert.equal(mtimes.get('usr/share/demo/future-file'), EPOCH, 'a future mtime is clamped');
    assert.equal(mtimes.get('usr/bin/'), EPOCH);
    assert.equal(mtimes.get('.PKGINFO'), EPOCH);
  });

  it('carries .MTREE byte-identical to makepkg’s bsdtar mtree of the same tree', { skip: isRoot ? false : 'extracting with owners needs root' }, async () => {
    const x = path.join(tmp, 'mtree-check');
    mkdirSync(x);
    assert.equal((await run('bsdtar', ['-xpf', demoFile, '-C', x])).code, 0);
    const ours = (await execa('gzip', ['-dc', path.join(x, '.MTREE')])).stdout;
    const list = await run('bash', ['-c', 'export LC_COLLATE=C; shopt -s dotglob globstar; printf "%s\\0" **/*'], { cwd: x });
    const theirs = await execa('bsdtar', ['-cnf', '-', '--format=mtree', '--options=!all,use-set,type,uid,gid,mode,time,size,md5,sha256,link', '--null', '--files-from', '-', '--exclude', '.MTREE'], {
      cwd: x,
      input: list.out,
      env: { LANG: 'C' },
    });
    assert.equal(ours + '\n', theirs.stdout + '\n');
    assert.match(ours, /^\.\/usr\/bin\/hello-alias time=1700000000\.0 size=3004 md5digest=/m, 'a hard link is described as a file');
  });

  it('readPackageInfo parses .PKGINFO', async () => {
    const info = await readPackageInfo(demoFile);
    assert.deepEqual(info.pkgname, ['demo']);
    assert.deepEqual(info.pkgver, ['1.0-1']);
    assert.deepEqual(info.xdata, ['pkgtype=pkg']);
    assert.deepEqual(info.license, ['MIT', 'GPL-2.0-only WITH Linux-syscall-note']);
    assert.deepEqual(info.size, [String(INSTALLED)]);
    assert.deepEqual(info.builddate, [String(EPOCH)]);
    await assert.rejects(readPackageInfo(path.join(tmp, 'nope.pkg.tar.zst')), /cannot read|ENOENT/);
    const truncated = path.join(tmp, 'truncated.pkg.tar.zst');
    writeFileSync(truncated, readFileSync(demoFile).subarray(0, 200));
    await assert.rejects(readPackageInfo(truncated), (e: Error) => e.message.startsWith(`${truncated}: zstd: `) && /premature end|corrupt/i.test(e.message));
    await assert.rejects(extractedPackage(path.join(tmp, 'store-truncated'), truncated), (e: Error) => e.message.startsWith(`${truncated}: zstd: `));
    assert.deepEqual(readdirSync(path.join(tmp, 'store-truncated', 'tmp')), [], 'nothing left behind');
  });

  it('installs with pacman -U; -Qi shows the metadata; -Qkk finds nothing altered', { skip: needRoot }, async () => {
    const p = pacmanRoot(path.join(tmp, 'install'), 'aarch64');
    const u = await p.pacman('--noscriptlet', '-U', demoFile);
    assert.equal(u.code, 0, u.out);
    const qi = await p.pacman('-Qi', 'demo');
    assert.equal(qi.code, 0, qi.out);
    for (const [field, value] of [
      ['Name', 'demo'],
      ['Version', '1.0-1'],
      ['Description', 'A demo package for the tests'],
      ['Architecture', 'aarch64'],
      ['URL', 'https://example.org/demo'],
      ['Licenses', 'MIT  GPL-2.0-only WITH Linux-syscall-note'],
      ['Depends On', 'None'],
      ['Packager', 'nx-distro'],
      ['Build Date', 'Tue 14 Nov 2023 10:13:20 PM UTC'],
      ['Installed Size', `${(INSTALLED / 1024 / 1024).toFixed(2)} MiB`],
    ]) {
      const line = qi.out.split('\n').find((l) => l.startsWith(`${field} `));
      assert.ok(line, `${field} in ${qi.out}`);
      if (field !== 'Build Date') assert.equal(line.replace(/^[^:]*: /, ''), value, field);
      else assert.match(line, /2023/);
    }
    const qkk = await p.pacman('-Qkk', 'demo');
    assert.equal(qkk.code, 0, qkk.out);
    assert.match(qkk.out, /demo: \d+ total files, 0 altered files/);
    assert.doesNotMatch(qkk.out, /warning|mismatch/i, qkk.out);
    assert.equal(statSync(path.join(p.root, 'usr/bin/su-helper')).mode & 0o7777, 0o4755);
    assert.equal(statSync(path.join(p.root, 'usr/bin/hello-alias')).ino, statSync(path.join(p.root, 'usr/bin/hello')).ino);
    assert.equal(readlinkSync(path.join(p.root, 'lib/ld-demo.so.1')), '/usr/lib/libdemo.so.1.0');
  });

  it('installs a package and its dependency in one transaction (no --nodeps), and refuses it alone', { skip: needRoot }, async () => {
    const lib = path.join(tmp, 'dep', 'libdep');
    const app = path.join(tmp, 'dep', 'app');
    smallTree(lib, 'usr/lib/libdep.so.2', 'lib\n');
    smallTree(app, 'usr/bin/app', 'app\n');
    const out = path.join(tmp, 'dep', 'out');
    const libPkg = await writePackage(lib, meta({ pkgname: 'libdep', pkgbase: 'libdep', pkgver: '2.1', provides: ['libdep.so=2-64'] }), BI, out, EPOCH);
    const appPkg = await writePackage(app, meta({ pkgname: 'app', pkgbase: 'app', arch: 'any', depends: ['libdep>=2', 'libdep.so=2-64'], conflicts: ['app-git'], replaces: ['old-app'] }), BI, out, EPOCH);

    const alone = pacmanRoot(path.join(tmp, 'dep', 'alone'), 'aarch64');
    const refused = await alone.pacman('--noscriptlet', '-U', appPkg.file);
    assert.notEqual(refused.code, 0);
    assert.match(refused.out, /unable to satisfy dependency 'libdep>=2' required by app/);

    const p = pacmanRoot(path.join(tmp, 'dep', 'both'), 'aarch64');
    const u = await p.pacman('--noscriptlet', '-U', appPkg.file, libPkg.file);
    assert.equal(u.code, 0, u.out);
    const qi = await p.pacman('-Qi', 'app');
    assert.match(qi.out, /^Depends On\s+: libdep>=2  libdep\.so=2-64$/m);
    assert.match(qi.out, /^Conflicts With\s+: app-git$/m);
    assert.match(qi.out, /^Replaces\s+: old-app$/m);
    assert.match(qi.out, /^Architecture\s+: any$/m);
    assert.match((await p.pacman('-Qi', 'libdep')).out, /^Required By\s+: app$/m);
    const qkk = await p.pacman('-Qkk');
    assert.equal(qkk.code, 0, qkk.out);
    assert.match(qkk.out, /app: 3 total files, 0 altered files/);
  });

  it('groups, optdepends, backup and provides: pacman -Qii shows them, an edited backup file survives an upgrade (.pacnew), a conflict is refused', { skip: needRoot }, async () => {
    const base = path.join(tmp, 'meta');
    const out = path.join(base, 'out');
    const conf = (dir: string, text: string) => smallTree(dir, 'etc/cfg/cfg.conf', text);
    const tree1 = path.join(base, 'cfg1');
    conf(tree1, 'level=1\n');
    smallTree(tree1, 'usr/bin/cfg', 'cfg\n');
    const cfgMeta = { pkgname: 'cfg', pkgbase: 'cfg', provides: ['virt=1.0'], groups: ['grp', 'base-demo'], optdepends: ['bash:   for   the scripts', 'less'], backup: ['etc/cfg/cfg.conf'], conflicts: ['other'] };
    const cfg1 = await writePackage(tree1, meta(cfgMeta), BI, out, EPOCH);
    const tree2 = path.join(base, 'cfg2');
    conf(tree2, 'level=2\n');
    smallTree(tree2, 'usr/bin/cfg', 'cfg\n');
    const cfg2 = await writePackage(tree2, meta({ ...cfgMeta, pkgrel: 2 }), BI, out, EPOCH);
    const userTree = path.join(base, 'user');
    smallTree(userTree, 'usr/bin/user', 'user\n');
    const user = await writePackage(userTree, meta({ pkgname: 'user', pkgbase: 'user', depends: ['virt>=1'] }), BI, out, EPOCH);
    const otherTree = path.join(base, 'other');
    smallTree(otherTree, 'usr/bin/other', 'other\n');
    const other = await writePackage(otherTree, meta({ pkgname: 'other', pkgbase: 'other' }), BI, out, EPOCH);
    // A backup entry that names no file of the package is the recipe's mistake: nothing written.
    await assert.rejects(writePackage(tree1, meta({ ...cfgMeta, pkgname: 'bad', backup: ['etc/cfg/missing.conf'] }), BI, out, EPOCH), /meta\.backup: "etc\/cfg\/missing\.conf" is not in the package/);
    await assert.rejects(writePackage(tree1, meta({ ...cfgMeta, pkgname: 'bad', backup: ['etc/cfg'] }), BI, out, EPOCH), /meta\.backup: "etc\/cfg" is a dir, not a regular file/);
    assert.ok(!readdirSync(out).some((f) => f.startsWith('bad-')), 'no package file for a bad backup entry');

    const p = pacmanRoot(path.join(base, 'root'), 'aarch64');
    const u = await p.pacman('--noscriptlet', '-U', cfg1.file, user.file);
    assert.equal(u.code, 0, `a dependency on the provided name is met: ${u.out}`);
    const qii = await p.pacman('-Qii', 'cfg');
    assert.equal(qii.code, 0, qii.out);
    assert.match(qii.out, /^Groups\s+: grp  base-demo$/m);
    assert.match(qii.out, /^Provides\s+: virt=1\.0$/m);
    assert.match(qii.out, /^Optional Deps\s+: bash: for the scripts\n\s+less$/m);
    assert.match(qii.out, /^Conflicts With\s+: other$/m);
    assert.match(qii.out, /^Required By\s+: user$/m);
    assert.match(qii.out, /^Backup Files\s+:\nUNMODIFIED\t\S+\/root\/etc\/cfg\/cfg\.conf$/m);
    assert.match((await p.pacman('-Qg', 'grp')).out, /^grp cfg$/m);

    writeFileSync(path.join(p.root, 'etc/cfg/cfg.conf'), 'level=1\nmine=1\n');
    assert.match((await p.pacman('-Qii', 'cfg')).out, /^MODIFIED\t\S+\/root\/etc\/cfg\/cfg\.conf$/m);
    const up = await p.pacman('--noscriptlet', '-U', cfg2.file);
    assert.equal(up.code, 0, up.out);
    assert.match(up.out, /^warning: \S+\/root\/etc\/cfg\/cfg\.conf installed as \S+\/root\/etc\/cfg\/cfg\.conf\.pacnew$/m);
    assert.equal(readFileSync(path.join(p.root, 'etc/cfg/cfg.conf'), 'utf8'), 'level=1\nmine=1\n', 'the edited file is kept');
    assert.equal(readFileSync(path.join(p.root, 'etc/cfg/cfg.conf.pacnew'), 'utf8'), 'level=2\n');

    const clash = await p.pacman('--noscriptlet', '-U', other.file);
    assert.notEqual(clash.code, 0, clash.out);
    assert.match(clash.out, /other and cfg are in conflict/);
  });

  it('adds packages to a repository with repo-add, concurrently, and pacman -Sy/-S installs from it', { skip: needRoot }, async () => {
    const base = path.join(tmp, 'repo');
    const repoDir = path.join(base, 'x86_64');
    const built: string[] = [];
    for (const [name, deps] of [['alpha', ['beta']], ['beta', []], ['gamma', []]] as const) {
      const dir = path.join(base, 'trees', name);
      smallTree(dir, `usr/share/${name}/dätä`, `${name}\n`);
      built.push((await writePackage(dir, meta({ pkgname: name, pkgbase: name, arch: 'x86_64', depends: [...deps] }), BI, path.join(base, 'out'), EPOCH)).file);
    }
    // Three tasks at once, one of them adding a package another adds too.
    await Promise.all([addToRepository(repoDir, 'nxdistro', [built[0]]), addToRepository(repoDir, 'nxdistro', [built[1], built[0]]), addToRepository(repoDir, 'nxdistro', [built[2]])]);
    const entries = (await run('bsdtar', ['-tf', path.join(repoDir, 'nxdistro.db.tar.zst')])).out.split('\n').filter((l) => l.endsWith('/desc'));
    assert.deepEqual(entries.sort(), ['alpha-1.0-1/desc', 'beta-1.0-1/desc', 'gamma-1.0-1/desc']);
    assert.equal(readlinkSync(path.join(repoDir, 'nxdistro.db')), 'nxdistro.db.tar.zst');
    assert.ok(existsSync(path.join(repoDir, 'nxdistro.files.tar.zst')));
    assert.deepEqual(readdirSync(repoDir).filter((f) => f.startsWith('.') && !f.endsWith('.lock')), [], 'no temporary files');
    const filesDb = await run('bsdtar', ['-xOf', path.join(repoDir, 'nxdistro.files.tar.zst')]);
    assert.match(filesDb.out, /^usr\/share\/alpha\/dätä$/m, 'non-ASCII names listed as such in the .files database');

    // A new release replaces the entry and (-R) the old file.
    const dir = path.join(base, 'trees', 'gamma');
    const gamma2 = await writePackage(dir, meta({ pkgname: 'gamma', pkgbase: 'gamma', pkgrel: 2, arch: 'x86_64' }), BI, path.join(base, 'out'), EPOCH);
    await addToRepository(repoDir, 'nxdistro', [gamma2.file]);
    assert.equal(existsSync(path.join(repoDir, 'gamma-1.0-1-x86_64.pkg.tar.zst')), false);
    assert.ok(existsSync(path.join(repoDir, 'gamma-1.0-2-x86_64.pkg.tar.zst')));

    const p = pacmanRoot(path.join(base, 'client'), 'x86_64', [{ name: 'nxdistro', dir: repoDir }]);
    const sy = await p.pacman('-Sy');
    assert.equal(sy.code, 0, sy.out);
    const s = await p.pacman('--noscriptlet', '-S', 'alpha', 'gamma');
    assert.equal(s.code, 0, s.out);
    const q = await p.pacman('-Q');
    assert.equal(q.out.trim(), 'alpha 1.0-1\nbeta 1.0-1\ngamma 1.0-2');
    assert.equal(readFileSync(path.join(p.root, 'usr/share/beta/dätä'), 'utf8'), 'beta\n');
    const qkk = await p.pacman('-Qkk');
    assert.equal(qkk.code, 0, qkk.out);
  });

  it('extracts into the store once (read-only, no metadata files, .PKGINFO beside) and stages a sysroot of hard links', async () => {
    const store = path.join(tmp, 'store');
    const [d1, d2] = await Promise.all([extractedPackage(store, demoFile), extractedPackage(store, demoFile)]);
    const sum = createHash('sha256').update(readFileSync(demoFile)).digest('hex');
    assert.equal(d1, path.join(store, sum));
    assert.equal(d2, d1);
    assert.equal(await extractedPackage(store, demoFile), d1, 'a hit');
    assert.deepEqual(readdirSync(d1).sort(), ['etc', 'lib', 'usr', 'var']);
    assert.match(readFileSync(path.join(store, `${sum}.PKGINFO`), 'utf8'), /^pkgname = demo$/m);
    const manifest = readFileSync(path.join(store, `${sum}.files`), 'utf8');
    assert.ok(manifest.startsWith('d\0'), 'folders first');
    assert.ok(manifest.includes('\0l\0lib/ld-demo.so.1\0/usr/lib/libdemo.so.1.0\0'));
    assert.ok(manifest.includes('\0f\0usr/bin/hello-alias\0'));
    assert.equal(statSync(path.join(store, `${sum}.files`)).mode & 0o777, 0o444);
    assert.deepEqual(readdirSync(path.join(store, 'tmp')), []);
    const mode = (rel: string) => lstatSync(path.join(d1, rel)).mode & 0o7777;
    assert.equal(mode('usr/bin/hello'), 0o555);
    assert.equal(mode('usr/bin/su-helper'), 0o555, 'setuid dropped');
    assert.equal(mode('etc/demo.conf'), 0o444);
    assert.equal(mode('usr/share/doc/demo/README'), 0o444);
    assert.equal(statSync(path.join(d1, 'usr/bin/hello-alias')).ino, statSync(path.join(d1, 'usr/bin/hello')).ino);
    assert.equal(readlinkSync(path.join(d1, 'lib/ld-demo.so.1')), '/usr/lib/libdemo.so.1.0');
    assert.equal(readFileSync(path.join(d1, LONG), 'utf8'), 'long\n');
    assert.equal(readFileSync(path.join(d1, 'usr/share/demo/long-link'), 'utf8'), 'long\n');
    assert.ok(readFileSync(path.join(d1, 'usr/lib/libdemo.a')).equals(BIG_CONTENT));
    assert.equal(statSync(path.join(d1, 'usr/share/demo/old-file')).mtimeMs / 1000, OLD);

    const other = path.join(tmp, 'store-other');
    smallTree(other, 'usr/include/other.h', 'other\n');
    smallTree(other, 'usr/lib/pkgconfig/demo.pc', 'a conflicting copy\n');
    const otherPkg = await writePackage(other, meta({ pkgname: 'other', pkgbase: 'other' }), BI, path.join(tmp, 'out'), EPOCH);
    const d3 = await extractedPackage(store, otherPkg.file);
    const sysroot = path.join(tmp, 'sysroots', 'aarch64');
    const staged = await stageSysroot(sysroot, [d1, d3]);
    assert.deepEqual(staged.conflicts, [`usr/lib/pkgconfig/demo.pc: ${d1}, also in ${d3}`]);
    assert.equal(staged.files, 19 + 1);
    assert.equal(statSync(path.join(sysroot, 'usr/lib/libdemo.so.1.0')).ino, statSync(path.join(d1, 'usr/lib/libdemo.so.1.0')).ino);
    assert.equal(readFileSync(path.join(sysroot, 'usr/lib/pkgconfig/demo.pc'), 'utf8'), 'Name: demo\nVersion: 1.0\nLibs: -ldemo\n');
    assert.equal(readlinkSync(path.join(sysroot, 'usr/lib/libdemo.so')), 'libdemo.so.1');
  });

  it('refuses a package that would write outside the store tree', async () => {
    const p = tarPack();
    p.entry({ name: '.PKGINFO', size: 15 }, 'pkgname = evil\n');
    p.entry({ name: 'usr/../../escaped', size: 1 }, 'x');
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    const evil = path.join(tmp, 'evil-1-1-any.pkg.tar.zst');
    writeFileSync(evil, Buffer.from((await execa('zstd', ['-q', '-c'], { input: Buffer.concat(chunks), encoding: 'buffer' })).stdout));
    const store = path.join(tmp, 'store-evil');
    await assert.rejects(extractedPackage(store, evil), /entry "usr\/\.\.\/\.\.\/escaped": "\.\." in .* leaves the tree/);
    assert.equal(existsSync(path.join(tmp, 'escaped')), false);
    assert.deepEqual(readdirSync(store).sort(), ['locks', 'tmp']);
    assert.deepEqual(readdirSync(path.join(store, 'tmp')), []);
  });
});
