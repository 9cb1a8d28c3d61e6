#!/bin/bash
# Demo (the README's first command runs this in the VM): a user:ram LUN
# served by vhostio-runner, used through the kernel's SCSI disk driver.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
SIZE=$((1 << 30))

say "kernel $(uname -r); starting vhostio-runner from $VHOSTIO_BUILD"
runner_start --log-level info || { fail "runner start"; finish; }
echo "   runner pid $RUNNER_PID; target_core_user loaded: $(test -d /sys/module/target_core_user && echo yes)"

say "configfs: core/user_1/demo  dev_config=ram/demo dev_size=$SIZE, enable"
check "backstore enabled" user_backstore_create 1 demo ram/demo $SIZE
grep -E "kernel added|serving" "$RUNNER_LOG" | sed 's/^/   runner: /'

say "tcm_loop: $LOOP_WWN/tpgt_1/lun/lun_0 -> user_1/demo"
check "LUN exported" loop_lun_add 0 1 demo
SD=$(scsi_dev_for_lun 0 block) || { fail "no SCSI disk appeared"; finish; }
echo "   the kernel's sd driver attached it as $SD"
sg_inq "$SD" | grep -E "Vendor|Product|revision" | sed 's/^ */   /'
sg_readcap -l "$SD" | grep -E "Last LBA|block length|Device size" | sed 's/^ */   /'

say "write 64 MiB of random data with dd, drop caches, read it back"
head -c $((64 << 20)) /dev/urandom >/tmp/demo.bin
sum_in=$(sha256sum </tmp/demo.bin | cut -d' ' -f1)
dd if=/tmp/demo.bin of="$SD" bs=1M oflag=direct status=none
echo 3 >/proc/sys/vm/drop_caches
sum_out=$(dd if="$SD" bs=1M count=64 iflag=direct status=none | sha256sum | cut -d' ' -f1)
echo "   written  sha256 $sum_in"
echo "   readback sha256 $sum_out"
check "data read back identical" test "$sum_in" = "$sum_out"

say "fio: 4k random write with crc32c verify, queue depth 16"
fio --name=demo --filename="$SD" --direct=1 --ioengine=libaio --iodepth=16 --rw=randwrite --bs=4k \
	--size=128M --offset=128M --verify=crc32c --do_verify=1 --verify_fatal=1 2>&1 |
	grep -E "IOPS|err=|verify" | sed 's/^ */   /'
check "fio verify passed" test "${PIPESTATUS[0]}" -eq 0

say "tear down: LUN, backstore, then SIGTERM the runner"
check "LUN removed" loop_lun_remove 0
check "backstore removed" user_backstore_remove 1 demo
rc=0
runner_stop || rc=$?
check "runner exited 0" test "$rc" -eq 0
grep -E "removed|stopped" "$RUNNER_LOG" | sed 's/^/   runner: /'
finish
