#!/bin/bash
# Task management reaches the handler: the runner sets tmr_notification,
# and a command that its handler swallowed (test handler "delay" with
# hang=) is cut short by the initiator's LOGICAL UNIT RESET (sg_reset -d
# through tcm_loop) and by an ABORT TASK (the SCSI midlayer's, when the
# command times out): the handler's abort() cancels it, the runner answers
# it, and the reset returns at once although the kernel itself would never
# time the command out (cmd_time_out 0).  Without abort() the reset waits
# for the handler forever.  The LUN serves on, and removal is clean.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
MB=$((1 << 20))
TEST_HANDLERS=$VHOSTIO_BUILD/tests/vm/handlers

: >"$RUNNER_LOG"
"$VHOSTIO_BUILD/daemon/vhostio-runner" --handler-dir "$TEST_HANDLERS" --no-dbus --log-level info >>"$RUNNER_LOG" 2>&1 &
RUNNER_PID=$!
for i in $(seq 1 100); do grep -q "ready" "$RUNNER_LOG" && break; sleep 0.1; done
check "runner with the delay handler started" runner_log_has "handler 'delay' registered"
check "user_1/stuck (swallows I/O at LBA 100) enabled" user_backstore_create 1 stuck "delay/0;hang=100" $((32 * MB))
check "runner set attrib/tmr_notification" test "$(cat "$CFS/core/user_1/stuck/attrib/tmr_notification")" = 1
# The kernel never times the command out: only the abort can end it.
echo -n 0 >"$CFS/core/user_1/stuck/attrib/cmd_time_out"
check "LUN 0 -> stuck" loop_lun_add 0 1 stuck
SG=$(scsi_dev_for_lun 0 scsi_generic) || { fail "no sg device for LUN 0"; finish; }
swallowed() { [ "$(grep -c "delay: swallowed" "$RUNNER_LOG")" -ge "$1" ]; }
wait_until() {
	local i
	for i in $(seq 1 "$1"); do "${@:2}" && return 0; sleep 0.1; done
	return 1
}

say "LOGICAL UNIT RESET with a swallowed READ in flight"
# Leave a pattern in the kernel's data area (a WRITE, dropped by the
# handler): the aborted READ's buffer is likely the same block, and none of
# it may reach the initiator.
printf '\xa5%.0s' $(seq 512) >/tmp/pattern
check "WRITE of a pattern elsewhere" sh -c "sg_raw -t 20 -s 512 -i /tmp/pattern '$SG' 2a 00 00 00 00 c8 00 00 01 00 2>&1 | grep -q 'Status: Good'"
sg_raw -t 120 -r 512 "$SG" 28 00 00 00 00 64 00 00 01 00 >/tmp/reset-victim.out 2>&1 &
VICTIM=$!
check "the handler swallowed the READ" wait_until 300 swallowed 1
start=$SECONDS
bounded 60 sg_reset -d "$SG"
rc=$?
took=$((SECONDS - start))
check "sg_reset -d returned 0 within 60 s (exit $rc, ${took}s)" test "$rc" -eq 0
check "the runner saw the reset name the command" wait_until 50 runner_log_has "LOGICAL UNIT RESET: 1 command(s) named, 1 in flight aborted"
check "the handler's abort() cancelled it" runner_log_has "delay: abort of a swallowed request: cancelled"
wait_pid 150 "$VICTIM"
echo "the aborted READ: exit $?, $(head -3 /tmp/reset-victim.out | tr '\n' ' ')"
check "no stale data in the aborted READ's answer" sh -c "! grep -qi 'a5 a5' /tmp/reset-victim.out"

say "the LUN serves on"
# LIO itself reports the reset to the nexus once (UNIT ATTENTION 29/03).
out=$(sg_raw -t 20 -r 512 "$SG" 28 00 00 00 00 00 00 00 01 00 2>&1)
check "first command after the reset: UNIT ATTENTION, bus device reset" \
	sh -c "echo '$out' | grep -q 'Bus device reset function occurred'"
out=$(sg_raw -t 20 -r 512 "$SG" 28 00 00 00 00 00 00 00 01 00 2>&1)
check "READ of LBA 0 after the reset: GOOD" sh -c "echo '$out' | grep -q 'Received 512 bytes'"

say "ABORT TASK: the midlayer's, when a swallowed command times out"
sg_raw -t 5 -r 512 "$SG" 28 00 00 00 00 64 00 00 01 00 >/tmp/abort-victim.out 2>&1 &
VICTIM=$!
check "the handler swallowed the second READ" wait_until 300 swallowed 2
wait_pid 120 "$VICTIM"
echo "the timed-out READ: exit $?, $(tr '\n' ' ' </tmp/abort-victim.out)"
check "the runner got ABORT TASK for it" wait_until 300 runner_log_has "ABORT TASK: 1 command(s) named, 1 in flight aborted"
check "the handler cancelled it" test "$(grep -c "delay: abort of a swallowed request: cancelled" "$RUNNER_LOG")" -ge 2
out=$(sg_raw -t 20 -r 512 "$SG" 28 00 00 00 00 01 00 00 01 00 2>&1)
check "READ of LBA 1 afterwards: GOOD" sh -c "echo '$out' | grep -q 'Received 512 bytes'"

say "removal: nothing left in flight"
check "LUN 0 removed" bounded 60 loop_lun_remove 0
check "backstore removed" bounded 60 user_backstore_remove 1 stuck
check "no zombie" sh -c "! grep -q 'left as a zombie' '$RUNNER_LOG'"
check "the device counted its aborts" grep -qE "[2-9] aborted by task management" "$RUNNER_LOG"
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
finish
