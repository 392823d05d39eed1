/**
 * End to end: the reproducibility checks. zlib (a real recipe) is built for aarch64, then
 * `reproduce` builds it again in another work folder, with the wall clock a year and a month
 * ahead (libfaketime) and another job count: the packages must be byte-identical.
 * `reproduce-native` builds it natively in the Debian build root (arm64 under QEMU; amd64) and
 * compares with the cross build: identical when the cross compiler and the build root's gcc are
 * the same Debian build, else diffoscope's report must show the two compilers' version strings
 * and the payloads must be the same once those (and the build IDs) are out (test/helpers/payload.ts).
 * A fixture recipe that records its build date (test/fixtures/reproducibility/clock) must fail
 * `reproduce`, with diffoscope's report naming the file and both dates, and
 * `nx-distro reproducibility` must report it.
 *
 * Uses the test run's cache (test/build.test.ts and test/native.test.ts built zlib and the
 * build root earlier in the run). Needs the host of tools/setup-host (diffoscope, libfaketime,
 * mmdebstrap, qemu-user-static).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ReproducibilityResult } from '../packages/nx-distro/src/reproducible/compare';
import { differencesBeyondIdentity } from './helpers/payload';
import { FULL, tiered } from './helpers/tier';
import { commitPaths, commitTargets, createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const TARGET = 'aarch64';

describe('reproducibility checks', () => {
  let ws: TestWorkspace;
  before(() => {
    ws = createWorkspace('reproducibility', { shareRunCache: true });
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(ws.root, 'recipes', 'zlib'), { recursive: true });
    cpSync(path.join(REPO_ROOT, 'recipes', 'expat'), path.join(ws.root, 'recipes', 'expat'), { recursive: true });
    if (process.env.NX_DISTRO_TEST_MIRRORS) ws.env.NX_DISTRO_MIRRORS = process.env.NX_DISTRO_TEST_MIRRORS;
  });
  after(() => ws.dispose());

  const result = (recipe: string, check: string) => ws.readJson<ReproducibilityResult>(`dist/${TARGET}/reproduce/${recipe}/${check}/result.json`);

  it('zlib built twice (other folder, clock, jobs): byte-identical packages', async () => {
    const r = await ws.nx('run', 'zlib:reproduce', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    const rebuild = result('zlib', 'rebuild');
    assert.equal(rebuild.status, 'reproducible');
    assert.equal(rebuild.first!.file, `dist/${TARGET}/packages/zlib/zlib-1.2.13-1-${TARGET}.pkg.tar.zst`);
    assert.equal(rebuild.second!.file, `dist/${TARGET}/reproduce/zlib/rebuild/package/zlib-1.2.13-1-${TARGET}.pkg.tar.zst`);
    assert.equal(rebuild.second!.sha256, rebuild.first!.sha256);
    assert.ok(rebuild.variations.includes('wall clock +398 days (libfaketime)'), rebuild.variations.join('; '));
    assert.ok(rebuild.variations.some((v) => /^JOBS=\d+$/.test(v)));
    // the second build really ran with the moved clock, in its own folder
    const log = ws.read(`dist/${TARGET}/reproduce/zlib/rebuild/package/build.log`);
    assert.match(log, /^# FAKETIME=\+34387200$/m);
  });

  it('expat (split: [dev]) built twice: the package, its split package expat-dev and its expat-debug byte-identical', async () => {
    const r = await ws.nx('run', 'expat:reproduce', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-6000));
    const rebuild = result('expat', 'rebuild');
    assert.equal(rebuild.status, 'reproducible');
    assert.equal(rebuild.first!.file, `dist/${TARGET}/packages/expat/expat-2.5.0-1-${TARGET}.pkg.tar.zst`);
    assert.deepEqual(rebuild.splits?.map((s) => [s.package, s.status, s.first?.sha256 === s.second?.sha256]), [
      [`expat-debug-2.5.0-1-${TARGET}.pkg.tar.zst`, 'reproducible', true],
      [`expat-dev-2.5.0-1-${TARGET}.pkg.tar.zst`, 'reproducible', true],
    ]);
    assert.match(r.all, /expat: reproducible for aarch64 \(rebuild\): both builds wrote [0-9a-f]{64}, and the same 2 split package\(s\): expat-debug-2\.5\.0-1-aarch64\.pkg\.tar\.zst, expat-dev-2\.5\.0-1-aarch64\.pkg\.tar\.zst/);
  });

  // npm test compares x86_64's (an amd64 build root, no emulation); aarch64's (an arm64 build root
  // under QEMU) is in npm run test:full.
  const nativeChecks = [['aarch64', 'arm64', 'aarch64-linux-gnu-gcc'], ['x86_64', 'amd64', 'x86_64-linux-gnu-gcc']] as const;
  for (const { case: [target, debianArch, crossGcc], skip } of tiered(nativeChecks, (c) => c[0], ['x86_64'])) {
    it(`zlib for ${target}: cross-built against built natively in the ${debianArch} build root`, { skip }, async () => {
      const r = await ws.nx('run', 'zlib:reproduce-native', '-c', target, '--output-style=static');
      const native = ws.readJson<ReproducibilityResult>(`dist/${target}/reproduce/zlib/native/result.json`);
      assert.match(ws.read(`dist/${target}/reproduce/zlib/native/package/build.log`), new RegExp(`built natively in the ${debianArch} build root`));
      // The compilers' own version strings (what they write into every object's .comment section).
      const cross = execFileSync(crossGcc, ['--version'], { encoding: 'utf8' }).split('\n')[0].replace(/^\S+ /, '');
      const nativeGcc = /^gcc-12 (\S+) /m.exec(ws.read(`dist/${target}/buildroot/packages.txt`))![1];
      if (cross === `(Debian ${nativeGcc}) 12.2.0`) {
        assert.equal(r.exitCode, 0, r.all.slice(-6000));
        assert.equal(native.status, 'reproducible', JSON.stringify(native));
        assert.equal(native.second!.sha256, native.first!.sha256);
      } else {
        assert.notEqual(r.exitCode, 0);
        assert.equal(native.status, 'differs');
        const report = ws.read(native.diffoscope!);
        assert.ok(report.includes(`-GCC: ${cross}`), `diffoscope shows the cross compiler ${cross}`);
        assert.ok(report.includes(`+GCC: (Debian ${nativeGcc}) 12.2.0`), `diffoscope shows the native compiler ${nativeGcc}`);
      }
      // and nothing else differs: the payloads are the same once the compilers' identities
      // (.comment, and the build ID hashed over it) are taken out of every ELF file
      assert.deepEqual(differencesBeyondIdentity(path.join(ws.root, native.first!.file), path.join(ws.root, native.second!.file), crossGcc.replace(/gcc$/, 'objcopy')), []);
    });
  }

  it('the payload comparison sees past the compilers\' identities, and past nothing else', (t) => {
    // x86_64's cross package (built by the quick tier's comparison above), and copies of it
    const pkg = path.join(ws.root, `dist/x86_64/packages/zlib/zlib-1.2.13-1-x86_64.pkg.tar.zst`);
    if (!existsSync(pkg)) return t.skip('no x86_64 zlib package (see the comparison above)');
    const scratch = mkdtempSync(path.join(tmpdir(), 'nx-distro-payload-test-'));
    try {
      const variant = (name: string, change: (root: string, lib: string) => void) => {
        const root = path.join(scratch, name);
        mkdirSync(root);
        execFileSync('bsdtar', ['-xf', pkg, '-C', root]);
        change(root, path.join(root, 'usr/lib/libz.so.1.2.13'));
        const out = path.join(scratch, `${name}.pkg.tar.zst`);
        execFileSync('bsdtar', ['-caf', out, '-C', root, '.']);
        return out;
      };
      const objcopy = 'x86_64-linux-gnu-objcopy';
      const section = (file: string, text: string) => {
        writeFileSync(file, `${text}\0`);
        return file;
      };
      // another compiler's identity: .comment rewritten (another length), the build ID left stale
      const otherCompiler = variant('other-compiler', (root, lib) =>
        execFileSync(objcopy, ['--update-section', `.comment=${section(path.join(scratch, 'comment'), 'GCC: (Debian 12.2.0-14cross1) 12.2.0')}`, lib]));
      assert.notEqual(readFileSync(otherCompiler).toString('hex'), readFileSync(pkg).toString('hex'));
      assert.deepEqual(differencesBeyondIdentity(pkg, otherCompiler, objcopy), []);
      // a section of its own in the library, a changed header, a changed mode: each is named
      const changed = variant('changed', (root, lib) => {
        execFileSync(objcopy, ['--add-section', `.nx_distro_probe=${section(path.join(scratch, 'probe'), 'probe')}`, lib]);
        writeFileSync(path.join(root, 'usr/include/zlib.h'), `${readFileSync(path.join(root, 'usr/include/zlib.h'), 'utf8')}/* another line */\n`);
        chmodSync(path.join(root, 'usr/include/zconf.h'), 0o600);
      });
      assert.deepEqual(differencesBeyondIdentity(pkg, changed, objcopy), ['usr/include/zconf.h (mode 644 vs 600)', 'usr/include/zlib.h', 'usr/lib/libz.so.1.2.13']);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('a second run is served from the cache', async () => {
    const r = await ws.nx('run', 'zlib:reproduce', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    assert.match(r.all, /> nx run zlib:reproduce:aarch64 +\[local cache\]/);
    assert.equal(result('zlib', 'rebuild').status, 'reproducible');
  });

  it('a recipe that records its build date fails reproduce, with diffoscope showing both dates', async () => {
    const r = await ws.nx('run', 'clock:reproduce', '-c', TARGET, '--output-style=static');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all, /clock: not reproducible for aarch64 \(rebuild\): [0-9a-f]{16} vs [0-9a-f]{16}; diffoscope: dist\/aarch64\/reproduce\/clock\/rebuild\/diffoscope\.txt/);
    const res = result('clock', 'rebuild');
    assert.equal(res.status, 'differs');
    assert.notEqual(res.first!.sha256, res.second!.sha256);
    const report = ws.read(res.diffoscope!);
    assert.match(report, /usr\/share\/clock\/built-on/);
    const year = new Date().getUTCFullYear();
    assert.match(report, new RegExp(`^│ │ -${year}-\\d\\d-\\d\\d$`, 'm'));
    // 398 days later: next year, or the one after in the last days of November and December
    assert.match(report, new RegExp(`^│ │ \\+(${year + 1}|${year + 2})-\\d\\d-\\d\\d$`, 'm'));
    assert.ok(existsSync(path.join(ws.root, `dist/${TARGET}/reproduce/clock/rebuild/package`)));
  });

  it('nx-distro reproducibility reports every result and fails for the one that differs', async () => {
    const r = await ws.bin('nx-distro', 'reproducibility', TARGET);
    assert.equal(r.exitCode, 1, r.all);
    const lines = r.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 5).map((l) => l.replace(/[0-9a-f]{16}/g, 'H')), [
      'aarch64, built twice (reproduce):',
      '  clock  differs         H vs H  dist/aarch64/reproduce/clock/rebuild/diffoscope.txt',
      '  expat  reproducible    H',
      '  zlib   reproducible    H',
      '  2 of 3 compared recipes reproducible (67%)',
    ]);
    // The cross-vs-native comparison this tier ran: aarch64's in the full tier, x86_64's in npm test
    // (where aarch64's report then has no such section).
    const nativeSection = (target: string, report: string[]) => {
      const native = ws.readJson<ReproducibilityResult>(`dist/${target}/reproduce/zlib/native/result.json`).status;
      assert.deepEqual(report.map((l) => l.replace(/[0-9a-f]{16}/g, 'H')), [
        `${target}, cross vs native (reproduce-native):`,
        native === 'reproducible' ? '  zlib  reproducible    H' : `  zlib  differs         H vs H  dist/${target}/reproduce/zlib/native/diffoscope.txt`,
      ]);
    };
    if (FULL) nativeSection('aarch64', lines.slice(5, 7));
    else {
      assert.ok(!lines.some((l) => l.includes('cross vs native')), r.stdout);
      const x86 = await ws.bin('nx-distro', 'reproducibility', 'x86_64');
      nativeSection('x86_64', x86.stdout.split('\n').slice(0, 2));
    }
  });
});

describe('reproduce of a recipe built before its commit', () => {
  // SOURCE_DATE_EPOCH is not in the cache key (docs/cache-keys.md): a recipe built while
  // uncommitted (dated by its files' modification time) and committed afterwards (dated by the
  // commit) is a cache hit with the first date. The second build must take that date, not the
  // commit's, or every recipe checked right after its commit would "differ".
  const BEFORE = 1_700_000_000; // the recipe's files' modification time
  const COMMITTED = 1_750_000_000; // its commit's time
  let ws: TestWorkspace;
  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    commitTargets(ws, COMMITTED - 1000);
    // And a file installed with its older time kept, by CMake's file(INSTALL) as expat's, json-c's
    // and pcre2's documents are: under the second build's moved clock (libfaketime) it keeps that
    // time too, as libfaketime fakes no file times there (NO_FAKE_STAT; CMake reads them with
    // stat(), which libfaketime moves by default).
    ws.write('recipes/dated/recipe.yaml', [
      "name: dated\nversion: '1.0'\nrelease: 1\ndescription: Files dated by SOURCE_DATE_EPOCH\nlicense: [MIT]\nhomepage: https://example.org/dated\nsources: []\nhost_tools: [cmake]\nsteps:\n  install: |",
      '    mkdir -p "$pkgdir/usr/share/dated"',
      '    echo "$SOURCE_DATE_EPOCH" > "$pkgdir/usr/share/dated/epoch"',
      '    echo old > old && touch -d @1600000000 old',
      `    printf 'file(INSTALL old DESTINATION "$ENV{pkgdir}/usr/share/dated")\\n' > install.cmake && cmake -P install.cmake`,
      '',
    ].join('\n'));
    utimesSync(path.join(ws.root, 'recipes/dated/recipe.yaml'), BEFORE, BEFORE);
  });
  after(() => ws.dispose());

  it("builds it uncommitted, commits it, and reproduce rebuilds it with the first build's date and file times: byte-identical", async () => {
    const build = await ws.nx('run', 'dated:build', '-c', TARGET, '--output-style=static');
    assert.equal(build.exitCode, 0, build.all.slice(-4000));
    const pkg = `dist/${TARGET}/packages/dated/dated-1.0-1-${TARGET}.pkg.tar.zst`;
    const builddate = () => execFileSync('bsdtar', ['-xOf', path.join(ws.root, pkg), '.PKGINFO'], { encoding: 'utf8' }).match(/^builddate = (\d+)$/m)?.[1];
    assert.equal(builddate(), String(BEFORE), 'uncommitted: dated by the files');
    commitPaths(ws, COMMITTED, ['recipes'], 'dated');
    const r = await ws.nx('run', 'dated:reproduce', '-c', TARGET, '--output-style=static');
    assert.equal(r.exitCode, 0, r.all.slice(-4000));
    assert.match(r.all, /> nx run dated:build:aarch64 +\[(local cache|existing outputs match the cache, left as is)\]/, 'the build is the first one, from the cache');
    assert.equal(builddate(), String(BEFORE));
    const rebuild = ws.readJson<ReproducibilityResult>(`dist/${TARGET}/reproduce/dated/rebuild/result.json`);
    assert.equal(rebuild.status, 'reproducible');
    assert.match(ws.read(`dist/${TARGET}/reproduce/dated/rebuild/package/build.log`), new RegExp(`^# SOURCE_DATE_EPOCH=${BEFORE}$`, 'm'));
    assert.match(execFileSync('bsdtar', ['-tvf', path.join(ws.root, pkg), 'usr/share/dated/old'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }), / Sep 13 {2}2020 usr\/share\/dated\/old$/m, 'the kept time, older than SOURCE_DATE_EPOCH, is not clamped');
    // A build of the committed recipe made now (not from the cache) has the commit's date.
    const fresh = await ws.nx('run', 'dated:build', '-c', TARGET, '--skip-nx-cache', '--output-style=static');
    assert.equal(fresh.exitCode, 0, fresh.all.slice(-4000));
    assert.equal(builddate(), String(COMMITTED));
  });
});
