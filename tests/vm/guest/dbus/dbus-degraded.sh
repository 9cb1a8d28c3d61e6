#!/bin/bash
# Without its D-Bus policy, without a bus, or with --no-dbus, the runner
# still serves devices (it logs why targetcli will not see them): what a
# machine without vhostio's policy installed (like CI's guests running the
# build tree) gets.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-dbus.sh"

serves() { # serves NAME: a ram backstore can be enabled and removed
	user_backstore_create 1 "$1" "ram/$1" $((16 * MB)) && runner_log_has "1/$1: serving" &&
		user_backstore_remove 1 "$1"
}

say "a system bus whose policy does not let root own $TCMU_NAME"
rm -f /etc/dbus-1/system.d/tcmu-runner.conf
VHOSTIO_INSTALL_DBUS_SERVICEDIR=/nonexistent VHOSTIO_INSTALL_DBUS_POLICYDIR=/nonexistent
check "bus started" dbus_system_start || finish
check "runner started" runner_start || finish
check "logged that it may not own the name" wait_for_log "may not own $TCMU_NAME" 5
check "devices are served" serves r0
check "the name has no owner" test -z "$(dbus_name_owner_pid)"
rc=0
runner_stop || rc=$?
check "exit status 0 (got $rc)" test "$rc" -eq 0

say "no bus at all"
dbus_system_stop
check "runner started" runner_start || finish
check "logged that there is no bus" wait_for_log "D-Bus: no bus" 5
check "devices are served" serves r1
rc=0
runner_stop || rc=$?
check "exit status 0 (got $rc)" test "$rc" -eq 0

say "--no-dbus"
check "runner started" runner_start --no-dbus || finish
check "says so" runner_log_has "ready, 0 device(s), without D-Bus"
check "no D-Bus message" test "$(grep -c "D-Bus" "$RUNNER_LOG")" -eq 1
check "devices are served" serves r2
rc=0
runner_stop || rc=$?
check "exit status 0 (got $rc)" test "$rc" -eq 0
finish
