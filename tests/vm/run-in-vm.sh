#!/bin/bash
# Run a script as root inside a throwaway VM whose root filesystem is the
# host's own / (read-only virtio-9p + tmpfs overlay), booted from the host's
# Debian kernel. The host kernel lacks configfs/LIO/TCMU/uio/vhost; the VM
# has them all. See tests/vm/README.md.
#
# Usage: run-in-vm.sh [--mem MiB] [--cpus N] [--timeout SECONDS] SCRIPT [ARGS...]
#
# VHOSTIO_VM_ROOT=DIR boots DIR instead of / as the guest's root (the
# portable benchmark bundle's own Debian tree, bench/bundle.sh): the kernel,
# its modules and busybox are then looked up under DIR, and SCRIPT, the
# source and the build tree must lie inside it.
#
# Exit status: SCRIPT's exit status; 77 if the VM cannot be run here (no qemu,
# kernel, modules or static busybox); 1 if the VM failed to boot, crashed,
# never reported a status or hit the timeout; 2 on usage errors.

set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$HARNESS_DIR/../.." && pwd -P)

msg() { echo "run-in-vm: $*" >&2; }
skip() {
	msg "SKIP: $*"
	exit 77
}
usage() {
	cat >&2 <<EOF
usage: ${0##*/} [--mem MiB] [--cpus N] [--timeout SECONDS] SCRIPT [ARGS...]
Runs SCRIPT with ARGS as root in a VM (see tests/vm/README.md).
EOF
	exit 2
}

mem=2048 cpus=2 timeout=600
while [ $# -gt 0 ]; do
	case "$1" in
	--mem | --cpus | --timeout)
		[ $# -ge 2 ] || usage
		declare "${1#--}=$2"
		shift 2
		;;
	--mem=* | --cpus=* | --timeout=*)
		declare "${1#--}"
		shift
		;;
	-h | --help) usage ;;
	--) shift && break ;;
	-*) msg "unknown option $1" && usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
for n in "$mem" "$cpus" "$timeout"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || {
		msg "not a positive integer: '$n'"
		usage
	}
done

script=$1
shift
[[ $script == /* ]] || script=$PWD/$script
[ -f "$script" ] || {
	msg "no such script: $script"
	exit 2
}

# ---------------------------------------------------------------- host checks

vm_root=$(cd "${VHOSTIO_VM_ROOT:-/}" && pwd -P) || exit 2
root_of() { [ "$vm_root" = / ] || printf '%s' "$vm_root"; } # prefix for host paths
# The path under which the guest sees host path $1 (the same file).
guest_path() {
	if [ "$vm_root" = / ]; then
		printf '%s' "$1"
	elif [ "$1" = "$vm_root" ]; then
		printf /
	elif [[ $1 == "$vm_root"/* ]]; then
		printf '%s' "${1#"$vm_root"}"
	else
		return 1
	fi
}

# Inside the VM the whole host root, qemu included, is visible, so a nested
# run would "work" at TCG speed inside TCG. That is always a mistake (e.g. a
# host-side test like test-harness.sh given to run-in-vm.sh).
if [ -n "${VHOSTIO_VM_RESULTS:-}" ] && [ -d "${VHOSTIO_VM_RESULTS:-}" ]; then
	msg "already inside the test VM; run-in-vm.sh (and test-harness.sh) must run on the host"
	exit 1
fi

qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

busybox=${VHOSTIO_VM_BUSYBOX:-$(root_of)/bin/busybox}
[ -x "$busybox" ] || skip "$busybox not found (apt-get install busybox-static)"
# The initramfs has no libc, so a dynamically linked busybox cannot run there.
if command -v ldd >/dev/null && ldd "$busybox" >/dev/null 2>&1; then
	skip "$busybox is dynamically linked (apt-get install busybox-static)"
fi

# The version string a bzImage reports: a NUL-terminated string at offset
# 0x200 + the 16-bit little-endian pointer stored at 0x20e (boot protocol).
bzimage_version() {
	local off
	off=$(od -An -tu2 -j 526 -N 2 "$1" 2>/dev/null | tr -d ' ') || return 1
	[ -n "$off" ] || return 1
	dd if="$1" bs=1 skip=$((off + 512)) count=256 status=none | tr '\0' '\n' | head -n 1 | cut -d' ' -f1
}

if [ -n "${VHOSTIO_VM_KERNEL:-}" ]; then
	kernel=$VHOSTIO_VM_KERNEL
	[ -r "$kernel" ] || skip "VHOSTIO_VM_KERNEL=$kernel is not a readable file"
	kver=$(bzimage_version "$kernel") || kver=
	[ -d "$(root_of)/lib/modules/$kver" ] || kver=${kernel##*/vmlinuz-}
else
	# The one kernel/ builds the fabric module for: the newest
	# /boot/vmlinuz-*-amd64 with its /lib/modules/<version>.
	if [ "$vm_root" = / ]; then
		kver=$(KVER='' "$HARNESS_DIR/../../kernel/kernel-version.sh") && kernel=/boot/vmlinuz-$kver || kernel=''
	else
		kernel=$(printf '%s\n' "$vm_root"/boot/vmlinuz-*-amd64 | sort -rV | head -n 1)
		kver=${kernel##*/vmlinuz-}
		[ -r "$kernel" ] || kernel=''
	fi
	[ -n "$kernel" ] || skip "no readable /boot/vmlinuz-*-amd64 with matching /lib/modules/<version> (apt-get install linux-image-amd64)"
fi
moddir=$(root_of)/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || skip "no $moddir/modules.dep for kernel $kernel"

# ------------------------------------------------------------------ initramfs

cache=${VHOSTIO_VM_CACHE:-${TMPDIR:-/tmp}/vhostio-vm-cache-$UID}
mkdir -p "$(dirname "$cache")"
mkdir -m 0700 "$cache" 2>/dev/null || true # may race with another run
if [ ! -d "$cache" ] || [ ! -O "$cache" ]; then
	msg "cache dir $cache is not a directory owned by us; set VHOSTIO_VM_CACHE"
	exit 1
fi

# Build FILE by running FUNCTION once, even with concurrent runs: under a lock,
# into a temp name that is renamed into place.
cached() { # cached FILE FUNCTION
	[ -f "$1" ] || {
		local lockfd
		exec {lockfd}>"$cache/lock"
		flock "$lockfd"
		if [ ! -f "$1" ]; then
			# Drop artifacts of old kernels/harness versions. A run still
			# using one has it open already (qemu reads them at startup).
			find "$cache" -maxdepth 1 -name '*.img' -mtime +7 -delete 2>/dev/null || true
			# In a subshell so the builder's EXIT trap can clean up and a
			# skip() inside it still ends the whole run with 77.
			("$2" "$1.tmp.$$") || exit $?
			mv "$1.tmp.$$" "$1"
		fi
		exec {lockfd}>&-
	}
	touch "$1" # in use: keep it from being pruned
}

# Modules needed to mount the root; their dependencies come from modules.dep.
ROOT_MODULES=(virtio_pci 9pnet_virtio 9p overlay)

# The archive itself is tests/vm/mkinitramfs.sh's (shared with the nested
# guest of vm/vhost-qemu-guest); a missing module or decompressor is a skip.
# shellcheck disable=SC2317  # only called through cached()
build_initramfs() { # OUTPUT
	local -a args=(--busybox "$busybox" --moddir "$moddir" --gzip --init "$HARNESS_DIR/initramfs-init.sh")
	local n rc=0
	for n in "${ROOT_MODULES[@]}"; do args+=(--module "$n"); done
	TMPDIR=$cache "$BASH" "$HARNESS_DIR/mkinitramfs.sh" "${args[@]}" "$1" || rc=$?
	[ "$rc" != 77 ] || skip "cannot build the initramfs for kernel $kver (above)"
	return "$rc"
}

# The bzImage's payload is the kernel as an ELF file, which qemu can boot
# directly through PVH (CONFIG_PVH). That skips the in-guest xz
# decompression: ~3 s per boot under TCG, a little under KVM. Empty output
# (= fall back to the bzImage) if the format is not recognised.
# shellcheck disable=SC2317  # only called through cached()
extract_vmlinux() { # OUTPUT
	local tool off
	local -A magic=([xz]=$'\xfd7zXZ' [zstd]=$'\x28\xb5\x2f\xfd' [gzip]=$'\x1f\x8b\x08')
	for tool in xz zstd gzip; do
		command -v "$tool" >/dev/null || continue
		off=$(LC_ALL=C grep -obUa -m1 "${magic[$tool]}" "$kernel" | head -n1 | cut -d: -f1) || continue
		[ -n "$off" ] || continue
		# Trailing data after the stream makes the tools complain; the ELF
		# image is complete by then.
		tail -c +$((off + 1)) "$kernel" | "$tool" -dc 2>/dev/null >"$1" || true
		[ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && return 0
	done
	: >"$1"
}

key=$({
	echo "$kver"
	stat -L -c '%n %s %Y' "$moddir/modules.dep" "$moddir/modules.builtin" 2>/dev/null || true
	sha256sum "$busybox" "$HARNESS_DIR/initramfs-init.sh" "$HARNESS_DIR/mkinitramfs.sh" "${BASH_SOURCE[0]}" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
initrd=$cache/initramfs-$kver-$key.img
cached "$initrd" build_initramfs

boot_kernel=$kernel
if [ "${VHOSTIO_VM_PVH:-1}" = 1 ] && grep -qs '^CONFIG_PVH=y' "$(root_of)/boot/config-$kver"; then
	kkey=$(stat -L -c '%n %s %Y' "$kernel" | sha256sum | cut -c1-16)
	cached "$cache/vmlinux-$kver-$kkey.img" extract_vmlinux
	[ ! -s "$cache/vmlinux-$kver-$kkey.img" ] || boot_kernel=$cache/vmlinux-$kver-$kkey.img
fi

# ------------------------------------------------------------------------ job

results=$(mktemp -d "${TMPDIR:-/tmp}/vhostio-vm.XXXXXX")
qemu_pid='' tail_pid=''
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	[ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
	if [ "${VHOSTIO_VM_KEEP:-0}" = 1 ]; then
		msg "results kept in $results"
	else
		rm -rf "$results"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build=${VHOSTIO_BUILD:-$REPO_ROOT/build}
[[ $build == /* ]] || build=$PWD/$build
cwd=$(pwd -P)

# What the guest is told, in its own paths (they differ under VHOSTIO_VM_ROOT).
outside_root() {
	msg "$1 is not inside VHOSTIO_VM_ROOT=$vm_root"
	exit 2
}
guest_harness=$(guest_path "$HARNESS_DIR") || outside_root "$HARNESS_DIR"
guest_src=$(guest_path "$REPO_ROOT") || outside_root "$REPO_ROOT"
guest_build=$(guest_path "$build") || outside_root "$build"
guest_script=$(guest_path "$script") || outside_root "$script"
guest_cwd=$(guest_path "$cwd") || guest_cwd=/ # the bundle runs from anywhere

# The job: shell assignments sourced by guest-init.sh. VHOSTIO_* variables of
# the caller are passed through so tests can be configured from outside.
write_job() { # GUEST_TIMEOUT SCRIPT [ARGS...]
	local var guest_timeout=$1 script=$2
	shift 2
	while read -r var; do
		if [[ $var == VHOSTIO_* ]]; then printf 'export %s=%q\n' "$var" "${!var}"; fi
	done < <(compgen -e)
	printf 'export VHOSTIO_SRC=%q\n' "$guest_src"
	printf 'export VHOSTIO_BUILD=%q\n' "$guest_build"
	printf 'export VHOSTIO_VM_KERNEL_VERSION=%q\n' "$kver"
	printf 'export VHOSTIO_VM_RESULTS=/run/vhostio-job\n'
	printf 'VHOSTIO_VM_HARNESS_DIR=%q\n' "$guest_harness"
	printf 'VHOSTIO_VM_SCRIPT=%q\n' "$guest_script"
	printf 'VHOSTIO_VM_CWD=%q\n' "$guest_cwd"
	printf 'VHOSTIO_VM_SCRIPT_TIMEOUT=%q\n' "$guest_timeout"
	printf 'VHOSTIO_VM_ARGS=('
	[ $# -eq 0 ] || printf ' %q' "$@"
	printf ' )\n'
}
echo "$guest_harness/guest-init.sh" >"$results/guest-init-path"

# 9p caching for the read-only host root: cache=loose caches data and
# metadata in the guest (much faster exec of host binaries), so the host tree
# must not change under a running VM. The job share is always uncached so
# output reaches the host as soon as it is written.
p9opts=trans=virtio,version=9p2000.L,msize=512000,cache=${VHOSTIO_VM_9P_CACHE:-loose}

cmdline="console=ttyS0 panic=-1 oops=panic softlockup_panic=1 quiet loglevel=4"
cmdline+=" i8042.noaux i8042.nokbd vhostio.9popts=$p9opts"
# Extra kernel parameters, for benchmarks (e.g. clocksource=tsc).
cmdline+=${VHOSTIO_VM_APPEND:+ $VHOSTIO_VM_APPEND}

qopt() { echo "${1//,/,,}"; } # qemu option values escape ',' as ',,'

# KVM when /dev/kvm opens read-write (as qemu will open it), except under
# kvm-pvm: that "pagetable virtual machine" (nested KVM without VMX/SVM, e.g.
# inside Firecracker) only runs kernels built as PVM guests; a stock kernel
# hangs right after "Probing EDD".
accel=${VHOSTIO_VM_ACCEL:-}
accel_auto=0
if [ -z "$accel" ]; then
	accel_auto=1 accel=tcg
	if { : <>/dev/kvm; } 2>/dev/null; then
		if [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
			msg "/dev/kvm is kvm-pvm, which cannot boot a stock kernel; using TCG"
		else
			accel=kvm
		fi
	fi
fi

# Boot once; sets qemu_rc, timed_out, booted, t0, t1.
run_vm() { # ACCEL CPU SCRIPT-ARGS...
	local accel=$1 cpu=$2 margin
	shift 2
	case "$accel" in
	kvm) margin=20 ;;
	tcg) margin=90 ;; # TCG boots much slower
	*) msg "VHOSTIO_VM_ACCEL must be kvm or tcg" && exit 2 ;;
	esac

	# Let the guest time the script out itself (clean status, logs, all its
	# processes killed) before the host pulls the plug.
	write_job $((timeout > 2 * margin ? timeout - margin : (timeout + 1) / 2)) \
		"$script" "$@" >"$results/job.env"
	: >"$results/output.log"
	: >"$results/console.log"

	# shellcheck disable=SC2054  # commas belong to qemu's option syntax
	local qemu_args=(
		-nodefaults -no-user-config -display none -monitor none
		-machine q35 -accel "$accel" -cpu "$cpu" -m "$mem" -smp "$cpus"
		-kernel "$boot_kernel" -initrd "$initrd" -append "$cmdline"
		# Panics (incl. oops=panic) and reboots end qemu instead of looping.
		-no-reboot
		-serial "file:$(qopt "$results/console.log")"
		-fsdev "local,id=hostroot,path=$(qopt "$vm_root"),security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
		-fsdev "local,id=job,path=$(qopt "$results"),security_model=none"
		-device virtio-9p-pci,fsdev=job,mount_tag=vhostiojob
	)

	msg "$accel (-cpu $cpu): kernel $kver, ${mem} MiB, $cpus CPUs, timeout ${timeout}s: $script $*"
	t0=$(date +%s.%N)
	SECONDS=0
	"$qemu" "${qemu_args[@]}" </dev/null >"$results/qemu.log" 2>&1 &
	qemu_pid=$!
	# While qemu runs, our own stderr goes to its log too: bash reports a
	# qemu killed by a signal ("Aborted") there, which belongs with qemu's
	# messages.
	local saved_stderr
	exec {saved_stderr}>&2 2>>"$results/qemu.log"

	# Stream the script's output live; tail exits shortly after qemu does,
	# having read the file one last time.
	tail -n +1 -f --pid="$qemu_pid" "$results/output.log" &
	tail_pid=$!

	# Watchdogs, polled (so no stray sleep outlives us): the overall timeout
	# and, when KVM was picked automatically, whether the initramfs got to
	# print its banner (a KVM that cannot run this kernel tends to hang
	# silently).
	timed_out=0 booted=0
	local _
	while kill -0 "$qemu_pid" 2>/dev/null; do
		if [ "$booted" = 0 ] && grep -q '^vhostio-vm: initramfs' "$results/console.log"; then
			booted=1
		fi
		if [ "$SECONDS" -ge "$timeout" ] ||
			{ [ "$booted" = 0 ] && [ "$accel_auto$accel" = 1kvm ] &&
				[ "$SECONDS" -ge "${VHOSTIO_VM_BOOT_TIMEOUT:-30}" ]; }; then
			timed_out=1
			kill "$qemu_pid" 2>/dev/null || true
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				kill -0 "$qemu_pid" 2>/dev/null || break
				sleep 0.5
			done
			kill -KILL "$qemu_pid" 2>/dev/null || true
			break
		fi
		sleep 0.25
	done
	qemu_rc=0
	wait "$qemu_pid" || qemu_rc=$?
	qemu_pid=''
	wait "$tail_pid" || true
	tail_pid=''
	exec 2>&"$saved_stderr" {saved_stderr}>&-
	t1=$(date +%s.%N)
	grep -q '^vhostio-vm: initramfs' "$results/console.log" && booted=1
	return 0
}

console_tail() {
	msg "last 60 lines of the VM console ($results/console.log):"
	tail -n 60 "$results/console.log" >&2 || true
	if [ -s "$results/qemu.log" ]; then
		msg "qemu said:"
		cat "$results/qemu.log" >&2
	fi
}

if [ "$accel" = kvm ]; then cpu=${VHOSTIO_VM_CPU:-host}; else cpu=${VHOSTIO_VM_CPU:-max}; fi
run_vm "$accel" "$cpu" "$@"
# qemu 7.2 + some nested KVM setups abort on IA32_ARCH_CAPABILITIES ("failed
# to set MSR 0x10a"); hiding that MSR from the guest avoids it.
if [ "$booted" = 0 ] && [ "$accel_auto$accel$cpu" = 1kvmhost ] &&
	grep -q 'failed to set MSR 0x10a' "$results/qemu.log"; then
	msg "qemu cannot pass IA32_ARCH_CAPABILITIES through; retrying with -cpu host,-arch-capabilities"
	cpu=host,-arch-capabilities
	run_vm "$accel" "$cpu" "$@"
fi
if [ "$booted" = 0 ] && [ "$accel_auto$accel" = 1kvm ]; then
	console_tail
	msg "KVM did not get the guest to the initramfs; retrying with TCG (set VHOSTIO_VM_ACCEL to choose)"
	accel=tcg cpu=${VHOSTIO_VM_CPU:-max}
	run_vm "$accel" "$cpu" "$@"
fi

timing="total $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s"
if [ -f "$results/script-started" ]; then
	ts=$(stat -c %.9Y "$results/script-started")
	timing="boot-to-script $(awk -v a="$t0" -v b="$ts" 'BEGIN { printf "%.2f", b - a }')s, $timing"
fi

if [ "$timed_out" = 1 ]; then
	msg "TIMEOUT: VM still running after ${timeout}s, killed it ($accel, $timing)"
	console_tail
	exit 1
fi
if [ ! -s "$results/exit-status" ]; then
	msg "FAIL: the guest reported no exit status (boot failure, kernel panic/oops, or qemu error $qemu_rc) ($accel, $timing)"
	console_tail
	exit 1
fi
if [ -f "$results/script-timed-out" ]; then
	msg "TIMEOUT: script killed after $(cat "$results/script-timed-out")s in the guest ($accel, $timing)"
	console_tail
	exit 1
fi
rc=$(cat "$results/exit-status")
msg "exit status $rc ($accel, $timing)"
exit "$rc"
