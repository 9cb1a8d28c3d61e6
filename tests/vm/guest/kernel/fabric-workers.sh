#!/bin/bash
# vhostio_scsi's workers: the module parameters (workers=per_vq|single,
# poll_us, auto_workers) and what they refuse; a worker per request queue by
# default (at most one per CPU, or auto_workers) and one per device in
# single mode, the 6.5 worker ioctls with their errors
# and queues moved between workers under verified I/O
# (tests/vm/tools/worker-ioctls.c); vhostio-io's --workers on top of them;
# verified I/O and a LUN reset under load with busy polling on.  Run
# through guest/kernel/on-fabric.sh.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
PROG=$VHOSTIO_BUILD/tests/vm/worker-ioctls
[ -x "$PROG" ] || { echo "no $PROG"; exit 77; }
lsmod | grep -q '^vhostio_scsi' || { echo "needs vhostio_scsi (on-fabric.sh)"; exit 77; }
P=/sys/module/vhostio_scsi/parameters

say "module parameters"
check "workers defaults to per_vq" test "$(cat $P/workers)" = per_vq
check "poll_us defaults to 0" test "$(cat $P/poll_us)" = 0
check "workers=bogus refused" sh -c "! echo bogus >$P/workers 2>/dev/null"
check "poll_us=5000 refused (at most 1000)" sh -c "! echo 5000 >$P/poll_us 2>/dev/null"
check "workers=single accepted" sh -c "echo single >$P/workers && test \"\$(cat $P/workers)\" = single"
check "workers=per-vq accepted as per_vq" sh -c "echo per-vq >$P/workers && test \"\$(cat $P/workers)\" = per_vq"

check "rd_mcp_1/r0" rd_create r0 $((16 * MB))
check "vhost target with a nexus" vhost_target_create
check "LUN 0 -> rd_mcp_1/r0" vhost_lun_add 0 rd_mcp_1/r0

say "worker ioctls, per_vq mode"
# A worker per queue even past the VM's CPUs (the bound is checked below).
check "auto_workers=16 accepted" sh -c "echo 16 >$P/auto_workers"
rc=0
bounded 180 "$PROG" --wwpn "$VHOST_WWPN" --tpgt 1 --lun 0 --expect-auto 1 || rc=$?
check "worker-ioctls (per_vq): every check passed (exit $rc)" test "$rc" -eq 0
say "worker ioctls, single mode"
echo single >$P/workers
rc=0
bounded 180 "$PROG" --wwpn "$VHOST_WWPN" --tpgt 1 --lun 0 --expect-auto 0 --rounds 5 || rc=$?
check "worker-ioctls (single): every check passed (exit $rc)" test "$rc" -eq 0
echo per_vq >$P/workers

# verified NAME ARGS...: a verified random run on LUN 0, 4 queues; no error, no miscompare.
verified() {
	local name=$1 out rc=0
	shift
	out=$(vio --lun 0 run --rw randverify --size $((8 * MB)) --queues 4 --qd 8 --runtime 2 \
		--hang-timeout 30000 --json "$@" 2>/tmp/vio.err) || rc=$?
	local ok=$(json_phase "$out" total ok) errors=$(json_phase "$out" total errors)
	local mis=$(json_phase "$out" total miscompares)
	echo "   $name: exit $rc, ok=$ok errors=$errors miscompares=$mis"
	[ "$rc" -eq 0 ] || tail -5 /tmp/vio.err
	check "$name: no error, no miscompare" test "$rc" -eq 0 -a "${errors:-x}" = 0 -a "${mis:-x}" = 0 -a "${ok:-0}" -gt 0
}

say "automatic workers: one per queue, at most one per CPU (auto_workers=0) or auto_workers"
echo 0 >$P/auto_workers
ncpu=$(nproc)
want=$((1 + (ncpu < 4 ? ncpu : 4)))
out=$(vio --lun 0 run --rw randverify --size $((8 * MB)) --queues 4 --qd 8 --runtime 2 --json 2>/tmp/vio.err)
rc=$?
threads=$(json_phase "$out" cpu workers) errors=$(json_phase "$out" total errors)
mis=$(json_phase "$out" total miscompares)
check "auto_workers=0: 4 queues on $ncpu CPUs, $threads worker threads (want $want: the device's, then min(4, CPUs)); exit $rc, $errors errors, $mis miscompares" \
	test "${threads:-x}" = "$want" -a "$rc" -eq 0 -a "${errors:-x}" = 0 -a "${mis:-x}" = 0
echo 2 >$P/auto_workers
out=$(vio --lun 0 run --rw randverify --size $((8 * MB)) --queues 4 --qd 8 --runtime 2 --json 2>/tmp/vio.err)
rc=$?
threads=$(json_phase "$out" cpu workers) errors=$(json_phase "$out" total errors)
mis=$(json_phase "$out" total miscompares)
check "auto_workers=2: 4 queues, $threads worker threads (want 3: two queues each); exit $rc, $errors errors, $mis miscompares" \
	test "${threads:-x}" = 3 -a "$rc" -eq 0 -a "${errors:-x}" = 0 -a "${mis:-x}" = 0
echo 0 >$P/auto_workers

say "vhostio-io --workers"
verified "--workers per-vq" --workers per-vq
verified "--workers 2" --workers 2
verified "--workers shared" --workers shared

say "busy polling (poll_us=200)"
echo 200 >$P/poll_us
verified "polled, automatic workers"
verified "polled, all queues on one worker" --workers shared
out=$(vio --lun 0 run --rw read --queues 4 --qd 16 --runtime 3 --lun-reset-after 1000 --hang-timeout 30000 --json 2>&1)
rc=$?
hung=$(json_get "$out" hang)
check "polled: LUN RESET under load answered, nothing hung (exit $rc, hang=$hung)" test "$rc" -eq 0 -a "$hung" = false
echo 0 >$P/poll_us
verified "polling off again"

check "vhost target removed" vhost_target_remove
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
finish
