import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { writePackage, type BuildInfo, type PackageMeta } from '../packages/pacman-package';
import { builtPackages, comparePackages, compareSplitPackages, DIFFOSCOPE_REPORT, writeResult } from './compare';
import { formatReport, readResults } from './report';

const META: PackageMeta = {
  pkgname: 'probe', pkgbase: 'probe', pkgver: '1.0', pkgrel: 1, pkgdesc: 'probe', url: 'https://example.org',
  arch: 'aarch64', license: ['MIT'], depends: [], packager: 'nx-distro', builddate: 1700000000,
};
const BI: BuildInfo = { pkgbuildSha256: 'ab'.repeat(32), builddir: '/build', startdir: '/build', buildenv: [], options: [], installed: [], buildtoolver: '0.1.0' };

const work = mkdtempSync(path.join(tmpdir(), 'nx-distro-compare-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A real pacman package of one file `usr/share/probe/text` holding `text`, written into `<work>/<name>/`. */
async function packageOf(name: string, text: string): Promise<string> {
  const pkgdir = path.join(work, `${name}-pkgdir`);
  mkdirSync(path.join(pkgdir, 'usr/share/probe'), { recursive: true });
  writeFileSync(path.join(pkgdir, 'usr/share/probe/text'), text);
  const out = path.join(work, name);
  mkdirSync(out, { recursive: true });
  await writePackage(pkgdir, META, BI, out, 1700000000);
  return (await builtPackages(out, META.pkgname)).main!;
}

describe('comparePackages', () => {
  it('calls two byte-identical packages reproducible, with no diffoscope report', async () => {
    const a = await packageOf('a', 'same\n');
    const b = await packageOf('b', 'same\n');
    const r = await comparePackages(work, a, b, path.join(work, 'report-same'));
    assert.equal(r.status, 'reproducible');
    assert.equal(r.first!.sha256, r.second!.sha256);
    assert.equal(r.first!.file, 'a/probe-1.0-1-aarch64.pkg.tar.zst');
    assert.equal(r.diffoscope, undefined);
  });

  it('runs the real diffoscope on a difference, and its report names the file and both contents', async () => {
    const a = await packageOf('c', 'built on monday\n');
    const b = await packageOf('d', 'built on tuesday\n');
    mkdirSync(path.join(work, 'report-diff'));
    const r = await comparePackages(work, a, b, path.join(work, 'report-diff'));
    assert.equal(r.status, 'differs');
    assert.notEqual(r.first!.sha256, r.second!.sha256);
    assert.equal(r.diffoscope, `report-diff/${DIFFOSCOPE_REPORT}`);
    const report = readFileSync(path.join(work, r.diffoscope!), 'utf8');
    assert.match(report, /usr\/share\/probe\/text/);
    assert.match(report, /-built on monday/);
    assert.match(report, /\+built on tuesday/);
  });

  it('says differs when only one build wrote a package, and no-package when neither did', async () => {
    const a = await packageOf('e', 'x');
    assert.equal((await comparePackages(work, a, undefined, work)).status, 'differs');
    assert.equal((await comparePackages(work, undefined, a, work)).status, 'differs');
    assert.deepEqual(await comparePackages(work, undefined, undefined, work), { status: 'no-package', first: null, second: null });
  });
});

describe('builtPackages', () => {
  it('finds none in a missing or empty folder; tells the package of the recipe\'s name from its split packages', async () => {
    assert.deepEqual(await builtPackages(path.join(work, 'missing'), 'zlib'), { main: undefined, splits: new Map() });
    mkdirSync(path.join(work, 'two'));
    assert.deepEqual(await builtPackages(path.join(work, 'two'), 'zlib'), { main: undefined, splits: new Map() });
    for (const f of ['zlib-1.3-1-x86_64.pkg.tar.zst', 'zlib-dev-1.3-1-x86_64.pkg.tar.zst', '.zlib-doc-1.3-1-x86_64.pkg.tar.zst.tmp', 'build.log']) writeFileSync(path.join(work, 'two', f), '');
    const found = await builtPackages(path.join(work, 'two'), 'zlib');
    assert.equal(found.main, path.join(work, 'two', 'zlib-1.3-1-x86_64.pkg.tar.zst'));
    assert.deepEqual([...found.splits.keys()], ['zlib-dev-1.3-1-x86_64.pkg.tar.zst']);
  });
});

describe('compareSplitPackages', () => {
  it('compares split packages by file name: the same bytes, other bytes (with diffoscope), one only one build wrote', async () => {
    const same = await packageOf('split-same-a', 'one');
    const same2 = await packageOf('split-same-b', 'one');
    const other = await packageOf('split-other', 'two');
    const first = new Map([['x-dev-1-1-x86_64.pkg.tar.zst', same], ['x-doc-1-1-x86_64.pkg.tar.zst', same], ['x-extra-1-1-x86_64.pkg.tar.zst', same]]);
    const second = new Map([['x-dev-1-1-x86_64.pkg.tar.zst', same2], ['x-doc-1-1-x86_64.pkg.tar.zst', other]]);
    const got = await compareSplitPackages(work, first, second, path.join(work, 'split-report'));
    assert.deepEqual(got.map((s) => [s.package, s.status, Boolean(s.diffoscope)]), [
      ['x-dev-1-1-x86_64.pkg.tar.zst', 'reproducible', false],
      ['x-doc-1-1-x86_64.pkg.tar.zst', 'differs', true],
      ['x-extra-1-1-x86_64.pkg.tar.zst', 'differs', false],
    ]);
    assert.equal(got[1].diffoscope, path.join('split-report', 'split', 'x-doc-1-1-x86_64', 'diffoscope.txt'));
  });
});

describe('readResults and formatReport', () => {
  it('summarises results per system target and check, counting only compared recipes', async () => {
    const dist = path.join(work, 'dist');
    const pkg = { file: 'x', sha256: '0123456789abcdef'.repeat(4), size: 1 };
    const other = { ...pkg, sha256: 'fedcba9876543210'.repeat(4) };
    const results = [
      { recipe: 'zlib', check: 'rebuild', status: 'reproducible', first: pkg, second: pkg },
      { recipe: 'xz', check: 'rebuild', status: 'differs', first: pkg, second: other, diffoscope: 'dist/aarch64/reproduce/xz/rebuild/diffoscope.txt' },
      { recipe: 'gcc', check: 'rebuild', status: 'no-package', first: null, second: null },
      { recipe: 'zlib', check: 'native', status: 'reproducible', first: pkg, second: pkg },
    ] as const;
    for (const r of results) {
      const dir = path.join(dist, 'aarch64', 'reproduce', r.recipe, r.check);
      mkdirSync(dir, { recursive: true });
      await writeResult(dir, { ...r, systemTarget: 'aarch64', variations: [] });
    }
    const summaries = readResults(dist);
    assert.deepEqual(summaries.map((s) => [s.systemTarget, s.check, s.reproducible, s.compared, s.results.map((r) => r.recipe)]), [
      ['aarch64', 'rebuild', 1, 2, ['gcc', 'xz', 'zlib']],
      ['aarch64', 'native', 1, 1, ['zlib']],
    ]);
    assert.deepEqual(formatReport(summaries), [
      'aarch64, built twice (reproduce):',
      '  gcc   no-package',
      '  xz    differs         0123456789abcdef vs fedcba9876543210  dist/aarch64/reproduce/xz/rebuild/diffoscope.txt',
      '  zlib  reproducible    0123456789abcdef',
      '  1 of 2 compared recipes reproducible (50%); 1 without a package to compare',
      'aarch64, cross vs native (reproduce-native):',
      '  zlib  reproducible    0123456789abcdef',
      '  1 of 1 compared recipes reproducible (100%)',
    ]);
    writeFileSync(path.join(dist, 'aarch64', 'reproduce', 'xz', 'rebuild', 'result.json'), '{ half');
    assert.throws(() => readResults(dist, ['aarch64']), /xz\/rebuild\/result\.json: not valid JSON/);
  });
});
