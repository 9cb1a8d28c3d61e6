#!/bin/bash
# A handler whose open() takes 8 s (test handler "delay") stalls neither
# the enabling of other backstores nor I/O on LUNs already served: device
# lifecycle work runs on a worker per device, and the kernel gets its
# netlink answer when that work is done.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
MB=$((1 << 20))
TEST_HANDLERS=$VHOSTIO_BUILD/tests/vm/handlers

RUNNER_ARGS=(--handler-dir "$TEST_HANDLERS")
: >"$RUNNER_LOG"
"$VHOSTIO_BUILD/daemon/vhostio-runner" "${RUNNER_ARGS[@]}" --no-dbus --log-level debug >>"$RUNNER_LOG" 2>&1 &
RUNNER_PID=$!
for i in $(seq 1 100); do grep -q "ready" "$RUNNER_LOG" && break; sleep 0.1; done
check "runner with the delay handler started" runner_log_has "handler 'delay' registered"

check "user_1/fast0 (ram) enabled" user_backstore_create 1 fast0 ram/fast0 $((64 * MB))
check "LUN 0 -> fast0" loop_lun_add 0 1 fast0
SD=$(scsi_dev_for_lun 0 block) || { fail "no block device"; finish; }

say "enable a slow backstore in the background"
start=$(date +%s.%N)
(user_backstore_create 1 slow0 delay/8 $((64 * MB)) && echo ok >/tmp/slow0.done || echo failed >/tmp/slow0.done) &
slow_pid=$!
sleep 1
check "the slow open is in progress" test ! -e /tmp/slow0.done

say "meanwhile: other devices come and go, I/O flows"
t0=$(date +%s.%N)
check "user_1/fast1 (ram) enabled during the slow open" user_backstore_create 1 fast1 ram/fast1 $((16 * MB))
t1=$(date +%s.%N)
elapsed=$(awk "BEGIN {print $t1 - $t0}")
echo "enabling fast1 took ${elapsed}s"
check "... and did not wait for it (${elapsed}s < 4s)" awk "BEGIN {exit !($elapsed < 4)}"
head -c $((4 * MB)) /dev/urandom >/tmp/data
check "I/O on LUN 0 during the slow open" dd if=/tmp/data of="$SD" bs=1M oflag=direct status=none
check "reads back" cmp <(dd if="$SD" bs=1M count=4 iflag=direct status=none) /tmp/data
check "still not done (I/O did not wait for it either)" test ! -e /tmp/slow0.done
check "fast1 removed during the slow open" user_backstore_remove 1 fast1

wait "$slow_pid"
end=$(date +%s.%N)
check "the slow backstore enabled in the end" grep -q ok /tmp/slow0.done
echo "slow enable took $(awk "BEGIN {print $end - $start}")s"
check "... after its open's 8 s" awk "BEGIN {exit !($end - $start >= 8)}"
check "runner serves it" runner_log_has "1/slow0: serving delay/8"
check "slow0 removed" user_backstore_remove 1 slow0
teardown_and_finish 1 fast0 0
