#!/usr/bin/python3
# A handler living in its own process, as HandlerManager1 expects one:
# owns org.kernel.TCMUService1.HandlerManager1.<subtype>, answers
# CheckConfig at /org/kernel/TCMUService1/HandlerManager1/<subtype> (it
# accepts "<subtype>/good" only), then calls RegisterHandler.  Prints
# what happens; runs until SIGTERM.  Usage: dbus-fake-handler.py SUBTYPE
import os
import signal
import sys

from gi.repository import Gio, GLib

subtype = sys.argv[1]
bus_type = Gio.BusType.SESSION if os.environ.get('FAKE_BUS') == 'session' else Gio.BusType.SYSTEM
XML = '''<node><interface name="org.kernel.TCMUService1">
  <method name="CheckConfig"><arg type="s" direction="in"/>
    <arg type="b" direction="out"/><arg type="s" direction="out"/></method>
</interface></node>'''

loop = GLib.MainLoop()
bus = Gio.bus_get_sync(bus_type, None)


def on_call(conn, sender, path, iface, method, params, inv):
    cfg = params.unpack()[0]
    print('fake: CheckConfig(%s) from %s' % (cfg, sender), flush=True)
    if cfg == subtype + '/good':
        inv.return_value(GLib.Variant('(bs)', (True, '')))
    else:
        inv.return_value(GLib.Variant('(bs)', (False, 'fake handler refuses ' + cfg)))


bus.register_object('/org/kernel/TCMUService1/HandlerManager1/' + subtype,
                    Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0], on_call, None, None)


def on_acquired(conn, name):
    print('fake: owns', name, flush=True)
    try:
        res = conn.call_sync('org.kernel.TCMUService1', '/org/kernel/TCMUService1/HandlerManager1',
                             'org.kernel.TCMUService1.HandlerManager1', 'RegisterHandler',
                             GLib.Variant('(ss)', (subtype, 'fake external handler: %s/good only' % subtype)),
                             GLib.VariantType('(bs)'), Gio.DBusCallFlags.NONE, -1, None)
    except GLib.Error as e:
        print('fake: RegisterHandler failed:', e.message, flush=True)
        loop.quit()
        return
    print('fake: RegisterHandler ->', res.unpack(), flush=True)


def on_lost(conn, name):
    print('fake: cannot own', name, flush=True)
    loop.quit()


Gio.bus_own_name_on_connection(bus, 'org.kernel.TCMUService1.HandlerManager1.' + subtype,
                               Gio.BusNameOwnerFlags.NONE, on_acquired, on_lost)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
loop.run()
print('fake: exiting', flush=True)
