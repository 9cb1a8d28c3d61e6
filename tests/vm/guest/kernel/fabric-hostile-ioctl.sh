#!/bin/bash
# Bad vhost ioctls on vhostio_scsi (tests/vm/tools/hostile-ioctl.c): each
# refused with the errno kernel/main.c promises, no oops (on-fabric.sh
# checks the kernel log); and bad nexus names written to configfs are
# refused with nothing created (kernel/fabric.c).  Run through
# guest/kernel/on-fabric.sh.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
PROG=$VHOSTIO_BUILD/tests/vm/hostile-ioctl
[ -x "$PROG" ] || { echo "no $PROG"; exit 77; }
lsmod | grep -q '^vhostio_scsi' || { echo "needs vhostio_scsi (on-fabric.sh)"; exit 77; }
check "rd_mcp_1/r0" rd_create r0 $((4 * MB))
check "vhost target with a nexus" vhost_target_create
check "LUN 0 -> rd_mcp_1/r0" vhost_lun_add 0 rd_mcp_1/r0
rc=0
bounded 60 "$PROG" /dev/vhost-scsi "$VHOST_WWPN" || rc=$?
check "hostile-ioctl: every errno as expected (exit $rc)" test "$rc" -eq 0
check "the target still serves INQUIRY after them" sh -c "'$VIO' --wwpn $VHOST_WWPN --tpgt 1 --lun 0 inquiry | grep -q LIO-ORG"
say "bad nexus names on a second TPG"
T2=$CFS/vhost/$VHOST_WWPN/tpgt_2
check "tpgt_2 created" mkdir "$T2"
# nexus_refused WHAT VALUE: the write fails and the TPG still has no nexus.
# One write(2) (a shell splits at the newline, and configfs takes each
# write as a name of its own).
nexus_refused() {
	check "nexus $1: refused" not python3 -c 'import os, sys
fd = os.open(sys.argv[2], os.O_WRONLY)
os.write(fd, sys.argv[1].encode().decode("unicode_escape").encode())' "$2" "$T2/nexus"
	check "nexus $1: none created" not cat "$T2/nexus"
}
nexus_refused "too long (300 characters)" "naa.$(printf '5%.0s' $(seq 296))"
nexus_refused "empty (a newline)" '\n'
nexus_refused "unknown prefix" "xyz.5001405000000b09"
nexus_refused "another protocol's prefix" "iqn.2003-01.org.example:x"
nexus_refused "embedded newline" 'naa.50014050\n00000b09'
nexus_refused "embedded space" 'naa.50014050 00000b09'
check "a good name after them is taken" sh -c "echo -n naa.5001405000000b09 >'$T2/nexus' && grep -q naa.5001405000000b09 '$T2/nexus'"
check "its nexus dropped" sh -c "echo -n NULL >'$T2/nexus'"
check "tpgt_2 removed" rmdir "$T2"

check "vhost target removed" vhost_target_remove
check "rd_mcp_1/r0 removed" rmdir "$CFS/core/rd_mcp_1/r0"
finish
