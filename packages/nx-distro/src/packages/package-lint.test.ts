import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { scanTree } from '../util/file-tree';
import { lintPackageTree, stripSpecialBits } from './package-lint';

const dir = mkdtempSync(path.join(tmpdir(), 'package-lint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A package tree on disk: `files` (path -> mode), `links` (path -> target), folders made as needed. */
function tree(name: string, files: Record<string, number>, links: Record<string, string> = {}, dirs: Record<string, number> = {}) {
  const root = path.join(dir, name);
  mkdirSync(root);
  for (const [rel, mode] of Object.entries(dirs)) {
    mkdirSync(path.join(root, rel), { recursive: true });
    chmodSync(path.join(root, rel), mode);
  }
  for (const [rel, mode] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), 'x');
    chmodSync(path.join(root, rel), mode);
  }
  for (const [rel, target] of Object.entries(links)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    symlinkSync(target, path.join(root, rel));
  }
  return root;
}
const lint = (root: string, setuid?: string[]) => lintPackageTree(scanTree(root, 2_000_000_000), setuid).map((p) => `${p.field}: ${p.problem}; ${p.fix}`);

test('a usual package passes: modes 0755/0644, a 1777 folder, links inside the package or absolute', () => {
  const root = tree('ok', { 'usr/bin/x': 0o755, 'usr/share/x/data': 0o644, 'usr/lib/libx.so.1': 0o755 }, {
    'usr/lib/libx.so': 'libx.so.1', 'usr/bin/y': '../lib/libx.so', 'etc/x': '/etc/shadow', 'bin': 'usr/bin', 'usr/sbin/x': '../../bin/x',
  }, { 'var/tmp': 0o1777 });
  assert.deepEqual(lint(root), []);
});

test('refuses undeclared setuid and setgid files and folders, and stale declarations, in one line each', () => {
  const root = tree('suid', { 'usr/bin/sh-copy': 0o4755, 'usr/bin/wall': 0o2755, 'usr/bin/passwd': 0o4755, 'usr/bin/plain': 0o755 }, {}, { 'var/mail': 0o2775 });
  assert.deepEqual(lint(root, ['usr/bin/passwd', 'usr/bin/plain', 'usr/bin/gone']), [
    'setuid: "usr/bin/sh-copy" is setuid (mode 4755) but not listed; add "usr/bin/sh-copy" to `setuid:` if the package must carry it so, else drop the bit in the install step (chmod ug-s)',
    'setuid: "usr/bin/wall" is setgid (mode 2755) but not listed; add "usr/bin/wall" to `setuid:` if the package must carry it so, else drop the bit in the install step (chmod ug-s)',
    'setuid: "var/mail" is setgid (mode 2775) but not listed; add "var/mail" to `setuid:` if the package must carry it so, else drop the bit in the install step (chmod ug-s)',
    'setuid: "usr/bin/plain" is listed but the package holds it without a setuid or setgid bit; remove it from `setuid:`, or set the bit in the install step (chmod u+s)',
    'setuid: "usr/bin/gone" is listed but the package does not hold it; remove it from `setuid:`, or set the bit in the install step (chmod u+s)',
  ]);
});

test('refuses world-writable folders without the sticky bit and world-writable files', () => {
  const root = tree('ww', { 'usr/share/w': 0o666 }, {}, { 'var/spool/x': 0o2777, 'var/tmp': 0o1777 });
  assert.deepEqual(lint(root, ['var/spool/x']), [
    'steps.install: the file "usr/share/w" is world-writable (mode 0666); chmod o-w it in the install step',
    'steps.install: the folder "var/spool/x" is world-writable without the sticky bit (mode 2777); chmod o-w it in the install step, or chmod +t for a shared folder like /tmp (1777)',
  ]);
});

test('refuses symlinks that leave the package root, through other links too', () => {
  const root = tree('links', {}, { 'usr/share/x': '../../../../etc/passwd', 'p': '.', 'q': 'p/..', 'usr/lib/deep': '../..', 'usr/lib/out': 'deep/../etc', 'loop': 'loop2', 'loop2': 'loop' });
  assert.deepEqual(lint(root).map((l) => l.replace(/;.*/, '')), [
    'steps.install: the symlink "q" -> "p/.." leaves the package root',
    'steps.install: the symlink "usr/lib/out" -> "deep/../etc" leaves the package root',
    'steps.install: the symlink "usr/share/x" -> "../../../../etc/passwd" leaves the package root',
  ]);
});

test('stripSpecialBits takes setuid/setgid off files and folders, leaves sticky and links alone', async () => {
  const root = tree('strip', { 'a/suid': 0o4755, 'a/sgid': 0o2711, 'a/plain': 0o644 }, { 'a/link': 'suid' }, { 'a/d': 0o2775, 't': 0o1777 });
  assert.equal(await stripSpecialBits(root), 3);
  const mode = (rel: string) => (lstatSync(path.join(root, rel)).mode & 0o7777).toString(8);
  assert.deepEqual(['a/suid', 'a/sgid', 'a/plain', 'a/d', 't'].map(mode), ['755', '711', '644', '775', '1777']);
  assert.equal(await stripSpecialBits(path.join(dir, 'missing')), 0);
});
