#!/bin/bash
# Dirty logging for live migration (VHOST_F_LOG_ALL) on vhostio_scsi, as
# QEMU switches it on and off on a running device: every page the device
# writes is in the owner's bitmap under each guest address that maps it,
# the used ring at its log address, data-out pages not; an unwritable log
# fails loudly (error eventfd, kernel log) without failing the I/O
# (tests/vm/tools/dirty-log.c).  Run through guest/kernel/on-fabric.sh.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
PROG=$VHOSTIO_BUILD/tests/vm/dirty-log
[ -x "$PROG" ] || { echo "no $PROG"; exit 77; }
lsmod | grep -q '^vhostio_scsi' || { echo "needs vhostio_scsi (on-fabric.sh)"; exit 77; }
check "rd_mcp_1/r0" rd_create r0 $((4 * MB))
check "vhost target with a nexus" vhost_target_create
check "LUN 0 -> rd_mcp_1/r0" vhost_lun_add 0 rd_mcp_1/r0
rc=0
bounded 120 "$PROG" --wwpn "$VHOST_WWPN" --tpgt 1 --lun 0 || rc=$?
check "dirty-log: every check passed (exit $rc)" test "$rc" -eq 0
check "the failed log write is in the kernel log" sh -c "dmesg | grep -q 'dirty log write failed'"
check "the target still serves INQUIRY" sh -c "'$VIO' --wwpn $VHOST_WWPN --tpgt 1 --lun 0 inquiry | grep -q LIO-ORG"
check "vhost target removed" vhost_target_remove
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
finish
