#!/bin/bash
# on-fabric.sh SCRIPT [ARGS...]: run a vhost test script on vhostio's
# fabric module instead of the stock vhost_scsi: swap the modules, then
# run SCRIPT unchanged (its `modprobe vhost_scsi` then finds
# /dev/vhost-scsi taken and leaves ours in place).
KO=$VHOSTIO_BUILD/kernel/module/vhostio_scsi.ko
[ -f "$KO" ] || { echo "no $KO (kernel headers missing at build time)"; exit 77; }
rmmod vhost_scsi || { echo "FAIL: rmmod vhost_scsi"; exit 1; }
insmod "$KO" || { echo "FAIL: insmod $KO"; exit 1; }
echo "== on vhostio_scsi: $(cat /sys/kernel/config/target/vhost/version 2>/dev/null || echo 'fabric registered')"
"$@"
rc=$?
if dmesg | grep -E 'BUG|Oops|WARNING|Call Trace' | grep -v "duplicate filename"; then
	echo "FAIL: kernel oops, BUG or warning (above)"
	exit 1
fi
lsmod | grep -q '^vhostio_scsi' || { echo "FAIL: vhostio_scsi is no longer loaded"; exit 1; }
exit "$rc"
