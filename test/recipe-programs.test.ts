/**
 * The base-system recipes of issue 20 part 6, end to end: c-ares, libjpeg-turbo and pcre2 (cmake),
 * pkgconf and libpsl (meson), bzip2 (make), and m4, sed, grep, gzip, diffutils, findutils, gawk,
 * gmp, mpfr, mpc, tar, bash, coreutils, file, libarchive, less, bc, patch, gperf and cpio
 * (gnu-configure, imported from Debian with the generator and edited) cross-built with Debian's
 * cross compilers, every package of each build unpacked, and each recipe's programs run under QEMU
 * user emulation with the toolchain's C library (`QEMU_LD_PREFIX`) and the packages' own libraries
 * on real input: a DNS answer from a server this test runs, an image through JPEG and back, .pc
 * files, macros, text, compressed bytes, diffs, a folder tree, archives, scripts, big numbers (a
 * program compiled against gmp, mpfr and mpc), magic numbers, regular expressions and a generated
 * hash function. aarch64 is in `npm test`; riscv64 runs the same
 * checks in the full tier; the quick tier builds and runs one recipe of each style ({@link QUICK}).
 * The workspace shares the run's cache (`shareRunCache`); the file's name sorts after
 * build.test.ts, which asserts that none of its builds (every recipe, in the full tier) is a hit.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { FULL, FULL_ONLY, fullOnly } from './helpers/tier';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

/** The recipes under test, copied from recipes/ with {@link DEPENDENCIES}. */
const RECIPES = [
  'c-ares', 'libjpeg-turbo', 'pkgconf', 'libpsl', 'm4', 'sed', 'grep', 'gzip', 'diffutils', 'findutils', 'gawk', 'bzip2',
  'expat', 'fribidi', 'json-c', 'fuse3',
  'gmp', 'mpfr', 'mpc', 'tar', 'bash', 'coreutils', 'file', 'libarchive', 'pcre2', 'less', 'bc', 'patch', 'gperf', 'cpio',
];
/**
 * What they need from recipes/ (makedepends, depends and makedepends_build of the full tier's
 * recipes): readline (gawk, bc) and its ncurses (bash, less), and the compression libraries of
 * file and libarchive.
 */
const DEPENDENCIES = ['readline', 'ncurses', 'xz', 'zlib', 'lz4', 'zstd'];
/**
 * What the quick tier builds and runs, for aarch64: one recipe of each style (cmake, meson, an
 * imported gnu-configure one, make), about 80 s of builds; the full tier builds and runs every one
 * of {@link RECIPES} for both targets (test/helpers/tier.ts: the quick tier's budget cannot build
 * every recipe a distribution adds).
 */
const QUICK = ['c-ares', 'pkgconf', 'm4', 'bzip2'];
/** The installed shell scripts whose first line is checked, by recipe. */
const SCRIPTS: Record<string, string[]> = { grep: ['egrep', 'fgrep'], gzip: ['gunzip', 'zcat', 'zgrep', 'zdiff', 'gzexe'], findutils: ['updatedb'], bzip2: ['bzgrep', 'bzdiff', 'bzmore'] };

const TARGETS = [
  { name: 'aarch64', qemu: 'qemu-aarch64-static', sysroot: '/usr/aarch64-linux-gnu', cc: 'aarch64-linux-gnu-gcc', tier: {} },
  { name: 'riscv64', qemu: 'qemu-riscv64-static', sysroot: '/usr/riscv64-linux-gnu', cc: 'riscv64-linux-gnu-gcc', tier: fullOnly() },
] as const;

/** Each recipe's `version:`, read from the repository's recipe (what `--version` must print). */
const version = (name: string) => readFileSync(path.join(REPO_ROOT, 'recipes', name, 'recipe.yaml'), 'utf8').match(/^version: "?([^"\n]+)"?$/m)![1];

/**
 * A one-question DNS server on 127.0.0.1 (a random UDP port) answering every A query for `name`
 * with `address`, and NXDOMAIN for any other name: what adig is pointed at.
 */
async function dnsServer(name: string, address: string): Promise<{ port: number; queries: string[]; close(): void }> {
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, peer) => {
    // Header (12 bytes), then the question: labels, a zero byte, QTYPE, QCLASS.
    let at = 12;
    const labels: string[] = [];
    while (msg[at] !== 0) {
      labels.push(msg.subarray(at + 1, at + 1 + msg[at]).toString('latin1'));
      at += msg[at] + 1;
    }
    const questionEnd = at + 5;
    const qname = labels.join('.');
    const qtype = msg.readUInt16BE(at + 1);
    queries.push(`${qname} ${qtype}`);
    const found = qname.toLowerCase() === name && qtype === 1;
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // the query's id
    header.writeUInt16BE(0x8180 | (found ? 0 : 3), 2); // response, recursion desired and available; NXDOMAIN when not found
    header.writeUInt16BE(1, 4); // one question
    header.writeUInt16BE(found ? 1 : 0, 6); // one answer
    const answer = found
      ? Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1]), Buffer.from([0, 0, 0x0e, 0x10, 0, 4]), Buffer.from(address.split('.').map(Number))])
      : Buffer.alloc(0);
    socket.send(Buffer.concat([header, msg.subarray(12, questionEnd), answer]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, queries, close: () => socket.close() };
}

/** A P6 (binary PPM) image of `width` x `height` with smooth gradients: what cjpeg reads. */
function ppm(width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = Math.round((x * 255) / (width - 1));
      pixels[i + 1] = Math.round((y * 255) / (height - 1));
      pixels[i + 2] = 128;
    }
  return Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`), pixels]);
}

/** Splits a P6 image into its size and pixel bytes. */
function readPpm(data: Buffer): { width: number; height: number; pixels: Buffer } {
  const m = data.subarray(0, 32).toString('latin1').match(/^P6\s+(\d+)\s+(\d+)\s+255\s/);
  assert.ok(m, `a P6 image, got ${JSON.stringify(data.subarray(0, 16).toString('latin1'))}`);
  return { width: Number(m[1]), height: Number(m[2]), pixels: data.subarray(m[0].length) };
}

describe('base-system recipes (cmake, meson, gnu-configure imported from Debian) run under QEMU', () => {
  let ws: TestWorkspace;
  let scratch: string;
  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    for (const r of [...RECIPES, ...DEPENDENCIES]) cpSync(path.join(REPO_ROOT, 'recipes', r), path.join(ws.root, 'recipes', r), { recursive: true });
    scratch = mkdtempSync(path.join(tmpdir(), 'nx-distro-base-recipes-'));
  });
  after(() => {
    ws.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const target of TARGETS) {
    describe(target.name, target.tier, () => {
      /** The recipes this tier builds for this target, and their dependencies from recipes/. */
      const names = FULL ? RECIPES : QUICK;
      const dependencies = FULL ? DEPENDENCIES : [];
      /** `{ skip }` for a case about one recipe: run when this tier builds it. */
      const only = (name: string) => ({ skip: names.includes(name) ? false : FULL_ONLY });
      let rootfs = '';
      let built = false;
      /**
       * Runs a program of the unpacked packages under QEMU with the toolchain's C library: its
       * exit status, its output as text (stdout, stderr), and stdout's bytes (`binary`: read as
       * bytes, no final newline stripped).
       */
      const run = async (program: string, args: string[], options: { input?: string | Buffer; cwd?: string; env?: Record<string, string>; binary?: boolean } = {}) => {
        const r = await execa(target.qemu, [path.join(rootfs, program), ...args], {
          input: options.input ?? '',
          cwd: options.cwd,
          reject: false,
          encoding: options.binary ? 'buffer' : 'utf8',
          stripFinalNewline: !options.binary,
          env: { QEMU_LD_PREFIX: target.sysroot, LD_LIBRARY_PATH: path.join(rootfs, 'usr/lib'), LC_ALL: 'C', ...options.env },
          extendEnv: false,
        });
        const raw = typeof r.stdout === 'string' ? Buffer.from(r.stdout) : Buffer.from(r.stdout as Uint8Array);
        return { exitCode: r.exitCode, stdout: raw.toString('utf8'), stderr: Buffer.from(r.stderr as string | Uint8Array).toString('utf8'), raw };
      };
      /**
       * Compiles `source` (C) with the target's cross compiler against the unpacked packages'
       * headers and libraries (`-I<rootfs>/usr/include` plus `includes` under it, `-l` for each of
       * `libs`), then runs the program under QEMU like {@link run}.
       */
      const compileAndRun = async (name: string, source: string, libs: string[], includes: string[] = []) => {
        const dir = workdir(name);
        writeFileSync(path.join(dir, `${name}.c`), source);
        const include = path.join(rootfs, 'usr/include');
        const lib = path.join(rootfs, 'usr/lib');
        const cc = await execa(target.cc, ['-o', name, `${name}.c`, `-I${include}`, ...includes.map((i) => `-I${path.join(include, i)}`), `-L${lib}`, `-Wl,-rpath-link,${lib}`, ...libs.map((l) => `-l${l}`)], { cwd: dir, reject: false, all: true });
        assert.equal(cc.exitCode, 0, cc.all);
        return execa(target.qemu, [path.join(dir, name)], { reject: false, env: { QEMU_LD_PREFIX: target.sysroot, LD_LIBRARY_PATH: lib }, extendEnv: false });
      };
      /** A binary run's output as a Buffer. */
      const bytes = (r: { raw: Buffer }) => r.raw;
      /** A fresh folder for one case's files. */
      const workdir = (name: string) => {
        const dir = path.join(scratch, target.name, name);
        mkdirSync(dir, { recursive: true });
        return dir;
      };

      it(`builds ${names.join(', ')} for ${target.name} and unpacks every package`, async () => {
        const started = Date.now();
        const r = await ws.nx('run-many', '-t', 'build', '-c', target.name, `--projects=${names.join(',')}`, '--output-style=static');
        assert.equal(r.exitCode, 0, r.all.slice(-6000));
        console.log(`# ${names.length} recipes for ${target.name}: ${((Date.now() - started) / 1000).toFixed(0)} s (or from the run's cache)`);
        rootfs = path.join(ws.root, `rootfs-${target.name}`);
        mkdirSync(rootfs);
        for (const name of [...names, ...dependencies]) {
          const dir = path.join(ws.root, 'dist', target.name, 'packages', name);
          const pkgs = readdirSync(dir).filter((f) => f.endsWith('.pkg.tar.zst')).sort();
          assert.ok(pkgs.length, `${name}: a package in ${dir}`);
          for (const pkg of pkgs) await execa('bsdtar', ['-xf', path.join(dir, pkg), '-C', rootfs, '--exclude', '.*']);
        }
        // Each ELF program is for the target's machine (not the build machine's).
        const file = await execa('file', ['-b', path.join(rootfs, 'usr/bin/m4'), path.join(rootfs, 'usr/bin/pkgconf')]);
        for (const line of file.stdout.split('\n')) assert.match(line, target.name === 'aarch64' ? /ARM aarch64/ : /RISC-V/, line);
        built = true;
      });

      it("the installed scripts start with #!/bin/sh (configure's CONFIG_SHELL), not the build machine's bash", async (t) => {
        if (!built) return t.skip('the build failed');
        const scripts = names.flatMap((n) => SCRIPTS[n] ?? []);
        for (const s of scripts) assert.match(readFileSync(path.join(rootfs, 'usr/bin', s), 'utf8'), /^#! ?\/bin\/sh\n/, s);
        // And no manual page is a stub of a cross build's dummy help2man.
        const man1 = path.join(rootfs, 'usr/share/man/man1');
        const stubs = readdirSync(man1).filter((f) => readFileSync(path.join(man1, f), 'utf8').includes('We were unable to create a proper manual page'));
        assert.deepEqual(stubs, []);
      });

      it("nx-distro lint: no finding on the packages but the compile flags and build folder some recorded as text (gawkbug, gmp.h, bashbug, bash's Makefile.inc)", async (t) => {
        if (!built) return t.skip('the build failed');
        const r = await ws.bin('nx-distro', 'lint', target.name, ...names);
        assert.equal(r.exitCode, 0, r.all);
        // The findings the recipes justify (each recipe's comment says why): text that records the
        // build's CFLAGS, with -ffile-prefix-map=/build/src=., or bash's build folder for loadables.
        const expected: Record<string, string[]> = {
          gawk: ['gawk: "/usr/bin/gawkbug": mentions the build sandbox path "/build/src" [warning build-reference]'],
          gmp: ['gmp-dev: "/usr/include/gmp.h": mentions the build sandbox path "/build/src" [warning build-reference]'],
          bash: ['bash: "/usr/bin/bashbug": mentions the build sandbox path "/build/src" [warning build-reference]', 'bash: "/usr/lib/bash/Makefile.inc": mentions the build sandbox path "/build/src", "/build/sysroot" [warning build-reference]'],
        };
        const findings = r.all.split('\n').filter((l) => /\[(warning|error) /.test(l));
        assert.deepEqual(findings.map((l) => l.replace(/;.*/, '')).sort(), names.flatMap((n) => expected[n] ?? []).sort(), r.all);
        if (names.includes('gawk')) assert.match(readFileSync(path.join(rootfs, 'usr/bin/gawkbug'), 'utf8'), /^CFLAGS=".* -ffile-prefix-map=\/build\/src=\. .*"$/m);
        if (names.includes('gmp')) assert.match(readFileSync(path.join(rootfs, 'usr/include/gmp.h'), 'utf8'), /^#define __GMP_CFLAGS ".* -ffile-prefix-map=\/build\/src=\. ?.*"$/m);
      });

      it('c-ares (cmake): adig asks a DNS server (run by this test) and prints its answer', only('c-ares'), async (t) => {
        if (!built) return t.skip('the build failed');
        const address = `192.0.2.${1 + Math.floor(Math.random() * 250)}`;
        const server = await dnsServer('base-recipes.nx-distro.test', address);
        try {
          const r = await run('usr/bin/adig', ['-s', '127.0.0.1', '-U', String(server.port), '-t', 'A', 'base-recipes.nx-distro.test']);
          assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
          assert.match(r.stdout, new RegExp(`^\\s*base-recipes\\.nx-distro\\.test\\.\\s+3600\\s+A\\s+${address.replace(/\./g, '\\.')}$`, 'm'), r.stdout);
          assert.deepEqual(server.queries, ['base-recipes.nx-distro.test 1']);
          const missing = await run('usr/bin/adig', ['-s', '127.0.0.1', '-U', String(server.port), 'absent.nx-distro.test']);
          assert.match(`${missing.stdout}${missing.stderr}`, /NXDOMAIN/, missing.stdout);
        } finally {
          server.close();
        }
      });

      it('libjpeg-turbo (cmake): cjpeg, jpegtran and djpeg take an image through JPEG and back', only('libjpeg-turbo'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('jpeg');
        const source = ppm(64, 48);
        writeFileSync(path.join(dir, 'in.ppm'), source);
        const jpeg = await run('usr/bin/cjpeg', ['-quality', '95', '-outfile', 'out.jpg', 'in.ppm'], { cwd: dir });
        assert.equal(jpeg.exitCode, 0, jpeg.stderr);
        const jpegFile = readFileSync(path.join(dir, 'out.jpg'));
        assert.deepEqual([...jpegFile.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG file');
        assert.ok(jpegFile.length < source.length, `compressed: ${jpegFile.length} < ${source.length} bytes`);
        const back = await run('usr/bin/djpeg', ['-pnm', 'out.jpg'], { cwd: dir, binary: true });
        assert.equal(back.exitCode, 0, String(back.stderr));
        const img = readPpm(bytes(back));
        assert.deepEqual([img.width, img.height], [64, 48]);
        const original = readPpm(source).pixels;
        assert.equal(img.pixels.length, original.length);
        let error = 0;
        for (let i = 0; i < original.length; i++) error += Math.abs(img.pixels[i] - original[i]);
        const mean = error / original.length;
        assert.ok(mean < 3, `the decoded image is close to the original: mean error ${mean.toFixed(2)} per sample`);
        const rotated = await run('usr/bin/jpegtran', ['-rotate', '90', '-outfile', 'rot.jpg', 'out.jpg'], { cwd: dir });
        assert.equal(rotated.exitCode, 0, rotated.stderr);
        const rot = readPpm(bytes(await run('usr/bin/djpeg', ['-pnm', 'rot.jpg'], { cwd: dir, binary: true })));
        assert.deepEqual([rot.width, rot.height], [48, 64], 'rotated a quarter turn');
        const v = await run('usr/bin/cjpeg', ['-version']);
        assert.match(v.stderr, new RegExp(`^libjpeg-turbo version ${version('libjpeg-turbo').replace(/\./g, '\\.')} \\(build \\d{8}\\)$`, 'm'), v.stderr);
      });

      it('pkgconf (meson): reads .pc files, resolves Requires, compares versions', only('pkgconf'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('pkgconf');
        writeFileSync(path.join(dir, 'foo.pc'), 'prefix=/opt/foo\nincludedir=${prefix}/include\nlibdir=${prefix}/lib\n\nName: foo\nDescription: a test library\nVersion: 2.3.4\nRequires: libpkgconf\nCflags: -I${includedir} -DFOO=1\nLibs: -L${libdir} -lfoo\n');
        const env = { PKG_CONFIG_PATH: `${dir}:${path.join(rootfs, 'usr/lib/pkgconfig')}` };
        const mod = await run('usr/bin/pkgconf', ['--modversion', 'foo'], { env });
        assert.equal(mod.stdout, '2.3.4', mod.stderr);
        const flags = await run('usr/bin/pkgconf', ['--cflags', '--libs', 'foo'], { env });
        assert.equal(flags.exitCode, 0, flags.stderr);
        // foo's own flags and those of libpkgconf.pc (pkgconf-dev), which foo requires, without
        // -L/usr/lib: the system library folder built in (Meson's prefix and libdir) is left out.
        assert.equal(flags.stdout.trim(), '-I/opt/foo/include -DFOO=1 -I/usr/include/pkgconf -DPKGCONFIG_IS_NOT_STATIC -L/opt/foo/lib -lfoo -lpkgconf');
        assert.equal((await run('usr/bin/pkgconf', ['--exists', 'foo >= 2.3'], { env })).exitCode, 0);
        assert.equal((await run('usr/bin/pkgconf', ['--exists', 'foo > 2.3.4'], { env })).exitCode, 1);
        assert.equal((await run('usr/bin/pkgconf', ['--exists', 'bar'], { env })).exitCode, 1);
        // The search path built in: the installed system's folders (Meson's libdir, datadir).
        const pcPath = await run('usr/bin/pkgconf', ['--variable=pc_path', 'pkg-config']);
        assert.equal(pcPath.stdout, '/usr/lib/pkgconfig:/usr/share/pkgconfig');
        assert.equal((await run('usr/bin/pkgconf', ['--version'])).stdout, version('pkgconf'));
      });

      it('libpsl (meson): psl finds registrable domains with its built-in list, no IDN runtime', only('libpsl'), async (t) => {
        if (!built) return t.skip('the build failed');
        const r = await run('usr/bin/psl', ['--print-reg-domain'], { input: 'www.example.co.uk\nfoo.github.io\na.b.example.com\ncom\n' });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout, 'www.example.co.uk: example.co.uk\nfoo.github.io: foo.github.io\na.b.example.com: example.com\ncom: (null)');
        const pub = await run('usr/bin/psl', ['co.uk', 'example.co.uk', 'github.io']);
        assert.equal(pub.stdout, 'co.uk: 1\nexample.co.uk: 0\ngithub.io: 1');
        const info = await run('usr/bin/psl', ['--print-info']);
        const suffixes = Number(info.stdout.match(/^builtin suffixes: (\d+)$/m)?.[1]);
        assert.ok(suffixes > 5000, `the built-in list has the Public Suffix List's entries: ${info.stdout}`);
        assert.match(info.stdout, /^dist filename: $/m, 'no distribution-wide list file compiled in');
      });

      it('m4 (gnu-configure, imported): expands macros, recursion and eval', only('m4'), async (t) => {
        if (!built) return t.skip('the build failed');
        const input = "define(`greet', `Hello, $1!')greet(`world')\ndefine(`fact', `ifelse($1, 0, 1, `eval($1 * fact(decr($1)))')')fact(6)\ntranslit(`base recipes', `a-z', `A-Z')\n";
        const r = await run('usr/bin/m4', [], { input });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout, 'Hello, world!\n720\nBASE RECIPES');
        const v = await run('usr/bin/m4', ['--version']);
        assert.match(v.stdout, new RegExp(`^m4 \\(GNU M4\\) ${version('m4').replace(/\./g, '\\.')}$`, 'm'));
      });

      it('sed (gnu-configure, imported): substitutes with groups, edits a file in place', only('sed'), async (t) => {
        if (!built) return t.skip('the build failed');
        const r = await run('usr/bin/sed', ['-E', 's/([a-z]+)=([0-9]+)/\\2:\\1/g; /^#/d'], { input: '# comment\nalpha=1 beta=22\ngamma=333\n' });
        assert.equal(r.stdout, '1:alpha 22:beta\n333:gamma');
        const dir = workdir('sed');
        writeFileSync(path.join(dir, 'conf'), 'PREFIX=/usr/local\nJOBS=1\n');
        const inPlace = await run('usr/bin/sed', ['-i.orig', '-e', 's|^PREFIX=.*|PREFIX=/usr|', '-e', '$a DONE=yes', 'conf'], { cwd: dir });
        assert.equal(inPlace.exitCode, 0, inPlace.stderr);
        assert.equal(readFileSync(path.join(dir, 'conf'), 'utf8'), 'PREFIX=/usr\nJOBS=1\nDONE=yes\n');
        assert.equal(readFileSync(path.join(dir, 'conf.orig'), 'utf8'), 'PREFIX=/usr/local\nJOBS=1\n');
        // sed names itself by argv[0], here the unpacked path.
        assert.match((await run('usr/bin/sed', ['--version'])).stdout, new RegExp(`^\\S*/usr/bin/sed \\(GNU sed\\) ${version('sed')}$`, 'm'));
        // The shipped manual page, not the stub upstream's Makefile writes in a cross build.
        const man = readFileSync(path.join(rootfs, 'usr/share/man/man1/sed.1'), 'utf8');
        assert.match(man, /generated by help2man/);
        assert.match(man, /^edit files in place \(makes backup if SUFFIX supplied\)$/m);
        assert.doesNotMatch(man, /OOPS/);
      });

      it("grep (gnu-configure, imported): matches, counts, and Debian's backref fix holds", only('grep'), async (t) => {
        if (!built) return t.skip('the build failed');
        const text = 'apple pie\nbanana split\ncherry tart\napricot jam\n';
        assert.equal((await run('usr/bin/grep', ['-n', '^a'], { input: text })).stdout, '1:apple pie\n4:apricot jam');
        assert.equal((await run('usr/bin/grep', ['-c', '-E', 'an+a|rr'], { input: text })).stdout, '2');
        assert.equal((await run('usr/bin/grep', ['-o', '-w', '[a-z]*t'], { input: text })).stdout, 'split\ntart\napricot');
        const none = await run('usr/bin/grep', ['kiwi'], { input: text });
        assert.equal(none.exitCode, 1);
        // 1029235-grep-bug-backref-in-last-of-multiple-patterns.patch: grep 3.8 without it matches.
        const backref = await run('usr/bin/grep', ['-e', '^Total failed: 0$', '-e', '^Total failed: \\([0-9]*\\) (\\1 ignored)$'], { input: 'Total failed: 2 (1 ignored)\n' });
        assert.equal(backref.exitCode, 1, `no match: ${backref.stdout}`);
        const same = await run('usr/bin/grep', ['-e', '^Total failed: 0$', '-e', '^Total failed: \\([0-9]*\\) (\\1 ignored)$'], { input: 'Total failed: 3 (3 ignored)\n' });
        assert.equal(same.stdout, 'Total failed: 3 (3 ignored)');
        // egrep: upstream's wrapper script, with /bin/sh and without grep 3.8's obsolescence warning (Debian's patch).
        const egrep = readFileSync(path.join(rootfs, 'usr/bin/egrep'), 'utf8');
        assert.match(egrep, /^#!\/bin\/sh\n/);
        assert.doesNotMatch(egrep, /obsolescent/);
        assert.match(egrep, /exec grep -E "\$@"/);
      });

      it('gzip (gnu-configure, imported): compresses and decompresses bytes that round-trip', only('gzip'), async (t) => {
        if (!built) return t.skip('the build failed');
        const data = Buffer.alloc(200_000);
        for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
        const packed = await run('usr/bin/gzip', ['-9', '-n', '-c'], { input: data, binary: true });
        assert.equal(packed.exitCode, 0);
        const gz = bytes(packed);
        assert.deepEqual([...gz.subarray(0, 3)], [0x1f, 0x8b, 8], 'a gzip stream (deflate)');
        assert.ok(gz.length < data.length / 4, `compressed: ${gz.length} bytes of ${data.length}`);
        // node's zlib reads what gzip wrote, and gzip reads it back to the same bytes.
        assert.ok((await import('node:zlib')).gunzipSync(gz).equals(data));
        const unpacked = await run('usr/bin/gzip', ['-d', '-c'], { input: gz, binary: true });
        assert.ok(bytes(unpacked).equals(data), 'round trip');
        const corrupt = Buffer.from(gz);
        corrupt[gz.length - 6] ^= 0xff; // the CRC
        assert.equal((await run('usr/bin/gzip', ['-t'], { input: corrupt, binary: true })).exitCode, 1, 'a bad CRC is found');
      });

      it('bzip2 (make, imported): compresses and decompresses, bzcat through its link, a bad stream is found', only('bzip2'), async (t) => {
        if (!built) return t.skip('the build failed');
        const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i} ${'xyz'.repeat(i % 7)}\n`).join(''));
        const packed = await run('usr/bin/bzip2', ['-9', '-c'], { input: data, binary: true });
        assert.equal(packed.exitCode, 0);
        const bz = bytes(packed);
        assert.equal(bz.subarray(0, 4).toString('latin1'), 'BZh9', 'a bzip2 stream, 900k blocks');
        assert.ok(bz.length < data.length / 5, `compressed: ${bz.length} bytes of ${data.length}`);
        // bzcat is a link to bzip2, which decompresses to stdout when called by that name.
        const cat = await run('usr/bin/bzcat', [], { input: bz, binary: true });
        assert.ok(bytes(cat).equals(data), 'round trip through bzcat');
        const corrupt = Buffer.from(bz);
        corrupt[bz.length >> 1] ^= 0x55;
        assert.notEqual((await run('usr/bin/bzip2', ['-t'], { input: corrupt, binary: true })).exitCode, 0, 'a damaged block is found');
        // Debian's 20-legacy.patch: --version prints and exits instead of then reading stdin.
        const v = await run('usr/bin/bzip2', ['--version']);
        assert.equal(v.exitCode, 0);
        assert.match(v.stderr, new RegExp(`^bzip2, a block-sorting file compressor\\.  Version ${version('bzip2').replace(/\./g, '\\.')},`));
      });

      it('diffutils (gnu-configure, imported): diff -u and cmp on real files', only('diffutils'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('diff');
        writeFileSync(path.join(dir, 'a'), 'one\ntwo\nthree\nfour\n');
        writeFileSync(path.join(dir, 'b'), 'one\n2\nthree\nfour\nfive\n');
        const d = await run('usr/bin/diff', ['-u', '--label', 'a', '--label', 'b', 'a', 'b'], { cwd: dir });
        assert.equal(d.exitCode, 1, d.stderr);
        assert.equal(d.stdout, '--- a\n+++ b\n@@ -1,4 +1,5 @@\n one\n-two\n+2\n three\n four\n+five');
        assert.equal((await run('usr/bin/diff', ['a', 'a'], { cwd: dir })).exitCode, 0);
        const cmp = await run('usr/bin/cmp', ['a', 'b'], { cwd: dir });
        assert.equal(cmp.stdout, 'a b differ: char 5, line 2');
      });

      it("gawk (gnu-configure, imported): a report with arrays, printf and a pipe; Debian's field-assignment fix holds", only('gawk'), async (t) => {
        if (!built) return t.skip('the build failed');
        const program = '{ total[$1] += $2; n[$1]++ } END { for (k in total) printf "%s %d %.2f\\n", k, total[k], total[k] / n[k] | "sort" }';
        const r = await run('usr/bin/gawk', ['-F', ',', program], { input: 'pear,3\napple,10\npear,4\napple,5\nfig,1\n' });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout, 'apple 15 7.50\nfig 1 1.00\npear 7 3.50');
        // 0002-Fix-field-assignment-bug.patch: the test it adds (test/fieldassign.awk, .in, .ok).
        const fa = await run('usr/bin/gawk', ['gsub(/./, "@") && $0 = $1'], { input: 'abc\ndef\n' });
        assert.equal(fa.stdout, '@@@\n@@@');
        // A dynamic extension of the package (usr/lib/gawk/ordchr.so) loaded with -l.
        const ext = await run('usr/bin/gawk', ['-l', 'ordchr', 'BEGIN { print ord("A"), chr(122) }'], { env: { AWKLIBPATH: path.join(rootfs, 'usr/lib/gawk') } });
        assert.equal(ext.stdout, '65 z', ext.stderr);
        assert.match((await run('usr/bin/gawk', ['--version'])).stdout, new RegExp(`^GNU Awk ${version('gawk').replace(/\./g, '\\.')}, API`));
      });

      it('findutils (gnu-configure, imported): find selects files, xargs runs a command on them', only('findutils'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('find');
        for (const f of ['src/a.c', 'src/b.h', 'src/sub/c.c', 'doc/readme.txt']) {
          mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
          writeFileSync(path.join(dir, f), f);
        }
        const found = await run('usr/bin/find', ['.', '-type', 'f', '-name', '*.c', '-print'], { cwd: dir });
        assert.equal(found.exitCode, 0, found.stderr);
        assert.deepEqual(found.stdout.split('\n').sort(), ['./src/a.c', './src/sub/c.c']);
        const dirs = await run('usr/bin/find', ['.', '-mindepth', '1', '-type', 'd', '-printf', '%d %p\\n'], { cwd: dir });
        assert.deepEqual(dirs.stdout.split('\n').sort(), ['1 ./doc', '1 ./src', '2 ./src/sub']);
        // xargs runs the build machine's /bin/echo with the arguments it read, two at a time.
        const x = await run('usr/bin/xargs', ['-n', '2', '/bin/echo', 'args:'], { input: 'one two three\nfour five' });
        assert.equal(x.stdout, 'args: one two\nargs: three four\nargs: five');
      });

      it('gmp, mpfr and mpc (gnu-configure, imported, -dev splits): a program compiled against the -dev packages computes with all three', only('mpc'), async (t) => {
        if (!built) return t.skip('the build failed');
        // 30!, pi to 40 decimal digits, and the principal square root of -4 + 0i (2i).
        const r = await compileAndRun('mp', [
          '#include <stdio.h>',
          '#include <gmp.h>',
          '#include <mpfr.h>',
          '#include <mpc.h>',
          'int main(void) {',
          '  mpz_t f; mpz_init(f); mpz_fac_ui(f, 30); gmp_printf("%Zd\\n", f);',
          '  mpfr_t pi; mpfr_init2(pi, 200); mpfr_const_pi(pi, MPFR_RNDN); mpfr_printf("%.40Rf\\n", pi);',
          '  mpc_t z; mpc_init2(z, 100); mpc_set_si_si(z, -4, 0, MPC_RNDNN); mpc_sqrt(z, z, MPC_RNDNN);',
          '  mpfr_printf("%.3Rf %.3Rf\\n", mpc_realref(z), mpc_imagref(z));',
          '  printf("%s %s %s\\n", gmp_version, mpfr_get_version(), mpc_get_version());',
          '  return 0;',
          '}',
        ].join('\n'), ['mpc', 'mpfr', 'gmp']);
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout, `265252859812191058636308480000000\n3.1415926535897932384626433832795028841972\n0.000 2.000\n${version('gmp')} ${version('mpfr')} ${version('mpc')}`);
        // The headers came from the -dev packages, the runtime packages hold none.
        for (const name of ['gmp', 'mpfr', 'mpc']) {
          const pkgs = readdirSync(path.join(ws.root, 'dist', target.name, 'packages', name)).filter((f) => f.endsWith('.pkg.tar.zst'));
          const main = pkgs.find((f) => f.startsWith(`${name}-${version(name)}-`))!;
          const files = (await execa('bsdtar', ['-tf', path.join(ws.root, 'dist', target.name, 'packages', name, main)])).stdout.split('\n');
          assert.ok(files.some((f) => /^usr\/lib\/lib\w+\.so\.\d+/.test(f)), `${main} holds the shared library`);
          assert.deepEqual(files.filter((f) => f.startsWith('usr/include/') && !f.endsWith('/')), [], `${main} holds no header`);
          assert.ok(pkgs.some((f) => f.startsWith(`${name}-dev-`)), `${name}-dev is built`);
        }
      });

      it('tar (gnu-configure, imported): creates, lists and extracts an archive; --sort and --mtime make it byte-reproducible', only('tar'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('tar');
        mkdirSync(path.join(dir, 'in/sub'), { recursive: true });
        writeFileSync(path.join(dir, 'in/b.txt'), 'bee\n');
        writeFileSync(path.join(dir, 'in/sub/a.txt'), 'ay\n');
        const args = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-cf'];
        assert.equal((await run('usr/bin/tar', [...args, 'one.tar', 'in'], { cwd: dir })).exitCode, 0);
        assert.equal((await run('usr/bin/tar', [...args, 'two.tar', 'in'], { cwd: dir })).exitCode, 0);
        assert.ok(readFileSync(path.join(dir, 'one.tar')).equals(readFileSync(path.join(dir, 'two.tar'))), 'the same bytes twice');
        assert.equal((await run('usr/bin/tar', ['-tf', 'one.tar'], { cwd: dir })).stdout, 'in/\nin/b.txt\nin/sub/\nin/sub/a.txt');
        // The build machine's bsdtar reads what it wrote, and it extracts its own archive.
        assert.match((await execa('bsdtar', ['-tvf', path.join(dir, 'one.tar')])).stdout, /^-rw\S+\s+0 0\s+0\s+4 Jan  1  1970 in\/b\.txt$/m);
        mkdirSync(path.join(dir, 'out'));
        assert.equal((await run('usr/bin/tar', ['-xf', '../one.tar'], { cwd: path.join(dir, 'out') })).exitCode, 0);
        assert.equal(readFileSync(path.join(dir, 'out/in/sub/a.txt'), 'utf8'), 'ay\n');
        assert.match((await run('usr/bin/tar', ['--version'])).stdout, new RegExp(`^tar \\(GNU tar\\) ${version('tar').replace(/\./g, '\\.')}$`, 'm'));
      });

      it('bash (gnu-configure, imported): arrays, arithmetic, parameter expansion and a here-document', only('bash'), async (t) => {
        if (!built) return t.skip('the build failed');
        const script = 'declare -A n=([one]=1 [two]=2); a=(x y z); s="path/to/file.tar.gz"\necho "${#a[@]} ${a[-1]} $(( n[one] + n[two] * 10 ))"\necho "${s##*/} ${s%%.*} ${s//\\//:}"\nwhile read -r w; do printf "<%s>" "$w"; done <<EOF\nalpha\nbeta\nEOF\necho\n[[ "abc123" =~ ^([a-z]+)([0-9]+)$ ]] && echo "${BASH_REMATCH[2]}${BASH_REMATCH[1]}"\n';
        const r = await run('usr/bin/bash', ['-c', script]);
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout, '3 z 21\nfile.tar.gz path/to/file path:to:file.tar.gz\n<alpha><beta>\n123abc');
        assert.match((await run('usr/bin/bash', ['--version'])).stdout, new RegExp(`^GNU bash, version ${version('bash').replace(/\./g, '\\.')}\\(\\d+\\)-release \\(${target.name === 'aarch64' ? 'aarch64' : 'riscv64'}-`, 'm'));
      });

      it('coreutils (gnu-configure, imported): sort, sha256sum, date and factor with gmp for a 129-bit number', only('coreutils'), async (t) => {
        if (!built) return t.skip('the build failed');
        assert.equal((await run('usr/bin/sort', ['-t', ',', '-k2,2n', '-k1,1'], { input: 'b,10\na,2\nc,10\nd,1\n' })).stdout, 'd,1\na,2\nb,10\nc,10');
        assert.equal((await run('usr/bin/sha256sum', [], { input: 'abc' })).stdout, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -');
        assert.equal((await run('usr/bin/date', ['-u', '-d', '@1700000000', '+%Y-%m-%d %H:%M:%S %A'])).stdout, '2023-11-14 22:13:20 Tuesday');
        // 3^81 is 129 bits long: past 128 bits (two machine words), factor computes with gmp.
        assert.equal((await run('usr/bin/factor', [String(3n ** 81n)])).stdout, `${3n ** 81n}:${' 3'.repeat(81)}`);
        assert.match((await run('usr/bin/ls', ['--version'])).stdout, new RegExp(`^ls \\(GNU coreutils\\) ${version('coreutils').replace(/\./g, '\\.')}$`, 'm'));
      });

      it("file (gnu-configure, imported): names an ELF program, a gzip stream and a PNG with the package's compiled magic", only('file'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('file');
        writeFileSync(path.join(dir, 'x.gz'), (await import('node:zlib')).gzipSync(Buffer.from('hello\n')));
        writeFileSync(path.join(dir, 'x.png'), Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000100000000808060000', 'hex'), Buffer.alloc(16)]));
        const magic = path.join(rootfs, 'usr/share/misc/magic.mgc');
        const r = await run('usr/bin/file', ['-m', magic, '-b', path.join(rootfs, 'usr/bin/file'), 'x.gz', 'x.png'], { cwd: dir });
        assert.equal(r.exitCode, 0, r.stderr);
        const [elf, gz, png] = r.stdout.split('\n');
        assert.match(elf, target.name === 'aarch64' ? /^ELF 64-bit LSB (pie executable|shared object), ARM aarch64, version 1 \(SYSV\), dynamically linked/ : /^ELF 64-bit LSB (pie executable|shared object), UCB RISC-V, .*dynamically linked/, elf);
        assert.match(gz, /^gzip compressed data/, gz);
        assert.match(png, /^PNG image data, 16 x 8, 8-bit\/color RGBA, non-interlaced$/, png);
        assert.equal((await run('usr/bin/file', ['--version'])).stdout.split('\n')[0], `file-${version('file')}`);
      });

      it("libarchive (gnu-configure, imported, -dev split): bsdtar writes zstd, xz and zip archives that it and the build machine's bsdtar read back, bsdcat decompresses", only('libarchive'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('libarchive');
        mkdirSync(path.join(dir, 'in'));
        writeFileSync(path.join(dir, 'in/data.txt'), 'libarchive '.repeat(1000));
        for (const [file, flag, magic] of [['a.tar.zst', '--zstd', '28b52ffd'], ['a.tar.xz', '-J', 'fd377a58'], ['a.zip', '--format=zip', '504b0304']] as const) {
          const c = await run('usr/bin/bsdtar', ['-cf', file, flag, 'in'], { cwd: dir });
          assert.equal(c.exitCode, 0, c.stderr);
          assert.equal(readFileSync(path.join(dir, file)).subarray(0, 4).toString('hex'), magic, file);
          assert.equal((await run('usr/bin/bsdtar', ['-tf', file], { cwd: dir })).stdout, 'in/\nin/data.txt', file);
          assert.match((await execa('bsdtar', ['-tf', path.join(dir, file)])).stdout, /^in\/data\.txt$/m, `the build machine's bsdtar reads ${file}`);
        }
        const cat = await run('usr/bin/bsdcat', ['a.tar.xz'], { cwd: dir, binary: true });
        assert.equal(bytes(cat).subarray(257, 262).toString('latin1'), 'ustar', 'bsdcat decompresses to a tar stream');
        const v = await run('usr/bin/bsdtar', ['--version']);
        assert.match(v.stdout, new RegExp(`^bsdtar ${version('libarchive').replace(/\./g, '\\.')} - libarchive ${version('libarchive').replace(/\./g, '\\.')} zlib/\\S+ liblzma/\\S+ bz2lib/\\S+ liblz4/\\S+ libzstd/\\S+`), v.stdout);
      });

      it('pcre2 (cmake, imported, -dev split): pcre2grep with lookbehind, \\K, Unicode properties and a compressed file', only('pcre2'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('pcre2');
        const text = 'price: $42\ncost: EUR 17\nnaïve café\n';
        writeFileSync(path.join(dir, 'in.txt.gz'), (await import('node:zlib')).gzipSync(Buffer.from(text)));
        assert.equal((await run('usr/bin/pcre2grep', ['-o', '(?<=\\$)\\d+'], { input: text })).stdout, '42');
        assert.equal((await run('usr/bin/pcre2grep', ['-o', 'EUR \\K\\d+'], { input: text })).stdout, '17');
        assert.equal((await run('usr/bin/pcre2grep', ['-o', '-u', '\\w*\\p{Ll}\\x{ef}\\w*'], { input: text })).stdout, 'naïve');
        const z = await run('usr/bin/pcre2grep', ['-c', ':', 'in.txt.gz'], { cwd: dir });
        assert.equal(z.stdout, '2', `pcre2grep reads gzip through zlib: ${z.stderr}`);
        assert.match((await run('usr/bin/pcre2grep', ['--version'])).stdout, new RegExp(`^pcre2grep version ${version('pcre2').replace(/\./g, '\\.')} `));
      });

      it("less (gnu-configure, imported): copies a file to a pipe as more(1) does, and less and lesskey print their version", only('less'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('less');
        writeFileSync(path.join(dir, 'f'), Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
        // Output to a pipe: less copies the file, as more(1) and cat do.
        const r = await run('usr/bin/less', ['f'], { cwd: dir, env: { TERM: 'dumb' } });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout.split('\n').length, 50);
        assert.match((await run('usr/bin/less', ['--version'])).stdout, new RegExp(`^less ${version('less').split('.')[0]} `));
        assert.match((await run('usr/bin/lesskey', ['-V'])).stdout, /^lesskey\s+version \d+/);
      });

      it('bc (gnu-configure, imported): bc -l computes pi with the generated math library, dc a power', only('bc'), async (t) => {
        if (!built) return t.skip('the build failed');
        // a() comes from libmath.b, compiled into bc at build time by fbc (run under QEMU).
        const r = await run('usr/bin/bc', ['-l', '-q'], { input: 'scale=30; 4*a(1)\nsqrt(2)\n2^100\n' });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout, '3.141592653589793238462643383276\n1.414213562373095048801688724209\n1267650600228229401496703205376');
        assert.equal((await run('usr/bin/dc', [], { input: '2 64 ^ 1 - p\n' })).stdout, '18446744073709551615');
        assert.match((await run('usr/bin/bc', ['--version'])).stdout, new RegExp(`^bc ${version('bc').replace(/\./g, '\\.')}$`, 'm'));
      });

      it('patch (gnu-configure, imported): applies a unified diff, reverses it, and refuses a path that leaves the tree', only('patch'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('patch');
        writeFileSync(path.join(dir, 'a.txt'), 'one\ntwo\nthree\n');
        const diff = '--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n';
        const applied = await run('usr/bin/patch', ['-p1'], { cwd: dir, input: diff });
        assert.equal(applied.exitCode, 0, applied.stdout);
        assert.equal(readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'one\nTWO\nthree\n');
        assert.equal((await run('usr/bin/patch', ['-p1', '-R'], { cwd: dir, input: diff })).exitCode, 0);
        assert.equal(readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'one\ntwo\nthree\n');
        const evil = await run('usr/bin/patch', ['-p0'], { cwd: dir, input: '--- ../evil.txt\n+++ ../evil.txt\n@@ -0,0 +1 @@\n+x\n' });
        assert.notEqual(evil.exitCode, 0);
        assert.match(evil.stdout, /Ignoring potentially dangerous file name \.\.\/evil\.txt/);
        assert.match((await run('usr/bin/patch', ['--version'])).stdout, new RegExp(`^GNU patch ${version('patch').replace(/\./g, '\\.')}$`, 'm'));
      });

      it("gperf (gnu-configure, imported): writes a perfect hash function that the build machine's compiler builds and that finds every keyword", only('gperf'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('gperf');
        const words = ['if', 'else', 'while', 'for', 'return', 'switch', 'case', 'break'];
        const g = await run('usr/bin/gperf', ['-L', 'ANSI-C', '-N', 'keyword'], { input: `${words.join('\n')}\n` });
        assert.equal(g.exitCode, 0, g.stderr);
        writeFileSync(path.join(dir, 'kw.c'), `#include <string.h>\n${g.stdout}\n#include <stdio.h>\nint main(int argc, char **argv) { for (int i = 1; i < argc; i++) printf("%s:%d\\n", argv[i], keyword(argv[i], strlen(argv[i])) != 0); return 0; }\n`);
        await execa('cc', ['-o', 'kw', 'kw.c'], { cwd: dir });
        const r = await execa(path.join(dir, 'kw'), [...words, 'goto', 'iff', '']);
        assert.equal(r.stdout, [...words.map((w) => `${w}:1`), 'goto:0', 'iff:0', ':0'].join('\n'));
        assert.match((await run('usr/bin/gperf', ['--version'])).stdout, new RegExp(`^GNU gperf ${version('gperf').replace(/\./g, '\\.')}$`, 'm'));
      });

      it('cpio (gnu-configure, imported): writes a newc archive of a file list, lists and extracts it', only('cpio'), async (t) => {
        if (!built) return t.skip('the build failed');
        const dir = workdir('cpio');
        mkdirSync(path.join(dir, 'tree/etc'), { recursive: true });
        writeFileSync(path.join(dir, 'tree/init'), '#!/bin/sh\n');
        writeFileSync(path.join(dir, 'tree/etc/hostname'), 'nx-distro\n');
        const out = await run('usr/bin/cpio', ['-o', '-H', 'newc', '--reproducible', '-R', '0:0'], { cwd: path.join(dir, 'tree'), input: '.\netc\netc/hostname\ninit\n', binary: true });
        assert.equal(out.exitCode, 0, out.stderr);
        const archive = bytes(out);
        assert.equal(archive.subarray(0, 6).toString('latin1'), '070701', 'a newc archive (what an initramfs is)');
        writeFileSync(path.join(dir, 'x.cpio'), archive);
        assert.equal((await run('usr/bin/cpio', ['-t', '--quiet'], { input: archive })).stdout, '.\netc\netc/hostname\ninit');
        mkdirSync(path.join(dir, 'out'));
        assert.equal((await run('usr/bin/cpio', ['-i', '-d', '--quiet', '-F', '../x.cpio'], { cwd: path.join(dir, 'out') })).exitCode, 0);
        assert.equal(readFileSync(path.join(dir, 'out/etc/hostname'), 'utf8'), 'nx-distro\n');
        // The build machine's bsdtar reads it too.
        assert.match((await execa('bsdtar', ['-tf', path.join(dir, 'x.cpio')])).stdout, /^etc\/hostname$/m);
        assert.match((await run('usr/bin/cpio', ['--version'])).stdout, new RegExp(`^cpio \\(GNU cpio\\) ${version('cpio').replace(/\./g, '\\.')}$`, 'm'));
      });

      it('expat (cmake, -dev split): xmlwf accepts well-formed XML and names the line and column of an error', only('expat'), async (t) => {
        if (!built) return t.skip('the build failed');
        const good = await run('usr/bin/xmlwf', [], { input: '<?xml version="1.0"?>\n<a x="1"><b>text &amp; more</b><c/></a>\n' });
        assert.equal(good.exitCode, 0, good.stderr);
        assert.equal(good.stdout, '');
        const bad = await run('usr/bin/xmlwf', [], { input: '<a>\n  <b></a>\n' });
        assert.notEqual(bad.exitCode, 0);
        assert.match(`${bad.stdout}${bad.stderr}`, /^STDIN:2:\d+: mismatched tag$/m, bad.stdout);
        assert.match((await run('usr/bin/xmlwf', ['-v'])).stdout, new RegExp(`^xmlwf using expat_${version('expat').replace(/\./g, '\\.')}$`, 'm'));
      });

      it('fribidi (meson, -dev split): reorders right-to-left text for display', only('fribidi'), async (t) => {
        if (!built) return t.skip('the build failed');
        const r = await run('usr/bin/fribidi', ['--nopad', '--charset', 'UTF-8'], { input: 'abc \u05d0\u05d1\u05d2\n' });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout, 'abc \u05d2\u05d1\u05d0');
      });

      it('json-c (cmake, -dev split): a program compiled against json-c-dev parses, edits and prints JSON', only('json-c'), async (t) => {
        if (!built) return t.skip('the build failed');
        const r = await compileAndRun('json', [
          '#include <stdio.h>',
          '#include <json-c/json.h>',
          'int main(void) {',
          '  json_object *o = json_tokener_parse("{ \\"name\\": \\"nx\\", \\"list\\": [1, 2, {\\"x\\": null}] }");',
          '  if (!o) return 1;',
          '  json_object *list; json_object_object_get_ex(o, "list", &list);',
          '  json_object_array_add(list, json_object_new_double(2.5));',
          '  json_object_object_add(o, "count", json_object_new_int((int)json_object_array_length(list)));',
          '  printf("%s\\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));',
          '  printf("%d %s\\n", json_tokener_parse("[1,") == NULL, json_c_version());',
          '  json_object_put(o);',
          '  return 0;',
          '}',
        ].join('\n'), ['json-c']);
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout, `{"name":"nx","list":[1,2,{"x":null},2.5],"count":4}\n1 ${version('json-c')}`);
      });

      it('fuse3 (meson): fusermount3 prints its version; a program compiled against libfuse3 reads the library version', only('fuse3'), async (t) => {
        if (!built) return t.skip('the build failed');
        // Mounting needs /dev/fuse and a setuid helper: what the tests can run is the programs and the library.
        const v = await run('usr/bin/fusermount3', ['-V']);
        assert.equal(v.exitCode, 0, v.stderr);
        assert.equal(v.stdout, `fusermount3 version: ${version('fuse3')}`);
        const r = await compileAndRun('fuse', [
          '#define FUSE_USE_VERSION 31',
          '#include <stdio.h>',
          '#include <fuse.h>',
          'int main(void) { printf("%s %d\\n", fuse_pkgversion(), fuse_version()); return 0; }',
        ].join('\n'), ['fuse3'], ['fuse3']);
        assert.equal(r.exitCode, 0, r.stderr);
        const [major, minor] = version('fuse3').split('.');
        assert.equal(r.stdout, `${version('fuse3')} ${Number(major) * 100 + Number(minor)}`);
      });
    });
  }
});
