#!/bin/bash
# Guest side of tests/vm/test-harness.sh: checks, from inside the VM, what
# run-in-vm.sh and guest-init.sh promise. Prints one line per check and exits
# with --exit's value when all pass (to prove that the status propagates), 1
# otherwise.
#
# usage: harness-check.sh [--kernel VERSION] --src DIR --cwd DIR --exit N -- ARGS...
# ARGS must be exactly: "a b" '$x' '' '*'

set -uo pipefail

kernel='' src='' cwd='' exit_with=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2 && shift 2 ;;
	--src) src=$2 && shift 2 ;;
	--cwd) cwd=$2 && shift 2 ;;
	--exit) exit_with=$2 && shift 2 ;;
	--) shift && break ;;
	*) echo "harness-check: bad argument $1" && exit 2 ;;
	esac
done

checks=0 fails=0
check() { # DESCRIPTION COMMAND...
	local desc=$1
	shift
	checks=$((checks + 1))
	local out
	if out=$("$@" 2>&1); then
		echo "ok   $desc"
	else
		echo "FAIL $desc"
		[ -z "$out" ] || printf '%s\n' "$out" | tail -n 5 | sed 's/^/     | /'
		fails=$((fails + 1))
	fi
}
# shellcheck disable=SC2317  # called through check()
mounted() { # DIR FSTYPE
	grep -q "^[^ ]* $1 $2 " /proc/self/mounts
}
# Arguments survive the trip through job.env untouched (spaces, $, empty, glob).
# shellcheck disable=SC2317,SC2016  # called through check(); '$x' is literal
args_ok() {
	[ $# -eq 4 ] && [ "$1" = "a b" ] && [ "$2" = '$x' ] && [ -z "$3" ] && [ "$4" = '*' ]
}

echo "harness-check: kernel $(uname -r), cwd $PWD, args: $*"

check "running as root" test "$(id -u)" = 0
check "uname -r is the kernel the host picked ($VHOSTIO_VM_KERNEL_VERSION)" \
	test "$(uname -r)" = "$VHOSTIO_VM_KERNEL_VERSION"
[ -z "$kernel" ] || check "uname -r is $kernel" test "$(uname -r)" = "$kernel"
check "modules dir for the running kernel is visible" test -f "/lib/modules/$(uname -r)/modules.dep"
check "hostname is vhostio-vm" test "$(cat /proc/sys/kernel/hostname)" = vhostio-vm
check "arguments passed verbatim" args_ok "$@"
check "cwd is the caller's ($cwd)" test "$PWD" = "$cwd"
check "VHOSTIO_SRC is the repo root ($src)" test "$VHOSTIO_SRC" = "$src"
check "VHOSTIO_SRC holds this harness" test -f "$VHOSTIO_SRC/tests/vm/run-in-vm.sh"
check "VHOSTIO_BUILD is set and absolute" test "${VHOSTIO_BUILD:0:1}" = /
check "job share mounted at VHOSTIO_VM_RESULTS" mounted "$VHOSTIO_VM_RESULTS" 9p

check "/ is the overlay" mounted / overlay
check "/proc mounted" mounted /proc proc
check "/sys mounted" mounted /sys sysfs
check "/dev is devtmpfs" mounted /dev devtmpfs
check "/dev/pts mounted" mounted /dev/pts devpts
check "/dev/shm is tmpfs" mounted /dev/shm tmpfs
check "/run is tmpfs" mounted /run tmpfs
check "/sys/kernel/config is configfs" mounted /sys/kernel/config configfs
check "/sys/kernel/config/target exists" test -d /sys/kernel/config/target
check "lo has 127.0.0.1" sh -c 'ip -4 addr show dev lo | grep -q "inet 127.0.0.1/"'
check "/dev/null is a char device" test -c /dev/null

for m in configfs target_core_mod uio tcm_loop sd_mod sg vhost vhost_scsi iscsi_target_mod; do
	check "module $m loaded" test -d "/sys/module/$m"
done
check "/dev/vhost-scsi exists" test -c /dev/vhost-scsi
check "target_core_user NOT loaded" test ! -e /sys/module/target_core_user

check "fio runs" fio --version
check "sg_inq runs" sg_inq --version
check "mkfs.ext4 runs" mkfs.ext4 -V

# The overlay is writable, including where the 9p lower layer is read-only.
token="vhostio $$ $RANDOM"
for f in /usr/local/vhostio-overlay-test /etc/vhostio-overlay-test; do
	check "overlay write+read $f" sh -c "echo '$token' >'$f' && test \"\$(cat '$f')\" = '$token' && rm '$f'"
done
check "fs actually usable: mkfs.ext4 + loop mount" sh -c '
	truncate -s 64M /tmp/hc.img && mkfs.ext4 -q -F /tmp/hc.img &&
	mkdir -p /mnt/hc && mount -o loop /tmp/hc.img /mnt/hc && echo x >/mnt/hc/f &&
	umount /mnt/hc && rm /tmp/hc.img'

if command -v dbus-daemon >/dev/null; then
	check "system dbus socket exists" test -S /run/dbus/system_bus_socket
fi

# Creating the first HBA makes target_core_mod request_module() iblock, file,
# pscsi and user: the guard must pass the others to modprobe (through the 9p
# overlay) and refuse target_core_user.
hba=/sys/kernel/config/target/core/fileio_99
check "creating an HBA in configfs works" mkdir "$hba"
check "kernel autoload of target_core_file went through" test -d /sys/module/target_core_file
check "kernel autoload of target_core_user was refused" test ! -e /sys/module/target_core_user
check "refusal was recorded" grep -qx target_core_user /run/vhostio/refused-autoloads
rmdir "$hba" 2>/dev/null

# ...while an explicit load (what the daemon does via libkmod) still works.
check "explicit modprobe target_core_user works" modprobe target_core_user
check "target_core_user then loaded" test -d /sys/module/target_core_user
check "and unloads again" modprobe -r target_core_user

if [ "$fails" -eq 0 ]; then
	echo "harness-check: all $checks checks passed; exiting with $exit_with"
	exit "$exit_with"
fi
echo "harness-check: $fails of $checks checks FAILED"
exit 1
