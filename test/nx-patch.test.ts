// The patch this repository carries for Nx (patches/nx+24.0.0.patch, applied by patch-package on
// `npm install`): Nx's findMatchingProjects, called for every dependsOn entry that names
// `projects` while a task graph is built, listed every project before looking exact names up,
// which made planning cost tasks x projects (docs/benchmarks-scale.md). These tests check that
// the installed Nx carries the patch and that it answers what unpatched Nx answers.
import assert from 'node:assert/strict';
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
