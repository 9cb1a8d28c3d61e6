#!/bin/bash
# A command ring that fails validation recovers on the real kernel: with
# the runner stopped, a READ is queued and another process that maps the
# same uio device rewrites that entry's length to garbage; when the runner
# runs again it finds the ring broken, has the kernel reset it (block_dev,
# reset_ring: the READ fails back BUSY and the SCSI midlayer retries it),
# starts afresh, and the READ returns the right data.  No stall until the
# kernel's command timeout.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
SIZE=$((16 << 20))

runner_start || { fail "runner start"; finish; }
check "user_1/ram0 enabled" user_backstore_create 1 ram0 ram/ram0 $SIZE
check "LUN 0 -> ram0" loop_lun_add 0 1 ram0
SD=$(scsi_dev_for_lun 0 block) || { fail "no block device"; finish; }
head -c $((1 << 20)) /dev/urandom >/tmp/pattern
check "1 MiB pattern written" dd if=/tmp/pattern of="$SD" bs=1M oflag=direct status=none
UIO=$(grep -l 'tcm-user/1/ram0/' /sys/class/uio/uio*/name | head -1 | xargs dirname | xargs basename)
echo "device is $UIO"

kill -STOP "$RUNNER_PID"
dd if="$SD" of=/tmp/readback bs=4k count=1 iflag=direct status=none &
DD=$!
# The hostile co-mapper (the uio device opens once, so through the stopped
# runner's own mapping, /proc/PID/mem): wait for the kernel to queue the
# READ, then break its entry's length (the op bits stay CMD).
python3 - "$RUNNER_PID" "$UIO" <<'PY'
import struct, sys, time
pid, uio = sys.argv[1], sys.argv[2]
start = None
for line in open(f"/proc/{pid}/maps"):
    if line.rstrip().endswith(f"/dev/{uio}"):
        start = int(line.split("-")[0], 16)
        break
if start is None:
    print("no mapping of", uio); sys.exit(1)
mem = open(f"/proc/{pid}/mem", "r+b", buffering=0)
def rd(off, n):
    mem.seek(start + off); return mem.read(n)
def wr(off, b):
    mem.seek(start + off); mem.write(b)
cmdr_off = struct.unpack("<I", rd(4, 4))[0]
for _ in range(200):
    head = struct.unpack("<I", rd(12, 4))[0]
    tail = struct.unpack("<I", rd(64, 4))[0]
    if head != tail:
        break
    time.sleep(0.05)
else:
    print("the kernel queued nothing"); sys.exit(1)
len_op = struct.unpack("<I", rd(cmdr_off + tail, 4))[0]
bad = (len_op & 7) | 0x7ffff000
wr(cmdr_off + tail, struct.pack("<I", bad))
print(f"entry at {tail}: len_op 0x{len_op:x} -> 0x{bad:x}")
PY
check "the queued entry was corrupted" test $? -eq 0
kill -CONT "$RUNNER_PID"
ok=0
for _ in $(seq 1 300); do
	kill -0 "$DD" 2>/dev/null || { ok=1; break; }
	sleep 0.1
done
check "the READ finished within 30 s (no stall until the kernel's timeout)" test "$ok" -eq 1
wait "$DD"
check "... successfully (dd exit $?)" test $? -eq 0
check "with the right data" cmp -n 4096 /tmp/readback /tmp/pattern
check "runner logged the recovery" runner_log_has "command ring recovered"
check "runner noticed the corrupt entry" runner_log_has "command ring corrupt"
check "I/O goes on: 1 MiB read back identical" \
	cmp <(dd if="$SD" bs=1M count=1 iflag=direct status=none) /tmp/pattern
check "runner still running" kill -0 "$RUNNER_PID"
finish
