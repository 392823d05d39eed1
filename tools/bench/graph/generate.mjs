// Generates a synthetic but realistic recipe tree for the graph benchmark.
//
// Shape (close to a binary distribution's): recipe i may only depend on recipes before it, so
// the tree is acyclic; dependencies are drawn with a strong preference for early recipes
// ("popular" libraries such as a C library, zlib, ncurses get a large fan-in); about 1% of
// recipes declare a `stage1`, and about 2% of recipes depend on some recipe's stage instead
// of its final build (the toolchain loops of a real tree).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Small deterministic PRNG (mulberry32) so every run generates the same tree (the scheduling benchmark's DAG too). */
export function rng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes `count` recipes under `<root>/recipes/<category>/<name>/recipe.yaml`.
 * @param {string} root absolute workspace root
 * @param {number} count number of recipes
 * @param {{ maxMakedepends?: number, maxDepends?: number, stageShare?: number }} [shape] draws per
 *   recipe: up to `maxMakedepends` makedepends (default 6) and `maxDepends` depends (default 3),
 *   each uniform from 0, before duplicates are dropped; `stageShare` of recipes (default 0.01)
 *   declare a `stage1`
 * @returns {{ edges: number, stages: number }} dependency entries written and stages declared
 */
export function generateRecipes(root, count, shape = {}) {
  const maxMake = shape.maxMakedepends ?? 6;
  const maxDep = shape.maxDepends ?? 3;
  const stageShare = shape.stageShare ?? 0.01;
  const rand = rng(count);
  const name = (i) => `pkg${String(i).padStart(6, '0')}`;
  const hasStage = new Set();
  const pick = (i) => Math.floor(Math.pow(rand(), 3) * i); // skewed towards early recipes
  let edges = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0 && rand() < stageShare) hasStage.add(i);
    const makedepends = new Set();
    const depends = new Set();
    const nMake = i === 0 ? 0 : Math.min(i, Math.floor(rand() * (maxMake + 1)));
    for (let k = 0; k < nMake; k++) {
      const j = pick(i);
      makedepends.add(hasStage.has(j) && rand() < 0.5 ? `${name(j)}@stage1` : name(j));
    }
    const nDep = i === 0 ? 0 : Math.min(i, Math.floor(rand() * (maxDep + 1)));
    for (let k = 0; k < nDep; k++) depends.add(name(pick(i)));
    const lines = [
      `name: ${name(i)}`,
      `version: ${1 + (i % 9)}.${i % 13}.${i % 7}`,
      'release: 1',
      `description: Synthetic package number ${i} for the graph benchmark`,
      'license: [MIT]',
      `homepage: https://example.org/${name(i)}`,
      'sources:',
      `  - url: https://example.org/releases/${name(i)}-${i}.tar.xz`,
      `    sha256: '${(i.toString(16).padStart(8, '0')).repeat(8)}'`,
      'style: gnu-configure',
    ];
    if (depends.size) lines.push(`depends: [${[...depends].join(', ')}]`);
    if (makedepends.size) lines.push(`makedepends: [${[...makedepends].join(', ')}]`);
    if (hasStage.has(i)) lines.push('stages:', '  stage1:', '    makedepends: []', '    profiles: [stage1, nocheck]');
    const dir = path.join(root, 'recipes', `cat${String(i % 50).padStart(2, '0')}`, name(i));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'recipe.yaml'), lines.join('\n') + '\n');
    edges += makedepends.size + depends.size;
  }
  return { edges, stages: hasStage.size };
}
