#!/bin/bash
# targetcli changemedium on a user:file backstore (D-Bus ChangeMedium,
# which tcmu-runner never implemented): a LUN exported through tcm_loop
# moves to another file of another size; the initiator gets a unit
# attention, sees the new size after a rescan and reads and writes the new
# file; the old file is left alone; bad requests are refused with the
# handler's reason and the LUN keeps its medium.
set -u
. "$(dirname "$0")/../lib/lib-targetcli.sh"
BS=/backstores/user:file

check "vhostio installed, system bus restarted" tcli_bus_setup || finish
check "no runner before targetcli runs" test -z "$(runner_pids)"

say "user:file m0 (32 MiB) on $LUN_DIR/m0.img, LUN 0"
check "create m0" bs_create file m0 32M
check "the runner was started by the bus" runner_by_bus
check "loopback target" tcli /loopback create "$LOOP_NAA"
check "LUN 0 -> m0" tcli "/loopback/$LOOP_NAA/luns" create "$BS/m0"
SD=$(loop_dev "$LOOP_NAA" 0 block) || { fail "no block device"; finish; }
SG=$(loop_dev "$LOOP_NAA" 0 scsi_generic) || { fail "no sg device"; finish; }
sg_turs "$SG" >/dev/null 2>&1 # LIO's "reported LUNs data has changed"
printf 'vhostio-medium-A' >"$DATA_DIR/a"
check "mark the old medium" dd if="$DATA_DIR/a" of="$SD" bs=512 conv=sync oflag=direct status=none
check "READ CAPACITY: 32 MiB" readcap_is "$SG" $((32 * MB))

say "a second file, 64 MiB, marked B"
NEW=$LUN_DIR/m1.img
truncate -s $((64 * MB)) "$NEW"
printf 'vhostio-medium-B' | dd of="$NEW" conv=notrunc status=none

say "bad requests are refused, the medium stays"
tcli_refused "missing file" \
	"ChangeMedium failed: .*file '$LUN_DIR/nosuch.img': No such file or directory (add ';create' to create it)" \
	"$BS" changemedium m0 64M "$LUN_DIR/nosuch.img"
tcli_refused "unknown option" "ChangeMedium failed: .*unknown file option 'bogus'" \
	"$BS" changemedium m0 64M "$NEW;bogus"
tcli_refused "no such backstore" "ChangeMedium failed" "$BS" changemedium nosuch 64M "$NEW"
check "configfs still has the old config" grep -q "Config: file/$LUN_DIR/m0.img;create" "$CFS"/core/user_*/m0/info
check "still no unit attention" sg_turs "$SG"
check "old medium still served" grep -q vhostio-medium-A <(dd if="$SD" bs=512 count=1 iflag=direct status=none)

say "changemedium m0 64M $NEW"
check "targetcli changemedium" tcli "$BS" changemedium m0 64M "$NEW"
check "targetcli says Medium Changed." out_has "Medium Changed."
check "configfs: new config" grep -Eq "Config: file/$NEW( |$)" "$CFS"/core/user_*/m0/info
check "configfs: new size" grep -q "Size: $((64 * MB))" "$CFS"/core/user_*/m0/info
check "uio name follows" grep -q "file/$NEW" /sys/class/uio/uio*/name
out=$(sg_cmd "$SG" 00 00 00 00 00 00)
check "next command: UNIT ATTENTION (medium or capacity changed)" \
	grep -Eqi "medium may have changed|capacity data has changed" <<<"$out" || echo "$out"
sg_turs "$SG" >/dev/null 2>&1 || sg_turs "$SG" >/dev/null 2>&1 # a second UA, if any
check "READ CAPACITY: 64 MiB" readcap_is "$SG" $((64 * MB))
check "initiator rescan" scsi_rescan "$SD"
check "block device is 64 MiB after rescan" block_size_is "$SD" $((64 * MB))
echo 3 >/proc/sys/vm/drop_caches
check "the LUN reads the new file" grep -q vhostio-medium-B <(dd if="$SD" bs=512 count=1 iflag=direct status=none)
head -c $MB /dev/urandom >"$DATA_DIR/tail"
check "write the last MiB (beyond the old size)" dd if="$DATA_DIR/tail" of="$SD" bs=1M seek=63 oflag=direct status=none
check "it landed in the new file" cmp <(dd if="$NEW" bs=1M skip=63 count=1 status=none) "$DATA_DIR/tail"
check "the old file is untouched: 32 MiB" test "$(stat -c %s "$LUN_DIR/m0.img")" = $((32 * MB))
check "the old file keeps its mark" grep -q vhostio-medium-A <(head -c 512 "$LUN_DIR/m0.img")
check "ls shows the new medium" tcli ls "$BS/m0"
check "ls: $NEW (64.0MiB)" out_has "\[$NEW (64.0MiB) activated\]"
check "fio verify on the new medium (16 MiB)" fio_verify "$SD" 16

say "delete"
check "delete LUN 0" tcli "/loopback/$LOOP_NAA/luns" delete lun0
check "delete the loopback target" tcli /loopback delete "$LOOP_NAA"
check "delete m0" tcli "$BS" delete m0
check "no uio device left" test -z "$(ls /sys/class/uio/)"
check "same runner still serving" runner_by_bus
finish
