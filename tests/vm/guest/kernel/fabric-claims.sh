#!/bin/bash
# Three claims of doc/kernel-fabric.md about vhostio's module, on the real
# 6.1 kernel: the device's worker threads "vhost-<owner pid>" are in the
# owner's cgroup (cgroup v2, a group made for the owner); a request moving
# more than 64 MiB is answered VIRTIO_SCSI_S_OVERRUN while one of exactly
# 64 MiB is served; VHOST_GET_VRING_BASE returns the number of requests
# taken and pauses the ring until QEMU's restart sequence (CLEAR_ENDPOINT,
# SET_VRING_BASE, SET_ENDPOINT) resumes it from there (vring-base.py).
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
. "$(dirname "$0")/../lib/lib-fabric.sh"
fabric_ko_or_skip
fabric_swap_in
# 64 MiB + 1 MiB of blocks: room for one request above the limit.
check "rd_mcp_1/r0 (65 MiB)" rd_create r0 $((65 * MB)) "$SERIAL_RD"
check "vhost target with a nexus" vhost_target_create
check "LUN 0 -> rd_mcp_1/r0" vhost_lun_add 0 rd_mcp_1/r0

say "the worker joins the owner's cgroups"
CG=/sys/fs/cgroup
grep -q " $CG cgroup2 " /proc/mounts || mount -t cgroup2 none $CG || fail "mount cgroup2"
check "a cgroup v2 group for the owner" mkdir $CG/vio-owner
# The owner enters the group before it opens the device (exec keeps the pid).
sh -c "echo \$\$ >$CG/vio-owner/cgroup.procs && exec '$VIO' --wwpn $VHOST_WWPN --tpgt 1 --lun 0 run --rw randread \
	--bs 4k --qd 2 --size $MB --runtime 30" >/dev/null 2>&1 &
owner=$!
worker() { pgrep -x "vhost-$owner" >/dev/null; }
check "worker vhost-$owner exists" wait_for 20 worker
# In per_vq mode (the default) two: the device's own and its request queue's.
ws=$(pgrep -x "vhost-$owner" | tr '\n' ' ')
cg_owner=$(cat /proc/$owner/cgroup) cg_workers=
for w in $ws; do cg_workers+="$(cat /proc/$w/cgroup 2>/dev/null) "; done
echo "   owner $owner: $cg_owner; workers ${ws:-none}: $cg_workers; this shell: $(cat /proc/$$/cgroup)"
check "the owner is in /vio-owner" test "$cg_owner" = "0::/vio-owner"
check "two workers (the device's, the request queue's): $ws" test "$(wc -w <<<"$ws")" = 2
check "every worker thread's /proc/<tid>/cgroup is the owner's" \
	test "$cg_workers" = "$cg_owner $cg_owner "
kill -TERM $owner
wait_pid 30 $owner >/dev/null
check "the worker is gone with its device" wait_for 10 not worker
check "the group is empty again (rmdir)" rmdir $CG/vio-owner

say "64 MiB per request"
out=$(vio --lun 0 run --rw read --bs 64M --ios 1 --hang-timeout 60000 --json 2>/tmp/vio.err)
rc=$?
check "a 64 MiB READ: GOOD (exit $rc, $(json_phase "$out" total ok) GOOD)" test "$rc-$(json_phase "$out" total ok)" = 0-1
[ "$rc" -eq 0 ] || head -5 /tmp/vio.err
out=$(vio --lun 0 run --rw read --bs 65M --ios 1 --hang-timeout 60000 --json 2>/tmp/vio.err)
rc=$?
sed 's/^/   /' /tmp/vio.err | head -3
check "a 65 MiB READ: answered (exit $rc, 1 error, none GOOD)" \
	test "$rc-$(json_phase "$out" total errors)-$(json_phase "$out" total ok)" = 1-1-0
check "with the virtio response OVERRUN" grep -q "virtio response OVERRUN" /tmp/vio.err
check "and a log line naming the limit" sh -c "dmesg | grep -q '68157440-byte transfer, more than 67108864'"

say "GET_VRING_BASE pauses the ring; QEMU's restart resumes it"
out=$(timeout 60 python3 "$(dirname "$0")/vring-base.py" $VHOST_WWPN 1 0 2>&1)
rc=$?
echo "$out"
check "vring-base.py: exit 0 ($rc), 8 checks passed" test "$rc-$(grep -c '^PASS' <<<"$out")" = 0-8

say "tear down"
check "the target is removed" bounded 30 vhost_target_remove
check "vhostio_scsi unloads" bounded 30 sh -c "rmdir $CFS/vhost && rmmod vhostio_scsi"
check "no oops, BUG or warning in dmesg" sh -c "! dmesg | grep -E 'BUG|Oops|WARNING|Call Trace'"
finish
