import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../model/errors';
import { normalizeOptions } from '../model/plugin-options';
import { fetchSetup } from './settings';

describe('fetchSetup', () => {
  it("lets a recipe's file: URLs point into the workspace and the folders of localSourceDirs, resolved against the workspace root", () => {
    const { settings } = fetchSetup('/ws', normalizeOptions({ localSourceDirs: ['/srv/tarballs', 'vendor/tarballs'] }), {});
    assert.deepEqual(settings.localRoots, ['/ws', '/srv/tarballs', '/ws/vendor/tarballs']);
    assert.deepEqual(fetchSetup('/ws', normalizeOptions({}), {}).settings.localRoots, ['/ws']);
  });

  it('refuses a localSourceDirs that is not a list of folders, naming nx.json and the option', () => {
    for (const bad of ['/srv/tarballs', [''], [42]]) {
      assert.throws(() => fetchSetup('/ws', normalizeOptions({ localSourceDirs: bad as string[] }), {}), (e: Error) =>
        e instanceof InputError && e.message === 'nx.json: plugins[nx-distro].options.localSourceDirs: must be a list of folders; write e.g. ["/srv/tarballs"] (absolute, or relative to the workspace root)');
    }
  });
});
