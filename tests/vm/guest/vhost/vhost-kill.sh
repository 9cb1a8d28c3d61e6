#!/bin/bash
# SIGKILL the initiator (vhostio-io) while 4 queues x 32 commands are in
# flight: the kernel tears the vhost device down on the last close, and
# the next initiator run works (write-then-verify), vhostio-runner keeps
# serving, nothing is left stuck.  On rd_mcp and user:ram/user:file LUNs,
# three kills each.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
BS=4096

vhost_setup $((32 * MB)) || finish

seed=500
for lun in $LUN_RD $LUN_RAM $LUN_FILE; do
	for round in 1 2 3; do
		seed=$((seed + 1))
		what="LUN $lun kill $round"
		# $VIO itself, not the vio function: the kill must hit the initiator, not a subshell.
		"$VIO" --wwpn $VHOST_WWPN run --lun "$lun" --rw randwrite --bs $BS --qd 32 --queues 4 --runtime 120 --size $((16 * MB)) \
			--seed $seed >/tmp/killed.out 2>&1 &
		pid=$!
		# Let it reach full queue depth: attach and READ CAPACITY take a moment under TCG.
		sleep 3
		check "$what: initiator running before the kill" kill -0 $pid
		kill -KILL $pid
		rc=0
		wait $pid 2>/dev/null || rc=$?
		check "$what: died of SIGKILL (status $rc)" test "$rc" -eq 137
		# Its vhost worker and file are gone once the kernel has released the device.
		check "$what: no process stuck in D state" \
			test -z "$(ps -eo stat=,comm= | awk '$1 ~ /^D/ && $2 ~ /vhost|vhostio/')"
		check "$what: runner still running" kill -0 "$RUNNER_PID"
		rc=0
		out=$(vio run --lun "$lun" --rw verify --bs $BS --qd 32 --queues 4 --size $((4 * MB)) \
			--seed $((seed + 100)) --hang-timeout 30000 --json) || rc=$?
		check "$what: the next run works (verify exit $rc, $(json_phase "$out" total miscompares) miscompares, $(json_phase "$out" read ok) blocks)" \
			test "$rc-$(json_phase "$out" read ok)-$(json_phase "$out" total miscompares)" = "0-1024-0"
	done
done
check "no kernel warnings" no_kernel_warnings

vhost_teardown_and_finish
