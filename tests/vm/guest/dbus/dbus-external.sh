#!/bin/bash
# HandlerManager1.RegisterHandler: a handler in another process (a python
# fake, dbus-fake-handler.py) registers a subtype; the runner lists it,
# forwards CheckConfig to it, acknowledges its devices to the kernel
# without attaching them, refuses subtypes that are taken, and drops the
# object when the registering process goes away.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-dbus.sh"
FAKE=$(dirname "$0")/dbus-fake-handler.py
FAKE_LOG=/tmp/fake.log
objects() { tcmu_call "" org.freedesktop.DBus.ObjectManager.GetManagedObjects; }
register() { tcmu_call HandlerManager1 org.kernel.TCMUService1.HandlerManager1.RegisterHandler "$@"; }
fake_start() {
	: >"$FAKE_LOG"
	"$FAKE" fake >>"$FAKE_LOG" 2>&1 &
	FAKE_PID=$!
	wait_tries 20 grep -q "RegisterHandler ->\|failed\|cannot" "$FAKE_LOG"
	cat "$FAKE_LOG" | sed 's/^/   /'
	grep -q "RegisterHandler -> (True, '')" "$FAKE_LOG"
}
listed() { objects | grep -q "'$TCMU_ROOT/$1'"; }

check "vhostio installed into the guest" vhostio_install_into_guest || finish
check "system bus with vhostio's policy" dbus_system_start || finish
check "the installed runner owns $TCMU_NAME" installed_runner_start --log-level debug || finish

say "a fake external handler registers subtype 'fake'"
check "RegisterHandler -> (true, '')" fake_start
check "user:fake listed with its ConfigDesc" grep -q "'$TCMU_ROOT/fake': {'org.kernel.TCMUService1': {'ConfigDesc': <'fake external handler" <<<"$(objects)"
check "ram and file still listed" listed ram
check "... file" listed file

say "CheckConfig on user:fake is the fake's answer"
out=$(tcmu_call fake org.kernel.TCMUService1.CheckConfig fake/good)
check "fake/good -> $out" test "$out" = "(true, '')"
out=$(tcmu_call fake org.kernel.TCMUService1.CheckConfig fake/bad)
check "fake/bad -> $out" test "$out" = "(false, 'fake handler refuses fake/bad')"
check "the fake received both" test "$(grep -c 'fake: CheckConfig' "$FAKE_LOG")" -eq 2

say "taken subtypes are refused"
out=$(register ram "x")
echo "   RegisterHandler(ram) -> $out"
check "a local handler's subtype" grep -q "^(false, .*served by vhostio-runner" <<<"$out"
out=$(register fake "x")
echo "   RegisterHandler(fake) -> $out"
check "a subtype registered already" grep -q "^(false, .*registered by another process" <<<"$out"
out=$(register "bad-name" "x")
check "a subtype that cannot be an object path element ($out)" grep -q "^(false, " <<<"$out"

say "a user:fake backstore is acknowledged, not attached, by the runner"
check "user_1/ext0 (fake/good) enabled" user_backstore_create 1 ext0 fake/good $((16 * MB))
check "the runner did not open it" not runner_log_has "1/ext0: serving"
check "ext0 removed" user_backstore_remove 1 ext0

say "the fake exits: its object goes"
kill -TERM "$FAKE_PID"
wait "$FAKE_PID"
check "user:fake no longer listed" wait_tries 5 not listed fake
check "the runner logged it" runner_log_has "registered handler 'fake', is gone"
out=$(tcmu_call fake org.kernel.TCMUService1.CheckConfig fake/good)
check "CheckConfig on the old object: an error ($out)" grep -q "Error" <<<"$out"
check "the subtype is free again" fake_start
kill -TERM "$FAKE_PID"
wait "$FAKE_PID"
check "... and goes again" wait_tries 5 not listed fake

say "a registration from a connection that closes at once (gdbus call) does not linger"
out=$(register quick "desc")
echo "   RegisterHandler(quick) from gdbus -> $out"
check "accepted" test "$out" = "(true, '')"
check "user:quick dropped with the connection" wait_tries 5 not listed quick

check "runner still running" kill -0 "$RUNNER_PID"
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
finish
