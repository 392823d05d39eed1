// The bubblewrap sandbox on the real machine (needs bwrap with user namespaces: tools/setup-host).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { handlersForArch, readBinfmt } from '../packages/nx-distro/src/build-machine/binfmt';
import { findProgram } from '../packages/nx-distro/src/build-machine/requirements';
import { SANDBOX_UID, bwrapArgs, runSandboxed, sandboxCommandLine } from '../packages/nx-distro/src/sandbox/bwrap';
import type { SandboxSpec } from '../packages/nx-distro/src/sandbox/spec';
import { eventually, processesWith } from './helpers/processes';

const ENV = { PATH: '/usr/bin:/bin', HOME: homedir(), LC_ALL: 'C' };

describe('runSandboxed (bubblewrap)', () => {
  let dir: string;
  let n = 0;
  /** Runs a shell script in a sandbox with the test folder bound at /work-test; returns the result and the log. */
  const sh = async (script: string, extra: Partial<SandboxSpec> = {}) => {
    const logFile = path.join(dir, `log-${++n}.txt`);
    const spec: SandboxSpec = {
      binds: [{ src: dir, dest: '/work-test', writable: true }],
      env: ENV,
      cwd: '/work-test',
      argv: ['/bin/sh', '-e', '-c', script],
      logFile,
      ...extra,
    };
    const r = await runSandboxed(spec);
    return { ...r, log: readFileSync(logFile, 'utf8') };
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nx-distro-sandbox-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes exit codes through, a signal as 128+N', async () => {
    assert.equal((await sh('true')).exitCode, 0);
    assert.equal((await sh('exit 3')).exitCode, 3);
    const killed = await sh('kill -TERM $$');
    assert.equal(killed.exitCode, 143);
    assert.equal(killed.signal, undefined);
    assert.equal(killed.timedOut, false);
  });

  it('appends stdout and stderr to the log file in the order written', async () => {
    const logFile = path.join(dir, 'ordered.log');
    writeFileSync(logFile, '# header\n');
    const r = await runSandboxed({ binds: [], env: ENV, cwd: '/', argv: ['/bin/sh', '-c', 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 5'], logFile });
    assert.equal(r.exitCode, 5);
    assert.equal(readFileSync(logFile, 'utf8'), '# header\nout1\nerr1\nout2\nerr2\n');
    assert.ok(r.durationMs >= 0 && r.durationMs < 10_000);
  });

  it('shows only the given environment, a fixed user and host name', async () => {
    const logFile = path.join(dir, 'env.log');
    const r = await runSandboxed({ binds: [], env: { PATH: '/usr/bin:/bin', ONLY: "it's me" }, cwd: '/', argv: ['env'], logFile });
    assert.equal(r.exitCode, 0, readFileSync(logFile, 'utf8'));
    // bwrap itself sets PWD to the working directory.
    assert.equal(readFileSync(logFile, 'utf8'), "PATH=/usr/bin:/bin\nONLY=it's me\nPWD=/\n");
    const who = await sh('id -u; id -g; hostname');
    assert.equal(who.log, `${SANDBOX_UID}\n1000\nnx-distro\n`);
  });

  it('has no network: the host loopback and DNS are unreachable (and reachable with network: true)', async () => {
    const server: Server = createServer((s) => s.end('hello from the host\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const connect = `exec 3<>/dev/tcp/127.0.0.1/${port} && head -n1 <&3`;
      const off = await sh(`bash -c '${connect}'`);
      assert.notEqual(off.exitCode, 0, off.log);
      assert.match(off.log, /Connection refused/);
      const on = await sh(`bash -c '${connect}'`, { network: true });
      assert.equal(on.exitCode, 0, on.log);
      assert.equal(on.log, 'hello from the host\n');
    } finally {
      server.close();
    }
    const dns = await sh('getent hosts deb.debian.org');
    assert.notEqual(dns.exitCode, 0, dns.log);
    assert.equal(dns.log, '');
  });

  it('keeps the host read-only: /usr, $HOME, the root and its new folders', async () => {
    for (const target of ['/usr/nx-distro-probe', `${homedir()}/nx-distro-probe`, '/nx-distro-probe', '/work-test/../etc/nx-distro-probe']) {
      const r = await sh(`touch ${target}`);
      assert.notEqual(r.exitCode, 0, `${target} must not be writable`);
      assert.match(r.log, /Read-only file system/);
      assert.equal(existsSync(target), false);
    }
  });

  it('makes a writable bind writable and a read-only bind read-only, later binds over earlier ones', async () => {
    const rw = path.join(dir, 'rw');
    const ro = path.join(dir, 'ro');
    mkdirSync(rw);
    mkdirSync(ro);
    writeFileSync(path.join(ro, 'in.txt'), 'input\n');
    const r = await sh('cat /build/ro/in.txt > /build/src/out.txt; echo ok >> /build/src/out.txt; touch /build/ro/new 2>&1 || echo refused', {
      binds: [
        { src: dir, dest: '/build', writable: true },
        { src: rw, dest: '/build/src', writable: true },
        { src: ro, dest: '/build/ro', writable: false },
      ],
      cwd: '/build/src',
    });
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /Read-only file system\nrefused\n$/);
    assert.equal(readFileSync(path.join(rw, 'out.txt'), 'utf8'), 'input\nok\n');
    assert.equal(existsSync(path.join(ro, 'new')), false);
  });

  it('gives a fresh /tmp and /proc', async () => {
    writeFileSync(path.join(tmpdir(), `nx-distro-host-only-${process.pid}`), '');
    try {
      const r = await sh(`ls -A /tmp; ls /proc | grep -c '^[0-9]'`);
      assert.equal(r.exitCode, 0, r.log);
      assert.doesNotMatch(r.log, /nx-distro-host-only/);
      // Only the sandbox's own processes: bwrap's pid 1, sh, ls/grep.
      assert.ok(Number(r.log.trim().split('\n').pop()) <= 5, r.log);
    } finally {
      rmSync(path.join(tmpdir(), `nx-distro-host-only-${process.pid}`));
    }
  });

  it('kills what the command leaves in the background when it ends', async () => {
    const token = `1000.${process.pid}1`;
    const r = await sh(`sleep ${token} & echo started`);
    assert.equal(r.exitCode, 0);
    assert.equal(r.log, 'started\n');
    assert.ok(r.durationMs < 5000, `returned after ${r.durationMs} ms`);
    assert.ok(await eventually(() => processesWith(token).length === 0, 2000), processesWith(token).join('\n'));
  });

  it('kills the whole sandbox at the timeout', async () => {
    const token = `1000.${process.pid}2`;
    const r = await sh(`sleep ${token}3 & echo started; sleep ${token}4`, { timeoutSeconds: 1 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.exitCode, 137);
    assert.ok(r.durationMs >= 900 && r.durationMs < 5000, `${r.durationMs} ms`);
    assert.equal(r.log, 'started\n');
    assert.ok(await eventually(() => processesWith(token).length === 0, 2000), processesWith(token).join('\n'));
  });

  it('prints the exact command line, which reproduces the run in a shell', async () => {
    const logFile = path.join(dir, 'cmdline.log');
    const spec: SandboxSpec = { binds: [{ src: dir, dest: '/w', writable: false }], env: { A: "x 'y' $z" }, cwd: '/w', argv: ['/bin/sh', '-c', 'echo "$A"; pwd'], logFile };
    const line = sandboxCommandLine(spec);
    assert.match(line, /^bwrap --unshare-all --unshare-user --die-with-parent --new-session --uid 1000 --gid 1000 --hostname nx-distro --clearenv --setenv A 'x '\\''y'\\'' \$z' /);
    assert.match(line, / --dev \/dev --proc \/proc --tmpfs \/tmp --tmpfs \/run --ro-bind \S+ \/w --remount-ro \/ --chdir \/w -- \/bin\/sh -c 'echo "\$A"; pwd'$/);
    await runSandboxed(spec);
    const direct = spawnSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
    assert.equal(direct.status, 0, direct.stderr);
    assert.equal(direct.stdout, readFileSync(logFile, 'utf8'));
    assert.equal(direct.stdout, "x 'y' $z\n/w\n");
  });

  it('refuses a relative path or a missing bind source before starting anything', () => {
    const spec: SandboxSpec = { binds: [], env: {}, cwd: '/', argv: ['true'], logFile: '/tmp/x.log' };
    assert.throws(() => bwrapArgs({ ...spec, cwd: 'build' }), /^Error: sandbox: cwd must be an absolute path, got "build"$/);
    assert.throws(() => bwrapArgs({ ...spec, binds: [{ src: '/nonexistent/src', dest: '/build', writable: true }] }), /bind source \/nonexistent\/src does not exist/);
    assert.throws(() => bwrapArgs({ ...spec, argv: [] }), /argv is empty/);
  });

  it('runs a foreign-arch (aarch64) static binary through binfmt_misc inside the sandbox', async (t) => {
    const cc = findProgram('aarch64-linux-gnu-gcc', process.env.PATH ?? '');
    if (!cc) return t.skip('no aarch64-linux-gnu-gcc (tools/setup-host installs it)');
    if (process.arch !== 'arm64' && !handlersForArch(readBinfmt(), 'aarch64').some((h) => h.enabled)) {
      return t.skip('no binfmt_misc handler for aarch64 (tools/setup-host registers it)');
    }
    writeFileSync(path.join(dir, 'hello.c'), '#include <stdio.h>\n#include <sys/utsname.h>\nint main(void) { struct utsname u; uname(&u); printf("hello from %s\\n", u.machine); return 7; }\n');
    execFileSync(cc, ['-static', '-O2', '-o', path.join(dir, 'hello-aarch64'), path.join(dir, 'hello.c')]);
    const r = await sh('./hello-aarch64');
    assert.equal(r.log, 'hello from aarch64\n');
    assert.equal(r.exitCode, 7);
  });
});
