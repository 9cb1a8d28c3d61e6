#!/bin/bash
# Malformed descriptor chains from vhostio-io-hostile, one case per fresh
# device open, on an rd_mcp LUN: each case gets the outcome the module's
# ring engine promises (used length 0, a virtio-scsi FAILURE/BAD TARGET
# response, or the queue marked broken with a log line), the queue goes
# on where it was not broken, and a second request queue still answers
# INQUIRY.  Meant for vhostio_scsi (run through guest/kernel/on-fabric.sh,
# which checks the kernel log for oopses); stock vhost_scsi answers these
# differently and is skipped.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
HOSTILE=$VHOSTIO_BUILD/tests/vm/vhostio-io-hostile
[ -x "$HOSTILE" ] || { echo "no $HOSTILE"; exit 77; }

modprobe vhost_scsi || { fail "modprobe vhost_scsi"; finish; }
lsmod | grep -q '^vhostio_scsi' || { echo "stock vhost_scsi: these expectations are vhostio_scsi's"; exit 77; }
check "rd_mcp_1/r0" rd_create r0 $((4 * MB))
check "vhost target with a nexus" vhost_target_create
check "LUN 0 -> rd_mcp_1/r0" vhost_lun_add 0 rd_mcp_1/r0

ncases=$("$HOSTILE" --list | wc -l)
rc=0
out=$(bounded 300 "$HOSTILE" --wwpn "$VHOST_WWPN" --tpgt 1 --lun 0 --case all) || rc=$?
echo "$out"
check "vhostio-io-hostile exit status 0 (got $rc)" test "$rc" -eq 0
check "one JSON line per case ($ncases)" test "$(grep -c '"case"' <<<"$out")" -eq "$ncases"
check "every case matched its expectation" test "$(grep -c '"match": true' <<<"$out")" -eq "$ncases"
for c in $("$HOSTILE" --list); do
	check "case $c matched" grep -q "\"case\": \"$c\".*\"match\": true" <<<"$out"
done
check "the broken queue was logged (head out of range)" sh -c "dmesg | grep -q 'broken: available head out of range'"
check "the broken queue was logged (avail idx jump)" sh -c "dmesg | grep -q 'broken: available index moved more than the ring size'"
check "malformed chains were logged" sh -c "dmesg | grep -q 'nested indirect descriptor'"

check "vhost target removed" vhost_target_remove
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
finish
