#!/bin/bash
# The per-device bound on bounce memory (vhostio_scsi's max_bounce_mb):
# under a verified load larger than the bound, requests past it are
# answered TASK SET FULL, which the initiator retries once another command
# completes (as Linux's SCSI layer does): no error, no miscompare, the
# most one device held (debugfs bounce_peak_bytes) stays within the bound,
# and requests were refused (debugfs bounce_full, vhostio-io's
# full_retries).  One request larger than the bound still runs alone;
# without the bound the same load holds more.  Run through
# guest/kernel/on-fabric.sh.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
lsmod | grep -q '^vhostio_scsi' || { echo "needs vhostio_scsi (on-fabric.sh)"; exit 77; }
PARAM=/sys/module/vhostio_scsi/parameters/max_bounce_mb
DBG=/sys/kernel/debug/vhostio_scsi
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
[ -r "$DBG/bounce_full" ] || { fail "no $DBG"; finish; }
check "the bound defaults to 256 MiB" test "$(cat $PARAM)" = 256
check "rd_mcp_1/r0" rd_create r0 $((32 * MB))
check "vhost target with a nexus" vhost_target_create
check "LUN 0 -> rd_mcp_1/r0" vhost_lun_add 0 rd_mcp_1/r0

# load NAME ARGS...: a verified run on LUN 0; passes with no error and no miscompare.
load() {
	local name=$1 out rc=0
	shift
	out=$(vio --lun 0 run --rw randverify --size $((16 * MB)) --runtime 5 --hang-timeout 30000 --json "$@" 2>/tmp/vio.err) || rc=$?
	local ok errors mis
	ok=$(json_phase "$out" total ok) errors=$(json_phase "$out" total errors) mis=$(json_phase "$out" total miscompares)
	RETRIES=$(json_phase "$out" total full_retries)
	echo "   $name: exit $rc, ok=$ok errors=$errors miscompares=$mis full_retries=$RETRIES"
	[ "$rc" -eq 0 ] || tail -5 /tmp/vio.err
	check "$name: I/O done, no error, no miscompare" test "$rc" -eq 0 -a "${errors:-x}" = 0 -a \
		"${mis:-x}" = 0 -a "${ok:-0}" -gt 0
}

say "bound 1 MiB: 256 KiB requests, 32 deep on 2 queues (8 MiB wanted at once)"
echo 1 >$PARAM
echo 0 >$DBG/bounce_peak_bytes
w0=$(cat $DBG/bounce_full)
load "bounded load" --bs 256k --qd 32 --queues 2 --seed 7
peak=$(cat $DBG/bounce_peak_bytes) w1=$(cat $DBG/bounce_full)
echo "   peak $peak bytes, $((w1 - w0)) answered TASK SET FULL"
check "the device held at most 1 MiB ($peak bytes)" test "$peak" -le $((1 * MB))
check "requests were answered TASK SET FULL ($((w1 - w0)) times)" test "$((w1 - w0))" -gt 0
check "... and retried by the initiator, as many (${RETRIES:-none})" test "${RETRIES:-0}" -eq "$((w1 - w0))"

say "bound 1 MiB: one 4 MiB request at a time still runs"
echo 0 >$DBG/bounce_peak_bytes
load "4 MiB requests" --bs 4m --qd 1 --seed 8
check "the 4 MiB request went in alone ($(cat $DBG/bounce_peak_bytes) bytes)" test "$(cat $DBG/bounce_peak_bytes)" -eq $((4 * MB))

say "no bound (0): the same load holds more than 1 MiB"
echo 0 >$PARAM
echo 0 >$DBG/bounce_peak_bytes
load "unbounded load" --bs 256k --qd 32 --queues 2 --seed 9
peak=$(cat $DBG/bounce_peak_bytes)
check "the device held more than 1 MiB without the bound ($peak bytes)" test "$peak" -gt $((1 * MB))
echo 256 >$PARAM

check "vhost target removed" vhost_target_remove
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
finish
