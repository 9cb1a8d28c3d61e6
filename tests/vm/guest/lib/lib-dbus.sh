# Guest helpers for tests that use vhostio as installed, with a system
# D-Bus: the org.kernel.TCMUService1 service, D-Bus activation, targetcli.
# Source lib-lio.sh first.  Functions:
#
#   vhostio_install_into_guest
#       `cmake --install "$VHOSTIO_BUILD"` into the guest's tmpfs overlay, at
#       the paths the build was configured for (default prefix /usr/local),
#       then ldconfig.  Removes tcmu-runner's D-Bus policy and activation
#       file if the host has that package: its policy lets anyone call the
#       service, its activation file would start tcmu-runner.  Sets the
#       VHOSTIO_INSTALL_* variables (RUNNER, HANDLER_DIR, CONFIG,
#       DBUS_POLICYDIR, DBUS_SERVICEDIR, ...) from the build's
#       dist/install-paths.sh.
#   dbus_system_start
#       Replaces the system bus guest-init started with one whose config is
#       /usr/share/dbus-1/system.conf without <user> (it runs as root),
#       <servicehelper> (no setuid helper: it execs activated services
#       itself), <syslog/> and <fork/>, plus the installed policy and
#       activation directories.  Call vhostio_install_into_guest first.
#       Listens on the standard /run/dbus/system_bus_socket, so
#       `gdbus --system`, python and targetcli find it.  Its output and that
#       of the services it activates (an activated vhostio-runner's log)
#       go to $DBUS_LOG.
#   dbus_system_stop
#   tcmu_call PATH METHOD [ARGS...]
#       gdbus call to org.kernel.TCMUService1 at PATH (relative to
#       /org/kernel/TCMUService1, "" for the manager); prints the reply or
#       the error; status is gdbus's.
#   as_nobody CMD...      run CMD as uid/gid 65534 without groups
#   installed_runner_start [ARGS...]
#       start $VHOSTIO_INSTALL_RUNNER (log: $RUNNER_LOG, pid: RUNNER_PID)
#       and wait until it has the bus name.
#   dbus_name_owner_pid   pid of the process owning org.kernel.TCMUService1

DBUS_LOG=${DBUS_LOG:-/tmp/dbus-daemon.log}
DBUS_CONF=/run/vhostio-dbus/system.conf
TCMU_NAME=org.kernel.TCMUService1
TCMU_ROOT=/org/kernel/TCMUService1

vhostio_install_into_guest() {
	local paths=$VHOSTIO_BUILD/dist/install-paths.sh
	[ -r "$paths" ] || {
		echo "lib-dbus: $paths missing (build too old?)"
		return 1
	}
	# shellcheck source=/dev/null
	. "$paths"
	cmake --install "$VHOSTIO_BUILD" >/tmp/vhostio-install.log 2>&1 || {
		cat /tmp/vhostio-install.log
		return 1
	}
	ldconfig
	rm -f /etc/dbus-1/system.d/tcmu-runner.conf
	local f
	for f in /usr/share/dbus-1/system-services/$TCMU_NAME.service \
		/usr/local/share/dbus-1/system-services/$TCMU_NAME.service; do
		[ "$f" = "$VHOSTIO_INSTALL_DBUS_SERVICEDIR/$TCMU_NAME.service" ] && continue
		grep -q tcmu-runner "$f" 2>/dev/null && rm -f "$f"
	done
	test -x "$VHOSTIO_INSTALL_RUNNER"
}

dbus_system_stop() {
	local pid
	pid=$(cat /run/dbus/pid 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	local i
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f /run/dbus/pid /run/dbus/system_bus_socket
}

dbus_system_start() {
	dbus_system_stop
	mkdir -p /run/dbus "${DBUS_CONF%/*}"
	# system.conf keeps one element per line, so line edits are enough.
	sed -e '/<user>/d' -e '/<servicehelper>/d' -e '/<syslog\/>/d' -e '/<fork\/>/d' \
		-e "s|</busconfig>|  <servicedir>$VHOSTIO_INSTALL_DBUS_SERVICEDIR</servicedir>\n  <includedir>$VHOSTIO_INSTALL_DBUS_POLICYDIR</includedir>\n</busconfig>|" \
		/usr/share/dbus-1/system.conf >"$DBUS_CONF" || return 1
	: >"$DBUS_LOG"
	dbus-daemon --config-file="$DBUS_CONF" --nofork --nopidfile >>"$DBUS_LOG" 2>&1 &
	DBUS_PID=$!
	echo "$DBUS_PID" >/run/dbus/pid
	local i
	for i in $(seq 1 100); do
		if [ -S /run/dbus/system_bus_socket ] &&
			gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
				--method org.freedesktop.DBus.GetId >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DBUS_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "lib-dbus: the system bus did not start:"
	cat "$DBUS_LOG"
	return 1
}

tcmu_call() {
	local path=$TCMU_ROOT${1:+/$1} method=$2
	shift 2
	gdbus call --system --dest "$TCMU_NAME" --object-path "$path" --method "$method" "$@" 2>&1
}

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

dbus_name_owner_pid() {
	gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
		--method org.freedesktop.DBus.GetConnectionUnixProcessID "$TCMU_NAME" 2>/dev/null |
		sed -n 's/^(uint32 \([0-9]*\),)$/\1/p'
}

installed_runner_start() {
	: >"$RUNNER_LOG"
	"$VHOSTIO_INSTALL_RUNNER" "$@" >>"$RUNNER_LOG" 2>&1 &
	RUNNER_PID=$!
	local i
	for i in $(seq 1 150); do
		grep -q "name $TCMU_NAME acquired" "$RUNNER_LOG" && return 0
		kill -0 "$RUNNER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "runner did not get the bus name:"
	cat "$RUNNER_LOG"
	return 1
}
