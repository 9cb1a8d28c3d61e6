#!/bin/bash
# The task management answers vhostio_scsi gives from its own list of
# commands (vhostio-io-evtctl --mode tmf, through the library's TMF call):
# INCORRECT LUN for every LUN-addressed TMF to a LUN the nexus does not
# have (idle and under load); QUERY TASK on a tag never sent, or on
# another LUN: FUNCTION COMPLETE (0); on each of 16 commands in flight:
# FUNCTION SUCCEEDED (10); then ABORT TASK SET: FUNCTION SUCCEEDED and
# every command answered ABORTED, each within 15 s, and the LUN serves on.
# LUN 0 is the test handler "delay" with hang=0: a read of block 0 stays
# with the handler until aborted.  vhostio_scsi only (on-fabric.sh): stock
# 6.1 rejects QUERY TASK and ABORT TASK SET.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
EVTCTL=$VHOSTIO_BUILD/tests/vm/vhostio-io-evtctl
TEST_HANDLERS=$VHOSTIO_BUILD/tests/vm/handlers
[ -x "$EVTCTL" ] || { echo "no $EVTCTL"; exit 77; }

modprobe vhost_scsi || { fail "modprobe vhost_scsi"; finish; }
lsmod | grep -q '^vhostio_scsi' || { echo "stock vhost_scsi: these expectations are vhostio_scsi's"; exit 77; }
: >"$RUNNER_LOG"
"$VHOSTIO_BUILD/daemon/vhostio-runner" --handler-dir "$TEST_HANDLERS" --no-dbus --log-level info >>"$RUNNER_LOG" 2>&1 &
RUNNER_PID=$!
for i in $(seq 1 100); do grep -q "ready" "$RUNNER_LOG" && break; sleep 0.1; done
check "runner with the delay handler started" runner_log_has "handler 'delay' registered" || finish
check "user_1/stuck (swallows I/O at LBA 0) enabled" user_backstore_create 1 stuck "delay/0;hang=0" $((4 * MB)) || finish
# Only a TMF may end a swallowed command, not the kernel's timer.
echo -n 0 >"$CFS/core/user_1/stuck/attrib/cmd_time_out"
check "rd_mcp_1/r0 enabled" rd_create r0 $((4 * MB)) || finish
check "vhost target with a nexus" vhost_target_create || finish
check "LUN 0 -> user_1/stuck" vhost_lun_add 0 user_1/stuck || finish
check "LUN 1 -> rd_mcp_1/r0" vhost_lun_add 1 rd_mcp_1/r0 || finish

rc=0
start=$SECONDS
out=$(bounded 300 "$EVTCTL" --wwpn "$VHOST_WWPN" --tpgt 1 --lun 0 --other-lun 1 --absent-lun 7 --mode tmf) || rc=$?
echo "$out"
check "exit status 0 (got $rc) in $((SECONDS - start)) s" test "$rc" -eq 0
check "no failed check" not grep -q '^not ok' <<<"$out"
check "all 25 checks ran ($(grep -c '^ok' <<<"$out") passed)" test "$(grep -c '^ok' <<<"$out")" -eq 25
check "runner still running" kill -0 "$RUNNER_PID"
# No teardown of the stuck LUN: the VM powers off (as vhost-tmf.sh).
finish
