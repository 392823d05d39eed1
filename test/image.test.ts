/**
 * End to end, for aarch64 and x86_64: `nx run system:boot -c <target>` in a fresh workspace
 * (every real recipe and the repo's target files; the test run's Nx cache and distfiles store,
 * empty when the run starts, so the packages and kernel test/build.test.ts built earlier in the
 * run are reused; alone, this file builds them all from source) installs the
 * package sets with pacman into the rootfs, writes the image and boots it in QEMU both ways:
 * from the initramfs alone, and from the squashfs layers stacked as an overlay. Then: the image
 * is reproducible (rootfs and image made again with --skip-nx-cache give the same bytes), a
 * second run after deleting dist/ is served entirely from Nx's cache, and the rootfs installs
 * from the target's repository with pacman through its own pacman.conf and database, and
 * upgrades (`pacman -Syu`) to a newer release of zlib built into it. The times are printed
 * (docs/images.md quotes them).
 *
 * Needs on the host (tools/setup-host): the cross compilers, bubblewrap, qemu-user-static,
 * pacman, repo-add, bsdtar, zstd, squashfs-tools, qemu-system-arm and qemu-system-x86; root
 * (pacman installs); network for the sources, unless NX_DISTRO_TEST_MIRRORS names distfile
 * mirrors (as NX_DISTRO_MIRRORS does) to fetch from first.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FALLBACK_SOURCE_DATE_EPOCH } from '../packages/nx-distro/src/pipeline/source-date-epoch';
import { tiered } from './helpers/tier';
import { copyTierRecipes, createWorkspace, digests, type TestWorkspace } from './helpers/workspace';

const TARGETS = ['aarch64', 'x86_64'];
/**
 * The images' SOURCE_DATE_EPOCH: the workspace is no git repository, as test/build.test.ts's are,
 * so the packages and kernels built there earlier in the run have the same cache keys and bytes.
 */
const EPOCH = FALLBACK_SOURCE_DATE_EPOCH;
const needRoot = process.getuid?.() === 0 ? false : 'pacman installs need root';

const seconds = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

describe('images: rootfs, squashfs layers, initramfs, kernel, boot in QEMU', { skip: needRoot }, () => {
  let ws: TestWorkspace;
  const times: string[] = [];

  before(() => {
    ws = createWorkspace(undefined, { shareRunCache: true });
    // The recipes test/build.test.ts built for this tier (system:build's repository holds each one's package).
    copyTierRecipes(ws);
    if (process.env.NX_DISTRO_TEST_MIRRORS) ws.env.NX_DISTRO_MIRRORS = process.env.NX_DISTRO_TEST_MIRRORS;
  });
  after(() => {
    if (times.length) console.log(`\nimage build and boot times (this machine, ${new Date().toISOString().slice(0, 10)}):\n${times.map((t) => `  ${t}`).join('\n')}`);
    ws.dispose();
  });

  // npm test builds and boots the aarch64 image (the README's default); x86_64's is in npm run test:full.
  for (const { case: target, skip } of tiered(TARGETS, (t) => t, ['aarch64'])) {
    describe(target, { skip }, () => {
      const dist = (...p: string[]) => path.join(ws.root, 'dist', target, ...p);
      let coldImage: Record<string, string>;

      it(`builds the image from source (nx run system:image -c ${target})`, async () => {
        const t0 = Date.now();
        const r = await ws.nx('run', 'system:image', '-c', target, '--output-style=static');
        const ms = Date.now() - t0;
        assert.equal(r.exitCode, 0, r.all.slice(-8000));
        const fromCache = /Nx read the output from the cache instead of running the command for (\d+) out of (\d+) tasks/.exec(r.all);
        times.push(`${target}: image build (packages, kernel, rootfs, image; ${fromCache ? `${fromCache[1]} of ${fromCache[2]} tasks from the run's cache` : 'none from a cache'}): ${seconds(ms)}`);
        assert.match(r.all, /rootfs: layer base: busybox [^,]+, lz4 /);
        assert.match(r.all, /rootfs: layer tools \(on base\): lua /);
        assert.match(r.all, /image: layers\/base\.squashfs: busybox /);
        const m = ws.readJson(`dist/${target}/image/manifest.json`);
        assert.deepEqual(m.layers.map((l: { set: string }) => l.set), ['base', 'net', 'tools']);
        assert.ok(m.packages.some((p: string) => p.startsWith('lua ')), m.packages.join(', '));
        assert.ok(m.packages.some((p: string) => p.startsWith('toolchain-runtime ')));
        assert.equal(m.sourceDateEpoch, EPOCH);
        coldImage = digests(dist('image'));
        assert.deepEqual(Object.keys(coldImage).sort(), ['boot.sh', 'initramfs-layers.cpio.zst', 'initramfs.cpio.zst', 'kernel.config', 'layers/base.squashfs', 'layers/net.squashfs', 'layers/tools.squashfs', 'manifest.json', 'vmlinuz']);
      });

      it('boots it in QEMU from the initramfs alone and from the squashfs layers as an overlay', async () => {
        const t0 = Date.now();
        const r = await ws.nx('run', 'system:boot', '-c', target, '--output-style=static');
        const ms = Date.now() - t0;
        assert.equal(r.exitCode, 0, r.all.slice(-8000));
        assert.match(r.all, new RegExp(`boot initramfs: ok in [\\d.]+ s: nx-distro-boot-ok ${target}; uname -m ${target}; lua 42; xz ok `));
        assert.match(r.all, new RegExp(`boot layers: ok in [\\d.]+ s: nx-distro-boot-ok ${target}; uname -m ${target}; lua 42; xz ok .*; /dev/vda on /run/nx-distro/layers/base type squashfs; /dev/vdb on /run/nx-distro/layers/net type squashfs; /dev/vdc on /run/nx-distro/layers/tools type squashfs; overlay on / type overlay`));
        const layersLog = ws.read(`dist/${target}/boot/layers.log`).replace(/\r/g, '');
        assert.match(layersLog, /^nx-distro-mount: overlay on \/ type overlay \(.*lowerdir=\/run\/nx-distro\/layers\/tools:\/run\/nx-distro\/layers\/net:\/run\/nx-distro\/layers\/base/m);
        assert.match(layersLog, /^nx-distro-mount: \/dev\/vda on \/run\/nx-distro\/layers\/base type squashfs \(ro/m);
        assert.match(layersLog, /^nx-distro-pkg: lua 5\.4\.4-1$/m);
        assert.match(layersLog, /^nx-distro-pacman-db: lua installed$/m);
        const initramfsLog = ws.read(`dist/${target}/boot/initramfs.log`).replace(/\r/g, '');
        assert.match(initramfsLog, /^nx-distro-mode: initramfs$/m);
        assert.doesNotMatch(initramfsLog, /^nx-distro-mount: overlay/m);
        const b = ws.readJson(`dist/${target}/boot/boot.json`);
        times.push(`${target}: boot test (both modes, QEMU TCG): ${seconds(ms)}; initramfs boot ${b.modes.initramfs.seconds} s, layered boot ${b.modes.layers.seconds} s`);
      });

      it('is reproducible: rootfs and image made again give the same bytes', async () => {
        const rootfsBefore = digests(dist('rootfs'));
        for (const t of ['rootfs', 'image']) {
          const t0 = Date.now();
          const r = await ws.nx('run', `system:${t}`, '-c', target, '--skip-nx-cache', '--exclude-task-dependencies', '--output-style=static');
          assert.equal(r.exitCode, 0, r.all.slice(-6000));
          assert.doesNotMatch(r.all, /read the output from the cache/);
          if (t === 'image') times.push(`${target}: system:image alone (rootfs and kernel package ready): ${seconds(Date.now() - t0)}`);
        }
        assert.deepEqual(digests(dist('rootfs')), rootfsBefore);
        assert.deepEqual(digests(dist('image')), coldImage);
      });

      it('is served from the cache the second time, everything restored', async () => {
        rmSync(path.join(ws.root, 'dist', target), { recursive: true, force: true });
        const t0 = Date.now();
        const r = await ws.nx('run', 'system:boot', '-c', target, '--output-style=static');
        const ms = Date.now() - t0;
        assert.equal(r.exitCode, 0, r.all.slice(-6000));
        const hit = /Nx read the output from the cache instead of running the command for (\d+) out of (\d+) tasks/.exec(r.all);
        assert.ok(hit && hit[1] === hit[2], r.all.slice(-3000));
        assert.deepEqual(digests(dist('image')), coldImage);
        assert.ok(statSync(dist('boot', 'layers.log')).size > 0);
        times.push(`${target}: fully cached (nx run system:boot after rm -rf dist/${target}, ${hit![2]} tasks from the cache): ${seconds(ms)}`);
      });

      it("installs and upgrades with pacman from the target's repository, through the image's own pacman.conf and database", async () => {
        const r = await ws.nx('run', 'system:build', '-c', target, '--output-style=static');
        assert.equal(r.exitCode, 0, r.all.slice(-6000));
        // The rootfs as a machine would run it, with the repository where its pacman.conf looks
        // for it; pacman --sysroot chroots into it, so the image's /etc/pacman.conf and
        // /var/lib/pacman are the ones used.
        const root = path.join(ws.root, 'roots', target);
        rmSync(root, { recursive: true, force: true });
        mkdirSync(root, { recursive: true });
        execFileSync('bsdtar', ['-xpf', dist('rootfs', 'rootfs.tar.zst'), '-C', root]);
        assert.match(readFileSync(path.join(root, 'etc/pacman.conf'), 'utf8'), new RegExp(`^\\[${target}\\]\\nServer = file:///var/cache/nx-distro/repo$`, 'm'));
        mkdirSync(path.join(root, 'var/cache/nx-distro'), { recursive: true });
        cpSync(dist('repo'), path.join(root, 'var/cache/nx-distro/repo'), { recursive: true, verbatimSymlinks: true });
        const pacman = (...args: string[]) => {
          try {
            return { code: 0, out: execFileSync('pacman', ['--sysroot', root, '--noconfirm', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
          } catch (e) {
            const err = e as { status: number; stdout: string; stderr: string };
            return { code: err.status, out: `${err.stdout}${err.stderr}` };
          }
        };
        const kk = pacman('-Qkk');
        assert.equal(kk.code, 0, `every installed file as its package has it: ${kk.out}`);
        const sy = pacman('-Sy');
        assert.equal(sy.code, 0, sy.out);
        assert.deepEqual(pacman('-Qu'), { code: 1, out: '' }, 'nothing to upgrade: the image has what the repository has');
        const s = pacman('-S', '--noscriptlet', 'lua');
        assert.equal(s.code, 0, s.out);
        assert.match(s.out, /reinstalling lua/);
        assert.match(pacman('-Qi', 'readline').out, /^Install Reason\s+: Explicitly installed$/m);

        // The upgrade: a newer release of zlib (one file more), built into the repository, then
        // pacman -Syu in the image's root takes it, and only it.
        const recipe = ws.read('recipes/zlib/recipe.yaml');
        assert.match(recipe, /^release: 1$/m);
        const upgraded = `${recipe.replace(/^release: 1$/m, 'release: 2')}  install: |\n    make DESTDIR="$pkgdir" install\n    mkdir -p "$pkgdir/usr/share/zlib"\n    echo "zlib 1.2.13, release 2" > "$pkgdir/usr/share/zlib/release"\n`;
        try {
          ws.write('recipes/zlib/recipe.yaml', upgraded);
          const u = await ws.nx('run', 'system:build', '-c', target, '--output-style=static');
          assert.equal(u.exitCode, 0, u.all.slice(-6000));
          const db = execFileSync('bsdtar', ['-tf', dist('repo', `${target}.db.tar.zst`)], { encoding: 'utf8' });
          assert.match(db, /^zlib-1\.2\.13-2\/desc$/m, 'the repository has the new release');
          assert.doesNotMatch(db, /^zlib-1\.2\.13-1\/desc$/m, 'and not the old one');
          rmSync(path.join(root, 'var/cache/nx-distro/repo'), { recursive: true });
          cpSync(dist('repo'), path.join(root, 'var/cache/nx-distro/repo'), { recursive: true, verbatimSymlinks: true });
          assert.equal(pacman('-Q', 'zlib').out, 'zlib 1.2.13-1\n');
          const syu = pacman('-Syu', '--noscriptlet');
          assert.equal(syu.code, 0, syu.out);
          assert.match(syu.out, /upgrading zlib/, syu.out);
          assert.doesNotMatch(syu.out, /(upgrading|installing|reinstalling) (?!zlib)/, `only zlib changes: ${syu.out}`);
          assert.equal(pacman('-Q', 'zlib').out, 'zlib 1.2.13-2\n');
          assert.equal(readFileSync(path.join(root, 'usr/share/zlib/release'), 'utf8'), 'zlib 1.2.13, release 2\n', 'the new release\'s file is installed');
          assert.match(pacman('-Ql', 'zlib').out, /^zlib \/usr\/share\/zlib\/release$/m);
          const upgradedKk = pacman('-Qkk', 'zlib');
          assert.equal(upgradedKk.code, 0, `the upgraded package's files as it has them: ${upgradedKk.out}`);
          assert.deepEqual(pacman('-Qu'), { code: 1, out: '' }, 'nothing left to upgrade');
        } finally {
          ws.write('recipes/zlib/recipe.yaml', recipe);
        }
      });
    });
  }
});
