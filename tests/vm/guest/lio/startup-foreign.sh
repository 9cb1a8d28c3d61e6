#!/bin/bash
# The start-up scan takes over only the devices vhostio-runner serves.
# Two tcm-user devices have an owner of their own, a process that maps
# and serves their ring (tcmu-foreign-owner.py) and holds one command:
# user_2/foreign0, of a subtype nobody registers (made with no runner
# running), and user_3/ext0 of subtype 'fake', which an external handler
# registers over D-Bus (HandlerManager1, dbus-fake-handler.py).  A
# user:file LUN is served by the runner.  After SIGKILL and a restart of
# the runner (and the external handler registering again afterwards) the
# foreign rings are untouched: no block_dev/reset_ring (the kernel's reset
# would set head and tail to 0 and fail the held commands), their held
# commands complete GOOD under their original cmd_ids, the rings are not
# broken, and the log says the runner left them alone; the file LUN is
# taken over with its data intact.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-dbus.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
OWNER=$HERE/tcmu-foreign-owner.py
FAKE=$HERE/../dbus/dbus-fake-handler.py
FAKE_LOG=/tmp/fake.log
fake_start() {
	: >"$FAKE_LOG"
	"$FAKE" fake >>"$FAKE_LOG" 2>&1 &
	FAKE_PID=$!
	wait_for 20 grep -q "RegisterHandler ->\|failed\|cannot" "$FAKE_LOG"
	sed 's/^/   /' "$FAKE_LOG"
	grep -q "RegisterHandler -> (True, '')" "$FAKE_LOG"
}
fake_stop() {
	kill -TERM "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
}
# owner_start NAME HBA DEV: a foreign owner on user_HBA/DEV's ring; state in /tmp/owner-NAME.
declare -A OWNER_PID
owner_start() {
	local minor
	minor=$(uio_minor_of "$2" "$3") || return 1
	rm -f "/tmp/owner-$1" "/tmp/owner-$1.release"
	"$OWNER" "$minor" "/tmp/owner-$1" >"/tmp/owner-$1.log" 2>&1 &
	OWNER_PID[$1]=$!
	wait_for 20 test -s "/tmp/owner-$1"
}
# The owner's state line (shell builtins only: this is polled).
state() {
	local line
	read -r line <"/tmp/owner-$1" && echo "$line"
} 2>/dev/null
# field NAME KEY: one value of it.
field() {
	local line w
	read -r line <"/tmp/owner-$1" || return 1
	for w in $line; do
		[ "${w%%=*}" = "$2" ] && echo "${w#*=}" && return 0
	done
	return 1
} 2>/dev/null
# ring NAME: "head=H tail=T", the mailbox as the owner last saw it.
ring() { echo "head=$(field "$1" head) tail=$(field "$1" tail)"; }
held_is() {
	local h
	h=$(field "$1" held) && [ "$h" != - ]
}
quiet() { "$@" >/dev/null 2>&1; }

say "target_core_user loaded with no runner: configfs does not wait for one"
check "modprobe target_core_user" modprobe target_core_user
check "user_2/foreign0 (foreign/x, a subtype nobody serves) enabled" \
	user_backstore_create 2 foreign0 foreign/x $((16 * MB))
# A command the owner holds must outlive the restart: no kernel time-out meanwhile.
check "foreign0: cmd_time_out 120" attrib_set 2 foreign0 cmd_time_out 120

say "the runner, with D-Bus, and an external handler for subtype 'fake'"
check "vhostio installed into the guest" vhostio_install_into_guest || finish
check "system bus with vhostio's policy" dbus_system_start || finish
check "the installed runner owns $TCMU_NAME" installed_runner_start --log-level debug || finish
check "the runner left foreign0 alone at start-up" runner_log_has "2/foreign0: no handler for subtype 'foreign'; leaving it alone"
check "fake registers subtype 'fake'" fake_start
check "user_3/ext0 (fake/good) enabled, acknowledged by the runner" \
	user_backstore_create 3 ext0 fake/good $((16 * MB))
check "ext0: cmd_time_out 120" attrib_set 3 ext0 cmd_time_out 120
check "user_1/file0 enabled, served by the runner" \
	user_backstore_create 1 file0 "$(backstore_config file file0)" $((16 * MB))
check "the runner serves file0" runner_log_has "1/file0: serving file/"
check "... and not ext0" not runner_log_has "3/ext0: serving"

say "foreign owners map and serve foreign0 and ext0"
check "owner of foreign0 running" owner_start foreign0 2 foreign0
check "owner of ext0 running" owner_start ext0 3 ext0
check "LUN 0 -> file0" loop_lun_add 0 1 file0
check "LUN 1 -> foreign0 (the SCSI scan is answered by its owner)" loop_lun_add 1 2 foreign0
check "LUN 2 -> ext0" loop_lun_add 2 3 ext0
SD=$(scsi_dev_for_lun 0 block) || { fail "no block device for file0"; finish; }
SG1=$(scsi_sg_for_lun 1 FOREIGN) || { fail "no sg device for foreign0"; finish; }
SG2=$(scsi_sg_for_lun 2 FOREIGN) || { fail "no sg device for ext0"; finish; }
echo "   file0 $SD, foreign0 $SG1, ext0 $SG2"
check "foreign0 answers INQUIRY through its owner" quiet sg_inq "$SG1"
check "ext0 answers INQUIRY through its owner" quiet sg_inq "$SG2"
# LIO raised REPORTED LUNS DATA HAS CHANGED on the LUNs linked before
# another: the first TEST UNIT READY gets that unit attention, the next
# one reaches the owner.
quiet sg_turs "$SG1"
quiet sg_turs "$SG2"
check "foreign0: TEST UNIT READY, GOOD" quiet sg_turs "$SG1"
check "ext0: TEST UNIT READY, GOOD" quiet sg_turs "$SG2"

head -c $((4 * MB)) /dev/urandom >/tmp/pattern
check "file0: 4 MiB written" dd if=/tmp/pattern of="$SD" bs=1M oflag=direct status=none

say "each owner holds a command (opcode C0) across the restart"
declare -A HOLD_PID
for n in foreign0 ext0; do
	sg=$SG1
	[ $n = ext0 ] && sg=$SG2
	sg_raw -t 100 "$sg" c0 00 00 00 00 00 00 00 00 00 >"/tmp/hold-$n.out" 2>&1 &
	HOLD_PID[$n]=$!
	check "$n: the owner holds it" wait_for 20 held_is $n
done
declare -A BEFORE HELD
for n in foreign0 ext0; do
	BEFORE[$n]=$(ring $n)
	HELD[$n]=$(field $n held)
	echo "   $n before: $(state $n)"
	check "$n: commands went through its ring (${BEFORE[$n]})" not test "${BEFORE[$n]}" = "head=0 tail=0"
done

say "SIGKILL the runner (and the external handler goes too), start a new one"
kill -KILL "$RUNNER_PID"
wait "$RUNNER_PID" 2>/dev/null
fake_stop
mv "$RUNNER_LOG" /tmp/runner-killed.log
check "the new runner owns $TCMU_NAME" installed_runner_start --log-level debug || finish
check "found the existing file0" runner_log_has "found existing device 1/file0"
check "took file0 over" runner_log_has "1/file0: serving file/"
for n in 2/foreign0 3/ext0; do
	check "found the existing $n" runner_log_has "found existing device $n "
	check "left $n alone (log)" runner_log_has "$n: no handler for subtype '.*'; leaving it alone"
	check "did not serve $n" not runner_log_has "$n: serving"
done
say "the external handler registers again: nothing happens to ext0"
check "fake registers subtype 'fake' again" fake_start
sleep 1

for n in foreign0 ext0; do
	echo "   $n after:  $(state $n)"
	check "$n: ring not reset (before ${BEFORE[$n]}, after $(ring $n))" test "$(ring $n)" = "${BEFORE[$n]}"
	check "$n: its owner saw no reset" test "$(field $n resets)" = 0
	check "$n: still holds cmd_id ${HELD[$n]}" test "$(field $n held)" = "${HELD[$n]}"
	check "$n: the initiator still waits for it" kill -0 "${HOLD_PID[$n]}"
done

say "the owners complete the held commands under their original cmd_ids"
for n in foreign0 ext0; do
	touch "/tmp/owner-$n.release"
	wait_for 30 not kill -0 "${HOLD_PID[$n]}" || kill -KILL "${HOLD_PID[$n]}"
	rc=0
	wait "${HOLD_PID[$n]}" || rc=$?
	sed 's/^/   /' "/tmp/hold-$n.out"
	check "$n: the held command ended GOOD (sg_raw status $rc)" test "$rc" -eq 0
	check "$n: released ${HELD[$n]}" grep -q "completed held cmd_id ${HELD[$n]} (resets seen: 0)" "/tmp/owner-$n.log"
done
check "foreign0: the ring still serves (INQUIRY)" quiet sg_inq "$SG1"
check "ext0: the ring still serves (INQUIRY)" quiet sg_inq "$SG2"
check "no broken ring, no unknown cmd_id (dmesg)" not grep -qiE "ring is broken|not found, ring" <(dmesg)

say "the file LUN was taken over with its data"
check "file0: the data written before the kill reads back" \
	cmp <(dd if="$SD" bs=1M count=4 iflag=direct status=none) /tmp/pattern
head -c $((4 * MB)) /dev/urandom >/tmp/pattern2
check "file0: new writes work" dd if=/tmp/pattern2 of="$SD" bs=1M oflag=direct status=none
check "file0: ... and read back" cmp <(dd if="$SD" bs=1M count=4 iflag=direct status=none) /tmp/pattern2

say "teardown"
for n in foreign0 ext0; do
	kill -TERM "${OWNER_PID[$n]}"
	wait "${OWNER_PID[$n]}" 2>/dev/null
done
for l in 0 1 2; do
	check "LUN $l removed" loop_lun_remove $l
done
check "file0 removed" user_backstore_remove 1 file0
check "foreign0 removed" user_backstore_remove 2 foreign0
check "ext0 removed" user_backstore_remove 3 ext0
fake_stop
check "runner still running" kill -0 "$RUNNER_PID"
rc=0
runner_stop || rc=$?
check "runner exit status 0 (got $rc)" test "$rc" -eq 0
finish
