#!/bin/bash
# Write-then-verify integrity through the userspace virtio-scsi initiator:
# every block of the working set written with a pattern naming (LBA,
# generation, seed), read back and compared, at queue depths 1, 8, 32 and
# 128 over 1 and 4 request queues, on rd_mcp, user:ram and user:file LUNs.
# Each run has its own seed, so a block left over from an earlier run
# cannot pass.  Usage: vhost-verify.sh [WORKING_SET_MIB]
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
WS=$((${1:-8} * MB))
BS=4096

vhost_setup $((32 * MB)) || finish

seed=100
for lun in $LUN_RD $LUN_RAM $LUN_FILE; do
	for queues in 1 4; do
		for qd in 1 8 32 128; do
			seed=$((seed + 1))
			# Sequential at the low depths, random order (each block once) at the high ones.
			rw=verify
			[ "$qd" -ge 32 ] && rw=randverify
			what="LUN $lun $rw qd $qd x $queues queue(s)"
			rc=0
			out=$(vio run --lun "$lun" --rw $rw --bs $BS --qd "$qd" --queues "$queues" \
				--size $WS --seed $seed --hang-timeout 60000 --json) || rc=$?
			echo "$out"
			check "$what: exit status 0 (got $rc)" test "$rc" -eq 0
			check "$what: wrote $((WS / BS)) blocks" test "$(json_phase "$out" write ok)" = $((WS / BS))
			check "$what: read $((WS / BS)) blocks" test "$(json_phase "$out" read ok)" = $((WS / BS))
			check "$what: 0 miscompares" test "$(json_phase "$out" total miscompares)" = 0
			check "$what: 0 errors" test "$(json_phase "$out" total errors)" = 0
			check "$what: on $queues queue(s)" test "$(json_get "$out" queues)" = "$queues"
			printf 'SUMMARY %-32s write %8s IOPS  read %8s IOPS  p99 %s us\n' "$what" \
				"$(json_phase "$out" write iops)" "$(json_phase "$out" read iops)" "$(json_phase "$out" total p99)"
		done
	done
done

say "the check catches a wrong pattern"
# Data of the last seed read back with another seed: every block must miscompare.
rc=0
out=$(vio run --lun $LUN_FILE --rw read --check --bs $BS --size $((64 * 1024)) --seed 1 --json 2>/dev/null) || rc=$?
echo "$out"
check "read with a wrong seed: exit status 1 (got $rc)" test "$rc" -eq 1
check "... 16 miscompares" test "$(json_phase "$out" total miscompares)" = 16
rc=0
out=$(vio run --lun $LUN_FILE --rw read --check --bs $BS --size $WS --seed $seed --json) || rc=$?
check "read with the right seed: exit status 0, 0 miscompares" test "$rc-$(json_phase "$out" total miscompares)" = 0-0

vhost_teardown_and_finish
