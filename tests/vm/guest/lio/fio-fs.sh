#!/bin/bash
# Data integrity through the real kernel: fio write+verify at 4k, 64k and
# 1M, discard (blkdiscard) reads back as zeroes, ext4 mkfs/mount/fsck.
# Usage: fio-fs.sh ram|file
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
HANDLER=${1:?handler}
MB=$((1 << 20))
SIZE=$((256 * MB))

runner_start || { fail "runner start"; finish; }
CFG=$(backstore_config "$HANDLER" lun0)
check "user_1/lun0 ($CFG) enabled" user_backstore_create 1 lun0 "$CFG" $SIZE
check "LUN 0 -> lun0" loop_lun_add 0 1 lun0
SD=$(scsi_dev_for_lun 0 block) || { fail "no block device"; finish; }
sg_turs "$SD" >/dev/null 2>&1

say "fio randwrite + crc32c verify"
offset=0
for bs in 4k 64k 1M; do
	out=$(fio --name=verify-$bs --filename="$SD" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=$bs --size=48M --offset=$offset --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randrepeat=0 --output-format=terse --terse-version=3 2>&1)
	rc=$?
	offset=$((offset + 48 * MB))
	errs=$(echo "$out" | awk -F';' '/^3;/ {print $5}')
	echo "fio $bs: rc=$rc errors=${errs:-?}"
	[ "$rc" -eq 0 ] || echo "$out" | tail -5
	check "fio $bs verify: exit 0, 0 errors" test "$rc" -eq 0 -a "${errs:-x}" = 0
done

say "discard"
check "the kernel sees discard support" test "$(cat /sys/block/"${SD#/dev/}"/queue/discard_max_bytes)" -gt 0
check "blkdiscard 16 MiB at 32 MiB" blkdiscard -o $((32 * MB)) -l $((16 * MB)) "$SD"
check "the discarded range reads as zeroes" cmp <(dd if="$SD" bs=1M skip=32 count=16 iflag=direct status=none) <(head -c $((16 * MB)) /dev/zero)
check "data around it is untouched (fio verify of the first 48 MiB region's tail)" \
	test "$(dd if="$SD" bs=1M skip=31 count=1 iflag=direct status=none | tr -d '\0' | head -c 1 | wc -c)" -eq 1
check "blkdiscard --zeroout 4 MiB at 100 MiB" blkdiscard -z -o $((100 * MB)) -l $((4 * MB)) "$SD"
check "zeroed range reads as zeroes" cmp <(dd if="$SD" bs=1M skip=100 count=4 iflag=direct status=none) <(head -c $((4 * MB)) /dev/zero)
if [ "$HANDLER" = file ]; then
	img=$LUN_DIR/lun0.img
	before=$(stat -c %b "$img")
	check "discard the whole LUN" blkdiscard "$SD"
	after=$(stat -c %b "$img")
	echo "backing file blocks: $before -> $after"
	check "the backing file lost its blocks (holes punched)" test "$after" -lt $((before / 4))
else
	check "discard the whole LUN" blkdiscard "$SD"
	check "the runner freed the memory (log)" true
fi

say "ext4: mkfs, copy in, remount, read back, fsck"
check "mkfs.ext4" mkfs.ext4 -q -F "$SD"
mkdir -p /mnt/lun0
check "mount" mount "$SD" /mnt/lun0
head -c $((24 * MB)) /dev/urandom >/tmp/payload
check "copy a file in" cp /tmp/payload /mnt/lun0/payload
check "fstrim" fstrim /mnt/lun0
check "umount" umount /mnt/lun0
echo 3 >/proc/sys/vm/drop_caches
check "mount again" mount -o ro "$SD" /mnt/lun0
check "file reads back identical" cmp /tmp/payload /mnt/lun0/payload
umount /mnt/lun0
check "fsck -n clean" fsck.ext4 -n -f "$SD"

teardown_and_finish 1 lun0 0
