#!/bin/bash
# D-Bus activation and the settings file: with no runner running, a call
# to org.kernel.TCMUService1 makes dbus-daemon start the installed
# vhostio-runner (from the installed activation file), which answers once
# its handlers are loaded.  SIGHUP re-reads the installed settings file: a
# new log level applies, a new handler directory's handlers are loaded and
# appear on D-Bus, a bad file keeps the settings.  A handler open that
# takes 8 s stalls neither D-Bus replies nor other devices.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-dbus.sh"
TEST_HANDLERS=$VHOSTIO_BUILD/tests/vm/handlers
objects() { tcmu_call "" org.freedesktop.DBus.ObjectManager.GetManagedObjects; }
listed() { objects | grep -q "'$TCMU_ROOT/$1'"; }
# The activated runner's stderr is dbus-daemon's.
RUNNER_LOG=$DBUS_LOG
now() { date +%s.%N; }
secs_since() { awk "BEGIN {printf \"%.2f\", $(now) - $1}"; }

check "vhostio installed into the guest" vhostio_install_into_guest || finish
check "system bus with vhostio's policy" dbus_system_start || finish
check "activation file installed" grep -qx "Exec=$VHOSTIO_INSTALL_RUNNER" \
	"$VHOSTIO_INSTALL_DBUS_SERVICEDIR/$TCMU_NAME.service"
check "settings file installed" test -f "$VHOSTIO_INSTALL_CONFIG"
check "no runner running" not pgrep -x vhostio-runner

say "a call with no runner: dbus-daemon starts it"
t0=$(now)
objs=$(objects)
echo "   GetManagedObjects answered after $(secs_since "$t0")s"
check "the answer lists ram and file" grep -q "'$TCMU_ROOT/ram'.*'$TCMU_ROOT/file'\|'$TCMU_ROOT/file'.*'$TCMU_ROOT/ram'" <<<"$objs"
RUNNER_PID=$(dbus_name_owner_pid)
check "the name's owner is the installed runner (pid ${RUNNER_PID:-none})" \
	test "$(readlink "/proc/${RUNNER_PID:-0}/exe")" = "$VHOSTIO_INSTALL_RUNNER"
check "dbus-daemon says it activated it" grep -q "Successfully activated service '$TCMU_NAME'" "$DBUS_LOG"
grep -E "Activat|vhostio" "$DBUS_LOG" | head -8 | sed 's/^/   log: /'
check "it runs at the default log level (no DEBUG lines)" not grep -q " DEBUG " "$DBUS_LOG"

say "SIGHUP: new log level and handler directory from $VHOSTIO_INSTALL_CONFIG"
cat >"$VHOSTIO_INSTALL_CONFIG" <<CONF
[runner]
log-level = debug
handler-dir = $TEST_HANDLERS
CONF
kill -HUP "$RUNNER_PID"
check "logged the new level" wait_tries 10 grep -q "SIGHUP: log level info -> debug" "$DBUS_LOG"
check "logged the new handler directory" grep -q "SIGHUP: handler directory $VHOSTIO_INSTALL_HANDLER_DIR -> $TEST_HANDLERS" "$DBUS_LOG"
check "loaded the delay handler from it" wait_tries 10 grep -q "SIGHUP: 1 new handler(s) from $TEST_HANDLERS" "$DBUS_LOG"
check "user:delay appears on D-Bus" listed delay
check "ram and file stay" listed ram
check "... file" listed file
check "same runner" test "$(dbus_name_owner_pid)" = "$RUNNER_PID"

say "a slow open (delay/8) stalls neither D-Bus nor other devices"
check "user_1/fast0 (ram) enabled" user_backstore_create 1 fast0 ram/fast0 $((16 * MB))
check "the new level applies: device setup logged at DEBUG" grep -q " DEBUG " "$DBUS_LOG"
(user_backstore_create 1 slow0 delay/8 $((16 * MB)) && echo ok >/tmp/slow0.done || echo failed >/tmp/slow0.done) &
slow_pid=$!
sleep 1
check "the slow open is in progress" test ! -e /tmp/slow0.done
t0=$(now)
out=$(tcmu_call ram org.kernel.TCMUService1.CheckConfig ram/x)
e=$(secs_since "$t0")
check "CheckConfig answered ($out) in ${e}s < 3s" awk "BEGIN {exit !($e < 3)}"
t0=$(now)
out=$(tcmu_call ram org.kernel.TCMUService1.ChangeMedium fast0 $((32 * MB)) "")
e=$(secs_since "$t0")
check "ChangeMedium of another device done ($out) in ${e}s < 4s" awk "BEGIN {exit !($e < 4)}"
check "... its size changed" test "$(cat $CFS/core/user_1/fast0/attrib/dev_size)" = $((32 * MB))
check "still opening" test ! -e /tmp/slow0.done
wait "$slow_pid"
check "the slow backstore enabled in the end" grep -q ok /tmp/slow0.done
check "slow0 removed" user_backstore_remove 1 slow0
check "fast0 removed" user_backstore_remove 1 fast0

say "SIGHUP with a bad file keeps the settings"
printf '[runner]\nlog-level = loud\n' >"$VHOSTIO_INSTALL_CONFIG"
kill -HUP "$RUNNER_PID"
check "logged the error" wait_tries 10 grep -q "bad log-level 'loud'" "$DBUS_LOG"
check "kept the settings" wait_tries 5 grep -q "SIGHUP: keeping the current settings" "$DBUS_LOG"
check "runner still there" kill -0 "$RUNNER_PID"

say "SIGTERM: the runner exits and gives the name back"
kill -TERM "$RUNNER_PID"
check "exited" wait_tries 20 not kill -0 "$RUNNER_PID"
check "logged its stop" grep -q "INFO  stopped" "$DBUS_LOG"
check "the name is free" test -z "$(dbus_name_owner_pid)"
finish
