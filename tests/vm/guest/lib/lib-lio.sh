# Shell helpers for guest tests: assertions, the runner, LIO configfs.
# Sourced by scripts that run inside the VM (see ../../run-in-vm.sh).

CFS=/sys/kernel/config/target
RUNNER_LOG=${RUNNER_LOG:-/tmp/vhostio-runner.log}
failures=0

say() { echo "== $*"; }
pass() { echo "PASS: $*"; }
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: pass when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
	if [ "$failures" -ne 0 ]; then
		echo "---- runner log (last 80 lines) ----"
		tail -n 80 "$RUNNER_LOG" 2>/dev/null
		echo "$failures check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

# Start vhostio-runner from the build tree; wait until it serves.
runner_start() {
	: >"$RUNNER_LOG"
	"$VHOSTIO_BUILD/daemon/vhostio-runner" --handler-dir "$VHOSTIO_BUILD/handlers" \
		--log-level debug "$@" >>"$RUNNER_LOG" 2>&1 &
	RUNNER_PID=$!
	local i
	for i in $(seq 1 100); do
		grep -q "ready" "$RUNNER_LOG" && return 0
		kill -0 "$RUNNER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "runner did not start:"
	cat "$RUNNER_LOG"
	return 1
}

# Stop it with SIGTERM; returns its exit status.
runner_stop() {
	kill -TERM "$RUNNER_PID"
	local rc=0
	wait "$RUNNER_PID" || rc=$?
	return "$rc"
}

runner_log_has() { grep -q -- "$1" "$RUNNER_LOG"; }

# user_backstore_create HBA NAME SUBTYPE/CONFIG SIZE_BYTES: configure and enable.
# enable blocks until the runner answers; its status is this function's.
user_backstore_create() {
	local dir=$CFS/core/user_$1/$2
	mkdir -p "$dir" || return 1
	echo -n "dev_config=$3" >"$dir/control" || return 1
	echo -n "dev_size=$4" >"$dir/control" || return 1
	echo -n 1 >"$dir/enable" 2>/dev/null || return 1
	# As rtslib does after enable: give the LUN a unit serial.
	echo -n "${5:-$(cat /proc/sys/kernel/random/uuid)}" >"$dir/wwn/vpd_unit_serial"
}

user_backstore_remove() { rmdir "$CFS/core/user_$1/$2"; }

# loop_lun_add WWN LUN HBA NAME: export a backstore through tcm_loop.
LOOP_WWN=naa.50014050000000a1
loop_lun_add() {
	local tpg=$CFS/loopback/$LOOP_WWN/tpgt_1
	mkdir -p "$tpg/lun" || return 1
	# The nexus first: tcm_loop scans LUNs linked before it inconsistently.
	# (Reading nexus fails with ENODEV while there is none.)
	[ -n "$(cat "$tpg/nexus" 2>/dev/null)" ] || echo -n naa.50014050000000a2 >"$tpg/nexus" || return 1
	mkdir -p "$tpg/lun/lun_$1" || return 1
	ln -s "$CFS/core/user_$2/$3" "$tpg/lun/lun_$1/$3"
}

loop_lun_remove() {
	local lun=$CFS/loopback/$LOOP_WWN/tpgt_1/lun/lun_$1
	find "$lun" -maxdepth 1 -type l -delete && rmdir "$lun"
}

# scsi_dev_for_lun LUN KIND(block|scsi_generic): /dev node of the tcm_loop LUN.
scsi_dev_for_lun() {
	local d i
	for i in $(seq 1 100); do
		for d in /sys/bus/scsi/devices/*:*:*:"$1"; do
			[ -d "$d/$2" ] || continue
			grep -q VHOSTIO "$d/vendor" 2>/dev/null || continue
			echo "/dev/$(ls "$d/$2")"
			return 0
		done
		sleep 0.1
	done
	return 1
}

# scsi_sg_for_lun LUN VENDOR: /dev/sgN of the tcm_loop LUN whose INQUIRY
# vendor is VENDOR (a device no upper driver binds to has only sg).
scsi_sg_for_lun() {
	local d i
	for i in $(seq 1 100); do
		for d in /sys/bus/scsi/devices/*:*:*:"$1"; do
			[ -d "$d/scsi_generic" ] || continue
			grep -q "$2" "$d/vendor" 2>/dev/null || continue
			echo "/dev/$(ls "$d/scsi_generic")"
			return 0
		done
		sleep 0.1
	done
	return 1
}

# uio_minor_of HBA NAME: the minor of user_HBA/NAME's uio device (its uio
# name is tcm-user/HBA/NAME/<dev_config>); status 1 when there is none.
uio_minor_of() {
	local n
	for n in /sys/class/uio/uio*/name; do
		case "$(cat "$n" 2>/dev/null)" in
		"tcm-user/$1/$2/"*)
			n=${n%/name}
			echo "${n##*/uio}"
			return 0
			;;
		esac
	done
	return 1
}

# bounded SECONDS CMD...: run CMD (a command or a function) and wait at
# most SECONDS for it.  On time-out print what it is blocked in (a task in
# D state cannot be killed: its kernel stack says where it hangs), kill it
# and return 124; otherwise CMD's status.
bounded() {
	local secs=$1 pid end=$((SECONDS + $1))
	shift
	"$@" &
	pid=$!
	while ((SECONDS <= end)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			return
		fi
		sleep 0.1
	done
	echo "bounded: '$*' still running after ${secs}s"
	local p
	for p in $pid $(pgrep -P "$pid"); do
		echo "  pid $p ($(cat "/proc/$p/comm" 2>/dev/null)), state $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null):"
		cat "/proc/$p/stack" 2>/dev/null | sed 's/^/    /'
	done
	kill -KILL $(pgrep -P "$pid") "$pid" 2>/dev/null
	return 124
}

# wait_pid SECONDS PID: wait at most SECONDS for the background child PID
# and return its exit status; after that, show where it is blocked, kill
# it and return 124.
wait_pid() {
	local end=$((SECONDS + $1))
	while ((SECONDS <= end)) && kill -0 "$2" 2>/dev/null; do
		sleep 0.1
	done
	if kill -0 "$2" 2>/dev/null; then
		echo "wait_pid: $2 ($(cat "/proc/$2/comm" 2>/dev/null)) still running after $1 s," \
			"state $(awk '{print $3}' "/proc/$2/stat" 2>/dev/null):"
		cat "/proc/$2/stack" 2>/dev/null | sed 's/^/    /'
		kill -KILL "$2" 2>/dev/null
		wait "$2" 2>/dev/null
		return 124
	fi
	wait "$2"
}

# d_state_stuck: "TID COMM" of every task found in uninterruptible sleep
# (D) in each of three looks half a second apart (a task passing through D
# for an I/O is not stuck); nothing when there is none.
d_state_stuck() {
	local a b c
	a=$(ps -eLo stat=,tid=,comm= | awk '$1 ~ /^D/ {print $2, $3}' | sort)
	sleep 0.5
	b=$(ps -eLo stat=,tid=,comm= | awk '$1 ~ /^D/ {print $2, $3}' | sort)
	sleep 0.5
	c=$(ps -eLo stat=,tid=,comm= | awk '$1 ~ /^D/ {print $2, $3}' | sort)
	comm -12 <(echo "$a") <(echo "$b") | comm -12 - <(echo "$c") | sed '/^$/d'
}

# backstore_config HANDLER NAME: a config string for a fresh LUN of that
# handler (file LUNs live in the guest's tmpfs overlay, created on open).
LUN_DIR=${LUN_DIR:-/tmp/vhostio-luns}
backstore_config() {
	case "$1" in
	ram) echo "ram/$2" ;;
	file)
		mkdir -p "$LUN_DIR"
		echo "file/$LUN_DIR/$2.img;create"
		;;
	*) echo "unknown handler $1" >&2 && return 1 ;;
	esac
}

# attrib_set HBA NAME ATTR VALUE: write a backstore attribute (after enable
# this sends RECONFIG and waits for the runner's verdict).
attrib_set() { echo -n "$4" >"$CFS/core/user_$1/$2/attrib/$3" 2>/dev/null; }

# scsi_rescan DEV: make sd re-read capacity and caching mode.
scsi_rescan() {
	local sysdev
	sysdev=$(readlink -f "/sys/class/block/${1#/dev/}/device") || return 1
	echo 1 >"$sysdev/rescan"
}

# sg_cmd SGDEV HEXBYTES...: run a raw CDB, print sg_raw's decoded result
# (status, sense) on stdout; data-in (if -r is given) as hex.
sg_cmd() { sg_raw "$@" 2>&1; }

# teardown_and_finish HBA NAME LUN: the runner survived the test, the LUN
# and backstore go away cleanly, SIGTERM gives exit 0; then finish.
teardown_and_finish() {
	check "runner still running" kill -0 "$RUNNER_PID"
	check "LUN $3 removed" loop_lun_remove "$3"
	check "backstore $2 removed" user_backstore_remove "$1" "$2"
	local rc=0
	runner_stop || rc=$?
	check "runner exit status 0 (got $rc)" test "$rc" -eq 0
	finish
}
