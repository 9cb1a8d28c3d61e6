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
MB=$((1 << 20))
SIZE=$((32 * MB))
WS=$((8 * MB))
BS=4096
BLOCKS=$((WS / BS))

fio_keeper() {
	fio --name=keeper --filename="$SD_KEEP" --direct=1 --ioengine=libaio --iodepth=8 --bs=$BS --size=$WS \
		--rw=randwrite --randseed=7 --verify=crc32c --continue_on_error=verify --output-format=json "$@"
}
fio_get() {
	/usr/bin/python3 -c 'import json, sys
try:
    t = open(sys.argv[1]).read()  # fio may print error lines before the report
    j = json.JSONDecoder().raw_decode(t[t.index("{"):])[0]["jobs"][0]
    print(j["error"], j["total_err"], j["write"]["total_ios"], j["read"]["total_ios"])
except Exception as e:
    print("unreadable", e)' "$1"
}
not() { ! "$@"; }
not_uio() { ! uio_minor_of "$1" "$2" >/dev/null; }
wait_for_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		runner_log_has "$1" && return 0
		sleep 0.1
	done
	return 1
}
# ios_done DEV: reads and writes the block layer completed on DEV so far.
ios_done() {
	local r r2 r3 r4 w rest
	read -r r r2 r3 r4 w rest <"/sys/block/${1#/dev/}/stat" && echo $((r + w))
}
busy() { (($(ios_done "$SD_VICTIM") >= 256 && $(ios_done "$SD_KEEP") >= 256)); }
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}
uio_fds() { ls -l "/proc/$RUNNER_PID/fd" 2>/dev/null | grep -c '/dev/uio'; }

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
fio --name=victim --filename="$SD_VICTIM" --direct=1 --ioengine=libaio --iodepth=16 --bs=$BS --size=$WS \
	--rw=randrw --time_based --runtime=60 --output-format=json >/tmp/fio-victim.json 2>/tmp/fio-victim.err &
fio_victim=$!
# Writes paced so that the keeper is still writing when the victim goes.
fio_keeper --do_verify=1 --rate_iops=,250 >/tmp/fio-keeper.json 2>/tmp/fio-keeper.err &
fio_keep=$!
check "256 I/Os done on each LUN" wait_for 60 busy
check "both fio running" kill -0 $fio_victim $fio_keep
echo "   victim0 $(ios_done "$SD_VICTIM") I/Os, keeper0 $(ios_done "$SD_KEEP") I/Os done"

say "unlink the victim's LUN and remove its backstore under load"
t0=$SECONDS
check "LUN 0 unlinked (within 60 s)" bounded 60 loop_lun_remove 0
check "user_1/victim0 removed (within 60 s)" bounded 60 user_backstore_remove 1 victim0
echo "   unlink + rmdir took $((SECONDS - t0)) s"
rc=0
wait_pid 60 $fio_victim || rc=$?
check "the victim's fio ended (exit $rc: its device went away)" test "$rc" -ne 124
echo "   victim's fio: $(fio_get /tmp/fio-victim.json | awk '{print "error " $1 ", " $3 " writes, " $4 " reads"}')"
sed 's/^/   /' /tmp/fio-victim.err | head -5
check "keeper's fio still running" kill -0 $fio_keep

say "the runner let the victim go"
check "log: 1/victim0 removed" wait_for_log "1/victim0: removed"
check "uio$VICTIM_MINOR gone from /sys/class/uio" test ! -e "/sys/class/uio/uio$VICTIM_MINOR"
check "no uio device named victim0" not_uio 1 victim0
check "the runner holds 1 uio fd ($(uio_fds))" test "$(uio_fds)" = 1
check "no mapping of /dev/uio$VICTIM_MINOR left in the runner" \
	not grep -q "/dev/uio$VICTIM_MINOR\$" "/proc/$RUNNER_PID/maps"
stuck=$(d_state_stuck)
check "no task stuck in D state${stuck:+: $stuck}" test -z "$stuck"

say "the keeper was served throughout"
rc=0
wait_pid 150 $fio_keep || rc=$?
read -r err total_err writes reads < <(fio_get /tmp/fio-keeper.json)
echo "   keeper0: fio exit $rc, error $err, verify errors $total_err, $writes writes, $reads verify reads"
[ "$rc-$err-$total_err" = 0-0-0 ] || sed 's/^/   /' /tmp/fio-keeper.err | head -20
check "keeper: fio exit 0, no I/O error" test "$rc-$err" = 0-0
check "keeper: 0 verify errors, all $BLOCKS blocks written and verified" \
	test "$total_err-$writes-$reads" = "0-$BLOCKS-$BLOCKS"
rc=0
fio_keeper --verify_only >/tmp/fio-keeper2.json 2>/tmp/fio-keeper2.err || rc=$?
read -r err total_err writes reads < <(fio_get /tmp/fio-keeper2.json)
check "keeper: --verify_only afterwards: 0 errors over $BLOCKS blocks (exit $rc, error $err, $total_err of $reads)" \
	test "$rc-$err-$total_err-$reads" = "0-0-0-$BLOCKS"

check "no kernel warnings" test -z "$(dmesg | grep -E 'WARNING:|BUG:|hung_task|blocked for more than')"
teardown_and_finish 1 keeper0 1
