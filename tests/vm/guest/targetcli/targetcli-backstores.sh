#!/bin/bash
# targetcli sees vhostio's handlers through org.kernel.TCMUService1, the
# runner being started by D-Bus activation: ls lists user:ram and user:file,
# help create prints each handler's ConfigDesc, create with a bad cfgstring
# is refused with the handler's own reason (nothing reaches configfs),
# create/delete of good ones, and non-root callers may look but not act.
set -u
. "$(dirname "$0")/../lib/lib-targetcli.sh"

check "vhostio installed, system bus restarted" tcli_bus_setup || finish
check "no runner before targetcli runs" test -z "$(runner_pids)"

say "ls /backstores"
check "targetcli ls /backstores" tcli ls /backstores
check "the runner was started by the bus" runner_by_bus
check "user:ram listed" out_has "o- user:ram "
check "user:file listed" out_has "o- user:file "
check "no other user:* handler (tcmu-runner is not answering)" \
	test "$(grep -c 'o- user:' <<<"$OUT")" -eq 2

# config_desc SUBTYPE: the ConfigDesc property as the service gives it.
config_desc() {
	python3 - "$1" <<'EOF'
import sys
from gi.repository import Gio, GLib
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
r = bus.call_sync("org.kernel.TCMUService1", "/org/kernel/TCMUService1/" + sys.argv[1],
                  "org.freedesktop.DBus.Properties", "Get",
                  GLib.Variant("(ss)", ("org.kernel.TCMUService1", "ConfigDesc")),
                  None, Gio.DBusCallFlags.NONE, -1, None)
print(r.unpack()[0])
EOF
}
# help_desc: what help create printed after "CFGSTRING FORMAT" and its rule,
# without the trailing blank line.
help_desc() { sed -n '/^CFGSTRING FORMAT$/,$p' <<<"$OUT" | tail -n +3 | sed '${/^$/d}'; }

declare -A SYNTAX=(
	[ram]='Config string: [label][;chunk=<size>][;limit=<size>]'
	[file]='Config string: <absolute path>[;direct=auto|on|off][;create][;queue_depth=N]'
)
for h in ram file; do
	say "help create in user:$h"
	check "help create" tcli "/backstores/user:$h" help create
	check "user:$h help has a CFGSTRING FORMAT section" out_has "^CFGSTRING FORMAT"
	check "user:$h help shows the handler's syntax" grep -qF -- "${SYNTAX[$h]}" <<<"$OUT"
	desc=$(config_desc "$h")
	check "user:$h help prints ConfigDesc exactly ($(wc -l <<<"$desc") lines)" \
		test "$(help_desc)" = "$desc"
done

say "bad cfgstrings are refused with the handler's reason"
mkdir -p "$LUN_DIR"
tcli_refused "ram: unknown option" \
	"cfgstring invalid: unknown ram option 'frobnicate' (known: chunk=<size>, limit=<size>)" \
	/backstores/user:ram create name=bad1 size=16M "cfgstring=bad1;frobnicate"
tcli_refused "ram: chunk not a power of two" \
	"cfgstring invalid: ram option 'chunk=3k': want a power of two from 4k to 1m" \
	/backstores/user:ram create name=bad2 size=16M "cfgstring=bad2;chunk=3k"
tcli_refused "file: relative path" \
	"cfgstring invalid: file path 'rel.img' is not absolute" \
	/backstores/user:file create name=bad3 size=16M cfgstring=rel.img
tcli_refused "file: missing file without ;create" \
	"cfgstring invalid: file '$LUN_DIR/none.img': No such file or directory (add ';create' to create it)" \
	/backstores/user:file create name=bad4 size=16M "cfgstring=$LUN_DIR/none.img"
tcli_refused "file: unknown option" \
	"cfgstring invalid: unknown file option 'bogus' (known: direct=auto|on|off, create, queue_depth=N)" \
	/backstores/user:file create name=bad5 size=16M "cfgstring=$LUN_DIR/x.img;create;bogus"
check "nothing reached configfs" test -z "$(ls -d "$CFS"/core/user_*/bad* 2>/dev/null)"
check "no file created by a refused create" test ! -e "$LUN_DIR/x.img"
check "the runner survived" kill -0 "$RUNNER_PID"

say "create and delete"
check "create user:ram r0 (ram/r0-label;chunk=4k)" bs_create ram r0 32M "r0-label;chunk=4k"
check "create user:file f0 (create)" bs_create file f0 48M
check "f0's file was created at 48 MiB" test "$(stat -c %s "$LUN_DIR/f0.img")" = $((48 * MB))
check "ls /backstores/user:ram" tcli ls /backstores/user:ram
check "r0 listed with its config and size" out_has "o- r0 .*\[r0-label;chunk=4k (32.0MiB) deactivated\]"
check "ls /backstores/user:file" tcli ls /backstores/user:file
check "f0 listed with its config and size" out_has "o- f0 .*\[$LUN_DIR/f0.img;create (48.0MiB) deactivated\]"
check "two uio devices" test "$(ls /sys/class/uio | wc -l)" -eq 2
check "delete r0" tcli /backstores/user:ram delete r0
check "delete f0" tcli /backstores/user:file delete f0
check "configfs has no user backstore" test -z "$(ls -d "$CFS"/core/user_*/*0 2>/dev/null)"
check "no uio device left" test -z "$(ls /sys/class/uio/)"
check "f0's file is kept" test -f "$LUN_DIR/f0.img"
check "same runner still serving" runner_by_bus

say "non-root callers (uid 65534)"
check "create user:file f1 for the non-root tests" bs_create file f1 16M
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$@" 2>&1; }
GD=(gdbus call --system --dest org.kernel.TCMUService1)
out=$(nobody gdbus call --system --dest org.kernel.TCMUService1 --object-path /org/kernel/TCMUService1 \
	--method org.freedesktop.DBus.ObjectManager.GetManagedObjects)
check "non-root may list the handlers (GetManagedObjects)" grep -q "/org/kernel/TCMUService1/file" <<<"$out"
out=$(nobody gdbus call --system --dest org.kernel.TCMUService1 --object-path /org/kernel/TCMUService1/ram \
	--method org.freedesktop.DBus.Properties.Get org.kernel.TCMUService1 ConfigDesc)
check "non-root may read ConfigDesc" grep -q "RAM-backed" <<<"$out"
denied() { # denied WHAT OUTPUT
	echo "  | $2"
	check "non-root $1: AccessDenied" grep -q "org.freedesktop.DBus.Error.AccessDenied" <<<"$2"
}
denied CheckConfig "$(nobody "${GD[@]}" --object-path /org/kernel/TCMUService1/ram \
	--method org.kernel.TCMUService1.CheckConfig "'ram/x'")"
denied ChangeMedium "$(nobody "${GD[@]}" --object-path /org/kernel/TCMUService1/file \
	--method org.kernel.TCMUService1.ChangeMedium "'f1'" 16777216 "'file/$LUN_DIR/f1.img'")"
denied RegisterHandler "$(nobody "${GD[@]}" --object-path /org/kernel/TCMUService1/HandlerManager1 \
	--method org.kernel.TCMUService1.HandlerManager1.RegisterHandler "'evil'" "'evil handler'")"
out=$("${GD[@]}" --object-path /org/kernel/TCMUService1/ram --method org.kernel.TCMUService1.CheckConfig "'ram/x'" 2>&1)
check "root may call CheckConfig (got $out)" test "$out" = "(true, '')"
# targetcli itself as non-root (its lock file made writable for it).
chmod 666 /var/run/targetcli.lock
out=$(nobody targetcli ls /backstores)
echo "$out" | sed 's/^/  | /'
check "non-root targetcli ls lists user:file" grep -q "o- user:file " <<<"$out"
out=$(nobody targetcli /backstores/user:file changemedium f1 16M "$LUN_DIR/f1.img")
echo "$out" | sed 's/^/  | /'
check "non-root targetcli changemedium: AccessDenied" grep -q "ChangeMedium failed:.*AccessDenied" <<<"$out"
out=$(nobody targetcli /backstores/user:ram create name=n0 size=16M cfgstring=n0)
echo "$out" | sed 's/^/  | /'
check "non-root targetcli create: CheckConfig AccessDenied" grep -q "AccessDenied.*member=\"CheckConfig\"" <<<"$out"
check "non-root targetcli create reached no configfs" test -z "$(ls -d "$CFS"/core/user_*/n0 2>/dev/null)"
check "delete f1" tcli /backstores/user:file delete f1
check "same runner still serving" runner_by_bus
finish
