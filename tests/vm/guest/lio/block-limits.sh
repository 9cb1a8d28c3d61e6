#!/bin/bash
# The Block Limits (VPD B0) and Logical Block Provisioning (VPD B2) pages
# and READ CAPACITY(16)'s provisioning bits of user:ram and user:file LUNs
# with 512-byte blocks and a user:ram LUN with 4 KiB blocks, as the real
# kernel passes them on, checked field by field against what
# doc/architecture.md ("Block Limits") documents; the queue limits Linux's
# sd derives from them; and the limits enforced exactly at the boundary:
# UNMAP of MAXIMUM UNMAP LBA COUNT blocks (in one descriptor and summed over
# two) and of MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT descriptors is served, one
# block or one descriptor more is refused with ILLEGAL REQUEST, INVALID
# FIELD IN PARAMETER LIST and the field pointer on the offending field, and
# nothing is unmapped; WRITE SAME likewise at MAXIMUM WRITE SAME LENGTH
# (INVALID FIELD IN CDB). LIO's fileio backstore (emulate_tpu=1) in the same
# VM is printed beside ours for the record.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
TPG=$CFS/loopback/$LOOP_WWN/tpgt_1
GIB=$((1 << 30))
MAX_DESC=256

say "backstores"
runner_start --no-dbus || { fail "runner start"; finish; }
# 1 GiB (sparse) so that an UNMAP of 2^20 + 1 blocks of 512 bytes is inside the LUN.
check "user_1/ram0 enabled" user_backstore_create 1 ram0 ram/ram0 $GIB
check "user_1/file0 enabled" user_backstore_create 1 file0 "$(backstore_config file file0)" $GIB
d=$CFS/core/user_1/ram4k
check "user_1/ram4k (hw_block_size=4096) enabled" sh -c "mkdir -p $d && echo -n dev_config=ram/ram4k >$d/control &&
	echo -n dev_size=$((GIB + (1 << 20))) >$d/control && echo -n hw_block_size=4096 >$d/control && echo -n 1 >$d/enable"
# LIO's own file backstore with UNMAP, the reference. Its VPD pages are
# listed only once it has a unit serial (as rtslib gives it).
f=$CFS/core/fileio_1/f0
truncate -s $((64 << 20)) /tmp/bl-f0.img
check "fileio_1/f0 (emulate_tpu=1, emulate_tpws=1) enabled" sh -c "mkdir -p $f &&
	echo -n fd_dev_name=/tmp/bl-f0.img,fd_dev_size=$((64 << 20)) >$f/control && echo -n 1 >$f/enable &&
	echo -n 1 >$f/attrib/emulate_tpu && echo -n 1 >$f/attrib/emulate_tpws &&
	echo -n 5e2a0c11-0000-4000-8000-00000000b10c >$f/wwn/vpd_unit_serial"
for b in 0:user_1/ram0 1:user_1/file0 2:user_1/ram4k 3:fileio_1/f0; do
	lun=${b%%:*} bs_path=${b#*:}
	check "LUN $lun -> $bs_path" sh -c "mkdir -p $TPG/lun/lun_$lun &&
		{ [ -n \"\$(cat $TPG/nexus 2>/dev/null)\" ] || echo -n naa.50014050000000a2 >$TPG/nexus; } &&
		ln -s $CFS/core/$bs_path $TPG/lun/lun_$lun/${bs_path##*/}"
done
SG_RAM=$(scsi_sg_for_lun 0 VHOSTIO) || fail "no sg device for LUN 0"
SG_FILE=$(scsi_sg_for_lun 1 VHOSTIO) || fail "no sg device for LUN 1"
SG_4K=$(scsi_sg_for_lun 2 VHOSTIO) || fail "no sg device for LUN 2"
SG_LIO=$(scsi_sg_for_lun 3 LIO-ORG) || fail "no sg device for LUN 3"
[ "$failures" -eq 0 ] || finish
# Each link raised REPORTED LUNS DATA HAS CHANGED on the LUNs before it; once
# they are consumed, a rescan has sd read every page afresh.
for sg in "$SG_RAM" "$SG_FILE" "$SG_4K" "$SG_LIO"; do
	for i in 1 2 3 4 5 6 7 8; do sg_turs "$sg" >/dev/null 2>&1 && break; done
	echo 1 >"/sys/class/scsi_generic/${sg#/dev/}/device/rescan"
done

# ---- helpers: raw pages, big-endian fields, parameter lists ----

# hexpage SG CDB...: the data-in of a CDB as one hex string (HEX).
HEX=
hexpage() {
	local sg=$1
	shift
	HEX=
	sg_raw -r 252 -o /tmp/bl-page.bin "$sg" "$@" >/dev/null 2>&1 || return 1
	HEX=$(od -An -tx1 -v /tmp/bl-page.bin)
	HEX=${HEX//[$' \n']/}
}
# be OFFSET LEN: the big-endian number at OFFSET of HEX (builtins only: under
# TCG every exec costs a few hundred ms).
be() {
	local h=${HEX:$((2 * $1)):$((2 * $2))}
	echo $((16#${h:-0}))
}
# queue SG NAME: /sys/block/<sd>/queue/NAME of the sg device's disk.
queue() { cat /sys/class/scsi_generic/"${1#/dev/}"/device/block/*/queue/"$2"; }
prov_mode() { cat /sys/class/scsi_generic/"${1#/dev/}"/device/scsi_disk/*/provisioning_mode; }
# UNMAP parameter list into FILE from LBA NUM pairs (built with builtins only).
BUF=
put_be() {
	local i b
	for ((i = $2 - 1; i >= 0; i--)); do
		printf -v b '\\x%02x' $((($1 >> (8 * i)) & 255))
		BUF+=$b
	done
}
unmap_list() {
	local file=$1 n
	shift
	n=$(($# / 2))
	BUF=
	put_be $((6 + 16 * n)) 2
	put_be $((16 * n)) 2
	put_be 0 4
	while (($#)); do
		put_be "$1" 8
		put_be "$2" 4
		put_be 0 4
		shift 2
	done
	printf "$BUF" >"$file"
}
# unmap SG FILE: UNMAP with FILE as its parameter list; sg_raw's report.
unmap() {
	local len
	len=$(stat -c %s "$2")
	sg_raw -s "$len" -i "$2" "$1" 42 00 00 00 00 00 00 $(printf '%02x %02x' $((len >> 8)) $((len & 255))) 00 2>&1
}
# write_same_unmap SG LBA BLOCKS: WRITE SAME(16) with UNMAP and NDOB.
write_same_unmap() {
	local lba num
	lba=$(printf '%016x' "$2" | sed 's/../& /g')
	num=$(printf '%08x' "$3" | sed 's/../& /g')
	sg_raw "$1" 93 09 $lba $num 00 00 2>&1
}
good() { grep -q "SCSI Status: Good" <<<"$1"; }
# refused OUTPUT ASC-TEXT WHERE BYTE: ILLEGAL REQUEST, that additional sense,
# and the field pointer (WHERE: "Data parameters" or "Command") on BYTE.
refused() {
	grep -q "Check Condition" <<<"$1" && grep -qi "Sense key: Illegal Request" <<<"$1" &&
		grep -qi "Additional sense: $2" <<<"$1" && grep -Eq "Error in $3: byte $4( |$)" <<<"$1"
}
# block_is SG BS LBA FILE: the block at LBA equals FILE.
block_is() { cmp -s <(sg_dd if="$1" bs="$2" skip="$3" count=1 of=/dev/stdout 2>/dev/null) "$4"; }

# ---- the pages ----

# fields SG: every Block Limits field, B2's flags, READ CAPACITY(16)'s, and
# the queue limits Linux derived, as NAME=VALUE lines.
fields() {
	local v q
	hexpage "$1" 12 01 b0 00 fc 00 || echo "b0=failed"
	echo "b0_page_length=$(be 2 2)"
	echo "wsnz=$(($(be 4 1) & 1))"
	echo "max_compare_and_write=$(be 5 1)"
	echo "opt_transfer_granularity=$(be 6 2)"
	echo "max_transfer_length=$(be 8 4)"
	echo "opt_transfer_length=$(be 12 4)"
	echo "max_prefetch_length=$(be 16 4)"
	echo "max_unmap_lba_count=$(be 20 4)"
	echo "max_unmap_descriptors=$(be 24 4)"
	echo "opt_unmap_granularity=$(be 28 4)"
	v=$(be 32 4)
	echo "ugavalid=$((v >> 31))"
	echo "unmap_granularity_alignment=$((v & 0x7fffffff))"
	echo "max_write_same_length=$(be 36 8)"
	v=${HEX:88:40}
	v=${v//0/}
	echo "atomic_fields_44_63=${v:-0}"
	hexpage "$1" 12 01 b2 00 fc 00 || echo "b2=failed"
	echo "b2_page_length=$(be 2 2)"
	v=$(be 5 1)
	echo "lbpu=$((v >> 7 & 1))"
	echo "lbpws=$((v >> 6 & 1))"
	echo "lbpws10=$((v >> 5 & 1))"
	echo "lbprz=$((v >> 2 & 7))"
	echo "anc_sup=$((v >> 1 & 1))"
	echo "dp=$((v & 1))"
	echo "provisioning_type=$(($(be 6 1) & 7))"
	hexpage "$1" 9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00 || echo "rc16=failed"
	echo "rc16_block_length=$(be 8 4)"
	v=$(be 14 1)
	echo "rc16_lbpme=$((v >> 7))"
	echo "rc16_lbprz=$((v >> 6 & 1))"
	echo "rc16_lbppbe=$(($(be 13 1) & 15))"
	echo "rc16_lowest_aligned=$(($(be 14 2) & 0x3fff))"
	for q in max_sectors_kb optimal_io_size discard_max_bytes discard_granularity write_zeroes_max_bytes; do
		echo "queue/$q=$(queue "$1" $q)"
	done
	echo "provisioning_mode=$(prov_mode "$1")"
}
# The values by "LABEL.NAME", and the names in order.
declare -A V
NAMES=()
load() {
	local k v
	while IFS='=' read -r k v; do
		[ "$1" = ram ] && NAMES+=("$k")
		V[$1.$k]=$v
	done < <(fields "$2")
}
load ram "$SG_RAM"
load file "$SG_FILE"
load 4k "$SG_4K"
load lio "$SG_LIO"
say "what each LUN advertises, and what Linux made of it"
printf '%-28s %-11s %-11s %-13s %s\n' field user:ram user:file user:ram-4k lio-fileio-tpu
for k in "${NAMES[@]}"; do
	printf '%-28s %-11s %-11s %-13s %s\n' "$k" "${V[ram.$k]:--}" "${V[file.$k]:--}" "${V[4k.$k]:--}" "${V[lio.$k]:--}"
done
for a in hw_max_sectors optimal_sectors max_unmap_lba_count max_unmap_block_desc_count unmap_granularity \
	max_write_same_len unmap_zeroes_data; do
	echo "lio-fileio attrib/$a=$(cat $f/attrib/$a)"
done

# has LABEL NAME VALUE
has() { [ "${V[$1.$2]-}" = "$3" ]; }
# expect KEY LABEL BS HW_MAX_SECTORS: the documented values.
expect() {
	local key=$1 l=$2 bs=$3 mtl=$4 unmap ws caw kv
	ws=$((GIB / bs))
	unmap=$((ws < (1 << 20) ? ws : (1 << 20)))
	caw=$((mtl / 2 > 255 ? 255 : mtl / 2))
	for kv in b0_page_length=60 wsnz=1 max_compare_and_write=$caw opt_transfer_granularity=1 \
		max_transfer_length=$mtl opt_transfer_length=$mtl max_prefetch_length=0 \
		max_unmap_lba_count=$unmap max_unmap_descriptors=$MAX_DESC opt_unmap_granularity=1 ugavalid=0 \
		unmap_granularity_alignment=0 max_write_same_length=$ws atomic_fields_44_63=0 \
		b2_page_length=4 lbpu=1 lbpws=1 lbpws10=1 lbprz=1 anc_sup=0 dp=0 provisioning_type=2 \
		rc16_block_length=$bs rc16_lbpme=1 rc16_lbprz=1 rc16_lbppbe=0 rc16_lowest_aligned=0; do
		check "$l: ${kv%%=*} = ${kv#*=}" has "$key" "${kv%%=*}" "${kv#*=}"
	done
	# Linux's sd (6.1): discard by UNMAP, as large as MAXIMUM UNMAP LBA COUNT,
	# as fine as OPTIMAL UNMAP GRANULARITY (at least the block); write zeroes
	# by WRITE SAME up to its maximum; requests cut at OPTIMAL TRANSFER LENGTH.
	check "$l: Linux provisioning_mode unmap" has "$key" provisioning_mode unmap
	check "$l: Linux discard_max_bytes = $unmap * $bs" has "$key" queue/discard_max_bytes $((unmap * bs))
	check "$l: Linux discard_granularity = $bs" has "$key" queue/discard_granularity "$bs"
	check "$l: Linux write_zeroes_max_bytes = $ws * $bs" has "$key" queue/write_zeroes_max_bytes $((ws * bs))
	check "$l: Linux optimal_io_size = $mtl * $bs" has "$key" queue/optimal_io_size $((mtl * bs))
	check "$l: Linux max_sectors_kb = $mtl * $bs / 1024" has "$key" queue/max_sectors_kb $((mtl * bs / 1024))
}
say "the documented values"
expect ram user:ram 512 "$(cat $CFS/core/user_1/ram0/attrib/hw_max_sectors)"
expect file user:file 512 "$(cat $CFS/core/user_1/file0/attrib/hw_max_sectors)"
expect 4k "user:ram 4k" 4096 "$(cat $CFS/core/user_1/ram4k/attrib/hw_max_sectors)"

# boundaries SG LABEL BS: the limits enforced exactly where they are advertised.
boundaries() {
	local sg=$1 l=$2 bs=$3 max ws out mark=/tmp/bl-mark.bin i args
	max=${V[$4.max_unmap_lba_count]}
	ws=${V[$4.max_write_same_length]}
	head -c "$bs" /dev/urandom >$mark
	say "$l: UNMAP at MAXIMUM UNMAP LBA COUNT ($max)"
	# Marks on the last block a maximal UNMAP covers, the block after it, and LBA 0.
	for lba in 0 $((max - 1)) $max; do
		sg_dd if=$mark of="$sg" bs="$bs" seek=$lba count=1 2>/dev/null || fail "$l: write mark at $lba"
	done
	unmap_list /tmp/bl-u.bin 0 $((max + 1))
	out=$(unmap "$sg" /tmp/bl-u.bin)
	check "$l: one descriptor of $((max + 1)) blocks: refused, field pointer on its NUMBER OF LOGICAL BLOCKS" \
		refused "$out" "Invalid field in parameter list" "Data parameters" 16 || echo "$out"
	unmap_list /tmp/bl-u.bin 0 $((max / 2)) $((max / 2)) $((max / 2 + 1))
	out=$(unmap "$sg" /tmp/bl-u.bin)
	check "$l: two descriptors summing to $((max + 1)): refused at the second's NUMBER OF LOGICAL BLOCKS" \
		refused "$out" "Invalid field in parameter list" "Data parameters" 32 || echo "$out"
	check "$l: ... and nothing was unmapped" block_is "$sg" "$bs" 0 $mark
	unmap_list /tmp/bl-u.bin 0 "$max"
	out=$(unmap "$sg" /tmp/bl-u.bin)
	check "$l: one descriptor of exactly $max blocks: GOOD" good "$out" || echo "$out"
	check "$l: ... LBA 0 reads zeroes" block_is "$sg" "$bs" 0 <(head -c "$bs" /dev/zero)
	check "$l: ... LBA $((max - 1)) reads zeroes" block_is "$sg" "$bs" $((max - 1)) <(head -c "$bs" /dev/zero)
	check "$l: ... LBA $max is kept" block_is "$sg" "$bs" "$max" $mark

	say "$l: UNMAP at MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT ($MAX_DESC)"
	sg_dd if=$mark of="$sg" bs="$bs" seek=0 count=1 2>/dev/null || fail "$l: write mark at 0"
	args=()
	for ((i = 0; i <= MAX_DESC; i++)); do args+=($((8 * i)) 1); done
	unmap_list /tmp/bl-u.bin "${args[@]}"
	out=$(unmap "$sg" /tmp/bl-u.bin)
	check "$l: $((MAX_DESC + 1)) descriptors: refused, field pointer on the descriptor data length" \
		refused "$out" "Invalid field in parameter list" "Data parameters" 2 || echo "$out"
	check "$l: ... and nothing was unmapped" block_is "$sg" "$bs" 0 $mark
	unmap_list /tmp/bl-u.bin "${args[@]:0:$((2 * MAX_DESC))}"
	out=$(unmap "$sg" /tmp/bl-u.bin)
	check "$l: exactly $MAX_DESC descriptors: GOOD" good "$out" || echo "$out"
	check "$l: ... LBA 0 reads zeroes" block_is "$sg" "$bs" 0 <(head -c "$bs" /dev/zero)

	say "$l: WRITE SAME(16) UNMAP NDOB at MAXIMUM WRITE SAME LENGTH ($ws)"
	sg_dd if=$mark of="$sg" bs="$bs" seek=$((ws - 1)) count=1 2>/dev/null || fail "$l: write mark at $((ws - 1))"
	out=$(write_same_unmap "$sg" 0 $((ws + 1)))
	check "$l: $((ws + 1)) blocks: INVALID FIELD IN CDB on NUMBER OF LOGICAL BLOCKS" \
		refused "$out" "Invalid field in cdb" "Command" 10 || echo "$out"
	out=$(write_same_unmap "$sg" 0 "$ws")
	check "$l: exactly $ws blocks: GOOD" good "$out" || echo "$out"
	check "$l: ... LBA $((ws - 1)) reads zeroes now" block_is "$sg" "$bs" $((ws - 1)) <(head -c "$bs" /dev/zero)
}
boundaries "$SG_RAM" user:ram 512 ram
boundaries "$SG_FILE" user:file 512 file
boundaries "$SG_4K" "user:ram 4k" 4096 4k

say "Linux's own discard, cut at discard_max_bytes"
SD_RAM=/dev/$(basename /sys/class/scsi_generic/"${SG_RAM#/dev/}"/device/block/*)
check "blkdiscard of the whole 1 GiB user:ram LUN" blkdiscard "$SD_RAM"

say "READ beyond MAXIMUM TRANSFER LENGTH is served (see doc/architecture.md)"
mtl=${V[ram.max_transfer_length]}
n=$((mtl + 1))
out=$(sg_raw -r $((n * 512)) -o /dev/null "$SG_RAM" 88 00 00 00 00 00 00 00 00 00 $(printf '%08x' $n | sed 's/../& /g') 00 00 2>&1)
check "user:ram: READ(16) of $n blocks: GOOD" good "$out" || echo "$out"

say "LIO fileio (reference only): UNMAP of two descriptors"
unmap_list /tmp/bl-u.bin 0 8 100 8
unmap "$SG_LIO" /tmp/bl-u.bin | grep -iE "status|sense" | sed 's/^/  lio-fileio: /'

for lun in 0 1 2 3; do check "LUN $lun removed" loop_lun_remove $lun; done
for b in ram0 file0 ram4k; do check "user_1/$b removed" user_backstore_remove 1 $b; done
check "fileio_1/f0 removed" rmdir $f
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
finish
