#!/bin/bash
# Hotplug through the virtio-scsi event queue, with the vhost target built
# by libvhostio's fabric functions (vhostio-io target-create/lun-add/
# lun-remove/target-remove): linking a LUN while an initiator is attached
# delivers a TRANSPORT_RESET/RESCAN event for it, unlinking one a
# TRANSPORT_RESET/REMOVED event; the new LUN then serves I/O.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
SIZE=$((16 * MB))
EV_OUT=/tmp/events.json
EV_ERR=/tmp/events.err

modprobe vhost_scsi || fail "modprobe vhost_scsi"
runner_start --no-dbus || { fail "runner start"; finish; }
check "rd_mcp_1/r0 enabled" rd_create r0 $SIZE "$SERIAL_RD"
check "user_1/ram0 enabled" user_backstore_create 1 ram0 "$(backstore_config ram ram0)" $SIZE "$SERIAL_RAM"

say "the target through vhostio_vhost_target_create/lun_add"
check "target-create" vio target-create --nexus $VHOST_NEXUS
check "configfs: TPG with the nexus" test "$(cat "$VHOST_TPG/nexus" 2>/dev/null)" = $VHOST_NEXUS
check "lun-add LUN 0 -> rd_mcp_1/r0" vio lun-add --lun 0 --backstore rd_mcp_1/r0
check "configfs: lun_0 links rd_mcp_1/r0" test "$(readlink -f "$VHOST_TPG/lun/lun_0/r0")" = "$(readlink -f "$CFS/core/rd_mcp_1/r0")"
out=$(vio report-luns --json)
check "REPORT LUNS: only LUN 0 ($out)" grep -q '"count": 1, "luns": \[0\]' <<<"$out"

# events_start: an initiator attached and waiting for one event.
events_start() {
	: >"$EV_ERR"
	vio events --count 1 --timeout 30000 --json >"$EV_OUT" 2>"$EV_ERR" &
	EV_PID=$!
	local i
	for i in $(seq 1 200); do
		grep -q "attached" "$EV_ERR" && return 0
		kill -0 $EV_PID 2>/dev/null || break
		sleep 0.1
	done
	cat "$EV_ERR"
	return 1
}

say "link LUN 3 while attached"
check "initiator attached, waiting for events" events_start
check "lun-add LUN 3 -> user_1/ram0" vio lun-add --lun 3 --backstore user_1/ram0
rc=0
wait $EV_PID || rc=$?
cat "$EV_OUT" "$EV_ERR"
check "an event arrived (exit $rc)" test "$rc" -eq 0
# VIRTIO_SCSI_T_TRANSPORT_RESET (1), VIRTIO_SCSI_EVT_RESET_RESCAN (1)
check "TRANSPORT_RESET / rescan for LUN 3" grep -q '{"event": 1, "lun": 3, "reason": "rescan", "missed": false}' "$EV_OUT"

out=$(vio report-luns --json)
luns=$(sed -n 's/.*"luns": \[\([^]]*\)\].*/\1/p' <<<"$out" | tr -d ' ' | tr , '\n' | sort -n | paste -sd,)
check "REPORT LUNS: 0,3 (got $luns)" test "$luns" = 0,3
out=$(vio inquiry --lun 3 --json)
check "LUN 3 is the user:ram backstore" test "$(json_get "$out" serial)" = "$SERIAL_RAM"
rc=0
out=$(vio run --lun 3 --rw verify --qd 16 --queues 2 --size $((4 * MB)) --seed 7 --json) || rc=$?
check "the hot-added LUN serves I/O (verify exit $rc, $(json_phase "$out" total miscompares) miscompares)" test "$rc" -eq 0

say "unlink LUN 3 while attached"
check "initiator attached, waiting for events" events_start
check "lun-remove LUN 3" vio lun-remove --lun 3
rc=0
wait $EV_PID || rc=$?
cat "$EV_OUT" "$EV_ERR"
check "an event arrived (exit $rc)" test "$rc" -eq 0
check "TRANSPORT_RESET / removed for LUN 3" grep -q '{"event": 1, "lun": 3, "reason": "removed", "missed": false}' "$EV_OUT"
check "configfs: lun_3 gone" test ! -e "$VHOST_TPG/lun/lun_3"

say "no event without a change"
rc=0
vio events --count 1 --timeout 2000 --json >"$EV_OUT" 2>"$EV_ERR" || rc=$?
check "events times out with exit 1 (got $rc)" test "$rc" -eq 1
check "... and reports 0 events" grep -q '"count": 0, "timed_out": true' "$EV_OUT"

say "target-remove"
check "target-remove" vio target-remove
check "configfs: WWN gone" test ! -e "$CFS/vhost/$VHOST_WWPN"
check "user_1/ram0 removed" user_backstore_remove 1 ram0
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
check "runner still running" kill -0 "$RUNNER_PID"
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
finish
