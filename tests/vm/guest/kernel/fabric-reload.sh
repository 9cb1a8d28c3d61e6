#!/bin/bash
# 20 rounds of: insmod vhostio_scsi, a vhost target with a nexus and two
# LUNs (rd_mcp and user:ram through vhostio-runner), a short verified
# random workload through the module, the configuration removed, rmmod.
# Debian's kernel has no kmemleak, so between rounds the kernel's memory
# is measured instead (after dropping caches): the bytes of live kmalloc-*
# objects (/proc/slabinfo), SUnreclaim and MemFree+Cached+AnonPages
# (/proc/meminfo);
# after the first rounds have warmed the caches up, none may keep growing
# (or shrinking, for free memory) round after round.
# The module's use count is 0 once the configuration is gone; rmmod is
# refused ("in use") while the fabric is configured and while
# /dev/vhost-scsi is open, and the module serves on after each refusal.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
. "$(dirname "$0")/../lib/lib-fabric.sh"
fabric_ko_or_skip
KO=$FABRIC_KO
ROUNDS=20
WARM=4 # rounds 1-3 warm caches up; round 4's sample is the baseline
# Growth allowed per round after warm-up, as the least-squares slope over
# rounds 4-20 (single samples jitter by tens of KiB). Seen under TCG: a
# clean module 1.9 KiB/round of kmalloc, 5.5 SUnreclaim, -158 free; with
# a planted 8 KiB kmalloc per device open (one open a round) 9-10 KiB/round
# of kmalloc and -1.3 to -1.6 MiB/round free.
TOL_KMALLOC_KB=5
TOL_SUNRECL_KB=16
TOL_FREE_KB=512
dmesg -C

check "stock vhost_scsi unloaded" rmmod vhost_scsi
check "runner started" runner_start --no-dbus --log-level info || finish
# The backstores belong to target_core_mod and stay; the fabric comes and goes.
check "rd_mcp_1/r0" rd_create r0 $((16 * MB)) "$SERIAL_RD" || finish
check "user_1/ram0" user_backstore_create 1 ram0 ram/ram0 $((16 * MB)) "$SERIAL_RAM" || finish

# refs: the module's use count (lsmod's third column), empty when not loaded.
refs() { awk '$1 == "vhostio_scsi" {print $3}' /proc/modules; }
# sample: "KMALLOC_KB SUNRECLAIM_KB FREE_KB" once freed memory settled.
# FREE_KB is
# MemFree+Cached+AnonPages: memory that userspace (the ram backstore
# filling up) holds is not the kernel's.
sample() {
	local k m
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1 # RCU-deferred frees (files, task structs) land
	k=$(awk '/^kmalloc-/ {b += $2 * $4} END {printf "%d", b / 1024}' /proc/slabinfo)
	m=$(awk '/^SUnreclaim:/ {s = $2} /^MemFree:|^Cached:|^AnonPages:/ {f += $2} END {print s, f}' /proc/meminfo)
	echo "$k $m"
}
# rmmod_refused WHY: rmmod fails, says the module is in use, and it stays.
rmmod_refused() {
	local err rc=0
	err=$(rmmod vhostio_scsi 2>&1) || rc=$?
	echo "   rmmod ($1): exit $rc: $err"
	test "$rc" -ne 0 && grep -q 'in use' <<<"$err" && test -n "$(refs)"
}
# io LUN SEED: a short verified random workload; 0 when clean.
io() {
	local out rc=0
	out=$(vio --lun "$1" run --rw randverify --bs 4k --qd 8 --size $((4 * MB)) --runtime 1 --seed "$2" \
		--hang-timeout 20000 --json 2>/tmp/vio.err) || rc=$?
	local ok
	ok=$(json_phase "$out" total ok)
	[ "$rc" -eq 0 ] && [ "$(json_phase "$out" total errors)" = 0 ] &&
		[ "$(json_phase "$out" total miscompares)" = 0 ] && [ "${ok:-0}" -gt 0 ] && return 0
	echo "   LUN $1 seed $2: exit $rc, $out"
	head -3 /tmp/vio.err
	return 1
}

# serve_once LUN SEED: configure, verified I/O on LUN, remove the configuration.
serve_once() {
	vhost_target_create && vhost_lun_add 0 rd_mcp_1/r0 && vhost_lun_add 1 user_1/ram0 && io "$1" "$2" &&
		vhost_target_remove && rmdir "$CFS/vhost"
}

declare -a KM SU FR
start=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
	step=insmod
	insmod "$KO" || break
	step=configure
	vhost_target_create && vhost_lun_add 0 rd_mcp_1/r0 && vhost_lun_add 1 user_1/ram0 || break
	if ((r == 2)); then
		check "round $r: rmmod refused while the fabric is configured" rmmod_refused configured
	fi
	step="I/O on LUN $((r % 2))"
	io $((r % 2)) "$r" || break
	step="remove the configuration"
	vhost_target_remove && rmdir "$CFS/vhost" || break
	step="use count 0 (got $(refs))"
	[ "$(refs)" = 0 ] || break
	if ((r == 3)); then
		# An open device holds the module, with nothing configured.
		exec 3<>/dev/vhost-scsi
		check "round $r: use count 1 with /dev/vhost-scsi open (got $(refs))" test "$(refs)" = 1
		check "round $r: rmmod refused while /dev/vhost-scsi is open" rmmod_refused open
		exec 3>&-
		check "round $r: use count back to 0 once closed (got $(refs))" test "$(refs)" = 0
		check "round $r: the module serves on after the refusals" serve_once 0 33
	fi
	step=rmmod
	rmmod vhostio_scsi || break
	step="gone from /proc/modules"
	[ -z "$(refs)" ] || break
	read -r KM[r] SU[r] FR[r] <<<"$(sample)"
	echo "   round $r: kmalloc ${KM[r]} KiB, SUnreclaim ${SU[r]} KiB, MemFree+Cached+AnonPages ${FR[r]} KiB ($((SECONDS - start)) s)"
	step=
done
check "$ROUNDS rounds of load, configure, verified I/O, remove, unload (stopped in round $r at: ${step:-none})" \
	test -z "$step" -a "$r" -gt "$ROUNDS"

# slope NAME ARRAY TOL SIGN: the growth per round of ARRAY over rounds
# WARM..ROUNDS is at most TOL KiB; SIGN -1 for a value that leaks by
# shrinking (free memory).
slope() {
	local -n a=$2
	local i d
	d=$(for ((i = WARM; i <= ROUNDS; i++)); do echo "$i $(($4 * a[i]))"; done |
		awk '{n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2}
			END {printf "%d", (n * sxy - sx * sy) / (n * sxx - sx * sx)}')
	check "$1 grows by at most $3 KiB a round over rounds $WARM-$ROUNDS (slope $d KiB)" test "$d" -le "$3"
}
if [ -z "$step" ]; then
	slope "live kmalloc objects" KM "$TOL_KMALLOC_KB" 1
	slope "SUnreclaim" SU "$TOL_SUNRECL_KB" 1
	slope "MemFree+Cached+AnonPages" FR "$TOL_FREE_KB" -1
fi

check "the module loads again after the rounds" insmod "$KO"
check "configure, verified I/O on LUN 1, remove" serve_once 1 99
check "vhostio_scsi unloads" rmmod vhostio_scsi
check "user_1/ram0 removed" user_backstore_remove 1 ram0
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
check "no oops, BUG or warning in dmesg" sh -c "! dmesg | grep -E 'BUG|Oops|WARNING|Call Trace'"
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
echo "   $ROUNDS rounds in $((SECONDS - start)) s"
finish
