#!/bin/bash
# I/O through vhostio's vhost-scsi fabric module on the real 6.1 kernel,
# driven by vhostio-io (the userspace virtio-scsi initiator): INQUIRY,
# READ CAPACITY and REPORT LUNS decode, a verified write/read workload on
# an rd_mcp LUN and on a user:ram LUN (through vhostio-runner) completes
# with no error and no miscompare on 1 and 4 queues, the data is on the
# backstore (read back through tcm_loop), an unknown target gets
# BAD TARGET, and closing the device under load leaves nothing behind.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
. "$(dirname "$0")/../lib/lib-fabric.sh"
fabric_ko_or_skip
fabric_swap_in
check "runner started" runner_start
check "rd_mcp_1/r0" rd_create r0 $((32 * MB)) "$SERIAL_RD"
check "user_1/ram0" user_backstore_create 1 ram0 ram/ram0 $((32 * MB)) "$SERIAL_RAM"
check "vhost target with a nexus" vhost_target_create
check "LUN 0 -> rd_mcp_1/r0" vhost_lun_add 0 rd_mcp_1/r0
check "LUN 1 -> user_1/ram0" vhost_lun_add 1 user_1/ram0

say "single commands"
out=$(vio --lun 0 inquiry 2>&1)
echo "$out" | head -3 | sed 's/^/   /'
check "INQUIRY of LUN 0 (rd_mcp) through the module" sh -c "echo '$out' | grep -q LIO-ORG"
out=$(vio --lun 1 readcap 2>&1)
echo "$out" | head -2 | sed 's/^/   /'
check "READ CAPACITY of LUN 1 (user:ram): 65536 blocks" sh -c "echo '$out' | grep -q 65536"
out=$(vio report-luns 2>&1)
check "REPORT LUNS names 0 and 1" sh -c "echo '$out' | grep -qw 0 && echo '$out' | grep -qw 1"
check "an unknown target is refused" sh -c "! '$VIO' --wwpn $VHOST_WWPN --tpgt 7 --lun 0 inquiry >/dev/null 2>&1"

say "verified workloads"
for lun in 0 1; do
	for q in 1 4; do
		out=$(vio --lun $lun run --rw randverify --bs 4k --qd 16 --queues $q --size $((8 * MB)) --runtime 8 \
			--seed $((lun * 10 + q)) --hang-timeout 30000 --json 2>/tmp/vio.err)
		rc=$?
		ok=$(json_phase "$out" total ok)
		check "LUN $lun, $q queue(s): exit 0 ($rc), $ok GOOD, 0 errors, 0 miscompares" \
			test "$rc" -eq 0 -a "$(json_phase "$out" total errors)" = 0 -a \
			"$(json_phase "$out" total miscompares)" = 0 -a "${ok:-0}" -gt 0
		[ "$rc" -eq 0 ] || head -5 /tmp/vio.err
	done
done

say "the data is on the backstore"
# Written through the module, read through tcm_loop: the same seed gives
# the same bytes there, another seed other bytes.
wr() { vio --lun 1 run --rw write --bs 4k --qd 4 --size $MB --offset $MB --seed "$1" --json 2>&1; }
md5_loop() { dd if="$SD" bs=4096 skip=256 count=256 iflag=direct status=none | md5sum; }
check "tcm_loop LUN 0 -> user_1/ram0" loop_lun_add 0 1 ram0
SD=$(scsi_dev_for_lun 0 block) || { fail "no tcm_loop disk"; finish; }
out=$(wr 99)
check "1 MiB written through the module (seed 99)" test "$(json_phase "$out" total errors)" = 0
a=$(md5_loop)
out=$(wr 98)
b=$(md5_loop)
out=$(wr 99)
c=$(md5_loop)
check "tcm_loop sees the module's writes (seed 99, 98, 99: a != b, a = c)" test "$a" != "$b" -a "$a" = "$c"
out=$(vio --lun 1 run --rw read --check --bs 4k --size $MB --offset $MB --seed 99 --json 2>&1)
check "and the module reads them back (0 miscompares)" test "$(json_phase "$out" total miscompares)" = 0
loop_lun_remove 0

say "close under load"
# (Not the vio function: $! must be vhostio-io itself, not a subshell.)
"$VIO" --wwpn "$VHOST_WWPN" --tpgt 1 --lun 0 run --rw randwrite --bs 64k --qd 32 --queues 2 --size $((16 * MB)) \
	--runtime 30 >/dev/null 2>&1 &
pid=$!
sleep 3
kill -KILL $pid
wait $pid 2>/dev/null
for t in $(ps -eLo stat=,tid= | awk '$1 ~ /^D/ {print $2}'); do
	echo "   D state: $t $(cat /proc/$t/comm)"; sed 's/^/      /' /proc/$t/stack
done
ls -l /proc/*/fd 2>/dev/null | grep -c vhost-scsi | sed 's/^/   open \/dev\/vhost-scsi: /'
check "the TPG is free again once the device is closed" bounded 30 vhost_target_remove
check "vhostio_scsi unloads" bounded 30 sh -c "rmdir $CFS/vhost && rmmod vhostio_scsi"
check "no oops, BUG or warning in dmesg" sh -c "! dmesg | grep -E 'BUG|Oops|WARNING|Call Trace'"
dmesg | grep vhostio_scsi | head -5
runner_stop
finish
