#!/bin/bash
# Guest side of bench/vm-profile.sh: where does a 4k QD32 randread through
# tcm_loop spend its time, for kernel rd_mcp and for vhostio user:ram?
# perf (cpu-clock, whole system, call graphs) during a fio job on each, then
# the runner's system calls per I/O (strace -c) on user:ram.
# Usage: guest-profile.sh [SECONDS]
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd -P)
. "$BENCH_DIR/../tests/vm/guest/lib/lib-lio.sh"
. "$BENCH_DIR/../tests/vm/guest/lib/lib-vhost.sh"
SECS=${1:-8}
SIZE=$((256 * MB))
OUT=/tmp/profile-out
mkdir -p "$OUT"
modprobe target_core_user

loop_dev() {
	local d
	for _ in $(seq 1 150); do
		for d in /sys/bus/scsi/devices/*:*:*:"$1"; do
			[ -d "$d/block" ] && echo "/dev/$(ls "$d/block")" && return 0
		done
		sleep 0.1
	done
	return 1
}
loop_add() {
	local tpg=$CFS/loopback/$LOOP_WWN/tpgt_1
	mkdir -p "$tpg/lun"
	[ -n "$(cat "$tpg/nexus" 2>/dev/null)" ] || echo -n naa.50014050000000a2 >"$tpg/nexus"
	mkdir -p "$tpg/lun/lun_$1" && ln -s "$CFS/core/$2/$3" "$tpg/lun/lun_$1/$3"
}
job() { # DEV SECONDS
	fio --name=p --filename="$1" --direct=1 --ioengine=libaio --rw=randread --bs=4k --iodepth=32 \
		--size=256M --runtime="$2" --time_based --norandommap --randrepeat=0 \
		--output-format=terse --terse-version=3 2>/dev/null | cut -d';' -f8
}
profile() { # NAME DEV
	perf record -a -g -e cpu-clock -F 2000 -o "$OUT/$1.data" -- sleep "$SECS" >/dev/null 2>&1 &
	local p=$!
	local iops
	iops=$(job "$2" "$SECS")
	wait $p
	echo "@@ $1: $iops IOPS under perf"
	perf report -i "$OUT/$1.data" --no-children --sort comm,sym --stdio 2>/dev/null |
		grep -v '^#' | grep -E '^ +[0-9]' | head -45
	echo "@@ $1 by comm"
	perf report -i "$OUT/$1.data" --no-children --sort comm --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -12
}

runner_start --no-dbus --log-level info
rd_create prof_rd $SIZE && loop_add 0 rd_mcp_1 prof_rd
user_backstore_create 1 prof_ram ram/prof_ram $SIZE && loop_add 1 user_1 prof_ram
rd=$(loop_dev 0) ram=$(loop_dev 1)
for d in $rd $ram; do
	fio --name=fill --filename=$d --direct=1 --ioengine=libaio --rw=write --bs=1M --iodepth=8 --size=256M >/dev/null 2>&1
done
echo "@@ plain: rd_mcp $(job $rd $SECS) IOPS, user:ram $(job $ram $SECS) IOPS"
profile rd_mcp "$rd"
profile user-ram "$ram"
strace -c -f -p "$RUNNER_PID" -o "$OUT/strace.txt" &
sp=$!
sleep 0.5
iops=$(job "$ram" "$SECS")
kill -INT $sp
wait $sp
echo "@@ strace: $iops IOPS x $SECS s under strace"
cat "$OUT/strace.txt"
echo "@@ runner log tail"
tail -5 "$RUNNER_LOG"
