#!/bin/bash
# org.kernel.TCMUService1 as targetcli-fb uses it, served by vhostio-runner
# as installed (cmake --install) on a system bus with vhostio's policy:
# GetManagedObjects lists the handlers with ConfigDesc, the introspection
# data has the exact signatures, CheckConfig passes the handler's verdict,
# ChangeMedium resizes and re-points a user:file backstore made through
# configfs, non-root callers get AccessDenied (from the bus policy, and from
# the runner itself behind a permissive policy), and a second runner
# refuses to start while the name is owned.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-dbus.sh"
PY=/usr/bin/python3
ACCESS_DENIED=org.freedesktop.DBus.Error.AccessDenied

check "vhostio installed into the guest" vhostio_install_into_guest || finish
check "system bus with vhostio's policy" dbus_system_start || finish
check "the installed runner owns $TCMU_NAME" installed_runner_start --log-level debug || finish

say "GetManagedObjects (what targetcli lists as /backstores/user:*)"
objs=$(tcmu_call "" org.freedesktop.DBus.ObjectManager.GetManagedObjects)
echo "$objs" | cut -c1-300
for h in ram file; do
	check "user:$h listed with its ConfigDesc" \
		grep -q "'$TCMU_ROOT/$h': {'org.kernel.TCMUService1': {'ConfigDesc': <" <<<"$objs"
done
check "ram's ConfigDesc is the handler's" grep -q "RAM-backed, thin-provisioned LUN" <<<"$objs"
if grep -q HandlerManager1 <<<"$objs"; then fail "HandlerManager1 listed (targetcli would show user:HandlerManager1)"; else pass "HandlerManager1 not a managed object"; fi

say "the same through the Gio proxies targetcli uses, and the introspection data"
sigs=$($PY - <<'PYEOF' 2>&1
from gi.repository import Gio, GLib
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
mgr = Gio.DBusProxy.new_sync(bus, Gio.DBusProxyFlags.NONE, None, 'org.kernel.TCMUService1',
                             '/org/kernel/TCMUService1', 'org.freedesktop.DBus.ObjectManager', None)
for path, props in sorted(mgr.GetManagedObjects().items()):
    print('object', path[path.rfind('/') + 1:], 'ConfigDesc' in props.get('org.kernel.TCMUService1', {}))
for path, iname in (('/org/kernel/TCMUService1/ram', 'org.kernel.TCMUService1'),
                    ('/org/kernel/TCMUService1/HandlerManager1', 'org.kernel.TCMUService1.HandlerManager1')):
    xml = bus.call_sync('org.kernel.TCMUService1', path, 'org.freedesktop.DBus.Introspectable', 'Introspect',
                        None, GLib.VariantType('(s)'), 0, -1, None).unpack()[0]
    iface = Gio.DBusNodeInfo.new_for_xml(xml).lookup_interface(iname)
    for m in iface.methods:
        print('method', m.name, '(%s)->(%s)' % (''.join(a.signature for a in m.in_args),
                                            ''.join(a.signature for a in m.out_args)))
    for p in iface.properties:
        print('property', p.name, p.signature, 'readonly' if p.flags == Gio.DBusPropertyInfoFlags.READABLE else p.flags)
PYEOF
)
echo "$sigs" | sed 's/^/   /'
check "proxies list ram and file with ConfigDesc" test "$(grep -c '^object .* True$' <<<"$sigs")" -eq 2
check "CheckConfig (s)->(bs)" grep -qx "method CheckConfig (s)->(bs)" <<<"$sigs"
check "ChangeMedium (sts)->(is)" grep -qx "method ChangeMedium (sts)->(is)" <<<"$sigs"
check "ConfigDesc: read-only s" grep -qx "property ConfigDesc s readonly" <<<"$sigs"
check "RegisterHandler (ss)->(bs)" grep -qx "method RegisterHandler (ss)->(bs)" <<<"$sigs"

say "CheckConfig: the handler's verdict and reason"
mkdir -p "$LUN_DIR"
out=$(tcmu_call ram org.kernel.TCMUService1.CheckConfig "ram/lun0;chunk=64k")
echo "   ram/lun0;chunk=64k -> $out"
check "good ram config accepted" test "$out" = "(true, '')"
out=$(tcmu_call file org.kernel.TCMUService1.CheckConfig "file/$LUN_DIR/new.img;create")
check "good file config accepted ($out)" test "$out" = "(true, '')"
out=$(tcmu_call file org.kernel.TCMUService1.CheckConfig "file/relative.img")
echo "   file/relative.img -> $out"
check "relative path refused with the handler's reason" grep -q "^(false, .*is not absolute" <<<"$out"
out=$(tcmu_call file org.kernel.TCMUService1.CheckConfig "file/$LUN_DIR/missing.img")
echo "   file/$LUN_DIR/missing.img -> $out"
check "missing file refused: add ';create'" grep -q "^(false, .*add ';create'" <<<"$out"
out=$(tcmu_call ram org.kernel.TCMUService1.CheckConfig "ram/x;chunk=3k")
check "bad ram option refused ($out)" grep -q "^(false, ['\"].\+['\"])" <<<"$out"
out=$(tcmu_call ram org.kernel.TCMUService1.CheckConfig "file/$LUN_DIR/new.img;create")
check "another subtype's config refused on ram ($out)" grep -q "^(false, .*does not start with 'ram/'" <<<"$out"

say "ChangeMedium on a user:file backstore created through configfs"
CFG0="file/$LUN_DIR/f0.img;create"
check "user_1/f0 ($CFG0, 64 MiB) enabled" user_backstore_create 1 f0 "$CFG0" $((64 * MB))
check "LUN 0 -> f0" loop_lun_add 0 1 f0
SG=$(scsi_dev_for_lun 0 scsi_generic) || { fail "no sg device"; finish; }
sg_turs "$SG" >/dev/null 2>&1
out=$(tcmu_call file org.kernel.TCMUService1.ChangeMedium f0 $((128 * MB)) "")
echo "   ChangeMedium(f0, 128 MiB, '') -> $out"
check "size change: rc 0" test "$out" = "(0, '')"
check "configfs dev_size is 128 MiB" test "$(cat $CFS/core/user_1/f0/attrib/dev_size)" = $((128 * MB))
sg_turs "$SG" >/dev/null 2>&1 # the CAPACITY DATA HAS CHANGED unit attention
check "READ CAPACITY reports 128 MiB" grep -q "Device size: $((128 * MB)) bytes" <<<"$(sg_readcap -l "$SG")"
CFG1="file/$LUN_DIR/f1.img;create"
out=$(tcmu_call file org.kernel.TCMUService1.ChangeMedium f0 $((160 * MB)) "$CFG1")
echo "   ChangeMedium(f0, 160 MiB, $CFG1) -> $out"
check "size and config change: rc 0" test "$out" = "(0, '')"
check "configfs dev_config is the new one" test "$(cat $CFS/core/user_1/f0/attrib/dev_config)" = "$CFG1"
check "configfs dev_size is 160 MiB" test "$(cat $CFS/core/user_1/f0/attrib/dev_size)" = $((160 * MB))
check "the handler opened the new file" test -f "$LUN_DIR/f1.img"
sg_turs "$SG" >/dev/null 2>&1
sg_turs "$SG" >/dev/null 2>&1
check "READ CAPACITY reports 160 MiB" grep -q "Device size: $((160 * MB)) bytes" <<<"$(sg_readcap -l "$SG")"
out=$(tcmu_call file org.kernel.TCMUService1.ChangeMedium f0 0 "file/relative.img")
echo "   bad config -> $out"
check "bad config: negative rc and the handler's reason" grep -q "^(-[0-9]*, .*is not absolute" <<<"$out"
check "... and the config is unchanged" test "$(cat $CFS/core/user_1/f0/attrib/dev_config)" = "$CFG1"
out=$(tcmu_call file org.kernel.TCMUService1.ChangeMedium nosuch $MB "")
echo "   unknown backstore -> $out"
check "unknown backstore: negative rc, named" grep -q "^(-[0-9]*, .*nosuch" <<<"$out"

say "access: anyone may look, only root may call"
out=$(as_nobody gdbus call --system --dest $TCMU_NAME --object-path $TCMU_ROOT \
	--method org.freedesktop.DBus.ObjectManager.GetManagedObjects 2>&1)
check "nobody may list handlers" grep -q "'$TCMU_ROOT/ram'" <<<"$out"
out=$(as_nobody gdbus call --system --dest $TCMU_NAME --object-path $TCMU_ROOT/ram \
	--method org.freedesktop.DBus.Properties.Get org.kernel.TCMUService1 ConfigDesc 2>&1)
check "nobody may read ConfigDesc" grep -q "RAM-backed" <<<"$out"
nobody_calls() {
	as_nobody gdbus call --system --dest $TCMU_NAME --object-path $TCMU_ROOT/file \
		--method org.kernel.TCMUService1.CheckConfig "file/etc/shadow" 2>&1
	as_nobody gdbus call --system --dest $TCMU_NAME --object-path $TCMU_ROOT/file \
		--method org.kernel.TCMUService1.ChangeMedium f0 $((32 * MB)) "" 2>&1
	as_nobody gdbus call --system --dest $TCMU_NAME --object-path $TCMU_ROOT/HandlerManager1 \
		--method org.kernel.TCMUService1.HandlerManager1.RegisterHandler evil "x" 2>&1
}
out=$(nobody_calls)
echo "$out" | sed 's/^/   /'
check "CheckConfig, ChangeMedium, RegisterHandler: 3 x AccessDenied" test "$(grep -c "$ACCESS_DENIED" <<<"$out")" -eq 3
check "the bus said so (the runner never saw them)" not runner_log_has "from uid 65534 refused"
check "size unchanged" test "$(cat $CFS/core/user_1/f0/attrib/dev_size)" = $((160 * MB))

say "behind a permissive policy (like tcmu-runner's), the runner refuses by itself"
cat >/etc/dbus-1/system.d/zz-permissive-test.conf <<'XML'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><policy context="default"><allow send_destination="org.kernel.TCMUService1"/></policy></busconfig>
XML
gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
	--method org.freedesktop.DBus.ReloadConfig >/dev/null
sleep 0.5
out=$(nobody_calls)
echo "$out" | sed 's/^/   /'
check "3 x AccessDenied from the runner" test "$(grep -c "$ACCESS_DENIED.*only root may call" <<<"$out")" -eq 3
check "the runner logged the refusals" runner_log_has "from uid 65534 refused"
check "size unchanged" test "$(cat $CFS/core/user_1/f0/attrib/dev_size)" = $((160 * MB))
rm -f /etc/dbus-1/system.d/zz-permissive-test.conf
gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
	--method org.freedesktop.DBus.ReloadConfig >/dev/null

say "a second runner while the name is owned"
rc=0
"$VHOSTIO_INSTALL_RUNNER" --log-level debug >/tmp/second.log 2>&1 || rc=$?
sed 's/^/   second: /' /tmp/second.log | tail -3
check "exits 1" test "$rc" -eq 1
check "says another process owns the name" grep -q "owned by another process" /tmp/second.log
check "... before touching devices" not grep -q "f0" /tmp/second.log
check "the first still owns it" test "$(dbus_name_owner_pid)" = "$RUNNER_PID"
SD=$(scsi_dev_for_lun 0 block) || fail "no block device"
check "LUN still serves I/O" dd if=/dev/urandom of="$SD" bs=1M count=4 oflag=direct status=none

teardown_and_finish 1 f0 0
