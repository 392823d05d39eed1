import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildrootSourcesList, hostAptSources } from './apt-sources';

describe('apt sources for build roots', () => {
  it('reads one-line and deb822 files, keeps the suite and its companions, drops deb-src and foreign-arch entries', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'apt-'));
    try {
      mkdirSync(path.join(dir, 'sources.list.d'));
      writeFileSync(path.join(dir, 'sources.list'), '# comment\ndeb-src http://a/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://vendor/apt stable main\n');
      writeFileSync(path.join(dir, 'sources.list.d', 'debian.sources'), [
        'Types: deb deb-src',
        'URIs: http://deb.debian.org/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main contrib',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
        'Types: deb',
        'URIs: http://deb.debian.org/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://off/debian',
        'Suites: bookworm',
        'Components: main',
        'Enabled: no',
        '',
      ].join('\n'));
      writeFileSync(path.join(dir, 'sources.list.d', 'node.sources'), 'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\nArchitectures: amd64\n');
      writeFileSync(path.join(dir, 'sources.list.d', 'x.list.disabled'), 'deb http://never/ bookworm main\n');
      const sources = hostAptSources(dir);
      assert.deepEqual(sources.map((s) => `${s.uri} ${s.suite}`), [
        'http://vendor/apt stable',
        'http://deb.debian.org/debian bookworm',
        'http://deb.debian.org/debian bookworm-updates',
        'http://deb.debian.org/debian-security bookworm-security',
        'https://deb.nodesource.com/node_20.x nodistro',
      ]);
      assert.equal(buildrootSourcesList(sources, 'bookworm', 'arm64'), [
        'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main contrib',
        'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main contrib',
        'deb http://deb.debian.org/debian-security bookworm-security main',
        '',
      ].join('\n'));
      assert.equal(buildrootSourcesList(sources, 'trixie', 'arm64'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
