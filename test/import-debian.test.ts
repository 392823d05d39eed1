// nx g nx-distro:import-debian for real: Debian source packages through the machine's apt
// (deb-src entries from tools/setup-host), recipes written into a temporary workspace, loaded by
// the plugin (nx show projects) and fetched (nx run-many -t fetch: the upstream URLs are out of
// reach here, so the sources come from Debian through the apt pins the importer wrote).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import recipeSchema from '../packages/nx-distro/src/model/recipe.schema.json';
import { createWorkspace, type TestWorkspace } from './helpers/workspace';

const STYLES: readonly string[] = recipeSchema.properties.style.enum;

describe('nx g nx-distro:import-debian', () => {
  let ws: TestWorkspace;
  let out: string;
  before(async () => {
    ws = createWorkspace();
    // libffi's libltdl-dev (source libtool) is a library with no recipe: --with-dependencies imports it.
    const g = await ws.nx('g', 'nx-distro:import-debian', 'expat', 'zlib', 'pcre2', 'libffi', '--with-dependencies', '--no-interactive');
    out = g.all;
    assert.equal(g.exitCode, 0, g.all);
  });
  after(() => ws?.dispose());

  const recipe = (name: string) => parse(ws.read(`recipes/${name}/recipe.yaml`));

  it('writes each recipe from Debian metadata: version, license, homepage, source with sha256 and apt pin', () => {
    const expat = recipe('expat');
    assert.equal(expat.version, '2.5.0');
    assert.equal(expat.release, 1);
    assert.deepEqual(expat.license, ['MIT']);
    assert.equal(expat.homepage, 'https://libexpat.github.io/');
    assert.equal(expat.description, 'XML parsing C library');
    // Debian's orig tarball is GitHub's archive of tag R_2_5_0 (its folder says so), not the release file debian/watch names.
    assert.equal(expat.sources[0].url, 'https://github.com/libexpat/libexpat/archive/refs/tags/R_2_5_0.tar.gz');
    assert.match(expat.sources[0].sha256, /^[0-9a-f]{64}$/);
    assert.match(expat.sources[0].apt, /^expat=2\.5\.0-1\+deb12u\d+$/);
    const ffi = recipe('libffi');
    assert.equal(ffi.version, '3.4.4');
    assert.equal(ffi.sources[0].url, 'https://github.com/libffi/libffi/releases/download/v3.4.4/libffi-3.4.4.tar.gz');
    assert.equal(ffi.style, 'gnu-configure');
    assert.match(out, /^libffi 3\.4\.4-1 -> recipes\/libffi\/recipe\.yaml$/m);
  });

  it('names the Debian file of a repacked tarball, and says upstream sum differs in one line', () => {
    const zlib = recipe('zlib');
    assert.equal(zlib.version, '1.2.13', 'epoch and .dfsg dropped');
    assert.equal(zlib.sources[0].url, 'https://deb.debian.org/debian/pool/main/z/zlib/zlib_1.2.13.dfsg.orig.tar.bz2');
    assert.equal(zlib.sources[0].filename, 'zlib_1.2.13.dfsg.orig.tar.bz2');
    assert.match(zlib.sources[0].apt, /^zlib=1:1\.2\.13\.dfsg-1/);
    assert.match(out, /^warning: zlib: Debian repacked the upstream tarball \(version 1\.2\.13\.dfsg, debian\/copyright Files-Excluded: [^\n]*\), so upstream's sum differs; the recipe names Debian's file zlib_1\.2\.13\.dfsg\.orig\.tar\.bz2 with its own sum[^\n]*$/m);
  });

  it("imports Debian's patches with their DEP-3 links, and warns for each patch without one", () => {
    const expat = recipe('expat');
    assert.equal(expat.patches.length, 8);
    for (const p of expat.patches) assert.ok(existsSync(path.join(ws.root, 'recipes', 'expat', p.file)), p.file);
    assert.match(expat.patches[0].upstream, /^https:\/\/sources\.debian\.org\/src\/expat\/2\.5\.0-1\+deb12u\d+\/debian\/patches\/fix-expat-noconfig\.patch\/$/);
    assert.match(out, /^warning: expat: patches\/fix-expat-noconfig\.patch: its DEP-3 header has no upstream link [^\n]*Forwarded: "not-needed", a Debian-specific change[^\n]*$/m);
    assert.match(out, /^warning: expat: patches\/expat-2\.5\.0-CVE-2024-50602\.patch: [^\n]*its text links "https:\/\/github\.com\/libexpat\/libexpat\/pull\/915"/m);
    // pcre2 is format 1.0: Debian's changes to upstream files become one patch.
    const pcre2 = recipe('pcre2');
    assert.deepEqual(pcre2.patches.map((p: { file: string }) => p.file), ['patches/debian-changes.patch']);
    assert.match(ws.read('recipes/pcre2/patches/debian-changes.patch'), /^\+\+\+ pcre2-10\.42\/pcre2-config\.in/m);
  });

  it('maps Build-Depends to recipes, imports missing libraries with --with-dependencies, reports the rest', () => {
    assert.ok(existsSync(path.join(ws.root, 'recipes', 'libtool', 'recipe.yaml')), 'libtool imported as a build dependency');
    assert.deepEqual(recipe('libffi').makedepends, ['libtool']);
    assert.match(out, /^ {2}makedepends: libtool \(libltdl-dev\)$/m);
    assert.match(out, /^ {2}not mapped \(build-machine program\): texinfo: source package texinfo has no recipe$/m);
    assert.match(out, /^ {2}left out: libbsd-dev: only on \[kfreebsd-amd64 kfreebsd-i386 hurd-i386\]/m);
    assert.match(out, /^import-debian: libtool \(a build dependency of libffi\)$/m);
  });

  it('gives recipes the plugin loads and whose sources fetch verifies', async () => {
    // A style this nx-distro does not have yet is written anyway (and reported): set it to none,
    // as the warning says, so the workspace loads.
    for (const name of ['expat', 'zlib', 'pcre2', 'libffi', 'libtool']) {
      const r = recipe(name);
      if (!STYLES.includes(r.style)) {
        assert.match(out, new RegExp(`^warning: ${name}: style ${r.style} \\([^)]*\\) is not in this nx-distro's recipe schema yet`, 'm'));
        ws.write(`recipes/${name}/recipe.yaml`, ws.read(`recipes/${name}/recipe.yaml`).replace(/^style: .*$/m, 'style: none'));
      }
    }
    const shown = await ws.nx('show', 'projects', '--json');
    assert.equal(shown.exitCode, 0, shown.all);
    assert.deepEqual(JSON.parse(shown.stdout).filter((p: string) => p !== 'system').sort(), ['expat', 'libffi', 'libtool', 'pcre2', 'zlib']);
    const fetched = await ws.nx('run-many', '-t', 'fetch', '-p', 'expat,zlib,pcre2,libffi', '--output-style=static');
    assert.equal(fetched.exitCode, 0, fetched.all);
    for (const name of ['expat', 'zlib', 'pcre2', 'libffi']) {
      const sums = ws.read(`dist/sources/${name}/SHA256SUMS`);
      assert.ok(sums.includes(recipe(name).sources[0].sha256), `${name}: ${sums}`);
    }
  });
});

describe('nx g nx-distro:import-debian errors', () => {
  let ws: TestWorkspace;
  before(() => {
    ws = createWorkspace('toolchain');
  });
  after(() => ws?.dispose());

  const run = async (...args: string[]) => {
    const g = await ws.nx('g', 'nx-distro:import-debian', ...args, '--no-interactive');
    assert.notEqual(g.exitCode, 0, g.all);
    assert.equal(existsSync(path.join(ws.root, 'recipes', args[0].split('=')[0])), false, 'nothing written');
    return g.all;
  };

  it('names an unknown package, a binary package, an unknown version and an existing recipe', async () => {
    assert.match(await run('nosuch-pkg-xyz'), /nosuch-pkg-xyz: no such source package in apt's Sources indexes; check the name \(apt-cache showsrc NAME\), or run apt-get update/);
    assert.match(await run('zlib1g'), /zlib1g: no source package of that name; it is a binary package of source package zlib; import zlib/);
    assert.match(await run('expat=9.9-9'), /expat: apt knows no version "9\.9-9"; take one of 2\.5\.0-1\+deb12u/);
    // A recipe of another name whose source pins Debian's zlib stands for it.
    ws.write(
      'recipes/libz/recipe.yaml',
      'name: libz\nversion: 1.2.13\nrelease: 1\ndescription: zlib\nlicense: [Zlib]\nhomepage: https://zlib.net/\nsources:\n  - url: https://deb.debian.org/debian/pool/main/z/zlib/zlib_1.2.13.dfsg.orig.tar.bz2\n    sha256: 71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1\n    apt: zlib=1:1.2.13.dfsg-1\n',
    );
    assert.match(await run('zlib'), /zlib: recipes\/libz\/recipe\.yaml already stands for it; edit that recipe, or remove it to import again/);
    assert.match(await run('Bad;name'), /"Bad;name": not a Debian source package name/);
  });

  it("says when apt's sources have no deb-src entry", async () => {
    // A real apt configuration without source lists, as on a machine tools/setup-host has not set up.
    const dir = path.join(ws.root, '.apt-without-deb-src');
    mkdirSync(path.join(dir, 'lists', 'partial'), { recursive: true });
    mkdirSync(path.join(dir, 'sources.list.d'), { recursive: true });
    writeFileSync(path.join(dir, 'sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
    writeFileSync(path.join(dir, 'apt.conf'), `Dir::Etc::sourcelist "${dir}/sources.list";\nDir::Etc::sourceparts "${dir}/sources.list.d";\nDir::State::Lists "${dir}/lists";\n`);
    ws.env.APT_CONFIG = path.join(dir, 'apt.conf');
    try {
      assert.match(await run('expat'), /expat: apt's sources have no deb-src entry \(or apt-get update has not fetched its index\); run tools\/setup-host, which adds them/);
    } finally {
      delete ws.env.APT_CONFIG;
    }
  });
});
