#!/bin/bash
# The busy-poll window (--poll-us) on the real kernel: data stays intact at
# queue depth 1 and 16 with the command thread spinning between batches,
# the window is logged, SIGHUP can switch it off and on again, and a file
# LUN's io_uring completions are served while the thread spins.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
CONF=/tmp/busy-poll.conf

printf '[runner]\npoll-us = 200\n' >"$CONF"
runner_start --config "$CONF" || { fail "runner start"; finish; }
check "the window from the settings file is logged" runner_log_has "busy-poll window 200 us after each batch"
check "user_1/poll0 enabled" user_backstore_create 1 poll0 ram/poll0 $((96 * MB))
check "LUN 0 -> poll0" loop_lun_add 0 1 poll0
SD=$(scsi_dev_for_lun 0 block) || { fail "no block device"; finish; }

# verify QD OFFSET_MIB: randwrite + crc32c read-back of 16 MiB.
verify() {
	local out rc errs
	out=$(fio --name=poll-qd$1 --filename="$SD" --direct=1 --ioengine=libaio --iodepth="$1" \
		--rw=randwrite --bs=4k --size=16M --offset=$(($2 * MB)) --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randrepeat=0 --output-format=terse --terse-version=3 2>&1)
	rc=$?
	errs=$(echo "$out" | awk -F';' '/^3;/ {print $5}')
	[ "$rc" -eq 0 ] && [ "${errs:-x}" = 0 ] || { echo "$out" | tail -5; return 1; }
}
check "QD1 randwrite + verify while polling" verify 1 0
check "QD16 randwrite + verify while polling" verify 16 16
head -c $((4 * MB)) /dev/urandom >/tmp/pattern
check "4 MiB pattern written at 80 MiB" dd if=/tmp/pattern of="$SD" bs=1M seek=80 oflag=direct status=none

say "SIGHUP: window off, then on again"
printf '[runner]\npoll-us = 0\n' >"$CONF"
kill -HUP "$RUNNER_PID"
check "logged 200 -> 0" wait_for 10 runner_log_has "SIGHUP: poll window 200 -> 0 us"
check "QD16 verify without the window" verify 16 32
printf '[runner]\npoll-us = 50\n' >"$CONF"
kill -HUP "$RUNNER_PID"
check "logged 0 -> 50" wait_for 10 runner_log_has "SIGHUP: poll window 0 -> 50 us"
check "QD16 verify with the new window" verify 16 48
check "the pattern reads back after the window changes" \
	cmp /tmp/pattern <(dd if="$SD" bs=1M skip=80 count=4 iflag=direct status=none)
printf '[runner]\npoll-us = forever\n' >"$CONF"
kill -HUP "$RUNNER_PID"
check "a bad value is refused with the reason" wait_for 10 runner_log_has "bad poll-us 'forever'"
check "the runner keeps its settings" wait_for 5 runner_log_has "SIGHUP: keeping the current settings"

say "a file LUN under a 1 s window: io_uring completions are served while spinning"
# At queue depth 1 nothing new arrives until a command completes, so a
# completion that waited for the window to close would take a second.
printf '[runner]\npoll-us = 1000000\n' >"$CONF"
kill -HUP "$RUNNER_PID"
check "logged 50 -> 1000000" wait_for 10 runner_log_has "SIGHUP: poll window 50 -> 1000000 us"
check "user_1/pollf enabled" user_backstore_create 1 pollf "file//tmp/pollf.img;create" $((16 * MB))
check "LUN 1 -> pollf" loop_lun_add 1 1 pollf
SDF=$(scsi_dev_for_lun 1 block) || { fail "no block device for pollf"; finish; }
head -c $((1 * MB)) /dev/urandom >/tmp/pattern-f
t0=$SECONDS
check "256 writes of 4 KiB at QD1" dd if=/tmp/pattern-f of="$SDF" bs=4k oflag=direct status=none
check "... read back identical" cmp /tmp/pattern-f <(dd if="$SDF" bs=4k count=256 iflag=direct status=none)
elapsed=$((SECONDS - t0))
check "512 QD1 commands took ${elapsed}s (< 60 s; ~512 s if completions waited for the window)" \
	test "$elapsed" -lt 60
check "the file backs the data" cmp /tmp/pattern-f <(head -c $((1 * MB)) /tmp/pollf.img)
check "LUN 1 removed" loop_lun_remove 1
check "pollf removed" user_backstore_remove 1 pollf

say "bad values on the command line"
out=$("$VHOSTIO_BUILD/daemon/vhostio-runner" --poll-us 2000000 2>&1)
check "--poll-us 2000000: exit 2 ($out)" test $? -eq 2
check "... with the reason" grep -q "bad --poll-us '2000000'" <<<"$out"

check "LUN removed" loop_lun_remove 0
check "backstore removed" user_backstore_remove 1 poll0
stats=$(grep -o "1/poll0: served .*" "$RUNNER_LOG" | tail -n 1)
echo "runner: $stats"
served=$(sed -n 's/.*served \([0-9]*\) commands.*/\1/p' <<<"$stats")
polled=$(sed -n 's/.*, \([0-9.]*\)% found by busy-polling.*/\1/p' <<<"$stats")
# 4 verify runs of 16 MiB in 4 KiB commands, written and read back, + the pattern.
check "the ring statistics are logged at removal (${served:-?} commands)" test "${served:-0}" -gt 16384
check "some commands were found by busy-polling (${polled:-?}%)" awk "BEGIN {exit !(${polled:-0} > 0)}"
kill -TERM "$RUNNER_PID" && wait "$RUNNER_PID"
check "runner exited 0" test $? -eq 0
finish
