#!/bin/bash
# Hostile requests on vhostio_scsi's control queue (vhostio-io-evtctl
# writes the control ring itself), each with the exact used length and
# response byte the module gives: TMF LUN addresses with byte 0 != 1, a
# target the endpoint does not hold (BAD TARGET), LUN 256 and 16383
# (INCORRECT LUN), address-method bits and bytes 4-7 (ignored), unknown
# subtypes and CLEAR ACA (FUNCTION REJECTED), short requests, no or a long
# response buffer (used length 0, or 1 and nothing written past it),
# AN_QUERY/AN_SUBSCRIBE (event_actual 0, OK), unknown request types (used
# length 0).  The device keeps answering.  vhostio_scsi only (through
# guest/kernel/on-fabric.sh): stock 6.1 answers several differently.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
EVTCTL=$VHOSTIO_BUILD/tests/vm/vhostio-io-evtctl
[ -x "$EVTCTL" ] || { echo "no $EVTCTL"; exit 77; }

modprobe vhost_scsi || { fail "modprobe vhost_scsi"; finish; }
lsmod | grep -q '^vhostio_scsi' || { echo "stock vhost_scsi: these expectations are vhostio_scsi's"; exit 77; }
check "rd_mcp_1/r0" rd_create r0 $((4 * MB))
check "vhost target with a nexus" vhost_target_create
check "LUN 0 -> rd_mcp_1/r0" vhost_lun_add 0 rd_mcp_1/r0

rc=0
start=$SECONDS
out=$(bounded 240 "$EVTCTL" --wwpn "$VHOST_WWPN" --tpgt 1 --lun 0 --mode ctl) || rc=$?
echo "$out"
check "exit status 0 (got $rc) in $((SECONDS - start)) s" test "$rc" -eq 0
check "no failed check" not grep -q '^not ok' <<<"$out"
check "every case ran ($(grep -c '^ok - control' <<<"$out") control cases)" test "$(grep -c '^ok - control' <<<"$out")" -eq 32
check "INQUIRY after them" grep -q '^ok - INQUIRY' <<<"$out"

check "vhost target removed" vhost_target_remove
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
finish
