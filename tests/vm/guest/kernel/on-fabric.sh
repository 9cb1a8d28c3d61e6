#!/bin/bash
# on-fabric.sh SCRIPT [ARGS...]: run a vhost test script on vhostio's
# fabric module instead of the stock vhost_scsi, installed as a user would
# have it (the module under updates/, the modprobe alias), so that the
# script's own `modprobe vhost_scsi` loads ours; then check the kernel log.
. "$(dirname "$0")/../lib/lib-fabric.sh"
KO=$FABRIC_KO
ALIAS=$(dirname "$0")/../../../../kernel/modprobe.conf
fabric_ko_or_skip
rmmod vhost_scsi || { echo "FAIL: rmmod vhost_scsi"; exit 1; }
mkdir -p "/lib/modules/$(uname -r)/updates"
cp "$KO" "/lib/modules/$(uname -r)/updates/" && depmod -a && cp "$ALIAS" /etc/modprobe.d/vhostio-scsi.conf ||
	{ echo "FAIL: installing the module"; exit 1; }
modprobe vhost_scsi && lsmod | grep -q '^vhostio_scsi' || { echo "FAIL: modprobe vhost_scsi did not load vhostio_scsi"; exit 1; }
echo "== on $(cat /sys/kernel/config/target/vhost/version 2>/dev/null || echo vhostio_scsi)"
dmesg -C
"$@"
rc=$?
if dmesg | grep -E 'BUG|Oops|WARNING|Call Trace'; then
	echo "FAIL: kernel oops, BUG or warning (above)"
	exit 1
fi
lsmod | grep -q '^vhostio_scsi' || { echo "FAIL: vhostio_scsi is no longer loaded"; exit 1; }
exit "$rc"
