#!/bin/bash
# Deleting a backstore under load, through the vhost fabric: two targets,
# each driven by its own vhostio-io (a TPG serves one vhost device).
# While vhostio-io writes to the victim (user:ram, target A) and runs
# write-then-verify passes on the keeper (user:file, target B), the
# victim's LUN is unlinked and its backstore removed.  Every step is
# bounded; nothing hangs; the runner lets the device go (log,
# /sys/class/uio, its fds and mappings); the keeper's workload ends with
# 0 errors and 0 miscompares.  No LUN reset is sent anywhere: 6.1 oopses
# when a LUN is unlinked from a TPG that handled one (doc/vhost-path.md).
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
SIZE=$((32 * MB))
WWPN_B=naa.5001405000000b03
NEXUS_B=naa.5001405000000b04
TPG_B=$CFS/vhost/$WWPN_B/tpgt_1
# Commands the runner took from each device's ring (its debug log has a line for each).
served() { echo $(($(grep -c "1/$1: cmd_id" "$RUNNER_LOG"))); }
busy() { (($(served victim0) >= 256 && $(served keeper0) >= 256)); }
target_b_create() {
	mkdir -p "$TPG_B/lun/lun_0" || return 1
	echo -n "$NEXUS_B" >"$TPG_B/nexus" || return 1
	ln -s "$CFS/core/user_1/keeper0" "$TPG_B/lun/lun_0/keeper0"
}
target_b_remove() {
	find "$TPG_B/lun/lun_0" -maxdepth 1 -type l -delete && rmdir "$TPG_B/lun/lun_0" || return 1
	echo -n NULL >"$TPG_B/nexus" && rmdir "$TPG_B" && rmdir "$CFS/vhost/$WWPN_B"
}

modprobe vhost_scsi || { fail "modprobe vhost_scsi"; finish; }
[ -x "$VIO" ] || { fail "no $VIO"; finish; }
runner_start --no-dbus || { fail "runner start"; finish; }
check "user_1/victim0 (ram) enabled" user_backstore_create 1 victim0 "$(backstore_config ram victim0)" $SIZE
check "user_1/keeper0 (file) enabled" user_backstore_create 1 keeper0 "$(backstore_config file keeper0)" $SIZE
check "target A $VHOST_WWPN with a nexus" vhost_target_create
check "A: LUN 0 -> user_1/victim0" vhost_lun_add 0 user_1/victim0
check "target B $WWPN_B: LUN 0 -> user_1/keeper0" target_b_create
VICTIM_MINOR=$(uio_minor_of 1 victim0) || { fail "no uio device for victim0"; finish; }
check "the runner holds 2 uio fds" test "$(uio_fds)" = 2

say "vhostio-io on both targets"
"$VIO" --wwpn $VHOST_WWPN run --lun 0 --rw randwrite --bs 4k --qd 16 --queues 2 --size $((8 * MB)) \
	--runtime 60 --hang-timeout 30000 --json >/tmp/vio-victim.json 2>/tmp/vio-victim.err &
vio_victim=$!
# The keeper must outlast the removal, which under TCG on a loaded host
# takes well over 15 s.
"$VIO" --wwpn $WWPN_B run --lun 0 --rw verify --bs 4k --qd 8 --queues 2 --size $((4 * MB)) \
	--runtime 40 --seed 77 --hang-timeout 30000 --json >/tmp/vio-keeper.json 2>/tmp/vio-keeper.err &
vio_keep=$!
check "256 commands served on each LUN" wait_for 60 busy
check "both initiators running" kill -0 $vio_victim $vio_keep
echo "   the runner served victim0 $(served victim0), keeper0 $(served keeper0) commands so far"

say "unlink the victim's LUN and remove its backstore under load"
remove_bounded "A: LUN 0" 1 victim0 vhost_lun_remove 0
# With its LUN gone every command fails: stop it.
kill -TERM $vio_victim 2>/dev/null
rc=0
wait_pid 30 $vio_victim || rc=$?
check "the victim's initiator stopped, without a hang (exit $rc)" test "$rc" -ne 124 -a "$rc" -ne 3
out=$(cat /tmp/vio-victim.json)
echo "   victim: $(json_phase "$out" total ok) GOOD, then $(json_phase "$out" total errors) errors once its LUN was gone:"
# A LUN 0 that is no longer there is LIO's virtual LUN 0: writes get DATA PROTECT, WRITE PROTECTED.
sed 's/^/   /' /tmp/vio-victim.err | head -3
check "keeper's initiator still running" kill -0 $vio_keep

say "the runner let the victim go"
check_released 1 victim0 "$VICTIM_MINOR" 1

say "the keeper was served throughout"
rc=0
wait_pid 90 $vio_keep || rc=$?
out=$(cat /tmp/vio-keeper.json)
echo "$out"
[ "$rc" -eq 0 ] || sed 's/^/   /' /tmp/vio-keeper.err | head -10
check "keeper: exit 0 (got $rc)" test "$rc" -eq 0
check "keeper: 0 miscompares" test "$(json_phase "$out" total miscompares)" = 0
check "keeper: 0 errors" test "$(json_phase "$out" total errors)" = 0
check "keeper: blocks verified ($(json_phase "$out" read ok))" test "$(json_phase "$out" read ok)" -gt 0
# The last pass's generation is its number: read its pattern back.
rc=0
out=$("$VIO" --wwpn $WWPN_B run --lun 0 --rw read --check --bs 4k --size $((4 * MB)) --seed 77 \
	--generation "$(json_get "$(cat /tmp/vio-keeper.json)" passes)" --json) || rc=$?
check "keeper: its last pass reads back (exit $rc, $(json_phase "$out" total miscompares) miscompares)" \
	test "$rc-$(json_phase "$out" total miscompares)" = 0-0

check "no kernel warnings" no_kernel_warnings
check "runner still running" kill -0 "$RUNNER_PID"
check "target A removed" vhost_target_remove
check "target B removed" target_b_remove
check "user_1/keeper0 removed" user_backstore_remove 1 keeper0
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
finish
