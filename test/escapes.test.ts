// Sandbox escapes: builds that try to get out of their bubblewrap sandbox, on the real machine
// (needs bwrap with user namespaces: tools/setup-host). What test/sandbox.test.ts already covers
// (host loopback and DNS unreachable, read-only /usr, background `cmd &` killed, the timeout) is
// not repeated; these are the attacks a hostile recipe would try next: the user's secrets,
// a daemon that detaches itself, a fork bomb, a new root, the outside network. The last part
// runs them through a real recipe build (`nx run <recipe>:build -c x86_64`), so the executor's
// own sandbox settings are what is tested.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOST_ETC_ENTRIES, HOST_ROOT_ENTRIES, outsideIdentity, runSandboxed, SANDBOX_HOST_ID, SANDBOX_MAX_PROCESSES } from '../packages/nx-distro/src/sandbox/bwrap';
import type { SandboxSpec } from '../packages/nx-distro/src/sandbox/spec';
import { createWorkspace, type TestWorkspace } from './helpers/workspace';
import { eventually, processesWith } from './helpers/processes';
import { pkgnameOfFile } from '../packages/nx-distro/src/model/package-layout';

const ENV = { PATH: '/usr/bin:/bin', HOME: '/tmp', LC_ALL: 'C' };

/** Host processes with `token` in their command line that outlived a sandbox (nx's own left out). */
const leftover = (token: string) => processesWith(token, ['nx run']);

/** Whether a path exists, a dangling symlink included. */
const lstatExists = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

/** Number of processes on the host (to see that a contained fork bomb left nothing behind). */
const hostProcesses = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).length;

describe('sandbox escapes, direct runs', () => {
  let dir: string;
  let secret: string;
  let n = 0;
  const sh = async (script: string, extra: Partial<SandboxSpec> = {}, ...args: string[]) => {
    const logFile = path.join(dir, `log-${++n}.txt`);
    const r = await runSandboxed({ binds: [{ src: dir, dest: '/work-test', writable: true }], env: ENV, cwd: '/work-test', argv: ['/bin/sh', '-e', '-c', script, ...args], logFile, timeoutSeconds: 120, ...extra });
    return { ...r, log: readFileSync(logFile, 'utf8') };
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-escapes-'));
    // A secret in the real home of the user running nx (root's /root when nx runs as root).
    secret = path.join(homedir(), `.nx-distro-escape-secret-${process.pid}`);
    writeFileSync(secret, 'TOPSECRET-KEY\n', { mode: 0o600 });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(secret, { force: true });
  });

  it("cannot read the user's home, /root or the password hashes", async () => {
    const r = await sh([
      `cat ${secret} || echo "no secret"`,
      'ls -A /root /home',
      // Root-owned files are the sandbox user's own when nx runs as root: the hashes are masked.
      'if grep -q . /etc/shadow 2>/dev/null; then echo "shadow: readable"; else echo "shadow: unreadable"; fi',
      `find / -xdev -name '.nx-distro-escape-secret-*' 2>/dev/null | wc -l`,
    ].join('\n'));
    assert.equal(r.exitCode, 0, r.log);
    assert.doesNotMatch(r.log, /TOPSECRET|root:[^\n]*:\d+:/);
    assert.match(r.log, /No such file or directory\nno secret\n\/home:\n\n\/root:\nshadow: unreadable\n0\n$/);
  });

  it('as root, maps the build user to an unprivileged id outside: a setuid file it makes is not root\'s', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('nx is not root here: the sandbox user is already the caller');
    // A work folder every user can pass (as a workspace in a 0755 folder is); a 0700 one keeps root.
    const open = mkdtempSync(path.join(tmpdir(), 'nx-distro-escapes-open-'));
    chmodSync(open, 0o755);
    try {
      mkdirSync(path.join(open, 'w'));
      const spec = { binds: [{ src: path.join(open, 'w'), dest: '/w', writable: true }], cwd: '/w' };
      assert.equal(outsideIdentity({ ...spec, env: ENV, argv: ['true'], logFile: '/dev/null' }), 'unprivileged');
      const r = await sh('id -u; stat -c %u /usr/bin; cp /bin/sh sh-copy; chmod 4755 sh-copy; echo made', spec);
      assert.equal(r.exitCode, 0, r.log);
      // Root's files are nobody's inside (unmapped), and what the build makes is the unprivileged id's outside.
      assert.equal(r.log, '1000\n65534\nmade\n');
      const st = statSync(path.join(open, 'w', 'sh-copy'));
      assert.equal(st.uid, SANDBOX_HOST_ID);
      assert.equal(st.gid, SANDBOX_HOST_ID);
      assert.notEqual(st.uid, 0);
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  });

  it('reaches no host Unix socket with network off: /var/tmp, /run, /tmp, abstract', async () => {
    // Listeners on the host where daemons and users put sockets; the sandbox tries each with a
    // real client (python3 from the host's /usr). A read-only mount would not stop connect(2).
    const paths = [`/var/tmp/nx-distro-escape-${process.pid}.sock`, `/run/nx-distro-escape-${process.pid}.sock`, path.join(tmpdir(), `nx-distro-escape-${process.pid}.sock`)];
    const servers: Server[] = [];
    const listen = (where: string) => new Promise<void>((resolve, reject) => {
      const server = createServer((s) => s.end('hello from the host\n'));
      servers.push(server);
      server.once('error', reject);
      server.listen(where, resolve);
    });
    try {
      for (const p of paths) await listen(p);
      const abstract = `\0nx-distro-escape-${process.pid}`;
      await listen(abstract);
      const client = [
        'import socket, sys',
        'for p in sys.argv[1:]:',
        '    s = socket.socket(socket.AF_UNIX)',
        '    try:',
        "        s.connect(p.replace('@', chr(0), 1) if p.startswith('@') else p); print(p, 'answered:', s.recv(100))",
        '    except OSError as e:',
        "        print(p, 'unreachable')",
      ].join('\n');
      const r = await sh('python3 -c "$0" "$@"', {}, client, ...paths, `@nx-distro-escape-${process.pid}`);
      assert.equal(r.exitCode, 0, r.log);
      assert.doesNotMatch(r.log, /answered|hello/);
      assert.equal(r.log, [...paths, `@nx-distro-escape-${process.pid}`].map((p) => `${p} unreachable\n`).join(''));
    } finally {
      for (const s of servers) s.close();
      for (const p of paths) rmSync(p, { force: true });
    }
  });

  it('shows only the documented part of the host root: /usr, /etc essentials, no tokens or keys', async () => {
    // The cache server's tokens file at docs/remote-cache.md's own path, and an unlisted /etc file.
    const made: string[] = [];
    const tokens = '/etc/nx-distro/tokens.yaml';
    if (!existsSync(tokens)) {
      mkdirSync('/etc/nx-distro', { recursive: true });
      writeFileSync(tokens, 'TOPSECRET-TOKEN: upload\n', { mode: 0o600 });
      made.push(tokens);
    }
    const other = `/etc/nx-distro-escape-${process.pid}.conf`;
    writeFileSync(other, 'TOPSECRET-ETC\n', { mode: 0o644 });
    made.push(other);
    try {
      const r = await sh([
        `cat ${tokens} 2>/dev/null || echo "tokens: unreadable"`,
        `cat ${other} 2>/dev/null || echo "etc: unreadable"`,
        'ls -A / | tr "\\n" " "; echo',
        'ls -A /etc | tr "\\n" " "; echo',
        'ls -A /var | tr "\\n" " "; echo',
        // What builds need still works: users, the loader, alternatives, the compiler.
        'id -un; awk "BEGIN { print 6 * 7 }"; cc --version >/dev/null && echo "cc: runs"',
      ].join('\n'));
      assert.equal(r.exitCode, 0, r.log);
      assert.doesNotMatch(r.log, /TOPSECRET/);
      const present = (dir: string, names: readonly string[]) => names.filter((n) => existsSync(`${dir}/${n}`) || lstatExists(`${dir}/${n}`));
      const root = [...new Set([...present('', HOST_ROOT_ENTRIES), 'dev', 'etc', 'home', 'proc', 'root', 'run', 'tmp', 'var', 'work-test'])].sort();
      const lines = r.log.split('\n');
      assert.deepEqual(lines.slice(0, 2), ['tokens: unreadable', 'etc: unreadable'], r.log);
      assert.deepEqual(lines[2].trim().split(' ').sort(), root, r.log);
      assert.deepEqual(lines[3].trim().split(' ').sort(), present('/etc', HOST_ETC_ENTRIES).sort(), r.log);
      assert.equal(lines[4].trim(), 'tmp');
      assert.deepEqual(lines.slice(6, 8), ['42', 'cc: runs'], r.log);
    } finally {
      for (const f of made) rmSync(f, { force: true });
      if (made.includes(tokens)) rmSync('/etc/nx-distro', { recursive: true, force: true });
    }
  });

  it('kills a daemon that detaches itself (setsid, double fork, nohup) when the command ends', async () => {
    const token = `2000.${process.pid}`;
    const r = await sh(`setsid sleep ${token}1 & (setsid sleep ${token}2 &) ; nohup sleep ${token}3 >/dev/null 2>&1 & setsid -f sleep ${token}4; sleep 0.2; ps -eo args | grep -c '^sleep ${token}'`);
    assert.equal(r.exitCode, 0, r.log);
    assert.equal(r.log.trim(), '4', 'the four daemons ran inside');
    assert.ok(await eventually(() => leftover(token).length === 0, 3000), leftover(token).join('\n'));
  });

  it('contains a fork bomb: it fails at the process limit within seconds, and nothing is left', async () => {
    const token = `bomb-${process.pid}`;
    const before = hostProcesses();
    // The classic bomb, each copy starting two more; the top-level shell dies when fork fails.
    const r = await sh('bomb() { bomb & bomb; }; bomb', { maxProcesses: 200, timeoutSeconds: 60 }, token);
    assert.notEqual(r.exitCode, 0, r.log.slice(0, 2000));
    assert.equal(r.timedOut, false, 'ended by the limit, not by the timeout');
    assert.ok(r.durationMs < 20_000, `${r.durationMs} ms`);
    assert.match(r.log, /[Cc]an(no|')t fork|Resource temporarily unavailable/);
    assert.ok(await eventually(() => leftover(token).length === 0, 5000), `${leftover(token).length} bomb processes left`);
    assert.ok(hostProcesses() < before + 50, `host processes ${before} -> ${hostProcesses()}`);
  });

  it(`limits processes to ${SANDBOX_MAX_PROCESSES} by default, enough for a parallel build`, async () => {
    // 300 concurrent processes (make -j on a large machine) are fine; the default stops a bomb.
    const ok = await sh('i=0; while [ $i -lt 300 ]; do sleep 5 & i=$((i+1)); done; echo started $i');
    assert.equal(ok.exitCode, 0, ok.log.slice(0, 2000));
    assert.equal(ok.log, 'started 300\n');
    const bomb = await sh('while :; do sleep 600 & done');
    assert.notEqual(bomb.exitCode, 0);
    assert.equal(bomb.timedOut, false);
    assert.match(bomb.log, /[Cc]an(no|')t fork|Resource temporarily unavailable/);
  });

  it('cannot change the host root: no mount, chroot or pivot_root reaches the host', async () => {
    const marker = `/usr/nx-distro-escaped-${process.pid}`;
    const r = await sh([
      `mount -t tmpfs none /usr 2>&1 || echo "mount refused"`,
      `chroot /work-test /bin/true 2>&1 || echo "chroot refused"`,
      // A nested user namespace may mount, but only in its own mount namespace.
      `unshare -rm sh -c 'mount -t tmpfs none /usr && touch ${marker} && echo "inner mount ok"' 2>&1 || echo "unshare refused"`,
      `touch ${marker} 2>&1 || echo "touch refused"`,
      `echo 1 > /proc/sys/kernel/sysrq 2>&1 || echo "sysctl refused"`,
      `hostname evil 2>&1 || echo "hostname refused"`,
    ].join('\n'));
    assert.equal(r.exitCode, 0, r.log);
    for (const what of ['mount', 'chroot', 'touch', 'sysctl', 'hostname']) assert.match(r.log, new RegExp(`^${what} refused$`, 'm'), r.log);
    assert.equal(existsSync(marker), false, 'nothing was written into the host /usr');
    assert.equal(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() === 'evil', false);
  });

  it('has no route out and no host interface: only loopback', async () => {
    // /proc/net/dev lists the interfaces of the sandbox's own network namespace.
    const r = await sh(`tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; bash -c 'exec 3<>/dev/tcp/1.1.1.1/53' 2>&1 || echo "no route"`);
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /^lo\nbash/);
    assert.match(r.log, /Network is unreachable[\s\S]*no route\n$/);
  });
});

describe('sandbox escapes through a real recipe build (nx-distro:cross, x86_64)', () => {
  let ws: TestWorkspace;
  let server: Server;
  let port: number;
  let secret: string;
  const token = `3000.${process.pid}`;
  const head = (name: string) => `name: ${name}\nversion: "1.0"\nrelease: 1\ndescription: A recipe that tries to escape\nlicense: [MIT]\nhomepage: https://example.org/\n`;

  before(async () => {
    ws = createWorkspace();
    ws.env.NX_DISTRO_SKIP_HOST_CHECK = '1';
    // A workspace every user may pass through, as a clone in a 0755 folder is: as root, the
    // builds' user is then the unprivileged SANDBOX_HOST_ID outside (sandbox/bwrap.ts).
    chmodSync(ws.root, 0o755);
    server = createServer((s) => s.end('hello from the host\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    secret = path.join(homedir(), `.nx-distro-escape-secret-build-${process.pid}`);
    writeFileSync(secret, 'TOPSECRET-BUILD\n', { mode: 0o600 });
    const step = (lines: string[]) => lines.map((l) => `    ${l}`).join('\n');
    ws.write('recipes/escape/recipe.yaml', `${head('escape')}steps:\n  build: |\n${step([
      `cat ${secret} || echo "secret: unreadable"`,
      `ls -A /root /home | tr '\\n' ' '; echo`,
      `touch ${ws.root}/escaped 2>&1 || echo "workspace: unreachable"`,
      `mkdir -p ${ws.root} && touch ${ws.root}/escaped && echo "workspace: wrote the sandbox's own /tmp copy"`,
      `touch /build/escaped 2>&1 || echo "build root: read-only"`,
      `touch "$pkgdir/too-early" 2>&1 || echo "pkgdir: read-only before install"`,
      `touch "$SYSTEM_TARGET_DIR/x" 2>&1 || echo "target dir: read-only"`,
      `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port} && head -n1 <&3' 2>&1 || echo "host loopback: refused"`,
      `getent hosts deb.debian.org || echo "dns: none"`,
      `setsid sleep ${token}1 & (setsid sleep ${token}2 &)`,
      `echo "build done"`,
    ])}\n  install: |\n${step(['mkdir -p "$pkgdir/usr/share/escape" && echo ok > "$pkgdir/usr/share/escape/ok"'])}\n`);
    // A build that plants root's files: a setuid shell and a setgid program in $pkgdir and in
    // $srcdir, a world-writable setgid folder, a link out of the package, an absolute link.
    const plant = [
      'mkdir -p "$pkgdir/usr/bin" "$pkgdir/usr/share" "$pkgdir/etc" "$pkgdir/var/spool/x"',
      'cp /bin/sh "$pkgdir/usr/bin/sh-copy" && chmod 4755 "$pkgdir/usr/bin/sh-copy"',
      'cp /bin/sh ./src-copy && chmod 6755 ./src-copy',
      'chmod 2777 "$pkgdir/var/spool/x"',
      'ln -s /etc/shadow "$pkgdir/etc/x"',
      'ln -s ../../../../etc/passwd "$pkgdir/usr/share/x"',
    ];
    ws.write('recipes/plant/recipe.yaml', `${head('plant')}steps:\n  install: |\n${step(plant)}\n`);
    // The same setuid file declared: packaged with its bit, and still stripped on the host.
    ws.write('recipes/declared/recipe.yaml', `${head('declared')}setuid: [usr/bin/sh-copy]\nsteps:\n  install: |\n${step([...plant.slice(0, 3), 'ln -s /etc/shadow "$pkgdir/etc/x"'])}\n`);
    ws.write('recipes/forkbomb/recipe.yaml', `${head('forkbomb')}steps:\n  build: |\n${step([`while :; do sleep ${token}9 & done`])}\n  install: |\n${step(['touch "$pkgdir/never"'])}\n`);
  });
  after(() => {
    server.close();
    rmSync(secret, { force: true });
    ws.dispose();
  });

  it('builds the package while every escape attempt fails, and leaves no daemon behind', async () => {
    const run = await ws.nx('run', 'escape:build', '-c', 'x86_64', '--output-style=static');
    const log = ws.read('dist/x86_64/packages/escape/build.log');
    assert.equal(run.exitCode, 0, `${run.all.slice(-3000)}\n${log}`);
    assert.doesNotMatch(log, /TOPSECRET|hello from the host/);
    for (const line of [
      'secret: unreadable', '/home:  /root: \n', 'workspace: unreachable', "workspace: wrote the sandbox's own /tmp copy",
      'build root: read-only', 'pkgdir: read-only before install', 'target dir: read-only', 'host loopback: refused', 'dns: none', 'build done',
    ]) assert.ok(log.includes(line), `${line}\n${log}`);
    assert.equal(existsSync(path.join(ws.root, 'escaped')), false, 'nothing written into the workspace');
    assert.equal(existsSync('/build/escaped'), false);
    assert.ok(await eventually(() => leftover(token).length === 0, 3000), leftover(token).join('\n'));
    assert.ok(readdirSync(path.join(ws.root, 'dist/x86_64/packages/escape')).some((f) => f.endsWith('.pkg.tar.zst')));
  });

  /** Entries of the work folder the steps wrote (src, pkg) that keep a setuid or setgid bit. */
  const specialBits = (name: string) => ['src', 'pkg'].flatMap((d) => {
    const dir = path.join(ws.root, 'tmp/build/x86_64', name, d);
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => {
      const st = lstatSync(path.join(dir, f));
      return !st.isSymbolicLink() && (st.mode & 0o6000) !== 0;
    }).map((f) => `${d}/${f}`);
  });

  it('refuses a package with an undeclared setuid file, a world-writable setgid folder, a link out; leaves no setuid file on the host', async () => {
    const run = await ws.nx('run', 'plant:build', '-c', 'x86_64', '--output-style=static');
    assert.notEqual(run.exitCode, 0, run.all.slice(-3000));
    const lines = run.all.split('\n');
    for (const want of [
      'recipes/plant/recipe.yaml: setuid: plant: "usr/bin/sh-copy" is setuid (mode 4755) but not listed; add "usr/bin/sh-copy" to `setuid:` if the package must carry it so, else drop the bit in the install step (chmod ug-s)',
      'recipes/plant/recipe.yaml: setuid: plant: "var/spool/x" is setgid (mode 2777) but not listed; add "var/spool/x" to `setuid:` if the package must carry it so, else drop the bit in the install step (chmod ug-s)',
      'recipes/plant/recipe.yaml: steps.install: plant: the folder "var/spool/x" is world-writable without the sticky bit (mode 2777); chmod o-w it in the install step, or chmod +t for a shared folder like /tmp (1777)',
      'recipes/plant/recipe.yaml: steps.install: plant: the symlink "usr/share/x" -> "../../../../etc/passwd" leaves the package root; point it at a path inside the package (an absolute target such as /usr/lib/x is read from the installed root), or remove it',
    ]) assert.ok(lines.some((l) => l.trim() === want), `${want}\n${run.all.slice(-3000)}`);
    // The absolute link is normal in a package: not named.
    assert.doesNotMatch(run.all, /"etc\/x"/);
    assert.equal(readdirSync(path.join(ws.root, 'dist/x86_64/packages/plant')).some((f) => f.endsWith('.pkg.tar.zst')), false);
    // The files are there, without their bits: no setuid-root shell for a user of the host.
    const copy = path.join(ws.root, 'tmp/build/x86_64/plant/pkg/usr/bin/sh-copy');
    assert.ok(existsSync(copy));
    assert.deepEqual(specialBits('plant'), []);
    if (process.getuid?.() === 0) {
      // And they were never root's: the build's user is the unprivileged id outside.
      assert.match(ws.read('dist/x86_64/packages/plant/build.log'), new RegExp(`^# sandbox user outside: uid ${SANDBOX_HOST_ID} \\(unprivileged\\)$`, 'm'));
      assert.equal(statSync(copy).uid, SANDBOX_HOST_ID);
    }
  });

  it('packages a declared setuid file with its bit (owned by root in the archive), and still strips it in the work folder', async () => {
    const run = await ws.nx('run', 'declared:build', '-c', 'x86_64', '--output-style=static');
    assert.equal(run.exitCode, 0, run.all.slice(-3000));
    const dir = path.join(ws.root, 'dist/x86_64/packages/declared');
    const pkg = readdirSync(dir).find((f) => f.endsWith('.pkg.tar.zst') && pkgnameOfFile(f) === 'declared')!;
    const list = execFileSync('bsdtar', ['-tvf', path.join(dir, pkg)], { encoding: 'utf8' }).split('\n');
    assert.ok(list.some((l) => /^-rwsr-xr-x +\d+ root +root .* usr\/bin\/sh-copy$/.test(l)), list.join('\n'));
    assert.ok(list.some((l) => /^l.* etc\/x -> \/etc\/shadow$/.test(l)), list.join('\n'));
    assert.match(run.all, /declared: took the setuid\/setgid bits off 2 file\(s\) the steps left in tmp\/build\/x86_64\/declared \(src, pkg\)/);
    assert.deepEqual(specialBits('declared'), []);
  });

  it('stops a fork bomb at the default process limit: the step fails within the time limit', async () => {
    const started = Date.now();
    const run = await ws.nx('run', 'forkbomb:build', '-c', 'x86_64', '--output-style=static');
    const seconds = (Date.now() - started) / 1000;
    assert.notEqual(run.exitCode, 0);
    assert.match(run.all, /forkbomb: step build failed \(exit \d+\) after [\d.]+ s/);
    assert.match(ws.read('dist/x86_64/packages/forkbomb/build.log'), /[Cc]an(no|')t fork|Resource temporarily unavailable/);
    assert.ok(seconds < 90, `${seconds} s`);
    assert.ok(await eventually(() => leftover(`${token}9`).length === 0, 5000), `${leftover(`${token}9`).length} sleeps left`);
  });
});
