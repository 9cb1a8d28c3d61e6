# Shell helpers for the targetcli end-to-end guest tests (targetcli-*.sh):
# vhostio installed into the guest's overlay and started by D-Bus activation,
# targetcli-fb wrappers, tcm_loop and iSCSI (open-iscsi on 127.0.0.1)
# initiators, fio verification.  Sourced by scripts that run in the VM.
. "$(dirname "${BASH_SOURCE[0]}")/lib-lio.sh"
# The activated runner's stderr goes to the bus's log: keep both in one
# file, the one finish() shows on failure.
RUNNER_LOG=/tmp/vhostio-runner.log
DBUS_LOG=$RUNNER_LOG
. "$(dirname "${BASH_SOURCE[0]}")/lib-dbus.sh"

export PATH=/usr/local/sbin:/usr/local/bin:$PATH
MB=$((1 << 20))
TGT_IQN=iqn.2003-01.org.vhostio.test:target
INI_IQN=iqn.2003-01.org.vhostio.test:initiator
PORTAL=127.0.0.1:3260
LOOP_NAA=naa.5001405000000a01
DATA_DIR=/tmp/tcli-data
mkdir -p "$DATA_DIR"

# ------------------------------------------------------------ D-Bus, install

runner_pids() { pgrep -x vhostio-runner; }

# tcli_bus_setup: install this build into the guest's overlay at its
# configured paths and restart the system bus with its activation file and
# policy (lib-dbus.sh); the activated runner's stderr lands in $RUNNER_LOG.
# Nothing starts the runner here.
tcli_bus_setup() {
	vhostio_install_into_guest || return 1
	dbus_system_start || return 1
	BUS_PID=$DBUS_PID
}

# runner_by_bus: exactly one vhostio-runner runs, the bus says it activated
# it, and it is not our child (dbus-daemon's babysitter exits once the name
# is owned, so the runner is reparented to init).
runner_by_bus() {
	local pids ppid
	pids=$(runner_pids)
	[ "$(wc -w <<<"$pids")" -eq 1 ] || {
		echo "vhostio-runner processes: '${pids//$'\n'/ }'"
		return 1
	}
	ppid=$(ps -o ppid= -p "$pids" | tr -d ' ')
	[ "$ppid" = 1 ] || [ "$ppid" = "$BUS_PID" ] || {
		echo "runner $pids has parent $ppid, not init or the bus ($BUS_PID)"
		return 1
	}
	[ "$(grep -c "Successfully activated service 'org.kernel.TCMUService1'" "$RUNNER_LOG")" = "${1:-1}" ] || {
		echo "the bus did not log activation number ${1:-1}:"
		grep -i activat "$RUNNER_LOG"
		return 1
	}
	[ "$(dbus_name_owner_pid)" = "$pids" ] || {
		echo "org.kernel.TCMUService1 is owned by pid '$(dbus_name_owner_pid)', not $pids"
		return 1
	}
	RUNNER_PID=$pids
}

# runner_kill: SIGTERM the activated runner, wait for it to go.
runner_kill() {
	local pid i
	pid=$(runner_pids) || return 1
	kill -TERM $pid || return 1
	for i in $(seq 1 100); do
		kill -0 $pid 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# --------------------------------------------------------------- targetcli

# tcli ARGS...: one targetcli command; its output (stdout and stderr) is
# printed indented and kept in $OUT; the status is targetcli's.
tcli() {
	local rc=0
	echo "# targetcli $*"
	OUT=$(targetcli "$@" 2>&1) || rc=$?
	[ -n "$OUT" ] && sed 's/^/  | /' <<<"$OUT"
	[ "$rc" -eq 0 ] || echo "  (exit $rc)"
	return "$rc"
}

# tcli_refused DESCRIPTION PATTERN ARGS...: the command fails and says PATTERN.
tcli_refused() {
	local what=$1 pat=$2
	shift 2
	if tcli "$@"; then
		fail "$what: accepted"
	elif grep -q -- "$pat" <<<"$OUT"; then
		pass "$what"
	else
		fail "$what: output lacks '$pat'"
	fi
}

out_has() { grep -q -- "$1" <<<"$OUT"; }

# bs_path KIND: targetcli's backstore directory for a handler or kernel type.
bs_path() {
	case "$1" in
	ram | file) echo "/backstores/user:$1" ;;
	fileio | ramdisk) echo "/backstores/$1" ;;
	esac
}

# bs_create KIND NAME SIZE [CFGSTRING]: a backstore through targetcli.
# user:file LUNs live in $LUN_DIR (created on open).
bs_create() {
	local kind=$1 name=$2 size=$3 cfg=${4:-}
	case "$kind" in
	ram) tcli "$(bs_path ram)" create name="$name" size="$size" cfgstring="${cfg:-$name}" ;;
	file)
		mkdir -p "$LUN_DIR"
		tcli "$(bs_path file)" create name="$name" size="$size" cfgstring="${cfg:-$LUN_DIR/$name.img;create}"
		;;
	fileio)
		mkdir -p "$LUN_DIR"
		tcli /backstores/fileio create name="$name" file_or_dev="$LUN_DIR/$name.img" size="$size"
		;;
	ramdisk) tcli /backstores/ramdisk create name="$name" size="$size" ;;
	esac
}

# ---------------------------------------------------------------- tcm_loop

# loop_dev WWN LUN KIND(block|scsi_generic): the /dev node of a tcm_loop LUN
# (the TPG's "address" file is host:channel:target).
loop_dev() {
	local addr d i
	addr=$(cat "$CFS/loopback/$1/tpgt_1/address" 2>/dev/null) || return 1
	for i in $(seq 1 100); do
		d=/sys/bus/scsi/devices/$addr:$2/$3
		if [ -d "$d" ]; then
			echo "/dev/$(ls "$d")"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# diag: SCSI devices and the kernel's last words, for a failure report.
diag() {
	echo "---- scsi devices: $(ls /sys/bus/scsi/devices | tr '\n' ' ')"
	echo "---- dmesg (last 40 lines)"
	dmesg | tail -n 40
}

# ------------------------------------------------------------------- iSCSI

# iscsi_start: the open-iscsi initiator in the guest, named $INI_IQN.
iscsi_start() {
	modprobe -a iscsi_tcp || return 1
	mkdir -p /etc/iscsi /run/lock/iscsi
	echo "InitiatorName=$INI_IQN" >/etc/iscsi/initiatorname.iscsi
	rm -rf /etc/iscsi/nodes /etc/iscsi/send_targets
	iscsid || return 1
	local i
	for i in $(seq 1 50); do
		iscsiadm -m session >/dev/null 2>&1 && return 0
		# "No active sessions" (21) means iscsid answers.
		[ $? -eq 21 ] && return 0
		sleep 0.2
	done
	return 1
}

# iscsi_target_create BACKSTORE_PATH...: $TGT_IQN with a LUN per backstore
# (in order: LUN 0, 1, ...), an ACL for $INI_IQN (LUNs mapped to it
# automatically) and targetcli's default portal 0.0.0.0:3260.
iscsi_target_create() {
	tcli /iscsi create "$TGT_IQN" || return 1
	local bs
	for bs in "$@"; do
		tcli "/iscsi/$TGT_IQN/tpg1/luns" create "$bs" || return 1
	done
	tcli "/iscsi/$TGT_IQN/tpg1/acls" create "$INI_IQN"
}

iscsi_login() {
	iscsiadm -m discovery -t sendtargets -p "$PORTAL" || return 1
	iscsiadm -m node -T "$TGT_IQN" -p "$PORTAL" --login
}

iscsi_logout() { iscsiadm -m node -T "$TGT_IQN" -p "$PORTAL" --logout; }

# iscsi_dev LUN: the sd node of LUN in the session with $TGT_IQN.
iscsi_dev() {
	local s d i
	for i in $(seq 1 150); do
		for s in /sys/class/iscsi_session/session*; do
			[ "$(cat "$s/targetname" 2>/dev/null)" = "$TGT_IQN" ] || continue
			for d in "$s"/device/target*/*:*:*:"$1"/block/*; do
				[ -e "$d" ] || continue
				echo "/dev/${d##*/}"
				return 0
			done
		done
		sleep 0.2
	done
	return 1
}

# ---------------------------------------------------------------------- data

# fio_verify DEV SIZE_MB: random writes of mixed sizes with crc32c headers,
# then a full read-back verify; passes when fio exits 0 and reports err= 0.
fio_verify() {
	local out rc=0
	out=$(fio --name=verify --filename="$1" --ioengine=libaio --direct=1 --iodepth=16 \
		--rw=randwrite --bsrange=4k-128k --size="$2M" --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --verify_state_save=0 --randrepeat=0 2>&1) || rc=$?
	grep -E "err=|verify|WRITE:|READ:" <<<"$out" | sed 's/^/  | /'
	[ "$rc" -eq 0 ] || {
		echo "$out"
		return 1
	}
	grep -q "err= 0" <<<"$out" && ! grep -q "err= [1-9]" <<<"$out"
}

# block_size_is DEV BYTES
block_size_is() {
	local got
	got=$(blockdev --getsize64 "$1")
	[ "$got" = "$2" ] || {
		echo "$1: $got bytes, expected $2"
		return 1
	}
}

# ua_clear DEV: take the unit attentions LIO queues on LUN changes
# (REPORTED LUNS DATA HAS CHANGED, INQUIRY DATA HAS CHANGED) with TEST UNIT
# READY, so that the next single-shot command (sg_readcap) gets its answer.
ua_clear() {
	local i
	for i in 1 2 3 4; do
		sg_turs "$1" >/dev/null 2>&1 && return 0
	done
	return 1
}

# readcap_is SGDEV_OR_SD BYTES: READ CAPACITY(16) says so.
readcap_is() {
	local out
	ua_clear "$1"
	out=$(sg_readcap -l "$1" 2>&1)
	grep -q "Device size: $2 bytes" <<<"$out" || {
		echo "$out"
		return 1
	}
}

# vendor_is DEV VENDOR: INQUIRY's vendor (the handler answered, not LIO).
vendor_is() {
	local v
	v=$(cat "/sys/class/block/${1#/dev/}/device/vendor")
	[ "${v%% *}" = "$2" ] || {
		echo "vendor '$v'"
		return 1
	}
}
