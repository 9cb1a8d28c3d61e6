#!/bin/bash
# targetcli end to end, one backstore through two fabrics: created with
# targetcli (the runner started by D-Bus activation), exported through
# tcm_loop and through an iSCSI target that open-iscsi logs in to on
# 127.0.0.1, fio-verified on both, then the LUNs and the backstore deleted.
# Usage: targetcli-iscsi.sh ram|file  (fileio|ramdisk: kernel backstores,
# for telling environment problems from vhostio ones)
set -u
. "$(dirname "$0")/../lib/lib-targetcli.sh"
KIND=${1:?kind}
BS=$(bs_path "$KIND")/lun0
case $KIND in ram | file) USER_BS=1 ;; *) USER_BS=0 ;; esac

check "vhostio installed, system bus restarted" tcli_bus_setup || finish
check "no runner before targetcli runs" test -z "$(runner_pids)"

say "create $BS (64 MiB)"
check "targetcli creates $BS" bs_create "$KIND" lun0 64M
if [ "$USER_BS" = 1 ]; then
	check "the runner was started by the bus" runner_by_bus
	check "configfs: dev_config is $KIND/..." grep -q "Config: $KIND/" "$CFS"/core/user_*/lun0/info
fi

say "tcm_loop"
check "loopback target" tcli /loopback create "$LOOP_NAA"
check "loopback LUN 0" tcli "/loopback/$LOOP_NAA/luns" create "$BS"
LSD=$(loop_dev "$LOOP_NAA" 0 block) || { fail "no tcm_loop block device"; finish; }
echo "tcm_loop LUN 0 is $LSD"
[ "$USER_BS" = 1 ] && check "INQUIRY vendor is VHOSTIO" vendor_is "$LSD" VHOSTIO
check "READ CAPACITY: 64 MiB" readcap_is "$LSD" $((64 * MB))
check "fio verify through tcm_loop (32 MiB)" fio_verify "$LSD" 32
head -c $((4 * MB)) /dev/urandom >"$DATA_DIR/mark"
check "write 4 MiB at 48 MiB through tcm_loop" \
	dd if="$DATA_DIR/mark" of="$LSD" bs=1M seek=48 oflag=direct status=none

say "iSCSI on $PORTAL"
check "iscsid started" iscsi_start
check "iSCSI target with LUN 0 and an ACL for $INI_IQN" iscsi_target_create "$BS"
check "portal 0.0.0.0:3260 listed" grep -q "0.0.0.0:3260" <<<"$(targetcli ls "/iscsi/$TGT_IQN/tpg1/portals" 2>&1)"
check "discovery and login" iscsi_login
ISD=$(iscsi_dev 0) || {
	fail "no sd device for the iSCSI session"
	iscsiadm -m session -P3
	finish
}
echo "iSCSI LUN 0 is $ISD"
check "session listed" grep -q "$TGT_IQN" <<<"$(iscsiadm -m session 2>&1)"
[ "$USER_BS" = 1 ] && check "iSCSI INQUIRY vendor is VHOSTIO" vendor_is "$ISD" VHOSTIO
check "iSCSI disk is 64 MiB" block_size_is "$ISD" $((64 * MB))
check "iSCSI reads what tcm_loop wrote" \
	cmp <(dd if="$ISD" bs=1M skip=48 count=4 iflag=direct status=none) "$DATA_DIR/mark"
check "fio verify through iSCSI (32 MiB)" fio_verify "$ISD" 32
head -c $((2 * MB)) /dev/urandom >"$DATA_DIR/mark2"
check "write 2 MiB at 60 MiB through iSCSI" \
	dd if="$DATA_DIR/mark2" of="$ISD" bs=1M seek=60 oflag=direct status=none
check "tcm_loop reads what iSCSI wrote" \
	cmp <(dd if="$LSD" bs=1M skip=60 count=2 iflag=direct status=none) "$DATA_DIR/mark2"

say "delete: LUNs, targets, backstore"
check "iSCSI logout" iscsi_logout
check "no session left" test -z "$(ls /sys/class/iscsi_session/ 2>/dev/null)"
check "targetcli deletes the iSCSI LUN" tcli "/iscsi/$TGT_IQN/tpg1/luns" delete lun0
check "targetcli deletes the iSCSI target" tcli /iscsi delete "$TGT_IQN"
check "targetcli deletes the tcm_loop LUN" tcli "/loopback/$LOOP_NAA/luns" delete lun0
gone() { local i; for i in $(seq 1 50); do [ -e "$1" ] || return 0; sleep 0.1; done; return 1; }
check "$LSD went away" gone "/sys/class/block/${LSD#/dev/}"
check "targetcli deletes the loopback target" tcli /loopback delete "$LOOP_NAA"
check "targetcli deletes the backstore" tcli "$(bs_path "$KIND")" delete lun0
check "configfs has no lun0" test -z "$(ls -d "$CFS"/core/*/lun0 2>/dev/null)"
if [ "$USER_BS" = 1 ]; then
	check "no uio device left" test -z "$(ls /sys/class/uio/ 2>/dev/null)"
	check "runner still running" kill -0 "$RUNNER_PID"
	tcli ls "$(bs_path "$KIND")"
	check "targetcli lists no storage object" out_has "Storage Objects: 0"
fi
finish
