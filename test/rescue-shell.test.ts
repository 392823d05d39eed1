/**
 * The rescue shell (issue 22 part 1): a build whose `build` step fails keeps its work folder and
 * says so, with the command that opens a shell in its sandbox; `nx-distro shell` then runs in a
 * real pseudo-terminal (tmux: the test types with send-keys and reads the screen with
 * capture-pane, as a user at a terminal would), in `$srcdir` as the failed step left it, with the
 * steps' environment, a terminal of its own (Ctrl-C interrupts a command, not the shell), the
 * host's root read-only, and what the user writes in `$srcdir` kept in the work folder. A real
 * build (x86_64, the build machine's own arch: no QEMU needed) in bubblewrap.
 * Needs tmux (tools/setup-host).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const BROKEN = `name: broken
version: '1.0'
release: 1
description: Fails in its build step, after its configure step wrote a file
license: [MIT]
homepage: https://example.org/broken
sources: []
steps:
  configure: |
    printf 'configured by the step\\n' > configured.txt
  build: |
    echo "broken: looking for fixed.txt"
    test -f fixed.txt
  install: |
    install -Dm644 fixed.txt "$pkgdir/usr/share/broken/fixed.txt"
`;

/** Fails in configure: the run's second failed task. */
const BROKEN_CONFIGURE = `name: broken-configure
version: '1.0'
release: 1
description: Fails in its configure step
license: [MIT]
homepage: https://example.org/broken-configure
sources: []
steps:
  configure: exit 7
  install: 'true'
`;

/** Builds: a task that depends on neither failure runs to its end. */
const FINE = `name: fine
version: '1.0'
release: 1
description: Installs one file
license: [MIT]
homepage: https://example.org/fine
sources: []
steps:
  install: |
    echo fine | install -Dm644 /dev/stdin "$pkgdir/usr/share/fine/fine.txt"
`;

const noTmux = existsSync('/usr/bin/tmux') ? false : 'tmux is not installed (tools/setup-host installs it)';

describe('rescue shell: nx-distro shell in a failed build\'s sandbox', { skip: noTmux }, () => {
  let ws: TestWorkspace;
  const socket = `nx-distro-test-${process.pid}`;
  const tmux = (...args: string[]) => execa('tmux', ['-L', socket, ...args], { reject: false });
  const screen = async () => (await tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'rescue')).stdout;
  /** Waits until the screen matches, up to `seconds`; returns the screen. */
  const waitFor = async (re: RegExp, seconds: number) => {
    const end = Date.now() + seconds * 1000;
    let text = '';
    while (Date.now() < end) {
      text = await screen();
      if (re.test(text)) return text;
      await sleep(200);
    }
    assert.fail(`the terminal never showed ${re} in ${seconds} s; it shows:\n${text}`);
  };
  const type = async (line: string) => {
    await tmux('send-keys', '-t', 'rescue', '-l', line);
    await tmux('send-keys', '-t', 'rescue', 'Enter');
  };
  const work = () => path.join(ws.root, 'tmp', 'build', 'x86_64', 'broken');

  before(() => {
    ws = createWorkspace();
    ws.write('recipes/broken/recipe.yaml', BROKEN);
    ws.write('recipes/broken-configure/recipe.yaml', BROKEN_CONFIGURE);
    ws.write('recipes/fine/recipe.yaml', FINE);
  });
  after(async () => {
    await tmux('kill-server');
    ws.dispose();
  });

  it('a failed step keeps the work folder and prints where it is and the shell command; the run ends with one line per failed task', async () => {
    const r = await ws.nx('run-many', '-t', 'build', '-c', 'x86_64', '--projects=broken,broken-configure,fine', '--output-style=static');
    assert.notEqual(r.exitCode, 0);
    assert.ok(existsSync(path.join(ws.root, 'dist/x86_64/packages/fine/fine-1.0-1-x86_64.pkg.tar.zst')), 'the independent task ran to its end');
    const summary = r.all.split('\n').filter((l) => l.startsWith('nx-distro: '));
    assert.deepEqual(summary.filter((l) => / failed/.test(l)), [
      'nx-distro: 2 task(s) failed:',
      // By task id: broken-configure:build:x86_64 sorts before broken:build:x86_64.
      'nx-distro: failed: x86_64 broken-configure: step configure; log dist/x86_64/packages/broken-configure/build.log; shell: npx nx-distro shell broken-configure -c x86_64',
      'nx-distro: failed: x86_64 broken: step build; log dist/x86_64/packages/broken/build.log; shell: npx nx-distro shell broken -c x86_64',
    ]);
    assert.match(r.all, /^broken: step build failed \(exit 1\) after [\d.]+ s; full log: dist\/x86_64\/packages\/broken\/build\.log; work folder kept: tmp\/build\/x86_64\/broken; a shell in its sandbox: npx nx-distro shell broken -c x86_64$/m);
    assert.equal(readFileSync(path.join(work(), 'src', 'configured.txt'), 'utf8'), 'configured by the step\n');
    assert.equal(JSON.parse(readFileSync(path.join(work(), 'sandbox.json'), 'utf8')).failedPhase, 'build');
  });

  it('opens a shell in a real terminal: $srcdir as the step left it, the steps\' environment, Ctrl-C, a read-only root', async () => {
    const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'nx-distro');
    const started = await tmux('new-session', '-d', '-s', 'rescue', '-x', '200', '-y', '50', '-c', ws.root, `sh -c '${bin} shell broken -c x86_64; echo "shell exited with $?"; sleep 600'`);
    assert.equal(started.exitCode, 0, started.stderr);
    let text = await waitFor(/\[nx-distro broken x86_64 \/build\/src\]\$ $/m, 60);
    assert.match(text, /nx-distro shell: broken for x86_64 \(cross\), its build step failed; in \$srcdir \(\/build\/src = tmp\/build\/x86_64\/broken\/src\)/);
    await type('tty; pwd; cat configured.txt; echo "CC=$CC CHOST=$CHOST pkgdir=$pkgdir"');
    text = await waitFor(/^CC=x86_64-linux-gnu-gcc CHOST=x86_64-linux-gnu pkgdir=\/build\/pkg$/m, 20);
    assert.match(text, /^\/dev\/pts\/\d+$/m, 'the shell has a terminal');
    assert.match(text, /^\/build\/src$/m);
    assert.match(text, /^configured by the step$/m);
    // Ctrl-C ends the foreground command inside, not the shell (its own pty's line discipline).
    await type('sleep 300');
    await sleep(1000);
    await tmux('send-keys', '-t', 'rescue', 'C-c');
    await type('echo "still here $((6 * 7))"');
    await waitFor(/^still here 42$/m, 20);
    await type('touch /usr/nx-distro-probe || echo "the root is read-only"; echo fixed > fixed.txt; exit');
    text = await waitFor(/^shell exited with 0$/m, 30);
    assert.match(text, /^the root is read-only$/m);
    assert.ok(!existsSync('/usr/nx-distro-probe'));
    assert.equal(readFileSync(path.join(work(), 'src', 'fixed.txt'), 'utf8'), 'fixed\n', 'what the user wrote in $srcdir stays in the work folder');
  });

  it('resumes from the failed step with the fix made in the shell, outside Nx: packages in dist/<target>/resumed, nothing cached', async () => {
    const cache = path.join(ws.root, '.nx-test', 'cache');
    const before = readdirSync(cache).sort();
    const r = await ws.bin('nx-distro', 'resume', 'broken', '-c', 'x86_64');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stderr, /^nx-distro resume: broken for x86_64: from step build in tmp\/build\/x86_64\/broken; log: dist\/x86_64\/resumed\/broken\/build\.log$/m);
    assert.match(r.stderr, /^nx-distro resume: wrote dist\/x86_64\/resumed\/broken\/ from a build resumed by hand: nothing of it is cached, uploaded or staged by other builds; put the fix into the recipe \(a patch or a step\), then: npx nx run broken:build -c x86_64$/m);
    const pkg = path.join(ws.root, 'dist/x86_64/resumed/broken/broken-1.0-1-x86_64.pkg.tar.zst');
    assert.equal((await execa('bsdtar', ['-xOf', pkg, 'usr/share/broken/fixed.txt'])).stdout, 'fixed');
    const log = readFileSync(path.join(ws.root, 'dist/x86_64/resumed/broken/build.log'), 'utf8');
    assert.match(log, /==> build failed: [\s\S]*# resumed by hand from step build[\s\S]*==> build done: [\s\S]*==> install done: /, 'the failed build\'s log, then the resumed steps');
    assert.doesNotMatch(log, /==> configure[^\n]*\n[\s\S]*# resumed by hand[\s\S]*==> configure/, 'configure is not run again');
    assert.deepEqual(readdirSync(path.join(ws.root, 'dist/x86_64/packages/broken')).filter((f) => f.endsWith('.pkg.tar.zst')), [], 'the build\'s own output folder holds no package');
    assert.deepEqual(readdirSync(cache).sort(), before, 'nothing entered the Nx cache');
    // The next real build starts from a fresh work folder: the hand-made fix is gone, and it fails as the recipe says.
    const again = await ws.nx('run', 'broken:build', '-c', 'x86_64', '--output-style=static');
    assert.notEqual(again.exitCode, 0);
    assert.ok(!existsSync(path.join(work(), 'src', 'fixed.txt')));
  });

  it('names the build to run when there is no work folder to open', async () => {
    const r = await ws.bin('nx-distro', 'shell', 'other', '-c', 'x86_64');
    assert.equal(r.exitCode, 1);
    assert.equal(r.stderr.trim(), 'nx-distro shell: tmp/build/x86_64/other: no build of "other" for "x86_64" to open (no other/sandbox.json); fix: npx nx run other:build -c x86_64, then open it again');
    const resume = await ws.bin('nx-distro', 'resume', 'other', '-c', 'x86_64');
    assert.equal(resume.stderr.trim(), 'nx-distro resume: tmp/build/x86_64/other: no build of "other" for "x86_64" to resume (no other/sandbox.json); fix: npx nx run other:build -c x86_64, then resume it again');
    const built = await ws.bin('nx-distro', 'resume', 'fine', '-c', 'x86_64');
    assert.equal(built.exitCode, 1);
    assert.equal(built.stderr.trim(), 'nx-distro resume: tmp/build/x86_64/fine: its last build did not fail in a step, so there is nothing to resume; fix: npx nx run fine:build -c x86_64');
    const usage = await ws.bin('nx-distro', 'shell', 'broken');
    assert.equal(usage.exitCode, 2);
    assert.match(usage.stderr.trim(), /^nx-distro shell: no system target \(-c\); fix: nx-distro shell PROJECT\[:TARGET\] -c SYSTEM_TARGET, e\.g\. nx-distro shell zlib -c aarch64$/);
  });
});
