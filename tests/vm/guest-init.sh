#!/bin/bash
# PID 1 of the vhostio test VM (exec'd by the initramfs after switch_root).
#
# The root is the host's / (read-only 9p) under a tmpfs overlay, so every host
# tool and the build tree are available and writes vanish at poweroff. This
# script prepares a minimal but realistic system for LIO/TCMU tests, runs the
# job described in the job share, records its exit status there and powers
# off. It must never exit: PID 1 exiting panics the kernel (which, thanks to
# panic=-1 and qemu -no-reboot, still ends the VM, but without a status).

set -uo pipefail # no -e: PID 1 must survive failures and report them

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb
umask 022

JOB=/run/vhostio-job

log() { # to the serial console, which the host shows when a run fails
	local up
	read -r up _ </proc/uptime 2>/dev/null || up="?"
	echo "vhostio-vm: [$up] $*" >/dev/console
}

halt_vm() {
	sync
	umount "$JOB" 2>/dev/null
	# busybox poweroff -f calls reboot(2) directly; Debian's poweroff is
	# systemctl, useless without systemd. sysrq is the last resort.
	/bin/busybox poweroff -f 2>/dev/null
	echo o >/proc/sysrq-trigger
	while :; do sleep 60; done
}

# Record a status the host will pick up, then stop.
finish() {
	echo "$1" >"$JOB/exit-status.tmp" && mv "$JOB/exit-status.tmp" "$JOB/exit-status"
	halt_vm
}

# Mount only what's missing: the initramfs moves /dev, /proc and /sys here.
# (Pure bash checks: under TCG every exec of a host binary costs ~0.1 s.)
mnt() { # mnt TYPE DIR [OPTIONS]
	local mounts=''
	read -r -d '' mounts </proc/self/mounts
	[[ $mounts == *" $2 "* ]] && return 0
	[ -d "$2" ] || mkdir -p "$2"
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" || log "mount $1 on $2 failed"
}

mnt proc /proc
log "guest-init started"
mnt sysfs /sys
mnt devtmpfs /dev
mnt devpts /dev/pts gid=5,mode=620,ptmxmode=666
mnt tmpfs /dev/shm mode=1777,nosuid,nodev
# devtmpfs lacks the links udev normally adds; bash needs /dev/fd for <(...).
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mnt tmpfs /run mode=0755,nosuid,nodev

mkdir -p "$JOB"
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vhostiojob "$JOB"; then
	log "FATAL: cannot mount the job share"
	halt_vm
fi
# shellcheck source=/dev/null  # written by run-in-vm.sh for each run
if ! source "$JOB/job.env"; then
	log "FATAL: cannot read $JOB/job.env"
	finish 1
fi

# /tmp on a fresh tmpfs, unless the job lives under the host's /tmp (CI often
# clones there): a tmpfs would hide it. The overlay's /tmp is writable anyway.
tmp_busy=
for p in "$VHOSTIO_SRC" "$VHOSTIO_BUILD" "$VHOSTIO_VM_CWD" "$VHOSTIO_VM_SCRIPT"; do
	case "$p/" in /tmp/*) tmp_busy=$p ;; esac
done
if [ -z "$tmp_busy" ]; then
	mnt tmpfs /tmp mode=1777,nosuid,nodev
else
	log "note: keeping the host's /tmp (overlaid) because $tmp_busy is under it"
fi

log "mounts done"

echo vhostio-vm >/proc/sys/kernel/hostname
if command -v ip >/dev/null; then
	ip link set lo up && ip addr add 127.0.0.1/8 dev lo 2>/dev/null
else
	/bin/busybox ifconfig lo 127.0.0.1 up
fi

# target_core_mod calls request_module("target_core_user") (with iblock, file
# and pscsi) the first time an HBA or fabric is created in configfs. That
# would hide a daemon that fails to load the module itself via libkmod, so
# route the kernel's module autoloading through a guard that refuses it.
# (Copied to /run: kernel.modprobe is limited to 255 characters.)
if [ "${VHOSTIO_VM_ALLOW_TCMU_AUTOLOAD:-0}" != 1 ]; then
	mkdir -p /run/vhostio
	if install -m 0755 "$VHOSTIO_VM_HARNESS_DIR/modprobe-guard.sh" /run/vhostio/modprobe-guard; then
		echo /run/vhostio/modprobe-guard >/proc/sys/kernel/modprobe
	else
		log "cannot install the modprobe guard"
	fi
fi

# Everything the tests need except target_core_user (see above), in one
# modprobe run (each one re-reads the module indexes over 9p).
modprobe -a configfs target_core_mod uio tcm_loop sd_mod sg vhost vhost_scsi iscsi_target_mod ||
	log "modprobe failed"
mnt configfs /sys/kernel/config
log "modules loaded"
if [ -e /sys/module/target_core_user ]; then
	log "WARNING: target_core_user got loaded during VM setup"
fi

if command -v dbus-daemon >/dev/null; then
	mkdir -p /run/dbus
	dbus-daemon --system --fork || log "dbus-daemon failed to start"
fi

if ! cd "$VHOSTIO_VM_CWD"; then
	echo "vhostio-vm: cannot cd to $VHOSTIO_VM_CWD" >>"$JOB/output.log"
	finish 1
fi

cmd=("$VHOSTIO_VM_SCRIPT" "${VHOSTIO_VM_ARGS[@]}")
[ -x "$VHOSTIO_VM_SCRIPT" ] || cmd=(bash "${cmd[@]}")

# The marker's mtime (set by the host's filesystem) lets the host measure
# boot time; its content is the guest's view.
cut -d' ' -f1 /proc/uptime >"$JOB/script-started"
log "running $VHOSTIO_VM_SCRIPT"

# timeout(1) puts the script in its own process group and, on expiry, kills
# the whole group, daemons included (after a normal exit, poweroff does).
# stdout/stderr go straight to the job share (9p without caching) so the host
# can stream them.
start=$SECONDS
timeout -k 10 "$VHOSTIO_VM_SCRIPT_TIMEOUT" "${cmd[@]}" </dev/null >>"$JOB/output.log" 2>&1
rc=$?
log "script exited with status $rc"
# 124 (TERM) or 137 (KILL after -k) could also be the script's own status;
# the elapsed time tells them apart.
if [ $((SECONDS - start)) -ge "$VHOSTIO_VM_SCRIPT_TIMEOUT" ]; then
	echo "$VHOSTIO_VM_SCRIPT_TIMEOUT" >"$JOB/script-timed-out"
fi
finish "$rc"
