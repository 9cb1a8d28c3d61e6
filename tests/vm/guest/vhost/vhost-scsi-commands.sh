#!/bin/bash
# INQUIRY, READ CAPACITY and REPORT LUNS through the userspace virtio-scsi
# initiator (vhostio-io on /dev/vhost-scsi) on LUNs of three backstores:
# rd_mcp (answered by LIO core), user:ram and user:file (answered by
# vhostio-runner's SCSI emulation through target_core_user).
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-vhost.sh"
SIZE=$((32 * MB))

vhost_setup $SIZE || finish

say "REPORT LUNS"
out=$(vio report-luns --json) || fail "report-luns exit status"
echo "$out"
luns=$(sed -n 's/.*"luns": \[\([^]]*\)\].*/\1/p' <<<"$out" | tr -d ' ' | tr , '\n' | sort -n | paste -sd,)
check "count 3" test "$(json_get "$out" count)" = 3
check "LUNs 0,1,2 (in LIO's order; got $luns)" test "$luns" = 0,1,2

for lun in $LUN_RD $LUN_RAM $LUN_FILE; do
	case $lun in
	"$LUN_RD") vendor=LIO-ORG product=RAMDISK-MCP serial=$SERIAL_RD ;;
	"$LUN_RAM") vendor=VHOSTIO product=vhostio-ram serial=$SERIAL_RAM ;;
	"$LUN_FILE") vendor=VHOSTIO product=vhostio-file serial=$SERIAL_FILE ;;
	esac
	say "LUN $lun: INQUIRY"
	out=$(vio inquiry --lun "$lun" --json) || fail "LUN $lun: inquiry exit status"
	echo "$out"
	check "LUN $lun: direct-access device" test "$(json_get "$out" device_type)" = 0
	check "LUN $lun: vendor '$vendor'" test "$(json_get "$out" vendor)" = "$vendor"
	check "LUN $lun: product '$product'" test "$(json_get "$out" product)" = "$product"
	check "LUN $lun: unit serial $serial" test "$(json_get "$out" serial)" = "$serial"

	say "LUN $lun: READ CAPACITY"
	out=$(vio readcap --lun "$lun" --json) || fail "LUN $lun: readcap exit status"
	echo "$out"
	check "LUN $lun: 512-byte blocks" test "$(json_get "$out" block_size)" = 512
	check "LUN $lun: $((SIZE / 512)) blocks" test "$(json_get "$out" lbas)" = $((SIZE / 512))
	check "LUN $lun: READ CAPACITY(10) agrees" test "$(json_get "$out" last_lba_10)" = $((SIZE / 512 - 1))
done

say "a LUN that is not there"
if out=$(vio inquiry --lun 7 2>&1); then
	fail "INQUIRY on LUN 7 succeeded: $out"
else
	echo "$out"
	# LIO answers a missing LUN's INQUIRY with peripheral qualifier 3 or an error.
	pass "INQUIRY on LUN 7 refused"
fi
out=$(vio readcap --lun 7 2>&1) && fail "READ CAPACITY on LUN 7 succeeded" || pass "READ CAPACITY on LUN 7 fails: $out"

vhost_teardown_and_finish
