#!/bin/bash
# Reconfiguration from configfs while a LUN is served: dev_size (new
# capacity, CAPACITY DATA HAS CHANGED, seen by the initiator after a
# rescan), emulate_write_cache (WCE, sd's cache_type), dev_config (the
# handler reopens on the new config; bad ones are refused and the LUN keeps
# serving).  Usage: reconfig.sh ram|file
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
HANDLER=${1:?handler}
MB=$((1 << 20))

runner_start || { fail "runner start"; finish; }
CFG=$(backstore_config "$HANDLER" lun0)
check "user_1/lun0 ($CFG) enabled" user_backstore_create 1 lun0 "$CFG" $((64 * MB))
check "LUN 0 -> lun0" loop_lun_add 0 1 lun0
SD=$(scsi_dev_for_lun 0 block) || { fail "no block device"; finish; }
SG=$(scsi_dev_for_lun 0 scsi_generic) || { fail "no sg device"; finish; }
sg_turs "$SG" >/dev/null 2>&1 # LIO's "reported LUNs data has changed"
head -c $((4 * MB)) /dev/urandom >/tmp/head.bin
check "write 4 MiB at the start" dd if=/tmp/head.bin of="$SD" bs=1M oflag=direct status=none

say "dev_size: 64 MiB -> 128 MiB"
check "configfs accepts the new size" attrib_set 1 lun0 dev_size $((128 * MB))
check "runner logged the new capacity" runner_log_has "capacity 131072 -> 262144 blocks"
out=$(sg_cmd "$SG" 00 00 00 00 00 00)
echo "$out" | grep -i -A1 "sense" | head -4
check "next command: UNIT ATTENTION, capacity data has changed" grep -qi "capacity data has changed" <<<"$out"
check "the unit attention is reported once" sg_turs "$SG"
check "READ CAPACITY(16) reports 128 MiB" grep -q "Device size: $((128 * MB)) bytes" <<<"$(sg_readcap -l "$SG")"
check "initiator rescan" scsi_rescan "$SD"
check "block device is 128 MiB after rescan" test "$(blockdev --getsize64 "$SD")" = $((128 * MB))
head -c $MB /dev/urandom >/tmp/tail.bin
check "write the last MiB" dd if=/tmp/tail.bin of="$SD" bs=1M seek=127 oflag=direct status=none
check "last MiB reads back" cmp <(dd if="$SD" bs=1M skip=127 count=1 iflag=direct status=none) /tmp/tail.bin
check "data below the old size intact" cmp <(dd if="$SD" bs=1M count=4 iflag=direct status=none) /tmp/head.bin
if attrib_set 1 lun0 dev_size 100; then fail "a size below one block accepted"; else pass "a size below one block refused"; fi

say "emulate_write_cache: WCE follows it"
cache_type() { cat /sys/class/scsi_disk/*/cache_type 2>/dev/null | head -1; }
check "write cache on" attrib_set 1 lun0 emulate_write_cache 1
scsi_rescan "$SD"
check "sd sees a write-back cache (got '$(cache_type)')" test "$(cache_type)" = "write back"
check "write cache off" attrib_set 1 lun0 emulate_write_cache 0
scsi_rescan "$SD"
check "sd sees write-through (got '$(cache_type)')" test "$(cache_type)" = "write through"

say "dev_config: bad configs are refused, the LUN keeps serving"
if attrib_set 1 lun0 dev_config "nosuch/x"; then fail "another subtype accepted"; else pass "another subtype refused"; fi
check "log says why" runner_log_has "names another handler"
if attrib_set 1 lun0 dev_config "$CFG;frobnicate"; then fail "bad option accepted"; else pass "bad option refused"; fi
check "log gives the handler's reason" runner_log_has "refused:.*frobnicate"
check "data still there after the refusals" cmp <(dd if="$SD" bs=1M count=4 iflag=direct status=none) /tmp/head.bin

say "dev_config: a new config reopens the handler"
if [ "$HANDLER" = file ]; then
	head -c $((128 * MB)) /dev/zero >"$LUN_DIR/other.img"
	printf 'vhostio-other-medium' | dd of="$LUN_DIR/other.img" conv=notrunc status=none
	NEWCFG="file/$LUN_DIR/other.img"
else
	# A new label is taken in place: same memory, no unit attention.
	check "configfs accepts 'ram/renamed'" attrib_set 1 lun0 dev_config "ram/renamed"
	check "no unit attention for an in-place change" sg_turs "$SG"
	check "data kept across the label change" cmp <(dd if="$SD" bs=1M count=4 iflag=direct status=none) /tmp/head.bin
	# A new chunk size needs new memory: the handler is reopened.
	NEWCFG="ram/renamed;chunk=4k"
fi
check "configfs accepts '$NEWCFG'" attrib_set 1 lun0 dev_config "$NEWCFG"
check "runner reopened" runner_log_has "reopened on '$NEWCFG'"
out=$(sg_cmd "$SG" 00 00 00 00 00 00)
check "UNIT ATTENTION: medium may have changed" grep -qi "medium may have changed" <<<"$out"
check "uio name follows the config" grep -q "$NEWCFG" /sys/class/uio/uio*/name
echo 3 >/proc/sys/vm/drop_caches
if [ "$HANDLER" = file ]; then
	check "the LUN now shows the other file" grep -q "vhostio-other-medium" <(dd if="$SD" bs=4k count=1 iflag=direct status=none)
else
	check "a reopened ram LUN starts empty" cmp <(dd if="$SD" bs=1M count=4 iflag=direct status=none) <(head -c $((4 * MB)) /dev/zero)
fi
check "writes work after the reopen" dd if=/tmp/head.bin of="$SD" bs=1M oflag=direct status=none
check "and read back" cmp <(dd if="$SD" bs=1M count=4 iflag=direct status=none) /tmp/head.bin

teardown_and_finish 1 lun0 0
