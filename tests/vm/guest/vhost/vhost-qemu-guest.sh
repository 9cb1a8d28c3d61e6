#!/bin/bash
# A real guest on the vhost fabric: Debian's QEMU (TCG, nested) with
# -device vhost-scsi-pci on a user:ram LUN boots this same kernel with a
# busybox initramfs, and the guest's own virtio_scsi/sd write a per-run
# pattern with O_DIRECT and read it back.  Then the LUN moves to tcm_loop
# and the host side reads the pattern off the backstore, byte for byte.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
QEMU=${QEMU:-qemu-system-x86_64}
KVER=${KVER:-$(uname -r)}
SIZE=$((16 * MB))
PAT_MB=2     # pattern size
PAT_SEEK=3   # written at this MiB offset of the disk (not at LBA 0)
WORK=$(mktemp -d)
LUN=0

command -v "$QEMU" >/dev/null || { echo "no $QEMU"; exit 77; }
# On a TCG outer VM the nested guest is emulation inside emulation: it did
# not even reach the inner /init in 300 s, far past the CI budget.  There
# only QEMU's side is checked (the bounded slice): vhost-scsi-pci realizes
# on the fabric, which opens /dev/vhost-scsi, checks its ABI version and
# takes ownership.  The guest's I/O needs KVM for the outer VM, or
# VHOSTIO_QGUEST_ON_TCG=1 and patience.
MODE=boot
if grep -q 'QEMU TCG CPU' /proc/cpuinfo && [ -z "${VHOSTIO_QGUEST_ON_TCG:-}" ]; then
	MODE=realize
fi
[ -r "/boot/vmlinuz-$KVER" ] || { echo "no /boot/vmlinuz-$KVER"; exit 77; }

# pattern FILE: PAT_MB MiB, each 512-byte sector naming its index and a
# per-run seed, so neither a misplaced sector nor stale data can pass.
seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
# (One awk, not a shell loop: this runs under TCG.)
pattern() {
	awk -v s="$seed" -v n=$((PAT_MB * 2048)) \
		'BEGIN { for (i = 0; i < n; i++) printf "%-511s\n", "vhostio qemu-guest seed " s " sector " i }' >"$1"
}

# The inner initramfs: busybox, the virtio-pci/virtio_scsi/sd modules in the
# order modprobe resolves them (plain .ko: busybox insmod may not unpack),
# the pattern and an /init that writes, reads back and powers off.  No gzip:
# the archive is a few MiB and compressing it under TCG costs more.
build_inner_initramfs() {
	local st=$WORK/stage m p n
	mkdir -p "$st"/{bin,dev,proc,sys,modules}
	cp /bin/busybox "$st/bin/" || return 1
	for m in virtio_pci virtio_scsi sd_mod; do
		modprobe -S "$KVER" --show-depends "$m" | sed -n 's/^insmod \([^ ]*\).*/\1/p'
	done | awk '!seen[$0]++' | while read -r p; do
		n=${p##*/} && n=${n%%.ko*}
		case "$p" in
		*.ko) cp "$p" "$st/modules/$n.ko" ;;
		*.ko.xz) xz -dc "$p" >"$st/modules/$n.ko" ;;
		*.ko.zst) zstd -qdc "$p" >"$st/modules/$n.ko" ;;
		*) exit 1 ;;
		esac && echo "$n" >>"$st/modules/order"
	done || return 1
	grep -qx virtio_scsi "$st/modules/order" || return 1
	cp "$WORK/pattern" "$st/pattern"
	cat >"$st/init" <<-INIT
		#!/bin/busybox sh
		# Applet links made here: hundreds of ln under TCG cost the host more.
		/bin/busybox mount -t proc p /proc && /bin/busybox --install -s /bin
		export PATH=/bin
		mount -t devtmpfs d /dev; mount -t sysfs s /sys
		# No /dev/console in the archive, so the kernel gave /init no fds.
		exec </dev/console >/dev/console 2>&1
		echo "QGUEST: /init up"
		while read -r m; do insmod /modules/\$m.ko || echo "insmod \$m failed"; done </modules/order
		i=0; while [ ! -b /dev/sda ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
		echo "QGUEST: modules loaded, /dev/sda after \$i tries"
		r=FAIL
		if [ -b /dev/sda ] && dd if=/pattern of=/dev/sda bs=64k seek=$((PAT_SEEK * 16)) oflag=direct conv=fsync 2>/dev/null &&
			dd if=/dev/sda of=/back bs=64k skip=$((PAT_SEEK * 16)) count=$((PAT_MB * 16)) iflag=direct 2>/dev/null &&
			cmp /pattern /back; then r=PASS; fi
		echo "QGUEST-RESULT: \$r disk=\$(cat /sys/block/sda/size 2>/dev/null) vendor=\$(cat /sys/block/sda/device/vendor 2>/dev/null)"
		poweroff -f
	INIT
	chmod 755 "$st/init"
	(cd "$st" && find . -mindepth 1 | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$WORK/initrd"
}

vhost_cleanup() {
	vhost_target_remove 2>/dev/null
	loop_lun_remove $LUN 2>/dev/null
	user_backstore_remove 1 ram0 2>/dev/null
	[ -n "${RUNNER_PID:-}" ] && runner_stop
	rm -rf "$WORK"
}

# realize_only: QEMU paused before the guest runs; QMP lists the device,
# and QEMU exits 0 on quit (a device that fails to realize ends QEMU at once).
realize_only() {
	local rc=0
	say "QEMU realizes vhost-scsi-pci,wwpn=$VHOST_WWPN (outer VM on TCG: no nested boot; KVM or VHOSTIO_QGUEST_ON_TCG=1 for the guest's I/O)"
	printf '%s\n' '{"execute":"qmp_capabilities"}' \
		'{"execute":"human-monitor-command","arguments":{"command-line":"info pci"}}' \
		'{"execute":"quit"}' |
		timeout 120 "$QEMU" -accel tcg -M pc -m 64 -nodefaults -display none -S -qmp stdio \
			-device "vhost-scsi-pci,wwpn=$VHOST_WWPN,num_queues=1" >"$WORK/qmp.out" 2>&1 || rc=$?
	cat "$WORK/qmp.out"
	check "qemu quit with status 0 (got $rc)" test "$rc" -eq 0
	check "the guest's PCI bus has the virtio-scsi device (1af4:1004 or 1af4:1048)" \
		grep -Eq 'SCSI controller: PCI device 1af4:10(04|48)' "$WORK/qmp.out"
	check "vhost LUN $LUN removed" vhost_lun_remove $LUN
	check "vhost target removed" vhost_target_remove
	check "user_1/ram0 removed" user_backstore_remove 1 ram0
	rc=0
	runner_stop || rc=$?
	RUNNER_PID=
	check "runner exit status 0 (got $rc)" test "$rc" -eq 0
	rm -rf "$WORK"
	finish
}

if [ "$MODE" = boot ]; then
	pattern "$WORK/pattern"
	check "inner initramfs built" build_inner_initramfs || { rm -rf "$WORK"; finish; }
fi
[ "$MODE" = boot ] && say "initramfs modules: $(tr '\n' ' ' <"$WORK/stage/modules/order")"
modprobe vhost_scsi || { fail "modprobe vhost_scsi"; finish; }
runner_start --no-dbus || { fail "runner start"; finish; }
check "user_1/ram0 enabled" user_backstore_create 1 ram0 "$(backstore_config ram ram0)" $SIZE "$SERIAL_RAM"
check "vhost target $VHOST_WWPN with a nexus" vhost_target_create
check "vhost LUN $LUN -> user_1/ram0" vhost_lun_add $LUN user_1/ram0
[ "$failures" -eq 0 ] || { vhost_cleanup; finish; }
[ "$MODE" = realize ] && realize_only

say "nested QEMU (TCG) on vhost-scsi-pci,wwpn=$VHOST_WWPN"
t0=$(date +%s)
rc=0
timeout 300 "$QEMU" -accel tcg -M pc -no-hpet -m 160 -smp 1 -nodefaults -display none -no-reboot \
	-serial "file:$WORK/console" -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd" \
	-append "console=ttyS0 panic=-1 mitigations=off nokaslr quiet loglevel=4 rdinit=/init" \
	-device "vhost-scsi-pci,wwpn=$VHOST_WWPN,num_queues=1" >"$WORK/qemu.out" 2>&1 || rc=$?
say "nested guest ran $(($(date +%s) - t0)) s, qemu exit status $rc"
cat "$WORK/qemu.out"
tail -n 20 "$WORK/console"
check "qemu exited by itself (status 0, got $rc)" test "$rc" -eq 0
check "the guest wrote and read back its pattern through virtio_scsi" grep -q '^QGUEST-RESULT: PASS' "$WORK/console"
check "the guest saw a $((SIZE / 512))-sector VHOSTIO disk" grep -q "disk=$((SIZE / 512)) vendor=VHOSTIO" "$WORK/console"

say "the same backstore through tcm_loop"
check "vhost LUN $LUN removed" vhost_lun_remove $LUN
check "vhost target removed" vhost_target_remove
check "tcm_loop LUN $LUN -> user_1/ram0" loop_lun_add $LUN 1 ram0
dev=$(scsi_dev_for_lun $LUN block) || fail "no block device for the tcm_loop LUN"
if [ -n "${dev:-}" ]; then
	check "$dev holds the guest's pattern at $PAT_SEEK MiB" cmp "$WORK/pattern" \
		<(dd if="$dev" bs=1M skip=$PAT_SEEK count=$PAT_MB iflag=direct 2>/dev/null)
	check "... and nothing at LBA 0 (still zero)" cmp <(head -c 65536 /dev/zero) \
		<(dd if="$dev" bs=64k count=1 iflag=direct 2>/dev/null)
fi
check "runner still running" kill -0 "$RUNNER_PID"
check "tcm_loop LUN removed" loop_lun_remove $LUN
check "user_1/ram0 removed" user_backstore_remove 1 ram0
rc=0
runner_stop || rc=$?
RUNNER_PID=
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
rm -rf "$WORK"
finish
