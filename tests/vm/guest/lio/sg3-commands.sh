#!/bin/bash
# The SPC-4/SBC-3 emulation as a real initiator sees it through LIO: every
# VPD page, READ CAPACITY(16) provisioning bits, mode pages, UNMAP, WRITE
# SAME (with and without UNMAP), COMPARE AND WRITE (match and miscompare),
# VERIFY, GET LBA STATUS and REPORT SUPPORTED OPERATION CODES, asserting on
# the data each returns.  Usage: sg3-commands.sh ram|file
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
HANDLER=${1:?handler}
MB=$((1 << 20))
SIZE=$((64 * MB))
BS=512

runner_start || { fail "runner start"; finish; }
CFG=$(backstore_config "$HANDLER" lun0)
check "user_1/lun0 ($CFG) enabled" user_backstore_create 1 lun0 "$CFG" $SIZE 7c1f0e2a-9d3b-4c5e-8f60-112233445566
check "LUN 0 -> lun0" loop_lun_add 0 1 lun0
SG=$(scsi_dev_for_lun 0 scsi_generic) || { fail "no sg device"; finish; }
SD=$(scsi_dev_for_lun 0 block) || { fail "no block device"; finish; }
sg_turs "$SG" >/dev/null 2>&1
# read_blocks LBA COUNT: the LUN's bytes, bypassing the page cache.
read_blocks() { sg_dd if="$SG" bs=$BS skip="$1" count="$2" of=/dev/stdout 2>/dev/null; }
pattern() { # pattern SEED BYTES
	openssl enc -aes-128-ctr -nosalt -pass pass:"$1" -pbkdf2 </dev/zero 2>/dev/null | head -c "$2"
}

say "INQUIRY: every VPD page"
sv=$(sg_vpd -p sv "$SG")
echo "$sv"
for page in sn di bl bdc lbpv; do
	check "VPD 0x00 lists page [$page]" grep -qF "[$page]" <<<"$sv"
done
check "VPD 0x80 serial" grep -q "Unit serial number: 7c1f0e2a-9d3b-4c5e-8f60-112233445566" <<<"$(sg_vpd -p sn "$SG")"
di=$(sg_vpd -p di "$SG")
echo "$di"
check "VPD 0x83 NAA 6 designator with LIO's OUI" grep -qi "0x6001405" <<<"$di"
check "VPD 0x83 T10 vendor id" grep -q "vendor specific: 7c1f0e2a" <<<"$di"
bl=$(sg_vpd -p bl "$SG")
echo "$bl"
check "VPD 0xb0 maximum transfer length" grep -Eq "Maximum transfer length: [1-9]" <<<"$bl"
check "VPD 0xb0 maximum unmap LBA count" grep -Eq "Maximum unmap LBA count: [1-9]" <<<"$bl"
check "VPD 0xb0 maximum unmap descriptor count" grep -Eq "Maximum unmap block descriptor count: [1-9]" <<<"$bl"
check "VPD 0xb0 maximum compare and write length" grep -Eq "Maximum compare and write length: [1-9]" <<<"$bl"
check "VPD 0xb0 maximum write same length" grep -Eq "Maximum write same length: (0x)?[1-9a-f]" <<<"$bl"
bdc=$(sg_vpd -p bdc "$SG")
echo "$bdc" | head -4
check "VPD 0xb1 non-rotating medium" grep -qi "non-rotating" <<<"$bdc"
lbpv=$(sg_vpd -p lbpv "$SG")
echo "$lbpv"
check "VPD 0xb2 LBPU=1" grep -q "(LBPU): 1" <<<"$lbpv"
check "VPD 0xb2 LBPWS=1" grep -q "(LBPWS): 1" <<<"$lbpv"
check "VPD 0xb2 LBPRZ" grep -Eq "LBPRZ\): [1-7]" <<<"$lbpv"
check "VPD 0xb2 thin provisioning" grep -qi "thin" <<<"$lbpv"

say "READ CAPACITY(16) and MODE SENSE"
rc16=$(sg_readcap -l "$SG")
echo "$rc16" | grep -i -E "provisioning|LBPME|LBPRZ"
check "LBPME=1" grep -qi "LBPME=1" <<<"$rc16"
check "LBPRZ=1" grep -qi "LBPRZ=1" <<<"$rc16"
check "size $SIZE" grep -q "Device size: $SIZE bytes" <<<"$rc16"
modes=$(sg_modes -a "$SG")
for name in "Read-Write error recovery" "Caching" "Control"; do
	check "mode page '$name'" grep -qi "$name" <<<"$modes"
done
check "MODE SENSE(10) works too" sg_modes -6 -p 8 "$SG"
check "sd parsed the caching page" grep -Eq "write (back|through)" /sys/class/scsi_disk/*/cache_type

say "UNMAP and GET LBA STATUS"
pattern one $((2 * MB)) >/tmp/p1
check "write 2 MiB at LBA 8192" sg_dd if=/tmp/p1 of="$SG" bs=$BS seek=8192 count=4096 2>/dev/null
st=$(sg_get_lba_status -b --lba=8192 "$SG")
echo "GET LBA STATUS @8192: $st"
check "GET LBA STATUS: LBA 8192 is mapped" grep -Eq "^0x0*2000 +[0-9a-fx]+ +0" <<<"$st"
check "sg_unmap 1 MiB at LBA 8192" sg_unmap --force --lba=8192 --num=2048 "$SG"
check "unmapped blocks read as zeroes" cmp <(read_blocks 8192 2048) <(head -c $MB /dev/zero)
check "the second MiB is untouched" cmp <(read_blocks 10240 2048) <(tail -c $MB /tmp/p1)
st=$(sg_get_lba_status -b --lba=8192 "$SG")
echo "GET LBA STATUS @8192 after unmap: $st"
check "GET LBA STATUS: LBA 8192 is deallocated" grep -Eq "^0x0*2000 +[0-9a-fx]+ +1" <<<"$st"
check "sg_unmap with two descriptors" sg_unmap --force --lba=10240,11264 --num=8,8 "$SG"
check "both ranges read as zeroes" cmp <(read_blocks 10240 8; read_blocks 11264 8) <(head -c $((16 * BS)) /dev/zero)
check "between them the data is kept" cmp <(read_blocks 10248 1016) <(tail -c $MB /tmp/p1 | head -c $((1024 * BS)) | tail -c $((1016 * BS)))
out=$(sg_unmap --force --lba=$((SIZE / BS - 8)) --num=16 "$SG" 2>&1)
check "UNMAP past the end: LBA out of range" grep -qi "out of range" <<<"$out"

say "WRITE SAME"
pattern blk $BS >/tmp/blk
check "WRITE SAME(16) a pattern over 1000 blocks" sg_write_same --16 --lba=20000 --num=1000 --in=/tmp/blk "$SG"
check "every block carries the pattern" cmp <(read_blocks 20000 1000) <(for i in $(seq 1000); do cat /tmp/blk; done)
check "the block after is not touched" cmp <(read_blocks 21000 1) <(head -c $BS /dev/zero)
check "WRITE SAME(10) a pattern" sg_write_same --10 --lba=30000 --num=8 --in=/tmp/blk "$SG"
check "WRITE SAME(10) data" cmp <(read_blocks 30000 8) <(for i in $(seq 8); do cat /tmp/blk; done)
head -c $BS /dev/zero >/tmp/zblk
check "WRITE SAME(16) --unmap of zeroes over the pattern" sg_write_same --16 --unmap --lba=20000 --num=1000 --in=/tmp/zblk "$SG"
check "it reads as zeroes" cmp <(read_blocks 20000 1000) <(head -c $((1000 * BS)) /dev/zero)
st=$(sg_get_lba_status -b --lba=20480 "$SG")
check "... and is deallocated (GET LBA STATUS @20480: $st)" grep -Eq "^0x0*5000 +[0-9a-fx]+ +1" <<<"$st"
out=$(sg_write_same --16 --lba=$((SIZE / BS - 4)) --num=8 --in=/tmp/blk "$SG" 2>&1)
check "WRITE SAME past the end: LBA out of range" grep -qi "out of range" <<<"$out"

say "COMPARE AND WRITE"
pattern old $BS >/tmp/old
pattern new $BS >/tmp/new
check "write a known block at LBA 40000" sg_dd if=/tmp/old of="$SG" bs=$BS seek=40000 count=1 2>/dev/null
cat /tmp/old /tmp/new >/tmp/caw
check "COMPARE AND WRITE with matching data succeeds" sg_compare_and_write --lba=40000 --num=1 --in=/tmp/caw "$SG"
check "the new block is written" cmp <(read_blocks 40000 1) /tmp/new
# Compare data that differs from byte 100 on.
{ head -c 100 /tmp/new; head -c $((BS - 100)) /dev/zero; } >/tmp/cmp_bad
cat /tmp/cmp_bad /tmp/old >/tmp/caw_bad
rc=0
out=$(sg_compare_and_write -v --lba=40000 --num=1 --in=/tmp/caw_bad "$SG" 2>&1) || rc=$?
echo "$out" | grep -i -E "miscompare|info" | head -4
check "a miscompare: exit status 14 (got $rc)" test "$rc" -eq 14
check "the miscompare sense names offset 100" grep -Eqi "info(rmation)?[^0-9]*(0x)?0*64\b|Information.*100" <<<"$out"
check "nothing was written on a miscompare" cmp <(read_blocks 40000 1) /tmp/new

say "VERIFY"
check "VERIFY(10) BYTCHK=0" sg_verify --lba=40000 --count=16 "$SG"
check "VERIFY(16) BYTCHK=1 matching data" sg_verify --16 --lba=40000 --count=1 --ndo=$BS --in=/tmp/new "$SG"
rc=0
sg_verify -q --lba=40000 --count=1 --ndo=$BS --in=/tmp/old "$SG" 2>/dev/null || rc=$?
check "VERIFY BYTCHK=1 of other data: miscompare, exit 14 (got $rc)" test "$rc" -eq 14
out=$(sg_verify --lba=$((SIZE / BS)) --count=1 "$SG" 2>&1)
check "VERIFY past the end: LBA out of range" grep -qi "out of range" <<<"$out"
# No VERIFY longer than Block Limits' MAXIMUM TRANSFER LENGTH: one CDB must
# not read the whole LUN unabortably.
MAXLEN=$(sed -n 's/.*Maximum transfer length: \([0-9]*\).*/\1/p' <<<"$bl" | head -1)
rc=0
out=$(sg_verify -v --lba=0 --count=$((MAXLEN + 1)) --bpc=$((MAXLEN + 1)) "$SG" 2>&1) || rc=$?  # one command
echo "$out"
check "VERIFY of MAXIMUM TRANSFER LENGTH + 1 ($((MAXLEN + 1)) blocks): ILLEGAL REQUEST, exit 5 (got $rc)" test "$rc" -eq 5
check "... INVALID FIELD IN CDB" grep -qi "invalid field in cdb" <<<"$out"
check "VERIFY of MAXIMUM TRANSFER LENGTH ($MAXLEN blocks) is served" sg_verify --lba=0 --count="$MAXLEN" --bpc="$MAXLEN" "$SG"

say "REPORT SUPPORTED OPERATION CODES"
ops=$(sg_opcodes "$SG")
echo "$ops" | head -40
for name in "Inquiry" "Read(10)" "Write(16)" "Unmap" "Compare and write" "Write same(16)" "Verify(16)" "Get LBA status" "Synchronize cache(10)" "Mode select(10)" "Report supported operation codes"; do
	check "sg_opcodes lists '$name'" grep -qiF "$name" <<<"$ops"
done
one=$(sg_opcodes -o 0x89 "$SG")
echo "$one"
check "one-command format for COMPARE AND WRITE: supported, 16-byte CDB" grep -qi "supported" <<<"$one"
check "... with a usage map" grep -Eqi "usage|89 " <<<"$one"
out=$(sg_opcodes -o 0xc5 "$SG" 2>&1)
echo "$out" | head -3
check "one-command format for an unknown opcode: not supported" grep -qi "not supported" <<<"$out"

teardown_and_finish 1 lun0 0
