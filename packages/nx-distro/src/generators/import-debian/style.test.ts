import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { guessStyle } from './style';

function tree(files: string[]): string {
  const root = mkdtempSync(path.join(tmpdir(), 'style-'));
  for (const f of files) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), '');
  }
  return root;
}

describe('build style guess', () => {
  const cases: [string[], string, boolean, string?][] = [
    [['configure', 'configure.ac', 'CMakeLists.txt'], 'gnu-configure', false],
    [['configure.ac', 'Makefile.am'], 'gnu-configure', true],
    [['configure.in'], 'gnu-configure', true],
    [['CMakeLists.txt', 'Makefile'], 'cmake', false],
    [['meson.build', 'CMakeLists.txt'], 'meson', false],
    [['Makefile'], 'make', false],
    [['README'], 'none', false],
    [['README', 'expat/CMakeLists.txt', 'expat/configure.ac', 'testdata/Makefile'], 'cmake', false, 'expat'],
  ];
  for (const [files, style, autoreconf, subfolder] of cases) {
    it(`${files.join(', ')} -> ${style}`, () => {
      const root = tree(files);
      try {
        const g = guessStyle(root, undefined, 'expat');
        assert.equal(g.style, style);
        assert.equal(g.autoreconf, autoreconf);
        assert.equal(g.subfolder, subfolder);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  it("takes debian/rules' dh --buildsystem over the files", () => {
    const root = tree(['configure', 'CMakeLists.txt']);
    try {
      const g = guessStyle(root, '#!/usr/bin/make -f\n%:\n\tdh $@ --buildsystem=cmake --builddirectory=build\n');
      assert.deepEqual(g, { style: 'cmake', reason: 'debian/rules: dh --buildsystem=cmake', autoreconf: false });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
