# Shell helpers for the vhost-scsi VM tests: backstores of three kinds
# exported through the vhost fabric, driven by vhostio-io (the userspace
# virtio-scsi initiator).  Sourced after lib-lio.sh.

VIO=$VHOSTIO_BUILD/tools/vhostio-io
VHOST_WWPN=naa.5001405000000b01
VHOST_NEXUS=naa.5001405000000b02
VHOST_TPG=$CFS/vhost/$VHOST_WWPN/tpgt_1
# LUN numbers of the three backstores vhost_setup exports.
LUN_RD=0
LUN_RAM=1
LUN_FILE=2
SERIAL_RD=5e2a0c11-0000-4000-8000-0000000000d0
SERIAL_RAM=5e2a0c11-0000-4000-8000-0000000000d1
SERIAL_FILE=5e2a0c11-0000-4000-8000-0000000000d2

# vio ARGS...: vhostio-io on our target port.
vio() { "$VIO" --wwpn "$VHOST_WWPN" --tpgt 1 "$@"; }

# rd_create NAME BYTES [SERIAL]: an rd_mcp backstore (kernel memory, no runner).
rd_create() {
	local dir=$CFS/core/rd_mcp_1/$1
	mkdir -p "$dir" || return 1
	echo -n "rd_pages=$(($2 / 4096))" >"$dir/control" || return 1
	echo -n 1 >"$dir/enable" || return 1
	[ -z "${3:-}" ] || echo -n "$3" >"$dir/wwn/vpd_unit_serial"
}

# The vhost target with plain configfs (one test uses the library's
# functions through vhostio-io instead; see vhost-hotplug.sh).
vhost_target_create() {
	mkdir -p "$VHOST_TPG/lun" || return 1
	echo -n "$VHOST_NEXUS" >"$VHOST_TPG/nexus"
}

# vhost_lun_add LUN HBA/NAME: link core/HBA/NAME as LUN.
vhost_lun_add() {
	mkdir -p "$VHOST_TPG/lun/lun_$1" || return 1
	ln -s "$CFS/core/$2" "$VHOST_TPG/lun/lun_$1/${2##*/}"
}

vhost_lun_remove() {
	local lun=$VHOST_TPG/lun/lun_$1
	find "$lun" -maxdepth 1 -type l -delete && rmdir "$lun"
}

# Every LUN, the nexus, the TPG and the WWN; quiet when already gone.
vhost_target_remove() {
	local l
	[ -d "$VHOST_TPG" ] || return 0
	for l in "$VHOST_TPG"/lun/lun_*; do
		[ -d "$l" ] && vhost_lun_remove "${l##*lun_}"
	done
	echo -n NULL >"$VHOST_TPG/nexus" 2>/dev/null
	rmdir "$VHOST_TPG" && rmdir "$CFS/vhost/$VHOST_WWPN"
}

# vhost_setup SIZE: modules, runner, rd_mcp_1/r0, user_1/ram0, user_1/file0
# (each SIZE bytes) as LUNs 0, 1, 2 of the vhost target.
vhost_setup() {
	local size=$1
	# rd_mcp is part of target_core_mod; vhost_scsi is a module of its own.
	modprobe vhost_scsi || { fail "modprobe vhost_scsi"; return 1; }
	[ -c /dev/vhost-scsi ] || { fail "no /dev/vhost-scsi"; return 1; }
	[ -x "$VIO" ] || { fail "no $VIO"; return 1; }
	runner_start --no-dbus || { fail "runner start"; return 1; }
	check "rd_mcp_1/r0 enabled" rd_create r0 "$size" "$SERIAL_RD" || return 1
	check "user_1/ram0 enabled" user_backstore_create 1 ram0 "$(backstore_config ram ram0)" "$size" "$SERIAL_RAM" || return 1
	check "user_1/file0 enabled" user_backstore_create 1 file0 "$(backstore_config file file0)" "$size" "$SERIAL_FILE" || return 1
	check "vhost target $VHOST_WWPN/tpgt_1 with a nexus" vhost_target_create || return 1
	check "LUN $LUN_RD -> rd_mcp_1/r0" vhost_lun_add $LUN_RD rd_mcp_1/r0 || return 1
	check "LUN $LUN_RAM -> user_1/ram0" vhost_lun_add $LUN_RAM user_1/ram0 || return 1
	check "LUN $LUN_FILE -> user_1/file0" vhost_lun_add $LUN_FILE user_1/file0 || return 1
}

# json_get JSON KEY: the number or string after "KEY": (first match; flat keys).
json_get() { sed -n "s/.*\"$2\": \"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$1" | head -1; }
# json_phase JSON PHASE KEY: KEY inside the "PHASE": {...} object of a run.
json_phase() { sed -n "s/.*\"$2\": {\([^}]*\)}.*/\1/p" <<<"$1" | head -1 | sed -n "s/.*\"$3\": \([^,]*\).*/\1/p"; }

# vhost_teardown_and_finish: the runner survived, everything is removed
# cleanly, the runner exits 0 on SIGTERM; then finish.
vhost_teardown_and_finish() {
	check "runner still running" kill -0 "${RUNNER_PID:-0}"
	check "vhost target removed" vhost_target_remove
	check "user_1/ram0 removed" user_backstore_remove 1 ram0
	check "user_1/file0 removed" user_backstore_remove 1 file0
	check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
	local rc=0
	[ -n "${RUNNER_PID:-}" ] && { runner_stop || rc=$?; }
	check "runner exit status 0 (got $rc)" test "$rc" -eq 0
	finish
}
