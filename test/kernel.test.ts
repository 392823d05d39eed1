/**
 * The kernel, end to end: `nx run linux:build -c <target>` in a fresh workspace (the test run's
 * Nx cache and distfiles store, empty when the run starts: when test/build.test.ts built the same
 * kernel earlier in the run, it comes from there; alone, this file builds it) builds Linux 6.1 from
 * the sha256-verified source with the target's configuration fragment `targets/<name>/linux.config`
 * merged over tinyconfig; the package holds exactly /boot/vmlinuz (the kind `file` expects),
 * /boot/config (every line of the fragment in it) and /boot/System.map. Then the kernel boots
 * under the target's QEMU system emulator (machine, cpu and console from the target file's
 * `image` section; TCG, no KVM) with a test initramfs: a static /init compiled here with the
 * target's cross compiler (INIT_C) and packed with the host's `cpio -o -H newc`, once gzip'd and
 * once zstd'd, and two squashfs disks (xz and zstd) on virtio. /init checks what the kernel
 * configuration promises (devtmpfs, proc, sysfs, tmpfs, futex, epoll, ..., #! scripts, squashfs
 * layers stacked with overlayfs), prints a marker line and calls reboot(RB_POWER_OFF), which
 * must end QEMU by itself within BOOT_TIMEOUT_MS. Last, a fragment that Kconfig cannot satisfy
 * and a missing fragment fail the build with one line each.
 *
 * Needs on the host (tools/setup-host): the cross compilers, bubblewrap, flex, bison, bc,
 * libelf-dev, cpio, gzip, zstd, squashfs-tools, file, bsdtar, git, qemu-system-arm and
 * qemu-system-x86; network for the sources (about 140 MB).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { FALLBACK_SOURCE_DATE_EPOCH } from '../packages/nx-distro/src/pipeline/source-date-epoch';
import { tiered } from './helpers/tier';
import { copyTierRecipes, createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

interface TargetFile {
  arch: string;
  toolchain: { prefix: string };
  image: { kernel: string; kernel_image: string; console: string; qemu_system: string; machine: string; cpu: string };
}

/** What each target's kernel must be. */
interface KernelExpectation {
  /** Name of the file in targets/ (the Nx configuration). */
  readonly target: string;
  /** What `file` says about /boot/vmlinuz (libmagic's Linux kernel entries). */
  readonly fileType: RegExp;
  /** Whether the machine has virtio-mmio slots (arm virt): the second disk goes there, the first on PCI. */
  readonly mmio: boolean;
}

const KERNELS: readonly KernelExpectation[] = [
  { target: 'aarch64', fileType: /Linux kernel ARM64 boot executable Image, little-endian, 4K pages/, mmio: true },
  { target: 'x86_64', fileType: /Linux kernel x86 boot executable bzImage, version 6\.1\.187 \(nx-distro@nx-distro\) #1 /, mmio: false },
];

/** System targets without a kernel configuration: the build is an explicit no-op. */
const WITHOUT_KERNEL = ['armv7h', 'riscv64'];

/** The build's SOURCE_DATE_EPOCH: the workspace is no git repository (as in test/build.test.ts, whose builds this file may reuse). */
const BUILD_EPOCH = FALLBACK_SOURCE_DATE_EPOCH;

/** A QEMU boot that has not powered off by then is killed and fails (TCG on a shared machine; a boot takes seconds). */
const BOOT_TIMEOUT_MS = 180_000;

/** The checks /init prints as `check <name> ok`. */
const CHECKS = ['devtmpfs', 'proc', 'sysfs', 'tmpfs', 'squashfs-registered', 'overlay-registered', 'futex', 'epoll', 'eventfd', 'signalfd', 'timerfd',
  'posix-timers', 'multiuser', 'shmem', 'threads', 'binfmt-script', 'overlay', 'overlay-write'];

/**
 * /init of the test initramfs, compiled static for the target. As PID 1 it mounts devtmpfs, proc,
 * sysfs and tmpfs, calls what glibc and its programs need, runs /script (`#!/init`, so itself
 * again as the script's interpreter: "script-ok"), mounts the squashfs disks vda and vdb and an
 * overlay of both under a tmpfs upper layer, writes through it, then prints
 * "NX-DISTRO-KERNEL-TEST done <failures>" and powers off.
 */
const INIT_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/futex.h>

static int failures;

static void check(const char *name, int ok, const char *why) {
  if (ok) printf("check %s ok\n", name);
  else {
    printf("check %s FAILED: %s (errno %d %s)\n", name, why, errno, strerror(errno));
    failures++;
  }
  fflush(stdout);
}

/* The whole of a small file, or "" */
static const char *slurp(const char *file) {
  static char buf[8192];
  int fd = open(file, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = 0;
  return buf;
}

static void *thread_main(void *arg) { return arg; }

static int has_fs(const char *filesystems, const char *name) {
  char needle[64];
  snprintf(needle, sizeof needle, "\t%s\n", name);
  return strstr(filesystems, needle) != NULL;
}

/* Mounts the squashfs on /dev/<dev> at <dir>, if the disk is there; 1 when mounted. */
static int mount_layer(const char *dev, const char *dir) {
  char path[64];
  snprintf(path, sizeof path, "/dev/%s", dev);
  mkdir(dir, 0755);
  return mount(path, dir, "squashfs", MS_RDONLY, NULL) == 0;
}

int main(int argc, char **argv) {
  if (getpid() != 1) {
    if (argc > 1 && strstr(argv[1], "script")) { puts("script-ok"); return 0; }
    return 2;
  }
  /* The console: the kernel opened /dev/console from its built-in initramfs (INITRAMFS_SOURCE
     empty gives /dev/console); devtmpfs is mounted over /dev here too. */
  mkdir("/dev", 0755);
  check("devtmpfs", mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) == 0 || errno == EBUSY, "mount devtmpfs /dev");
  if (fcntl(1, F_GETFD) < 0) {
    int fd = open("/dev/console", O_RDWR);
    if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  puts("NX-DISTRO-KERNEL-TEST start");

  mkdir("/proc", 0755);
  mkdir("/sys", 0755);
  mkdir("/tmp", 01777);
  check("proc", mount("proc", "/proc", "proc", 0, NULL) == 0, "mount proc");
  check("sysfs", mount("sysfs", "/sys", "sysfs", 0, NULL) == 0, "mount sysfs");
  check("tmpfs", mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777") == 0, "mount tmpfs");

  struct utsname u;
  uname(&u);
  printf("uname %s %s %s\n", u.release, u.machine, u.version);
  printf("proc-version %s", slurp("/proc/version"));
  const char *fs = slurp("/proc/filesystems");
  static char filesystems[8192];
  strcpy(filesystems, fs);
  check("squashfs-registered", has_fs(filesystems, "squashfs"), "no squashfs in /proc/filesystems");
  check("overlay-registered", has_fs(filesystems, "overlay"), "no overlay in /proc/filesystems");

  /* What glibc and its programs call: futex, epoll, eventfd, signalfd, timerfd, multi-user ids,
     shared anonymous memory and memfd (SHMEM), clock_gettime, timer_create (POSIX_TIMERS). */
  int word = 0;
  check("futex", syscall(SYS_futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0) == 0, "futex(FUTEX_WAKE)");
  check("epoll", epoll_create1(EPOLL_CLOEXEC) >= 0, "epoll_create1");
  check("eventfd", eventfd(0, EFD_CLOEXEC) >= 0, "eventfd");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  check("signalfd", signalfd(-1, &set, SFD_CLOEXEC) >= 0, "signalfd");
  check("timerfd", timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC) >= 0, "timerfd_create");
  timer_t timer;
  check("posix-timers", timer_create(CLOCK_MONOTONIC, NULL, &timer) == 0, "timer_create");
  check("multiuser", setresgid(0, 0, 0) == 0 && setresuid(0, 0, 0) == 0 && setgroups(0, NULL) == 0, "setresuid/setgroups");
  void *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check("shmem", shared != MAP_FAILED && memfd_create("t", MFD_CLOEXEC) >= 0, "MAP_SHARED|MAP_ANONYMOUS, memfd_create");

  /* Threads: pthread_create and join run on clone3, futexes and set_robust_list. */
  pthread_t thread;
  void *back = NULL;
  check("threads", pthread_create(&thread, NULL, thread_main, &word) == 0 && pthread_join(thread, &back) == 0 && back == &word, "pthread_create/join");

  pid_t child = fork();
  if (child == 0) {
    /* #! scripts (BINFMT_SCRIPT) and ELF (BINFMT_ELF): /script's interpreter is /init. */
    char *args[] = { "/script", NULL };
    char *envp[] = { NULL };
    execve("/script", args, envp);
    _exit(127);
  }
  int status = -1;
  waitpid(child, &status, 0);
  check("binfmt-script", child > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork and exec of a #!/init script");

  /* The image's layers: squashfs disks (xz and zstd) on virtio, stacked with overlayfs under a
     tmpfs upper layer; absent disks are skipped (the test says which it attached). */
  int xz = mount_layer("vda", "/layer-a");
  int zstd = mount_layer("vdb", "/layer-b");
  if (xz) printf("layer %s", slurp("/layer-a/name"));
  if (zstd) printf("layer %s", slurp("/layer-b/name"));
  if (xz && zstd) {
    mkdir("/tmp/upper", 0755);
    mkdir("/tmp/work", 0755);
    mkdir("/merged", 0755);
    check("overlay", mount("overlay", "/merged", "overlay", 0, "lowerdir=/layer-b:/layer-a,upperdir=/tmp/upper,workdir=/tmp/work") == 0, "mount overlay");
    printf("merged %s", slurp("/merged/name"));
    int fd = open("/merged/new", O_CREAT | O_WRONLY, 0644);
    check("overlay-write", fd >= 0 && write(fd, "written\n", 8) == 8 && close(fd) == 0 && unlink("/merged/a-only") == 0, "write and unlink through overlay");
    printf("upper %s", slurp("/tmp/upper/new"));
  }

  printf("NX-DISTRO-KERNEL-TEST done %d\n", failures);
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  printf("reboot(RB_POWER_OFF) returned: %s\n", strerror(errno));
  for (;;) pause();
}
`;

/** Wall times, printed again at the end of the file. */
const figures: string[] = [];

describe('the linux recipe: a kernel per system target that boots under QEMU', () => {
  let ws: TestWorkspace;
  const targetFile = (name: string) => load(readFileSync(path.join(REPO_ROOT, 'targets', `${name}.yaml`), 'utf8')) as TargetFile;
  const recipe = load(readFileSync(path.join(REPO_ROOT, 'recipes', 'linux', 'recipe.yaml'), 'utf8')) as { version: string; release: number };
  const built = new Set<string>();

  before(() => {
    // The recipes test/build.test.ts builds for this tier, so the kernel's cache key is the same there.
    ws = createWorkspace(undefined, { shareRunCache: true });
    copyTierRecipes(ws);
  });
  after(() => ws.dispose());

  // npm test builds and boots the aarch64 kernel (the README's default); x86_64's is in npm run test:full.
  for (const { case: k, skip } of tiered(KERNELS, (k) => k.target, ['aarch64'])) {
    const t = targetFile(k.target);
    const pkg = () => path.join(ws.root, 'dist', k.target, 'packages', 'linux', `linux-${recipe.version}-${recipe.release}-${t.arch}.pkg.tar.zst`);
    const boot = (...p: string[]) => path.join(ws.root, 'boot', k.target, ...p);

    it(`builds the kernel for ${k.target}: /boot/vmlinuz, /boot/config with the target's fragment, /boot/System.map`, { skip }, async (ctx) => {
      const started = performance.now();
      const r = await ws.nx('run', 'linux:build', '-c', k.target, '--output-style=static');
      const seconds = (performance.now() - started) / 1000;
      figures.push(`${k.target} build ${seconds.toFixed(0)} s`);
      ctx.diagnostic(`nx run linux:build -c ${k.target}: ${seconds.toFixed(1)} s wall (fetch and build, or the run's cache)`);
      assert.equal(r.exitCode, 0, r.all.slice(-6000));
      const list = (await execa('bsdtar', ['-tf', pkg()])).stdout.split('\n').sort();
      assert.deepEqual(list, ['.BUILDINFO', '.MTREE', '.PKGINFO', 'boot/', 'boot/System.map', 'boot/config', 'boot/vmlinuz']);
      const info = (await execa('bsdtar', ['-xOf', pkg(), '.PKGINFO'])).stdout;
      assert.match(info, new RegExp(`^builddate = ${BUILD_EPOCH}$`, 'm'));
      mkdirSync(boot(), { recursive: true });
      await execa('bsdtar', ['-xf', pkg(), '-C', boot(), 'boot']);

      assert.equal(t.image.kernel, 'linux', `targets/${k.target}.yaml: image.kernel`);
      const type = (await execa('file', ['-b', boot('boot', 'vmlinuz')])).stdout;
      assert.match(type, k.fileType, `/boot/vmlinuz (${t.image.kernel_image}) is: ${type}`);

      const config = readFileSync(boot('boot', 'config'), 'utf8');
      const fragment = readFileSync(path.join(REPO_ROOT, 'targets', k.target, 'linux.config'), 'utf8');
      const settings = fragment.split('\n').filter((l) => /^CONFIG_\w+=|^# CONFIG_\w+ is not set$/.test(l));
      assert.ok(settings.length > 30, `${settings.length} settings in targets/${k.target}/linux.config`);
      for (const line of settings) assert.ok(config.split('\n').includes(line), `/boot/config has ${line}`);
      for (const line of ['# CONFIG_MODULES is not set', 'CONFIG_INITRAMFS_SOURCE=""', 'CONFIG_LOCALVERSION=""', '# CONFIG_LOCALVERSION_AUTO is not set', 'CONFIG_CC_OPTIMIZE_FOR_SIZE=y']) {
        assert.ok(config.split('\n').includes(line), `/boot/config has ${line} (tinyconfig and the fragment)`);
      }
      assert.match(readFileSync(boot('boot', 'System.map'), 'utf8'), /^[0-9a-f]+ T start_kernel$/m);
      const log = readFileSync(path.join(ws.root, 'dist', k.target, 'packages', 'linux', 'build.log'), 'utf8');
      assert.match(log, /^Merging \/build\/target\/linux\.config$/m, 'the fragment came from $SYSTEM_TARGET_DIR');
      built.add(k.target);
    });

    for (const compression of ['gzip', 'zstd'] as const) {
      it(`boots the ${k.target} kernel under ${t.image.qemu_system} -M ${t.image.machine} with a ${compression} initramfs and powers off`, { skip }, async (ctx) => {
        if (!built.has(k.target)) return ctx.skip('the kernel was not built (see above)');
        const dir = boot(`initramfs-${compression}`);
        mkdirSync(dir, { recursive: true });
        // The initramfs: /init (static, the target's cross compiler) and /script (#!/init).
        const root = path.join(dir, 'root');
        mkdirSync(root);
        writeFileSync(path.join(dir, 'init.c'), INIT_C);
        const cc = await execa(`${t.toolchain.prefix}gcc`, ['-static', '-O2', '-Wall', '-Werror', '-o', path.join(root, 'init'), path.join(dir, 'init.c')], { reject: false, all: true });
        assert.equal(cc.exitCode, 0, cc.all);
        writeFileSync(path.join(root, 'script'), '#!/init\n', { mode: 0o755 });
        const cpio = await execa('cpio', ['-o', '-H', 'newc', '-R', '0:0', '--quiet'], { cwd: root, input: 'init\nscript\n', encoding: 'buffer' });
        const packed = await execa(compression, compression === 'gzip' ? ['-9n'] : ['-19', '-q'], { input: Buffer.from(cpio.stdout), encoding: 'buffer' });
        const initramfs = path.join(dir, `initramfs.cpio.${compression === 'gzip' ? 'gz' : 'zst'}`);
        writeFileSync(initramfs, Buffer.from(packed.stdout));
        // Two squashfs layers, as the image's are attached: xz on vda-or-vdb, zstd on the other.
        const disks: string[] = [];
        for (const [name, comp, files] of [['a', 'xz', { name: 'a-xz\n', 'a-only': 'only in a\n' }], ['b', 'zstd', { name: 'b-zstd\n' }]] as const) {
          const src = path.join(dir, `layer-${name}`);
          mkdirSync(src);
          for (const [f, text] of Object.entries(files)) writeFileSync(path.join(src, f), text);
          await execa('mksquashfs', [src, `${src}.sqfs`, '-comp', comp, '-noappend', '-all-root', '-quiet', '-no-progress']);
          disks.push(`${src}.sqfs`);
        }

        const args = [
          '-M', t.image.machine, '-cpu', t.image.cpu, '-m', '256', '-nographic', '-no-reboot',
          '-kernel', boot('boot', 'vmlinuz'), '-initrd', initramfs, '-append', `console=${t.image.console} panic=-1`,
          ...disks.flatMap((d, i) => ['-drive', `file=${d},format=raw,if=none,id=d${i},readonly=on`, '-device', `${k.mmio && i === 1 ? 'virtio-blk-device' : 'virtio-blk-pci'},drive=d${i}`]),
        ];
        const started = performance.now();
        const r = await execa(t.image.qemu_system, args, { reject: false, all: true, stdin: 'ignore', timeout: BOOT_TIMEOUT_MS, killSignal: 'SIGKILL' });
        const seconds = (performance.now() - started) / 1000;
        figures.push(`${k.target} boot (${compression}) ${seconds.toFixed(1)} s`);
        ctx.diagnostic(`${t.image.qemu_system} ${args.join(' ')}: ${seconds.toFixed(1)} s to power-off`);
        const out = String(r.all).replace(/\r/g, '');
        assert.ok(!r.timedOut, `QEMU did not power off within ${BOOT_TIMEOUT_MS / 1000} s:\n${out.slice(-4000)}`);
        assert.equal(r.exitCode, 0, out.slice(-4000));
        assert.match(out, /^NX-DISTRO-KERNEL-TEST done 0$/m, out.slice(-4000));
        assert.doesNotMatch(out, /FAILED/);
        for (const check of CHECKS) assert.match(out, new RegExp(`^check ${check} ok$`, 'm'), `${check}:\n${out.slice(-3000)}`);
        assert.match(out, /^script-ok$/m);
        assert.deepEqual(out.split('\n').filter((l) => l.startsWith('layer ')).sort(), ['layer a-xz', 'layer b-zstd'], 'both squashfs layers (xz, zstd) were mounted from virtio disks');
        assert.match(out, /^upper written$/m);
        // The identity the recipe fixes: no version suffix, fixed user and host, build #1, the timestamp from SOURCE_DATE_EPOCH.
        const when = execFileSync('date', ['-u', '-d', `@${BUILD_EPOCH}`], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } }).trim();
        const version = /^proc-version (.*)$/m.exec(out)?.[1] ?? '';
        assert.match(version, /^Linux version 6\.1\.187 \(nx-distro@nx-distro\) \(/, version);
        assert.ok(version.endsWith(`#1 ${k.target === 'x86_64' ? '' : 'SMP '}${when}`), `${version} ends with the build number and ${when}`);
        assert.match(out, /^reboot: Power down$/m, 'the kernel powered the machine off');
      });
    }
  }

  it(`writes no kernel for ${WITHOUT_KERNEL.join(' and ')} (no configuration yet), saying so`, async () => {
    for (const target of WITHOUT_KERNEL) {
      const r = await ws.nx('run', 'linux:build', '-c', target, '--output-style=static');
      assert.equal(r.exitCode, 0, r.all.slice(-3000));
      assert.match(r.all, new RegExp(`linux: nothing to build for ${target} \\(arch ${targetFile(target).arch} is not in the recipe's arch list: aarch64, x86_64\\)`));
      assert.deepEqual(readdirSync(path.join(ws.root, 'dist', target, 'packages', 'linux')), []);
    }
  });

  it('fails the build, one line per setting, when Kconfig drops part of the fragment; and when there is no fragment', async () => {
    const file = 'targets/aarch64/linux.config';
    const original = ws.read(file);
    try {
      // Without CONFIG_BLOCK the block devices and squashfs cannot be had; a symbol that does not exist.
      ws.write(file, `${original.replace(/^CONFIG_BLOCK=y\n/m, '')}CONFIG_NX_DISTRO_NO_SUCH_OPTION=y\n`);
      let r = await ws.nx('run', 'linux:build', '-c', 'aarch64', '--output-style=static');
      assert.notEqual(r.exitCode, 0, 'a changed fragment is a new build (targets/** are inputs), and it fails');
      for (const setting of ['CONFIG_VIRTIO_BLK=y', 'CONFIG_SQUASHFS=y', 'CONFIG_SQUASHFS_ZSTD=y', 'CONFIG_NX_DISTRO_NO_SUCH_OPTION=y']) {
        assert.match(r.all, new RegExp(`^targets/aarch64/linux\\.config: ${setting}: the final \\.config has nothing \\(a dependency is not met, or no such symbol\\)$`, 'm'), r.all.slice(-4000));
      }
      assert.match(r.all, /linux: step configure failed \(exit 1\)/);

      ws.remove(file);
      r = await ws.nx('run', 'linux:build', '-c', 'aarch64', '--output-style=static');
      assert.notEqual(r.exitCode, 0);
      assert.match(r.all, /^linux: no kernel configuration for aarch64: add targets\/aarch64\/linux\.config, a fragment over tinyconfig \(docs\/kernel\.md\)$/m, r.all.slice(-3000));
    } finally {
      ws.write(file, original);
    }
  });
});

after(() => {
  if (figures.length) console.log(`# kernel: ${figures.join(', ')}`);
});
