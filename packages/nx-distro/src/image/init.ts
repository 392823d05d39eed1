import type { TreeEntry } from '../util/file-tree';

/**
 * The programs of an nx-distro initramfs: `/init` (what the kernel runs first) and
 * `/nx-distro/stage2` (what runs in the booted root), busybox `sh` scripts that use only
 * busybox applets through `/usr/bin/busybox` (the busybox package installs the binary alone,
 * without applet links) plus the commands they test.
 *
 * `/init`: mounts proc, sysfs and devtmpfs, reads the kernel command line, then
 * - with `nxdistro.layers=<set>,<set>…` (bottom first): mounts a tmpfs on /run, mounts the i-th
 *   set's squashfs from the i-th virtio disk (`/dev/vda`, `/dev/vdb`, … in that order) at
 *   `/run/nx-distro/layers/<set>`, stacks them as the lowerdirs of an overlayfs (base at the
 *   bottom) with a tmpfs upper folder (`/run/nx-distro/rw`), moves /proc, /sys, /dev and /run
 *   into it and `switch_root`s into it, running stage2 there;
 * - without: runs stage2 in the initramfs itself, which must then hold the whole root file
 *   system (it says so and powers off otherwise).
 *
 * stage2 prints the boot marker `nx-distro-boot-ok <target>` and `nx-distro-<what>: <value>`
 * lines that the boot test reads (src/image/boot-check.ts): the mode, every mount, `uname -m`,
 * where lua and xz come from, `lua -e 'print(6*7)'`, an xz round trip (compress, `xz -t`,
 * decompress, compare), every package of the pacman local database with its version (read from
 * `/var/lib/pacman/local/<pkg>/desc` with busybox awk: the image has no pacman binary for its
 * arch), whether lua is among them, then `nx-distro-boot-done`. With `nxdistro.shell=1` it then
 * starts a shell on the console; it powers off (`poweroff -f`) when done.
 */

/** The kernel command line parameter naming the layers, bottom first. */
export const LAYERS_PARAM = 'nxdistro.layers';
/** The kernel command line parameter asking for a shell after the checks. */
export const SHELL_PARAM = 'nxdistro.shell';
/** Where stage2 is kept in the initramfs. */
export const STAGE2_PATH = 'nx-distro/stage2';

/** `/init`. */
export function initScript(): string {
  return `#!/usr/bin/busybox sh
# /init of an nx-distro initramfs (written by nx-distro's image executor; docs/images.md).
bb=/usr/bin/busybox
log() { echo "nx-distro-init: $*"; }
die() { echo "nx-distro-init: error: $*"; $bb sync; $bb poweroff -f; $bb sleep 10; exit 1; }
$bb mkdir -p /proc /sys /dev /run /tmp
$bb mount -t proc proc /proc || die "cannot mount /proc"
$bb mount -t sysfs sysfs /sys || die "cannot mount /sys"
$bb mount -t devtmpfs devtmpfs /dev || die "cannot mount devtmpfs on /dev"
layers=
for arg in $($bb cat /proc/cmdline); do
  case $arg in ${LAYERS_PARAM}=*) layers=\${arg#${LAYERS_PARAM}=} ;; esac
done
$bb mount -t tmpfs -o mode=0755 run /run || die "cannot mount a tmpfs on /run"
if [ -z "$layers" ]; then
  [ -d /var/lib/pacman/local ] || die "no ${LAYERS_PARAM}= on the kernel command line, and this initramfs holds no root file system: boot it with the squashfs layers (docs/images.md)"
  log "running from the initramfs"
  exec $bb sh /${STAGE2_PATH} initramfs
fi
$bb mkdir -p /run/nx-distro/layers /run/nx-distro/rw/upper /run/nx-distro/rw/work /newroot
lower=
i=0
for name in $(echo "$layers" | $bb tr , ' '); do
  letter=$(echo abcdefghijklmnopqrstuvwxyz | $bb cut -c$((i + 1)))
  dev=/dev/vd$letter
  n=0
  while [ ! -b "$dev" ] && [ $n -lt 100 ]; do $bb sleep 0.1; n=$((n + 1)); done
  [ -b "$dev" ] || die "layer $name: no disk $dev (give the layers as virtio disks in this order: $layers)"
  $bb mkdir -p "/run/nx-distro/layers/$name"
  $bb mount -t squashfs -o ro "$dev" "/run/nx-distro/layers/$name" || die "layer $name: cannot mount $dev as squashfs"
  log "layer $name: $dev"
  lower="/run/nx-distro/layers/$name\${lower:+:$lower}"
  i=$((i + 1))
done
$bb mount -t overlay overlay -o "lowerdir=$lower,upperdir=/run/nx-distro/rw/upper,workdir=/run/nx-distro/rw/work" /newroot || die "cannot mount the overlay of $layers"
log "overlay: $lower"
$bb cp -a /nx-distro/. /run/nx-distro/
for d in proc sys dev run tmp; do $bb mkdir -p "/newroot/$d"; done
for d in proc sys dev run; do $bb mount --move "/$d" "/newroot/$d" || die "cannot move /$d into the overlay"; done
exec $bb switch_root /newroot /usr/bin/busybox sh /run/${STAGE2_PATH} layers
`;
}

/**
 * stage2, for one system target.
 * @param target system target name (`[a-z0-9][a-z0-9_.-]*`, checked by the target loader), printed in the marker
 */
export function stage2Script(target: string): string {
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(target)) throw new TypeError(`stage2Script: ${JSON.stringify(target)} is not a system target name`);
  return `#!/usr/bin/busybox sh
# Runs in the booted root (nx-distro's image executor; docs/images.md): the boot marker and checks.
bb=/usr/bin/busybox
mode=$1
$bb mkdir -p /run/nx-distro/bin /tmp
$bb --install -s /run/nx-distro/bin
export PATH=/usr/bin:/usr/sbin:/run/nx-distro/bin HOME=/ TERM=linux
echo "nx-distro-boot-ok ${target}"
echo "nx-distro-mode: $mode"
mount | while IFS= read -r line; do echo "nx-distro-mount: $line"; done
echo "nx-distro-uname-m: $(uname -m)"
echo "nx-distro-uname-r: $(uname -r)"
echo "nx-distro-which: lua=$(command -v lua) xz=$(command -v xz)"
echo "nx-distro-lua: $(lua -e 'print(6*7)' 2>&1)"
t=/tmp/nx-distro-xz
rm -rf $t && mkdir -p $t && seq 1 20000 > $t/data && cp $t/data $t/orig
if xz -6 $t/data && [ -f $t/data.xz ] && [ ! -e $t/data ] && xz -t $t/data.xz && xz -dc $t/data.xz | cmp -s - $t/orig; then
  echo "nx-distro-xz: ok $(wc -c < $t/orig) -> $(wc -c < $t/data.xz) bytes"
else
  echo "nx-distro-xz: FAILED"
fi
echo "nx-distro-xz-version: $(xz --version 2>&1 | head -n 1)"
pkgs=$(for d in /var/lib/pacman/local/*/desc; do
  awk '/^%NAME%$/ { getline; n = $0 } /^%VERSION%$/ { getline; v = $0 } END { print "nx-distro-pkg: " n " " v }' "$d"
done)
echo "$pkgs"
echo "nx-distro-pkgs: $(echo "$pkgs" | grep -c '^nx-distro-pkg: ')"
if echo "$pkgs" | grep -q '^nx-distro-pkg: lua '; then echo "nx-distro-pacman-db: lua installed"; else echo "nx-distro-pacman-db: lua missing"; fi
echo "nx-distro-boot-done"
for arg in $(cat /proc/cmdline); do
  if [ "$arg" = "${SHELL_PARAM}=1" ]; then
    echo "nx-distro: a shell on the console; the machine powers off when it exits"
    setsid cttyhack sh -l
  fi
done
sync
poweroff -f
sleep 10
`;
}

/**
 * The entries an initramfs adds to its root tree: `/init`, `/nx-distro/stage2` (both 0755),
 * the mount points `proc`, `sys`, `dev`, `run`, `tmp` (1777), `newroot`, and the character
 * device `dev/console` (5,1; mode 0600): the kernel opens it as the first process's
 * stdin/stdout/stderr before devtmpfs is mounted (init/main.c, `console_on_rootfs`), and an
 * initramfs made without privileges could not otherwise hold a device.
 * @param target system target name, for the marker
 * @param epoch mtime of the entries
 */
export function initramfsExtras(target: string, epoch: number): TreeEntry[] {
  const dir = (rel: string, mode = 0o755): TreeEntry => ({ rel, abs: '', kind: 'dir', mode, mtime: epoch, size: 0 });
  const file = (rel: string, text: string): TreeEntry => {
    const data = Buffer.from(text, 'utf8');
    return { rel, abs: '', kind: 'file', mode: 0o755, mtime: epoch, size: data.length, data };
  };
  return [
    dir('dev'),
    { rel: 'dev/console', abs: '', kind: 'char', mode: 0o600, mtime: epoch, size: 0, rdev: [5, 1] },
    file('init', initScript()),
    dir('newroot'),
    dir('nx-distro'),
    file(STAGE2_PATH, stage2Script(target)),
    dir('proc'),
    dir('run'),
    dir('sys'),
    dir('tmp', 0o1777),
  ];
}
