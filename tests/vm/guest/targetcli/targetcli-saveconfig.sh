#!/bin/bash
# targetcli saveconfig / clearconfig / restoreconfig across a runner
# restart: a user:file and a user:ram backstore exported through tcm_loop,
# data written, the configuration saved (default file and an explicit one),
# cleared, the runner stopped; restoreconfig, as the first command after,
# activates a new runner through D-Bus and brings back the same LUNs: the
# file's data reads back, unit serials are the same, the RAM LUN comes back
# empty (its memory died with the runner), and sizes match.
set -u
. "$(dirname "$0")/../lib/lib-targetcli.sh"

check "vhostio installed, system bus restarted" tcli_bus_setup || finish
check "no runner before targetcli runs" test -z "$(runner_pids)"

say "set up: user:file s0 (64 MiB) as LUN 0, user:ram r0 (32 MiB) as LUN 1"
check "create user:file s0" bs_create file s0 64M
check "the runner was started by the bus" runner_by_bus
FIRST_PID=$RUNNER_PID
check "create user:ram r0" bs_create ram r0 32M "r0;chunk=4k"
check "loopback target" tcli /loopback create "$LOOP_NAA"
check "LUN 0 -> s0" tcli "/loopback/$LOOP_NAA/luns" create /backstores/user:file/s0 lun=0
check "LUN 1 -> r0" tcli "/loopback/$LOOP_NAA/luns" create /backstores/user:ram/r0 lun=1
SD0=$(loop_dev "$LOOP_NAA" 0 block) || { fail "no device for LUN 0"; finish; }
SD1=$(loop_dev "$LOOP_NAA" 1 block) || { fail "no device for LUN 1"; finish; }
echo "LUN 0 is $SD0, LUN 1 is $SD1"
WWID0=$(cat "/sys/class/block/${SD0#/dev/}/device/wwid")
WWID1=$(cat "/sys/class/block/${SD1#/dev/}/device/wwid")
echo "wwids: $WWID0 / $WWID1"
head -c $((8 * MB)) /dev/urandom >"$DATA_DIR/s0.bin"
head -c $((4 * MB)) /dev/urandom >"$DATA_DIR/r0.bin"
check "write 8 MiB at 8 MiB to s0" dd if="$DATA_DIR/s0.bin" of="$SD0" bs=1M seek=8 oflag=direct status=none
check "write 4 MiB to r0" dd if="$DATA_DIR/r0.bin" of="$SD1" bs=1M oflag=direct status=none
check "r0 holds it" cmp <(dd if="$SD1" bs=1M count=4 iflag=direct status=none) "$DATA_DIR/r0.bin"

say "saveconfig"
check "saveconfig (default file)" tcli saveconfig
# Debian's rtslib-fb keeps it in /etc/rtslib-fb-target, upstream's in /etc/target.
SAVED=$(sed -n 's/^Configuration saved to //p' <<<"$OUT")
check "saved to a file ($SAVED)" test -f "$SAVED"
check "saveconfig $DATA_DIR/explicit.json" tcli saveconfig "$DATA_DIR/explicit.json"
for f in "$SAVED" "$DATA_DIR/explicit.json"; do
	check "$f has s0 with its config" grep -q "\"config\": \"file/$LUN_DIR/s0.img;create\"" "$f"
	check "$f has r0 with its config" grep -q '"config": "ram/r0;chunk=4k"' "$f"
done

say "clearconfig, runner restart"
check "clearconfig" tcli clearconfig confirm=True
check "configfs has no user backstore" test -z "$(ls -d "$CFS"/core/user_*/* 2>/dev/null)"
check "no loopback target" test -z "$(ls -d "$CFS"/loopback/naa.* 2>/dev/null)"
check "no uio device" test -z "$(ls /sys/class/uio/)"
check "$SD0 went away" test ! -e "/sys/class/block/${SD0#/dev/}"
check "runner stops on SIGTERM" runner_kill
check "no runner left" test -z "$(runner_pids)"

say "restoreconfig (the first targetcli command after the restart)"
check "restoreconfig" tcli restoreconfig
check "a new runner was started by the bus" runner_by_bus 2
check "it is a new process ($FIRST_PID -> ${RUNNER_PID:-})" test "${RUNNER_PID:-}" != "$FIRST_PID"
check "configfs: s0 is file/..." grep -q "Config: file/$LUN_DIR/s0.img;create" "$CFS"/core/user_*/s0/info
check "configfs: r0 is ram/..." grep -q "Config: ram/r0;chunk=4k" "$CFS"/core/user_*/r0/info
SD0=$(loop_dev "$LOOP_NAA" 0 block) || { fail "no device for LUN 0 after restore"; diag; finish; }
echo "LUN 0 is $SD0"
check "LUN 0 has the same unit serial" test "$(cat "/sys/class/block/${SD0#/dev/}/device/wwid")" = "$WWID0"
check "LUN 0 vendor VHOSTIO" vendor_is "$SD0" VHOSTIO
check "LUN 0 READ CAPACITY: 64 MiB" readcap_is "$SD0" $((64 * MB))
check "s0's data reads back after restoreconfig" \
	cmp <(dd if="$SD0" bs=1M skip=8 count=8 iflag=direct status=none) "$DATA_DIR/s0.bin"
# rtslib links LUN 1 first: tcm_loop's scsi_add_device probes it on a fresh
# SCSI target, whose level is still SCSI-2, so Linux's first INQUIRY carries
# the LUN in CDB byte 1 bits 7-5 (12 20 00 00 24 00).  LIO's own backstores
# ignore those bits; a handler that rejects them loses the LUN for good
# (a later scan refuses LUN 1: tcm_loop's max_lun is 0).
if SD1=$(loop_dev "$LOOP_NAA" 1 block); then
	pass "LUN 1 is back (INQUIRY with SCSI-2 LUN bits in byte 1 accepted)"
	echo "LUN 1 is $SD1"
	check "LUN 1 has the same unit serial" test "$(cat "/sys/class/block/${SD1#/dev/}/device/wwid")" = "$WWID1"
	check "LUN 1 READ CAPACITY: 32 MiB" readcap_is "$SD1" $((32 * MB))
	check "r0 comes back empty (RAM died with the runner)" \
		cmp <(dd if="$SD1" bs=1M count=4 iflag=direct status=none) <(head -c $((4 * MB)) /dev/zero)
	check "restored LUNs take I/O (fio verify on r0, 16 MiB)" fio_verify "$SD1" 16
else
	fail "LUN 1 is back: no device (was the first INQUIRY, 12 20 00 00 24 00, refused?)"
	diag
fi

say "restoreconfig FILE clear_existing=true over a running config"
check "restoreconfig $DATA_DIR/explicit.json clear_existing=true" \
	tcli restoreconfig "$DATA_DIR/explicit.json" clear_existing=true
check "same runner ($RUNNER_PID)" test "$(runner_pids)" = "$RUNNER_PID"
SD0=$(loop_dev "$LOOP_NAA" 0 block) || { fail "no device for LUN 0 after the second restore"; diag; finish; }
check "s0's data still reads back" \
	cmp <(dd if="$SD0" bs=1M skip=8 count=8 iflag=direct status=none) "$DATA_DIR/s0.bin"
check "final clearconfig" tcli clearconfig confirm=True
check "no uio device" test -z "$(ls /sys/class/uio/)"
finish
