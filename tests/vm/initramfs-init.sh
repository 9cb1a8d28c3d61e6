#!/bin/sh
# /init of the tiny busybox initramfs built by run-in-vm.sh.
#
# Its only job is to assemble the guest root: the host's / over virtio-9p
# (read-only) with a tmpfs overlay on top so the guest can write anywhere,
# then switch_root into it and hand PID 1 to tests/vm/guest-init.sh. All the
# real setup lives in guest-init.sh so that it can change without rebuilding
# this image.
#
# Runs under busybox sh; every command is a busybox applet symlink.

PATH=/bin
export PATH

# Nothing to return to on failure: say why on the console and power off so
# the host notices (no status file) instead of hanging until its timeout.
die() {
	echo "vhostio-vm initramfs: FATAL: $*" >/dev/console
	poweroff -f
	sleep 60
}

# The host waits for this banner to know the kernel booted (see run-in-vm.sh).
echo "vhostio-vm: initramfs up"

mount -t devtmpfs devtmpfs /dev || die "cannot mount devtmpfs"
mount -t proc proc /proc || die "cannot mount /proc"
mount -t sysfs sysfs /sys || die "cannot mount /sys"

# Modules were listed by the host in dependency order (and decompressed, as
# busybox insmod cannot be relied on for .ko.xz/.ko.zst).
while read -r mod; do
	[ -n "$mod" ] || continue
	insmod "/modules/$mod.ko" || die "insmod $mod failed"
done </modules/load-order

# Cmdline options are the only channel before the 9p shares are mounted.
# shellcheck disable=SC2013  # the cmdline is one line of space-separated words
for opt in $(cat /proc/cmdline); do
	case "$opt" in
	vhostio.9popts=*) p9opts=${opt#vhostio.9popts=} ;;
	esac
done
p9opts=${p9opts:-trans=virtio,version=9p2000.L,msize=512000}

mkdir -p /lower /rw /newroot /job
mount -t 9p -o "ro,$p9opts" hostroot /lower || die "cannot mount 9p hostroot"
mount -t tmpfs -o mode=0755 tmpfs /rw || die "cannot mount tmpfs for overlay"
mkdir -p /rw/upper /rw/work
# index/xino off: the lower layer is a network fs whose inode numbers are
# remapped by qemu (multidevs=remap); keep overlay from trying to be clever.
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work,index=off,xino=off \
	overlay /newroot || die "cannot mount overlay"

# The job share tells us where guest-init.sh lives (the repo can be anywhere
# and its path may contain spaces, which the kernel cmdline cannot carry).
mount -t 9p -o trans=virtio,version=9p2000.L vhostiojob /job || die "cannot mount job share"
read -r guest_init </job/guest-init-path || die "no guest-init-path in job share"
umount /job
[ -f "/newroot$guest_init" ] || die "guest init $guest_init not found in host root"

# Without udev/systemd-tmpfiles nobody creates the "static" nodes (e.g.
# /dev/loop-control, /dev/fuse, /dev/mapper/control) whose first open makes
# the kernel load the driver, so mount -o loop etc. would fail with EPERM.
# Done here because busybox mknod is far cheaper than the host's under TCG.
devname=/lower/lib/modules/$(uname -r)/modules.devname
if [ -r "$devname" ]; then
	while read -r _ node dev; do
		case "$dev" in [bc][0-9]*:[0-9]*) ;; *) continue ;; esac
		[ -e "/dev/$node" ] && continue
		mkdir -p "$(dirname "/dev/$node")"
		maj=${dev#?}
		mknod -m 0600 "/dev/$node" "${dev%"$maj"}" "${maj%:*}" "${dev#*:}"
	done <"$devname"
fi

# Hand the already-mounted pseudo filesystems over instead of leaving them
# stranded in the discarded initramfs; guest-init.sh only mounts what's missing.
for fs in dev proc sys; do
	mount --move "/$fs" "/newroot/$fs" || die "cannot move /$fs"
done

exec switch_root /newroot /bin/bash "$guest_init"
