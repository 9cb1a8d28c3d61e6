# Shell helpers for guest tests: assertions, the runner, LIO configfs.
# Sourced by scripts that run inside the VM (see ../../run-in-vm.sh).

CFS=/sys/kernel/config/target
MB=$((1 << 20))
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
# not COMMAND...: succeed when COMMAND fails (for check and the waits).
not() { ! "$@"; }
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
# wait_for_log PATTERN [SECONDS]: wait_tries SECONDS (10) for PATTERN in the runner's log.
wait_for_log() { wait_tries "${2:-10}" runner_log_has "$1"; }

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

# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds, for
# SECONDS (a deadline, not a count: under TCG every exec costs a good
# fraction of a second), then once more; the status of the last try.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

# wait_tries SECONDS COMMAND...: try COMMAND up to SECONDS x 10 times, 0.1 s
# apart (a count: slow execs stretch it), until it succeeds; else status 1.
wait_tries() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
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

# no_kernel_warnings [REGEX]: dmesg has no warning, BUG, hung task (nor a
# line matching REGEX).
no_kernel_warnings() { test -z "$(dmesg | grep -E "WARNING:|BUG:|hung_task|blocked for more than${1:+|$1}")"; }

# uio_fds: how many /dev/uio* file descriptors the runner holds.
uio_fds() { ls -l "/proc/$RUNNER_PID/fd" 2>/dev/null | grep -c '/dev/uio'; }

# not_uio HBA NAME: no uio device belongs to user_HBA/NAME.
not_uio() { ! uio_minor_of "$1" "$2" >/dev/null; }

# remove_bounded WHAT HBA NAME UNLINK_CMD...: under load, unlink WHAT (a LUN
# of user_HBA/NAME) with UNLINK_CMD, then remove the backstore, each checked
# to end within 60 s (bounded); print how long both took.
remove_bounded() {
	local what=$1 hba=$2 name=$3 t0=$SECONDS
	shift 3
	check "$what unlinked (within 60 s)" bounded 60 "$@"
	check "user_$hba/$name removed (within 60 s)" bounded 60 user_backstore_remove "$hba" "$name"
	echo "   unlink + rmdir took $((SECONDS - t0)) s"
}

# check_released HBA NAME MINOR FDS: after user_HBA/NAME (uio MINOR) was
# removed, the runner logged it and let it go (uio device gone, FDS uio fds
# left, no mapping of it), and no task is stuck in D state.
check_released() {
	local s=s stuck
	[ "$4" = 1 ] && s=
	check "log: $1/$2 removed" wait_for_log "$1/$2: removed"
	check "uio$3 gone from /sys/class/uio" test ! -e "/sys/class/uio/uio$3"
	check "no uio device named $2" not_uio "$1" "$2"
	check "the runner holds $4 uio fd$s ($(uio_fds))" test "$(uio_fds)" = "$4"
	check "no mapping of /dev/uio$3 left in the runner" \
		not grep -q "/dev/uio$3\$" "/proc/$RUNNER_PID/maps"
	stuck=$(d_state_stuck)
	check "no task stuck in D state${stuck:+: $stuck}" test -z "$stuck"
}

# ios_done DEV: reads and writes the block layer completed on DEV so far.
ios_done() {
	local r w
	read -r r _ _ _ w _ <"/sys/block/${1#/dev/}/stat" && echo $((r + w))
}
# writes_done DEV: write requests the block layer completed on DEV so far.
writes_done() {
	local w
	read -r _ _ _ _ w _ <"/sys/block/${1#/dev/}/stat" && echo "$w"
}

# fio_crc32c's working set: FIO_BLOCKS blocks of FIO_BS bytes, FIO_WS in all.
FIO_BS=4096
FIO_WS=$((8 * MB))
# shellcheck disable=SC2034 # for the scripts' checks
FIO_BLOCKS=$((FIO_WS / FIO_BS))

# fio_crc32c NAME DEV SEED [OPTION...]: fio job NAME writing every block of
# the working set on DEV once, in SEED's random order, each with a crc32c
# header (--do_verify=1 reads them back, --verify_only only does that);
# its JSON report on stdout.
fio_crc32c() {
	local name=$1 dev=$2 seed=$3
	shift 3
	fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio --iodepth=8 --bs=$FIO_BS --size=$FIO_WS \
		--rw=randwrite --randseed="$seed" --verify=crc32c --continue_on_error=verify \
		--output-format=json "$@"
}

# fio_get FILE: "error total_err writes reads" of the fio JSON report in
# FILE, or "unreadable REASON".
fio_get() {
	/usr/bin/python3 -c 'import json, sys
try:
    t = open(sys.argv[1]).read()  # fio may print error lines before the report
    j = json.JSONDecoder().raw_decode(t[t.index("{"):])[0]["jobs"][0]
    print(j["error"], j["total_err"], j["write"]["total_ios"], j["read"]["total_ios"])
except Exception as e:
    print("unreadable", e)' "$1"
}

# fio_wait LABEL PID BASE: wait at most 150 s for fio PID (report in
# BASE.json, stderr in BASE.err); set rc, err, total_err, writes and reads,
# print them, and BASE.err's start when anything failed.
fio_wait() {
	rc=0
	wait_pid 150 "$2" || rc=$?
	read -r err total_err writes reads < <(fio_get "$3.json")
	echo "   $1: fio exit $rc, error $err, verify errors $total_err, $writes writes, $reads verify reads"
	[ "$rc-$err-$total_err" = 0-0-0 ] || sed 's/^/   /' "$3.err" | head -20
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
