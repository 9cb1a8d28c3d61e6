#!/bin/bash
# Unlink a LUN from the TPG while a LOGICAL UNIT RESET on it is in flight
# under I/O, the case that crashes stock vhost_scsi 6.1 (fixed in 6.3), so
# this runs on vhostio_scsi only (through on-fabric.sh).  LUN 0 is the
# test handler "delay" with hang=0: the reads of block 0 stay with the
# handler.  TMR notifications are off, so the reset cannot end them
# through the handler's abort; it waits for the kernel's command timer
# (cmd_time_out), which gives a window of seconds in which the LUN is
# unlinked.  Per round: the reset is answered, every command is answered
# (aborted or an error) within a bound, vhostio-io exits, the unlink
# returns, the kernel log stays clean.  Then a new LUN verifies.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
TEST_HANDLERS=$VHOSTIO_BUILD/tests/vm/handlers
ROUNDS=4
N=4          # commands stuck per round
TIMEOUT_S=4  # cmd_time_out: how long the reset waits

now_ms() { echo $(($(date +%s%N) / 1000000)); }
swallowed() { grep -c 'delay: swallowed' "$RUNNER_LOG"; }
swallowed_at_least() { [ "$(swallowed)" -ge "$1" ]; }

modprobe vhost_scsi || { fail "modprobe vhost_scsi"; finish; }
: >"$RUNNER_LOG"
"$VHOSTIO_BUILD/daemon/vhostio-runner" --handler-dir "$TEST_HANDLERS" --no-dbus --log-level info >>"$RUNNER_LOG" 2>&1 &
RUNNER_PID=$!
for i in $(seq 1 100); do grep -q "ready" "$RUNNER_LOG" && break; sleep 0.1; done
check "runner with the delay handler started" runner_log_has "handler 'delay' registered" || finish
check "user_1/stuck (swallows I/O at LBA 0) enabled" user_backstore_create 1 stuck "delay/0;hang=0" $((4 * MB)) || finish
ATTR=$CFS/core/user_1/stuck/attrib
echo -n $TIMEOUT_S >"$ATTR/cmd_time_out"
echo -n 0 >"$ATTR/tmr_notification"
check "user_1/stuck: cmd_time_out $TIMEOUT_S, no TMR notification" \
	test "$(cat "$ATTR/cmd_time_out")-$(cat "$ATTR/tmr_notification")" = "$TIMEOUT_S-0"
check "rd_mcp_1/r0 enabled" rd_create r0 $((4 * MB)) "$SERIAL_RD" || finish
check "vhost target with a nexus" vhost_target_create || finish

for ((r = 1; r <= ROUNDS; r++)); do
	say "round $r: LUN reset under I/O, LUN unlinked while it waits"
	check "round $r: LUN 0 -> user_1/stuck" vhost_lun_add 0 user_1/stuck || break
	before=$(swallowed)
	# (Not the vio function: $! must be vhostio-io itself.)
	"$VIO" --wwpn "$VHOST_WWPN" --tpgt 1 --lun 0 run --rw read --bs 4096 --size 4096 --qd $N --ios $N \
		--tmf-after 500 --tmf lun-reset --hang-timeout 20000 --json >/tmp/vio.out 2>/tmp/vio.err &
	pid=$!
	t0=$(now_ms)
	check "round $r: $N reads taken by the handler" wait_for 20 swallowed_at_least $((before + N))
	# The reset goes 500 ms after the reads; the timer ends them
	# $TIMEOUT_S s after they were queued: unlink in between.
	sleep 1
	t1=$(now_ms)
	check "round $r: LUN 0 unlinked (symlink removed)" bounded 30 find "$VHOST_TPG/lun/lun_0" -maxdepth 1 -type l -delete
	t2=$(now_ms)
	check "round $r: lun_0 removed" rmdir "$VHOST_TPG/lun/lun_0"
	rc=0
	wait_pid 30 $pid || rc=$?
	t3=$(now_ms)
	out=$(cat /tmp/vio.out)
	echo "$out"
	head -3 /tmp/vio.err
	echo "   unlink at $((t1 - t0)) ms took $((t2 - t1)) ms; vhostio-io done at $((t3 - t0)) ms"
	check "round $r: vhostio-io exited 0 (got $rc)" test "$rc" -eq 0
	check "round $r: no hang" grep -q '"hang": false' <<<"$out"
	check "round $r: reset answered FUNCTION_SUCCEEDED" \
		grep -q '{"name": "lun-reset", "done": true, "response": "FUNCTION_SUCCEEDED"' <<<"$out"
	took=$(sed -n 's/.*"lun-reset".*"took_ms": \([0-9]*\).*/\1/p' <<<"$out")
	# It waited for the stuck reads (the unlink was inside its window),
	# and not much beyond their timer.
	check "round $r: the reset was in flight for ${took:-?} ms (1000-15000)" \
		test "${took:-0}" -ge 1000 -a "${took:-0}" -le 15000
	# at_ms counts from the workload's start, which is after t0: an unlink
	# begun less than at_ms after t0 began before the reset was answered.
	at=$(sed -n 's/.*"lun-reset".*"at_ms": \([0-9]*\).*/\1/p' <<<"$out")
	check "round $r: the unlink began before the reset was answered ($((t1 - t0)) < ${at:-?} ms)" \
		test $((t1 - t0)) -lt "${at:-0}"
	ios=$(json_phase "$out" total ios) ok=$(json_phase "$out" total ok)
	ab=$(json_phase "$out" total aborted) err=$(json_phase "$out" total errors)
	check "round $r: all $N commands answered (${ios:-?}: ${ok:-?} GOOD, ${ab:-?} aborted, ${err:-?} error), none GOOD" \
		test "${ios:-0}-$((${ab:-0} + ${err:-0}))-${ok:-x}" = "$N-$N-0"
	check "round $r: no oops, BUG or warning in the kernel log" no_kernel_warnings 'Oops|Call Trace'
done

say "the target serves a new LUN"
check "LUN 1 -> rd_mcp_1/r0" vhost_lun_add 1 rd_mcp_1/r0
rc=0
out=$(vio run --lun 1 --rw randverify --bs 4096 --qd 8 --size $MB --runtime 2 --seed 5 --hang-timeout 20000 --json) || rc=$?
check "LUN 1 verifies (exit $rc, $(json_phase "$out" total ok) GOOD, $(json_phase "$out" total miscompares) miscompares)" \
	test "$rc-$(json_phase "$out" total errors)-$(json_phase "$out" total miscompares)" = "0-0-0"
out=$(vio report-luns --json)
check "REPORT LUNS names LUN 1 only: $out" grep -q '"luns": \[1\]' <<<"$out"
check "vhost target removed" bounded 30 vhost_target_remove
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
check "runner still running" kill -0 "$RUNNER_PID"
# user_1/stuck stays: the handler still holds the reads the kernel timed
# out, and the runner gives a handler 30 s to finish before it lets such a
# device go (vm/hang-remove); the VM powers off instead.
finish
