#!/bin/bash
# A real guest on the vhost fabric: Debian's QEMU with -device
# vhost-scsi-pci on a user:ram LUN.  First QEMU only realizes the device
# (paused, QMP 'info pci'): a fast diagnosis when the fabric refuses QEMU.
# Then it boots this same kernel with a busybox initramfs
# (vhost-qemu-guest-init.sh) whose own virtio_scsi and sd write per-run
# seeded extents at random offsets with O_DIRECT (on KVM two CPUs, each on
# its own virtqueue) and read them back.  Last the LUN moves to tcm_loop and the
# whole backstore is compared with what the guest should have left there,
# byte for byte: the extents, and zeros everywhere else (LBA 0 included).
#
# Accelerator of the nested guest: KVM.  The CI test VM itself runs under
# TCG with -cpu max, which emulates AMD SVM, so kvm_amd loads in it and the
# nested guest runs on KVM-in-TCG: under 2 minutes to its result even with
# the host's 2 CPUs loaded 5 times over.  Without a usable /dev/kvm the
# nested guest runs on TCG, one CPU, bounded by 600 s: for a test VM on KVM
# without nested virtualization.  TCG-in-TCG is no substitute: it reached
# the inner /init and its disk, not the end of its I/O, in 600 s.
# VHOSTIO_QGUEST_ACCEL=kvm|tcg forces one (kvm: no fallback).
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
QEMU=${QEMU:-qemu-system-x86_64}
KVER=${KVER:-$(uname -r)}
HERE=$(cd "$(dirname "$0")" && pwd)
SIZE=$((16 * MB))
LUN=0
WORK=$(mktemp -d)

command -v "$QEMU" >/dev/null || { echo "no $QEMU"; exit 77; }
[ -r "/boot/vmlinuz-$KVER" ] || { echo "no /boot/vmlinuz-$KVER"; exit 77; }

# What setup got to, so that one teardown undoes it on every path.
have_vhost=0 have_loop=0 have_backstore=0
teardown_and_finish() {
	local rc=0
	[ -z "${RUNNER_PID:-}" ] || check "runner still running" kill -0 "$RUNNER_PID"
	[ $have_vhost = 0 ] || check "vhost target removed" vhost_target_remove
	[ $have_loop = 0 ] || check "tcm_loop LUN $LUN removed" loop_lun_remove $LUN
	[ $have_backstore = 0 ] || check "user_1/ram0 removed" user_backstore_remove 1 ram0
	if [ -n "${RUNNER_PID:-}" ]; then
		runner_stop || rc=$?
		check "runner exit status 0 (got $rc)" test "$rc" -eq 0
	fi
	rm -rf "$WORK"
	finish
}

# The nested guest's accelerator: KVM when the CPU has SVM/VMX and
# /dev/kvm opens (the kvm module is loaded here: guest-init does not).
accel=${VHOSTIO_QGUEST_ACCEL:-auto}
case "$accel" in
auto | kvm)
	if [ ! -e /dev/kvm ]; then
		if grep -qw svm /proc/cpuinfo; then
			modprobe kvm_amd || say "modprobe kvm_amd failed"
		elif grep -qw vmx /proc/cpuinfo; then
			modprobe kvm_intel || say "modprobe kvm_intel failed"
		fi
	fi
	if { : <>/dev/kvm; } 2>/dev/null; then
		accel=kvm
	elif [ "$accel" = kvm ]; then
		fail "VHOSTIO_QGUEST_ACCEL=kvm but /dev/kvm does not open (cpu flags: $(grep -m1 -ow 'svm\|vmx' /proc/cpuinfo))"
		teardown_and_finish
	else
		say "no usable /dev/kvm: the nested guest runs on TCG"
		accel=tcg
	fi
	;;
tcg) ;;
*) fail "VHOSTIO_QGUEST_ACCEL must be kvm or tcg, not $accel" && teardown_and_finish ;;
esac
# KVM: two CPUs on two virtqueues.  TCG: one of each, as cheap as it gets.
if [ "$accel" = kvm ]; then
	CPU=${VHOSTIO_QGUEST_CPU:-host} SMP=2 QUEUES=2 BOOT_LIMIT=240
else
	CPU=${VHOSTIO_QGUEST_CPU:-max} SMP=1 QUEUES=1 BOOT_LIMIT=600
fi

# The load: 8 extents of 1-128 blocks of 4 KiB, one at a random offset in
# each 1.5 MiB slot from 1 MiB on (the first MiB and the tail stay zero).
# Even extents go in 4 KiB requests, odd ones in one request each.  Each
# 512-byte sector names the run's seed and its own LBA, so neither stale
# data nor a misplaced sector can pass.  (One awk: this runs under TCG.)
# (Below 2^31: mawk's srand() gives the same few numbers for larger seeds.)
seed=$(($(od -An -N4 -tu4 /dev/urandom) % 2000000000))
mkdir -p "$WORK/qguest/data"
awk -v seed="$seed" -v dir="$WORK/qguest/data" 'BEGIN {
	srand(seed)
	for (n = 0; n < 8; n++) {
		cnt = 1 + int(rand() * 128)
		blk = 256 + n * 384 + int(rand() * (384 - cnt))
		f = dir "/" n
		for (s = blk * 8; s < (blk + cnt) * 8; s++)
			printf "%-511s\n", "vhostio qemu-guest seed " seed " lba " s >f
		close(f)
		if (n % 2) print n, blk * 4096, cnt * 4096, 1
		else print n, blk * 4096, 4096, cnt
	}
}' >"$WORK/qguest/plan"
echo "QUEUES=$QUEUES" >"$WORK/qguest/env"
say "seed $seed, extents (n offset bs count): $(tr '\n' ';' <"$WORK/qguest/plan")"

# The nested guest's initramfs: busybox, virtio_pci/virtio_scsi/sd_mod and
# their dependencies, the plan and its data.  No gzip: a few MiB, and
# compressing under TCG costs more than it saves.
rc=0
"$HERE/../../mkinitramfs.sh" --moddir "/lib/modules/$KVER" --module virtio_pci --module virtio_scsi \
	--module sd_mod --file "$WORK/qguest=qguest" --init "$HERE/vhost-qemu-guest-init.sh" "$WORK/initrd" || rc=$?
[ "$rc" != 77 ] || { rm -rf "$WORK"; exit 77; }
[ "$rc" -eq 0 ] || { fail "nested guest's initramfs: mkinitramfs.sh exit status $rc"; teardown_and_finish; }

modprobe vhost_scsi || { fail "modprobe vhost_scsi"; teardown_and_finish; }
runner_start --no-dbus || { RUNNER_PID=; fail "runner start"; teardown_and_finish; }
have_backstore=1
check "user_1/ram0 enabled" user_backstore_create 1 ram0 "$(backstore_config ram ram0)" $SIZE "$SERIAL_RAM"
have_vhost=1
check "vhost target $VHOST_WWPN with a nexus" vhost_target_create
check "vhost LUN $LUN -> user_1/ram0" vhost_lun_add $LUN user_1/ram0
[ "$failures" -eq 0 ] || teardown_and_finish
DEVICE=vhost-scsi-pci,wwpn=$VHOST_WWPN,num_queues=$QUEUES

# Step 1, bounded: QEMU paused before the guest runs; realizing the device
# opens /dev/vhost-scsi, checks the ABI version and takes ownership (a
# refusal ends QEMU at once); QMP lists the controller; quit exits 0.
say "QEMU realizes $DEVICE"
rc=0
printf '%s\n' '{"execute":"qmp_capabilities"}' \
	'{"execute":"human-monitor-command","arguments":{"command-line":"info pci"}}' \
	'{"execute":"quit"}' |
	timeout 120 "$QEMU" -accel tcg -M pc -m 64 -nodefaults -display none -S -qmp stdio \
		-device "$DEVICE" >"$WORK/qmp.out" 2>&1 || rc=$?
cat "$WORK/qmp.out"
check "qemu quit with status 0 (got $rc)" test "$rc" -eq 0
check "the guest's PCI bus has the virtio-scsi device (1af4:1004 or 1af4:1048)" \
	grep -Eq 'SCSI controller: PCI device 1af4:10(04|48)' "$WORK/qmp.out"
[ "$failures" -eq 0 ] || teardown_and_finish

# Step 2: the guest boots and does its I/O.
say "nested guest ($accel, -cpu $CPU, $SMP CPUs) on $DEVICE"
t0=$SECONDS
rc=0
timeout $BOOT_LIMIT "$QEMU" -accel "$accel" -cpu "$CPU" -M pc -no-hpet -m 256 -smp $SMP -nodefaults \
	-display none -no-reboot -serial "file:$WORK/console" -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd" \
	-append "console=ttyS0 panic=-1 oops=panic mitigations=off nokaslr quiet loglevel=4 rdinit=/init" \
	-device "$DEVICE" >"$WORK/qemu.out" 2>&1 || rc=$?
say "nested guest ran $((SECONDS - t0)) s, qemu exit status $rc"
cat "$WORK/qemu.out"
tail -n 30 "$WORK/console"
check "qemu exited by itself (status 0, got $rc)" test "$rc" -eq 0
check "the nested guest reached its /init" grep -q '^QGUEST: /init up' "$WORK/console"
result=$(grep -m1 '^QGUEST-RESULT: ' "$WORK/console")
check "the guest wrote and read back every extent through virtio_scsi" grep -q '^QGUEST-RESULT: PASS ' <<<"$result"
check "the guest saw a $((SIZE / 512))-sector VHOSTIO disk" grep -q " disk=$((SIZE / 512)) vendor=VHOSTIO" <<<"$result"
check "... with $QUEUES request queues, each of which completed requests (interrupts)" \
	awk -v q="$QUEUES" '{ sub(/.*irqs=/, ""); n = split($0, a, ","); if (n != q) exit 1
		for (i = 1; i <= n; i++) if (a[i] + 0 < 1) exit 1 }' <<<"$result"

# Step 3: the backstore, read through tcm_loop, is what the guest left:
# the expected image is zeros with the extents written in.
say "the same backstore through tcm_loop"
check "vhost target removed" vhost_target_remove
have_vhost=0
have_loop=1
check "tcm_loop LUN $LUN -> user_1/ram0" loop_lun_add $LUN 1 ram0
dev=$(scsi_dev_for_lun $LUN block) || fail "no block device for the tcm_loop LUN"
if [ -n "${dev:-}" ]; then
	truncate -s $SIZE "$WORK/expect"
	while read -r n off _; do
		dd if="$WORK/qguest/data/$n" of="$WORK/expect" bs=4096 seek=$((off / 4096)) conv=notrunc status=none
	done <"$WORK/qguest/plan"
	check "$dev holds exactly the guest's extents, zeros elsewhere" cmp "$WORK/expect" \
		<(dd if="$dev" bs=1M iflag=direct status=none)
	check "... LBA 0 untouched (zero)" cmp <(head -c 4096 /dev/zero) \
		<(dd if="$dev" bs=4096 count=1 iflag=direct status=none)
fi
teardown_and_finish
