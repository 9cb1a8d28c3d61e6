#!/bin/bash
# A killed daemon loses nothing the kernel still holds: after SIGKILL
# mid-I/O, a new vhostio-runner takes the existing devices over (block,
# reset_ring, remap, unblock) and they serve I/O again.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
SIZE=$((64 << 20))

runner_start || { fail "runner start"; finish; }
check "user_1/r0 enabled" user_backstore_create 1 r0 ram/r0 $SIZE
check "LUN 0 -> r0" loop_lun_add 0 1 r0
SD=$(scsi_dev_for_lun 0 block) || { fail "no block device"; finish; }

say "SIGKILL the runner while a writer is busy"
dd if=/dev/zero of="$SD" bs=64k count=512 oflag=direct status=none &
dd_pid=$!
sleep 1
kill -KILL "$RUNNER_PID"
wait "$RUNNER_PID" 2>/dev/null
mv "$RUNNER_LOG" /tmp/runner-killed.log

say "a new runner takes the device over"
runner_start || { fail "second runner start"; finish; }
check "found the existing device" runner_log_has "found existing device 1/r0"
check "serving it again" runner_log_has "1/r0: serving ram/r0"
# The interrupted writer finishes: commands the dead runner held were
# failed back as BUSY and retried by the initiator.
wait "$dd_pid"
check "interrupted writer completed" test $? -eq 0

say "I/O works after the takeover"
head -c $((4 << 20)) /dev/urandom >/tmp/pattern
check "write" dd if=/tmp/pattern of="$SD" bs=1M oflag=direct status=none
check "read back identical" cmp <(dd if="$SD" bs=1M count=4 iflag=direct status=none) /tmp/pattern

check "LUN removed" loop_lun_remove 0
check "backstore removed" user_backstore_remove 1 r0
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
finish
