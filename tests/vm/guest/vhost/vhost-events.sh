#!/bin/bash
# vhostio_scsi's event queue, written by hand (vhostio-io-evtctl writes
# the event ring itself).  Hotplug events when the guest posts no buffer:
# 140 link/unlink events wait up to the module's bound of 128, the first
# one delivered carries EVENTS_MISSED and they come in order; with the
# pending ones dropped by CLEAR_ENDPOINT the next buffer gets
# NO_EVENT|EVENTS_MISSED; VHOST_SCSI_SET/GET_EVENTS_MISSED, hostile values
# and pointers included.  Malformed event buffers: device-readable, 15
# bytes, outside guest memory, readable before writable, a length past the
# memory region, each given back with used length 0 and nothing written
# into it, the pending event going into the next good buffer (one of 16
# bytes, one split 8 + 8).  vhostio_scsi only (through
# guest/kernel/on-fabric.sh, which checks the kernel log): stock 6.1 drops
# events while no buffer is posted.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
EVTCTL=$VHOSTIO_BUILD/tests/vm/vhostio-io-evtctl
[ -x "$EVTCTL" ] || { echo "no $EVTCTL"; exit 77; }

modprobe vhost_scsi || { fail "modprobe vhost_scsi"; finish; }
lsmod | grep -q '^vhostio_scsi' || { echo "stock vhost_scsi: these expectations are vhostio_scsi's"; exit 77; }
check "rd_mcp_1/r0" rd_create r0 $((4 * MB))
check "rd_mcp_1/hp (the LUN linked and unlinked)" rd_create hp $((1 * MB))
check "vhost target with a nexus" vhost_target_create
check "LUN 0 -> rd_mcp_1/r0" vhost_lun_add 0 rd_mcp_1/r0

# evtctl MODE: one mode of the tool; its ok/not ok lines become checks.
evtctl() {
	local rc=0 out start=$SECONDS
	out=$(bounded 240 "$EVTCTL" --wwpn "$VHOST_WWPN" --tpgt 1 --lun 0 --mode "$1" --tpg-dir "$VHOST_TPG" \
		--backstore "$CFS/core/rd_mcp_1/hp" --hotplug-lun 5) || rc=$?
	echo "$out"
	check "$1: exit status 0 (got $rc) in $((SECONDS - start)) s" test "$rc" -eq 0
	check "$1: no failed check" not grep -q '^not ok' <<<"$out"
	check "$1: checks ran ($(grep -c '^ok' <<<"$out") passed)" test "$(grep -c '^ok' <<<"$out")" -ge "$2"
}
evtctl events-overflow 10
check "the module logged the dropped events" sh -c "dmesg | grep -q 'dropped: the guest will be told events were missed'"
evtctl events-cleared 8
evtctl events-ioctl 20
evtctl event-buffers 14
check "the refused buffers were logged" sh -c "dmesg | grep -q 'is no event buffer'"

check "vhost target removed" vhost_target_remove
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
check "rd_mcp_1/hp removed" rmdir "$CFS/core/rd_mcp_1/hp"
finish
