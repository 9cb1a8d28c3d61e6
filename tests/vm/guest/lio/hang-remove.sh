#!/bin/bash
# A handler that swallows a command (test handler "delay" with hang=) hangs
# neither the removal of its backstore nor the runner's stop, and the other
# LUNs keep serving: the watchdog logs the command past cmd_time_out, the
# removal waits a bounded time, then answers the kernel and leaves a logged
# zombie; SIGTERM likewise.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
TEST_HANDLERS=$VHOSTIO_BUILD/tests/vm/handlers

: >"$RUNNER_LOG"
"$VHOSTIO_BUILD/daemon/vhostio-runner" --handler-dir "$TEST_HANDLERS" --no-dbus --log-level info >>"$RUNNER_LOG" 2>&1 &
RUNNER_PID=$!
for i in $(seq 1 100); do grep -q "ready" "$RUNNER_LOG" && break; sleep 0.1; done
check "runner with the delay handler started" runner_log_has "handler 'delay' registered"
check "user_1/ram0 enabled" user_backstore_create 1 ram0 ram/ram0 $((32 * MB))
check "user_1/stuck0 (hangs on LBA 100) enabled" user_backstore_create 1 stuck0 "delay/0;hang=100" $((32 * MB))
echo -n 10 >"$CFS/core/user_1/stuck0/attrib/cmd_time_out"
check "LUN 0 -> ram0" loop_lun_add 0 1 ram0
check "LUN 1 -> stuck0" loop_lun_add 1 1 stuck0
SD0=$(scsi_dev_for_lun 0 block) || { fail "no block device for LUN 0"; finish; }
SG1=$(scsi_dev_for_lun 1 scsi_generic) || { fail "no sg device for LUN 1"; finish; }

say "a READ of the swallowed block"
sg_raw -t 120 -r 512 "$SG1" 28 00 00 00 00 64 00 00 01 00 >/tmp/stuck.out 2>&1 &
STUCK=$!
# The runner took cmd_time_out at attach (30 s; the 10 s set afterwards
# only shortens the kernel's own timeout).
wait_for_log "in flight past" 45
check "watchdog logged the command past cmd_time_out (30 s)" runner_log_has "in flight past 30 s"
check "the other LUN serves meanwhile" dd if=/dev/urandom of="$SD0" bs=1M count=4 oflag=direct status=none

say "remove the stuck backstore: bounded"
start=$(date +%s)
timeout 120 sh -c "find $CFS/loopback/$LOOP_WWN/tpgt_1/lun/lun_1 -maxdepth 1 -type l -delete; rmdir $CFS/loopback/$LOOP_WWN/tpgt_1/lun/lun_1"
check "LUN 1 unlinked within 120 s" test $? -eq 0
timeout 120 rmdir "$CFS/core/user_1/stuck0"
rc=$?
took=$(($(date +%s) - start))
check "rmdir of the backstore returned within 120 s (exit $rc, ${took}s)" test "$rc" -eq 0
check "runner left it as a zombie" runner_log_has "left as a zombie"
check "runner still running" kill -0 "$RUNNER_PID"
check "the other LUN still serves" dd if="$SD0" of=/dev/null bs=1M count=4 iflag=direct status=none
wait "$STUCK" 2>/dev/null

say "SIGTERM with another command swallowed: bounded"
# LBA 100, as above, is outside the first page the kernel's partition scan
# reads: a scan stuck on the swallowed block would hold the disk's open
# mutex, and the VM's final sync would wait for the SCSI error handler's
# retries (minutes) after the test is done.
check "user_1/stuck1 enabled" user_backstore_create 1 stuck1 "delay/0;hang=100" $((32 * MB))
check "LUN 1 -> stuck1" loop_lun_add 1 1 stuck1
SG1=$(scsi_dev_for_lun 1 scsi_generic) || { fail "no sg device for stuck1"; finish; }
sg_raw -t 120 -r 512 "$SG1" 28 00 00 00 00 64 00 00 01 00 >/dev/null 2>&1 &
sleep 2
start=$(date +%s)
kill -TERM "$RUNNER_PID"
for i in $(seq 1 900); do kill -0 "$RUNNER_PID" 2>/dev/null || break; sleep 0.1; done
took=$(($(date +%s) - start))
check "runner exited within 90 s of SIGTERM (${took}s)" sh -c "! kill -0 $RUNNER_PID 2>/dev/null"
wait "$RUNNER_PID" 2>/dev/null
finish
