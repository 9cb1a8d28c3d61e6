#!/bin/bash
# Deleting a backstore under load, through tcm_loop: while fio runs on a
# user:file LUN (the victim) and, with verify=crc32c, on a user:ram LUN
# (the keeper), the victim's LUN is unlinked and its backstore removed.
# Every step is bounded; nothing hangs (no task left in D state); the
# runner lets the device go (log, /sys/class/uio, its own fds and
# mappings); and it keeps serving the keeper, whose fio finishes with 0
# errors and whose data verifies afterwards.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
SIZE=$((32 * MB))

busy() { (($(ios_done "$SD_VICTIM") >= 256 && $(ios_done "$SD_KEEP") >= 256)); }

runner_start || { fail "runner start"; finish; }
check "user_1/victim0 (file) enabled" user_backstore_create 1 victim0 "$(backstore_config file victim0)" $SIZE
check "user_1/keeper0 (ram) enabled" user_backstore_create 1 keeper0 "$(backstore_config ram keeper0)" $SIZE
check "LUN 0 -> victim0" loop_lun_add 0 1 victim0
check "LUN 1 -> keeper0" loop_lun_add 1 1 keeper0
SD_VICTIM=$(scsi_dev_for_lun 0 block) || { fail "no block device for victim0"; finish; }
SD_KEEP=$(scsi_dev_for_lun 1 block) || { fail "no block device for keeper0"; finish; }
VICTIM_MINOR=$(uio_minor_of 1 victim0) || { fail "no uio device for victim0"; finish; }
echo "   victim0 $SD_VICTIM (uio$VICTIM_MINOR), keeper0 $SD_KEEP"
check "the runner holds 2 uio fds" test "$(uio_fds)" = 2

say "fio on both LUNs"
fio --name=victim --filename="$SD_VICTIM" --direct=1 --ioengine=libaio --iodepth=16 --bs=$FIO_BS --size=$FIO_WS \
	--rw=randrw --time_based --runtime=60 --output-format=json >/tmp/fio-victim.json 2>/tmp/fio-victim.err &
fio_victim=$!
# Writes paced so that the keeper is still writing when the victim goes.
fio_crc32c keeper "$SD_KEEP" 7 --do_verify=1 --rate_iops=,250 >/tmp/fio-keeper.json 2>/tmp/fio-keeper.err &
fio_keep=$!
check "256 I/Os done on each LUN" wait_for 60 busy
check "both fio running" kill -0 $fio_victim $fio_keep
echo "   victim0 $(ios_done "$SD_VICTIM") I/Os, keeper0 $(ios_done "$SD_KEEP") I/Os done"

say "unlink the victim's LUN and remove its backstore under load"
remove_bounded "LUN 0" 1 victim0 loop_lun_remove 0
rc=0
wait_pid 60 $fio_victim || rc=$?
check "the victim's fio ended (exit $rc: its device went away)" test "$rc" -ne 124
echo "   victim's fio: $(fio_get /tmp/fio-victim.json | awk '{print "error " $1 ", " $3 " writes, " $4 " reads"}')"
sed 's/^/   /' /tmp/fio-victim.err | head -5
check "keeper's fio still running" kill -0 $fio_keep

say "the runner let the victim go"
check_released 1 victim0 "$VICTIM_MINOR" 1

say "the keeper was served throughout"
fio_wait keeper0 $fio_keep /tmp/fio-keeper
check "keeper: fio exit 0, no I/O error" test "$rc-$err" = 0-0
check "keeper: 0 verify errors, all $FIO_BLOCKS blocks written and verified" \
	test "$total_err-$writes-$reads" = "0-$FIO_BLOCKS-$FIO_BLOCKS"
rc=0
fio_crc32c keeper "$SD_KEEP" 7 --verify_only >/tmp/fio-keeper2.json 2>/tmp/fio-keeper2.err || rc=$?
read -r err total_err writes reads < <(fio_get /tmp/fio-keeper2.json)
check "keeper: --verify_only afterwards: 0 errors over $FIO_BLOCKS blocks (exit $rc, error $err, $total_err of $reads)" \
	test "$rc-$err-$total_err-$reads" = "0-0-0-$FIO_BLOCKS"

check "no kernel warnings" no_kernel_warnings
teardown_and_finish 1 keeper0 1
