#!/bin/bash
# The walking skeleton's proof against the real kernel: vhostio-runner
# serves user:ram LUNs that Linux's sd driver attaches and does I/O on.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"

SIZE=$((256 << 20))

say "runner loads target_core_user itself"
check "target_core_user not loaded before the runner" test ! -e /sys/module/target_core_user
runner_start || { fail "runner start"; finish; }
check "runner loaded target_core_user (libkmod)" test -d /sys/module/target_core_user

say "create user:ram backstores and export them through tcm_loop"
SERIAL0=5e1a0c3d-77b2-4d0e-9a51-0123456789ab
check "user_1/ram0 enabled" user_backstore_create 1 ram0 ram/ram0 $SIZE $SERIAL0
check "user_1/ram1 enabled" user_backstore_create 1 ram1 ram/ram1 $SIZE
check "runner attached ram0" runner_log_has "1/ram0: serving ram/ram0"
check "LUN 0 -> ram0" loop_lun_add 0 1 ram0
check "LUN 1 -> ram1" loop_lun_add 1 1 ram1
SD0=$(scsi_dev_for_lun 0 block) || fail "no block device for LUN 0"
SD1=$(scsi_dev_for_lun 1 block) || fail "no block device for LUN 1"
SG0=$(scsi_dev_for_lun 0 scsi_generic) || fail "no sg device for LUN 0"
echo "LUN 0: $SD0 $SG0, LUN 1: $SD1"
[ "$failures" -eq 0 ] || finish

say "sg_inq / sg_readcap"
inq=$(sg_inq "$SD0")
echo "$inq" | grep -E 'Vendor|Product|revision'
check "vendor VHOSTIO" grep -q "Vendor identification: VHOSTIO" <<<"$inq"
check "product vhostio-ram" grep -q "Product identification: vhostio-ram" <<<"$inq"
sg_turs "$SD0" >/dev/null 2>&1 # consume LIO's "reported LUNs data has changed" unit attention
cap=$(sg_readcap "$SD0")
echo "$cap"
check "last LBA $((SIZE / 512 - 1))" grep -q "Last LBA=$((SIZE / 512 - 1)) " <<<"$cap"
check "512-byte blocks" grep -q "Logical block length=512 bytes" <<<"$cap"
cap16=$(sg_readcap -l "$SD0")
check "READ CAPACITY 16 size" grep -q "Device size: $SIZE bytes" <<<"$cap16"
check "block device size" test "$(blockdev --getsize64 "$SD0")" = "$SIZE"
vpd83=$(sg_vpd -p di "$SD0")
echo "$vpd83"
check "VPD 0x83: NAA 6 with LIO's OUI and the serial's digits" grep -q "0x60014055e1a0c3d77b24d0e9a510123" <<<"$vpd83"
check "VPD 0x83: T10 vendor id with the serial" grep -q "vendor specific: $SERIAL0" <<<"$vpd83"
check "VPD 0x80 serial = configfs serial" grep -q "Unit serial number: $SERIAL0" <<<"$(sg_vpd -p sn "$SD0")"
# The serial was written after enable (as rtslib does): the runner saw the
# write through its inotify watch, not by reading configfs per INQUIRY.
check "runner took the serial set after enable (watch on wwn/vpd_unit_serial)" \
	runner_log_has "1/ram0: unit serial is now '$SERIAL0'"

say "sense through the kernel: read past the end, unknown opcode"
out=$(sg_raw -r 512 "$SG0" 88 00 00 00 00 00 10 00 00 00 00 00 00 01 00 00 2>&1)
echo "$out" | tail -3
check "READ 16 past the end: LBA out of range" grep -qi "Logical block address out of range" <<<"$out"
out=$(sg_raw "$SG0" c5 00 00 00 00 00 00 00 00 00 2>&1)
echo "$out" | tail -3
check "opcode 0xc5: invalid command operation code" grep -qi "Invalid command operation code" <<<"$out"

say "fio random write + crc32c verify, QD16"
offset=0
for bs in 4k 64k; do
	out=$(fio --name=verify-$bs --filename="$SD0" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=$bs --size=64M --offset=$offset --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randrepeat=0 --output-format=terse --terse-version=3 2>&1)
	offset=$((offset + (64 << 20)))
	rc=$?
	# terse v3: field 5 is the total error count
	errs=$(echo "$out" | awk -F';' '/^3;/ {print $5}')
	echo "fio $bs: rc=$rc errors=${errs:-?}"
	check "fio $bs verify: exit 0, 0 errors" test "$rc" -eq 0 -a "${errs:-x}" = 0
done

say "ext4 on ram1: mkfs, copy in, read back, fsck"
check "mkfs.ext4" mkfs.ext4 -q -F "$SD1"
mkdir -p /mnt/ram1
check "mount" mount "$SD1" /mnt/ram1
head -c $((8 << 20)) /dev/urandom >/tmp/payload
check "copy a file in" cp /tmp/payload /mnt/ram1/payload
check "umount" umount /mnt/ram1
echo 3 >/proc/sys/vm/drop_caches

say "remove LUN 0 and backstore ram0 while the runner runs"
check "LUN 0 unlinked" loop_lun_remove 0
check "ram0 backstore removed" user_backstore_remove 1 ram0
check "runner logged the removal" runner_log_has "1/ram0: removed"
check "runner still running" kill -0 "$RUNNER_PID"

say "ram1 still served after the removal"
check "mount again" mount -o ro "$SD1" /mnt/ram1
check "file reads back identical" cmp /tmp/payload /mnt/ram1/payload
umount /mnt/ram1
check "fsck -n clean" fsck.ext4 -n -f "$SD1"

say "bad input at enable time is refused, with a reason in the log"
if user_backstore_create 1 bogus0 nosuch/x $SIZE; then fail "subtype without handler enabled"; else pass "subtype without handler refused"; fi
check "log names the missing subtype" runner_log_has "no handler for subtype 'nosuch'"
user_backstore_remove 1 bogus0
if user_backstore_create 1 bad1 "ram/x;frobnicate" $SIZE; then fail "bad ram option enabled"; else pass "bad ram option refused"; fi
check "log gives the reason" runner_log_has "unknown ram option 'frobnicate'"
user_backstore_remove 1 bad1

say "SIGTERM: the runner drains and exits 0"
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
check "runner logged its stop" runner_log_has "stopped"

say "without the runner, removing a backstore does not hang"
check "LUN 1 unlinked" timeout 20 bash -c ". $(dirname "$0")/../lib/lib-lio.sh; loop_lun_remove 1"
check "ram1 backstore removed" timeout 20 rmdir $CFS/core/user_1/ram1

finish
