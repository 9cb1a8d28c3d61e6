#!/bin/bash
# Kill and restart under verified load: three rounds of fio randwrite with
# verify=crc32c on a user:file LUN and a user:ram LUN (tcm_loop + sd), each
# round killing vhostio-runner with SIGKILL mid-write and starting a new
# one, which takes both devices over.  On user:file nothing is lost: every
# round's own verify and a last --verify_only pass find 0 errors.  user:ram
# lives in the runner's memory, so what it held before each kill is gone:
# its verify errors are expected and reported as such, not as corruption.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
SIZE=$((32 * MB))

# mid_write FILE_BASE RAM_BASE: both devices have 256 writes of this round done.
mid_write() {
	(($(writes_done "$SD_FILE") - $1 >= 256 && $(writes_done "$SD_RAM") - $2 >= 256))
}

runner_start || { fail "runner start"; finish; }
check "user_1/file0 enabled" user_backstore_create 1 file0 "$(backstore_config file file0)" $SIZE
check "user_1/ram0 enabled" user_backstore_create 1 ram0 "$(backstore_config ram ram0)" $SIZE
check "LUN 0 -> file0" loop_lun_add 0 1 file0
check "LUN 1 -> ram0" loop_lun_add 1 1 ram0
SD_FILE=$(scsi_dev_for_lun 0 block) || { fail "no block device for file0"; finish; }
SD_RAM=$(scsi_dev_for_lun 1 block) || { fail "no block device for ram0"; finish; }
echo "   file0 $SD_FILE, ram0 $SD_RAM"

for round in 1 2 3; do
	seed=$((100 + round))
	say "round $round: fio randwrite + verify (seed $seed), SIGKILL the runner mid-write"
	# Writes paced (about 7 s for the working set) so that the kill lands
	# in the write phase: after 256 writes on each LUN.
	base_file=$(writes_done "$SD_FILE")
	base_ram=$(writes_done "$SD_RAM")
	fio_crc32c kv "$SD_FILE" $seed --do_verify=1 --rate_iops=,300 >/tmp/fio-file.json 2>/tmp/fio-file.err &
	fio_file=$!
	fio_crc32c kv "$SD_RAM" $seed --do_verify=1 --rate_iops=,300 >/tmp/fio-ram.json 2>/tmp/fio-ram.err &
	fio_ram=$!
	check "round $round: 256 writes done on each LUN" wait_for 60 mid_write "$base_file" "$base_ram"
	echo "   at the kill: file0 $(($(writes_done "$SD_FILE") - base_file)), ram0 $(($(writes_done "$SD_RAM") - base_ram)) of $FIO_BLOCKS writes done"
	check "round $round: both fio still writing at the kill" kill -0 $fio_file $fio_ram
	kill -KILL "$RUNNER_PID"
	wait "$RUNNER_PID" 2>/dev/null
	mv "$RUNNER_LOG" "/tmp/runner-killed-$round.log"
	check "round $round: a new runner starts" runner_start || finish
	check "round $round: file0 taken over" runner_log_has "1/file0: serving file/"
	check "round $round: ram0 taken over" runner_log_has "1/ram0: serving ram/"

	fio_wait file0 $fio_file /tmp/fio-file
	check "round $round: user:file fio exit 0, no I/O error" test "$rc-$err" = 0-0
	check "round $round: user:file 0 verify errors ($total_err)" test "$total_err" = 0
	check "round $round: user:file all $FIO_BLOCKS blocks written and verified" test "$writes-$reads" = "$FIO_BLOCKS-$FIO_BLOCKS"

	rc=0
	wait_pid 150 $fio_ram || rc=$?
	read -r err total_err writes reads < <(fio_get /tmp/fio-ram.json)
	check "round $round: user:ram fio ended (exit $rc), no error besides verify (error $err)" \
		test "$rc" -ne 124 -a \( "$err" = 0 -o "$err" = 84 \)
	echo "EXPECTED: round $round: user:ram lost what it held when its runner was killed:" \
		"$total_err of $reads blocks failed verify (the data lived in the killed process)"
	# The blocks it had written before the kill read back as zeroes: proof the kill hit mid-write.
	check "round $round: user:ram shows the expected loss (not a failure of the file LUN)" test "$total_err" -gt 0
	grep -m 3 "verify:" /tmp/fio-ram.err | sed 's/^/   /'
done

say "a last verify pass over user:file (the data of round 3)"
rc=0
fio_crc32c kv "$SD_FILE" 103 --verify_only >/tmp/fio-final.json 2>/tmp/fio-final.err || rc=$?
read -r err total_err writes reads < <(fio_get /tmp/fio-final.json)
echo "   file0 --verify_only: exit $rc, error $err, verify errors $total_err, $reads blocks read"
[ "$rc-$err-$total_err" = 0-0-0 ] || sed 's/^/   /' /tmp/fio-final.err | head -20
check "user:file --verify_only: exit 0, no I/O error" test "$rc-$err" = 0-0
check "user:file --verify_only: 0 verify errors over all $FIO_BLOCKS blocks ($total_err of $reads)" \
	test "$total_err-$reads" = "0-$FIO_BLOCKS"
rc=0
fio_crc32c kv "$SD_RAM" 103 --verify_only >/tmp/fio-final.json 2>/dev/null || rc=$?
read -r err total_err writes reads < <(fio_get /tmp/fio-final.json)
echo "EXPECTED: user:ram --verify_only after the last kill: $total_err of $reads blocks fail" \
	"(what round 3 wrote before the kill is gone)"

check "no kernel warnings" no_kernel_warnings 'ring is broken'
check "LUN 1 removed" loop_lun_remove 1
check "ram0 removed" user_backstore_remove 1 ram0
teardown_and_finish 1 file0 0
