#!/bin/bash
# Data-in buffers that do not match the transfer, through the real kernel
# (tcm_loop: the SCSI midlayer's buffer length is the expected transfer
# length LIO and TCMU pass on), on a user:ram LUN next to an rd_mcp LUN
# (LIO's own backstore, the reference):
#  - READ of 1 block into a 4 KiB buffer: 512 bytes come back with a
#    residual, and none of the stale bytes the data area held before;
#  - READ of 4 blocks into a 1 KiB buffer: GOOD, the 1024 bytes that fit
#    (rd_mcp's answer over tcm_loop is printed for reference: LIO's core
#    refuses the mismatch for its own backstores there).
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
SIZE=$((16 << 20))

runner_start || { fail "runner start"; finish; }
check "user_1/ram0 enabled" user_backstore_create 1 ram0 ram/ram0 $SIZE
check "rd_mcp_1/r0 enabled" rd_create r0 $SIZE
check "LUN 0 -> ram0" loop_lun_add 0 1 ram0
tpg=$CFS/loopback/$LOOP_WWN/tpgt_1
check "LUN 1 -> r0" sh -c "mkdir -p $tpg/lun/lun_1 && ln -s $CFS/core/rd_mcp_1/r0 $tpg/lun/lun_1/r0"
SG_RAM=$(scsi_dev_for_lun 0 scsi_generic) || { fail "no sg device for LUN 0"; finish; }
SG_RD=$(scsi_sg_for_lun 1 LIO-ORG) || { fail "no sg device for LUN 1"; finish; }
sg_turs "$SG_RAM" >/dev/null 2>&1
sg_turs "$SG_RD" >/dev/null 2>&1

# Known blocks: LBA 0 = pattern A, LBAs 1..7 = 0xee (what a stale data area
# would leak).
head -c 512 /dev/urandom >/tmp/a.bin
{ cat /tmp/a.bin; head -c $((7 * 512)) /dev/zero | tr '\0' '\356'; } >/tmp/blocks.bin
for sg in "$SG_RAM" "$SG_RD"; do
	check "write 8 blocks to $sg" sg_dd if=/tmp/blocks.bin of="$sg" bs=512 count=8 2>/dev/null
done
# Fill the data area with the 0xee blocks first, then read one block.
for sg in "$SG_RAM" "$SG_RD"; do
	name=$([ "$sg" = "$SG_RAM" ] && echo user:ram || echo rd_mcp)
	sg_raw -r 4096 -o /tmp/stale.bin "$sg" 28 00 00 00 00 01 00 00 07 00 >/dev/null 2>&1
	out=$(sg_raw -v -r 4096 -o /tmp/one.bin "$sg" 28 00 00 00 00 00 00 00 01 00 2>&1)
	echo "== $name: sg_raw of 1 block into 4096 bytes:"; echo "$out" | tail -12
	check "$name: READ(10) 1 block into 4096 bytes: 512 received (residual 3584)" \
		grep -qE 'Writing 512 bytes of data' <<<"$out"
	check "$name: the 512 bytes are block 0" cmp -n 512 /tmp/one.bin /tmp/a.bin
	check "$name: nothing past them came back" test "$(stat -c %s /tmp/one.bin)" -le 512
	out=$(sg_raw -v -r 1024 -o /tmp/short.bin "$sg" 28 00 00 00 00 00 00 00 04 00 2>&1)
	rc=$?
	echo "== $name: sg_raw of 4 blocks into 1024 bytes (exit $rc):"; echo "$out" | tail -8
	if [ "$sg" = "$SG_RD" ]; then
		# LIO's core refuses it for its own backstores over tcm_loop (a
		# size mismatch on a data CDB); TCMU passes it through to us.
		echo "rd_mcp over tcm_loop: exit $rc (reference only)"
		continue
	fi
	check "$name: READ(10) 4 blocks into 1024 bytes: GOOD (sg_raw exit $rc)" test "$rc" -eq 0
	check "$name: the 1024 bytes that fit" cmp -n 1024 /tmp/short.bin /tmp/blocks.bin
done
finish
