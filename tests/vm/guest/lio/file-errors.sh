#!/bin/bash
# handler_file under bad input: configs that cannot work are refused at
# enable with the handler's reason in the log; a full file system gives
# DATA PROTECT / SPACE ALLOCATION FAILED, the runner lives, and writes work
# again once space is freed.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
MB=$((1 << 20))
FS=/mnt/small

runner_start || { fail "runner start"; finish; }

say "bad configs are refused at enable"
mkdir -p /tmp/adir
refused() { # refused NAME CFG LOG-PATTERN
	if user_backstore_create 1 "$1" "$2" $((16 * MB)); then fail "'$2' enabled"; else pass "'$2' refused"; fi
	check "log gives the reason for '$2'" runner_log_has "$3"
	user_backstore_remove 1 "$1"
}
refused bad0 "file//tmp/no/such/file.img" "No such file or directory"
refused bad1 "file//tmp/adir" "directory"
refused bad2 "file//tmp/x.img;create;frobnicate" "frobnicate"
refused bad3 "file//tmp/x.img;create;queue_depth=0" "queue_depth"
refused bad4 "file/" "path"
check "runner still running" kill -0 "$RUNNER_PID"

say "a full file system"
mkdir -p $FS
check "mount a 24 MiB tmpfs" mount -t tmpfs -o size=$((24 * MB)) tmpfs $FS
head -c $((8 * MB)) /dev/zero >$FS/ballast
check "user_1/full ($FS/lun.img, 64 MiB LUN) enabled" user_backstore_create 1 full "file/$FS/lun.img;create" $((64 * MB))
check "LUN 0 -> full" loop_lun_add 0 1 full
SG=$(scsi_dev_for_lun 0 scsi_generic) || { fail "no sg device"; finish; }
SD=$(scsi_dev_for_lun 0 block) || { fail "no block device"; finish; }
sg_turs "$SG" >/dev/null 2>&1
head -c $((64 * MB)) /dev/urandom >/tmp/fill
# Fill until the file system is full; dd stops at the first failed write.
dd if=/tmp/fill of="$SD" bs=1M oflag=direct status=none 2>/tmp/dd.err
echo "dd: $(cat /tmp/dd.err)"
check "the writer hit an error" grep -qi "error" /tmp/dd.err
head -c 65536 /dev/urandom >/tmp/chunk
out=$(sg_raw -s 65536 -i /tmp/chunk "$SG" 2a 00 00 01 c0 00 00 00 80 00 2>&1) # WRITE(10) at 56 MiB
echo "$out" | tail -4
check "WRITE(10) on a full fs: DATA PROTECT" grep -qi "data protect" <<<"$out"
check "... SPACE ALLOCATION FAILED WRITE PROTECT" grep -qi "space allocation failed" <<<"$out"
check "runner still running" kill -0 "$RUNNER_PID"
check "runner logged the failure" runner_log_has "No space left on device"

say "space freed: writes work again, earlier data intact"
rm -f $FS/ballast
out=$(sg_raw -s 65536 -i /tmp/chunk "$SG" 2a 00 00 01 c0 00 00 00 80 00 2>&1)
check "WRITE(10) succeeds now" grep -qi "good" <<<"$out"
check "read it back" cmp <(dd if="$SD" bs=64k skip=$((56 * 16)) count=1 iflag=direct status=none) /tmp/chunk
check "the first MiB written before the error reads back" cmp <(dd if="$SD" bs=1M count=1 iflag=direct status=none) <(head -c $MB /tmp/fill)

check "LUN removed" loop_lun_remove 0
check "backstore removed" user_backstore_remove 1 full
umount $FS
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
finish
