// The patch this repository carries for Nx (patches/nx+24.0.0.patch, applied by patch-package on
// `npm install`), two changes (docs/benchmarks-scale.md):
// - Nx's findMatchingProjects, called for every dependsOn entry that names `projects` while a
//   task graph is built, listed every project before looking exact names up, which made planning
//   cost tasks x projects;
// - `--graph=<file>.json` built the whole file as one string, longer than V8 allows for a
//   distribution-sized task graph ("Invalid string length"): it is written in pieces.
// These tests check that the installed Nx carries the patch and that it answers what unpatched Nx
// answers.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findMatchingProjects } = require('nx/src/utils/find-matching-projects') as {
  findMatchingProjects: (patterns: string[], projects: Record<string, { name: string; type: string; data: { root: string; tags?: string[] } }>) => string[];
};

/** Projects `names`, in a proxy that counts how often every project is listed (`Object.keys`). */
function projectsOf(names: string[]) {
  const nodes = Object.fromEntries(names.map((n) => [n, { name: n, type: 'lib', data: { root: `recipes/${n}`, tags: n.startsWith('lib') ? ['library'] : [] } }]));
  const listings = { count: 0 };
  const proxy = new Proxy(nodes, {
    ownKeys(target) {
      listings.count++;
      return Reflect.ownKeys(target);
    },
  });
  return { proxy, listings };
}

describe('Nx patch: findMatchingProjects', () => {
  const names = ['zlib', 'libffi', 'libxml2', 'system', 'gcc', 'musl', 'xz'];

  it('resolves exact project names without listing every project', () => {
    const { proxy, listings } = projectsOf(names);
    assert.deepEqual(findMatchingProjects(['zlib', 'xz', 'zlib', 'system'], proxy), ['zlib', 'xz', 'system']);
    assert.equal(listings.count, 0, 'patches/nx+24.0.0.patch is not applied: run npm install (its postinstall runs patch-package)');
  });

  it('answers patterns, tags, exclusions and unknown names as before (listing the projects)', () => {
    const { proxy, listings } = projectsOf(names);
    assert.deepEqual(findMatchingProjects(['lib*'], proxy).sort(), ['libffi', 'libxml2']);
    assert.deepEqual(findMatchingProjects(['tag:library'], proxy).sort(), ['libffi', 'libxml2']);
    assert.deepEqual(findMatchingProjects(['!tag:library'], proxy).sort(), ['gcc', 'musl', 'system', 'xz', 'zlib']);
    assert.deepEqual(findMatchingProjects(['zlib', '!zlib'], proxy), []);
    assert.deepEqual(findMatchingProjects(['zlib', 'nonexistent'], proxy), ['zlib']);
    assert.deepEqual(findMatchingProjects([], proxy), []);
    assert.ok(listings.count >= 4, 'the general path still lists the projects');
  });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeJsonFileInPieces } = require('nx/src/command-line/graph/graph') as {
  writeJsonFileInPieces?: (path: string, value: unknown) => void;
};

describe('Nx patch: --graph=<file>.json written in pieces', () => {
  it('writes what JSON.stringify(value, null, 2) writes', (t) => {
    assert.equal(typeof writeJsonFileInPieces, 'function', 'patches/nx+24.0.0.patch is not applied: run npm install (its postinstall runs patch-package)');
    const dir = mkdtempSync(join(tmpdir(), 'nx-distro-nx-patch-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'graph.json');
    const samples: unknown[] = [
      {},
      [],
      { graph: { nodes: { zlib: { name: 'zlib', type: 'lib', data: { root: 'recipes/zlib', targets: {} } } }, dependencies: { zlib: [] } }, tasks: { roots: ['zlib:build:aarch64'], tasks: {}, dependencies: { 'zlib:build:aarch64': [] } }, taskPlans: { 'zlib:build:aarch64': ['env:CC', 'recipes/zlib/recipe.yaml'] } },
      { skipped: undefined, fn: () => 1, list: [1, undefined, () => 1, null], empty: { a: {}, b: [] }, deep: { a: { b: { c: [1, { d: 'line\nbreak \u2028' }] } } }, 'quo"te': 'é', when: new Date(0), yes: true },
      [[[[1, 2]]], 'x'],
    ];
    for (const sample of samples) {
      writeJsonFileInPieces!(file, sample);
      assert.equal(readFileSync(file, 'utf8'), JSON.stringify(sample, null, 2));
    }
  });

  it('writes a graph longer than V8 strings may be, whole, under the final name only when done', (t) => {
    assert.equal(typeof writeJsonFileInPieces, 'function', 'patches/nx+24.0.0.patch is not applied: run npm install (its postinstall runs patch-package)');
    const dir = mkdtempSync(join(tmpdir(), 'nx-distro-nx-patch-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'graph.json');
    // 520 plans of 1 MiB each (one string shared, so the value itself is small): 545 MB of JSON,
    // past V8's longest string (2^29 - 24 characters), which JSON.stringify cannot return.
    const plan = 'p'.repeat(1 << 20);
    const taskPlans: Record<string, string> = {};
    for (let i = 0; i < 520; i++) taskPlans[`pkg${i}:build`] = plan;
    const members = Object.keys(taskPlans).map((key) => `\n    ${JSON.stringify(key)}: `.length + plan.length + 2);
    const expectedSize = '{\n  "taskPlans": {'.length + members.reduce((sum, size) => sum + size, 0) + members.length - 1 + '\n  }\n}'.length;
    assert.ok(expectedSize > 2 ** 29 - 24);
    writeJsonFileInPieces!(file, { taskPlans });
    assert.equal(statSync(file).size, expectedSize);
    const fd = openSync(file, 'r');
    const expectedHead = '{\n  "taskPlans": {\n    "pkg0:build": "pppp';
    const expectedTail = 'ppp"\n  }\n}';
    const head = Buffer.alloc(expectedHead.length);
    const tail = Buffer.alloc(expectedTail.length);
    readSync(fd, head, 0, head.length, 0);
    readSync(fd, tail, 0, tail.length, expectedSize - tail.length);
    closeSync(fd);
    assert.equal(head.toString(), expectedHead);
    assert.equal(tail.toString(), expectedTail);
    assert.deepEqual(readdirSync(dir), ['graph.json'], 'no temporary file left beside it');
  });
});
