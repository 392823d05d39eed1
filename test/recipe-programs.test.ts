/**
 * The base-system recipes of issue 20 part 6, end to end: c-ares and libjpeg-turbo (cmake), pkgconf
 * and libpsl (meson), and m4, sed, grep, gzip, diffutils and findutils (gnu-configure, imported
 * from Debian with the generator and edited) cross-built with Debian's cross compilers, every
 * package of each build unpacked, and each recipe's programs run under QEMU user emulation with
 * the toolchain's C library (`QEMU_LD_PREFIX`) and the packages' own libraries on real input:
 * a DNS answer from a server this test runs, an image through JPEG and back, .pc files, macros,
 * text, compressed bytes, diffs and a folder tree. aarch64 is in `npm test`; riscv64 runs the same
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
const RECIPES = ['c-ares', 'libjpeg-turbo', 'pkgconf', 'libpsl', 'm4', 'sed', 'grep', 'gzip', 'diffutils', 'findutils', 'gawk', 'bzip2'];
/** What they need from recipes/: gawk's readline (makedepends and depends), and readline's ncurses. */
const DEPENDENCIES = ['readline', 'ncurses'];
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
  { name: 'aarch64', qemu: 'qemu-aarch64-static', sysroot: '/usr/aarch64-linux-gnu', tier: {} },
  { name: 'riscv64', qemu: 'qemu-riscv64-static', sysroot: '/usr/riscv64-linux-gnu', tier: fullOnly() },
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
      const dependencies = names.includes('gawk') ? DEPENDENCIES : [];
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

      it("nx-distro lint: no finding on the packages but gawkbug's quoted compile flags (when gawk is built)", async (t) => {
        if (!built) return t.skip('the build failed');
        const r = await ws.bin('nx-distro', 'lint', target.name, ...names);
        assert.equal(r.exitCode, 0, r.all);
        // The one finding the gawk recipe justifies: its bug-report script prints the CFLAGS.
        const findings = r.all.split('\n').filter((l) => /\[(warning|error) /.test(l));
        assert.deepEqual(findings.map((l) => l.replace(/;.*/, '')), names.includes('gawk') ? ['gawk: "/usr/bin/gawkbug": mentions the build sandbox path "/build/src" [warning build-reference]'] : [], r.all);
        if (names.includes('gawk')) assert.match(readFileSync(path.join(rootfs, 'usr/bin/gawkbug'), 'utf8'), /^CFLAGS=".* -ffile-prefix-map=\/build\/src=\. .*"$/m);
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
    });
  }
});
