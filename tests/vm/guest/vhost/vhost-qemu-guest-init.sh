#!/bin/sh
# /init of the nested QEMU guest of vhost-qemu-guest.sh (busybox sh, built
# by tests/vm/mkinitramfs.sh).  Its own virtio_scsi and sd write the extents
# of /qguest/plan ("N BYTE-OFFSET BLOCK-SIZE COUNT" per line, the data in
# /qguest/data/N) to the vhost-scsi disk with O_DIRECT, one writer per CPU
# (so each uses its own virtqueue), read each back, compare, print one
# QGUEST-RESULT line on the console and power off.  /qguest/env sets QUEUES,
# the virtqueues the outer script configured.
export PATH=/bin
mount -t proc p /proc
mount -t devtmpfs d /dev
mount -t sysfs s /sys
# The outer script waits for this marker before it judges the boot.
echo "QGUEST: /init up"
# shellcheck source=/dev/null  # written by vhost-qemu-guest.sh
. /qguest/env
while read -r m; do
	insmod "/modules/$m.ko" || echo "QGUEST: insmod $m failed"
done </modules/load-order
i=0
while [ ! -b /dev/sda ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "QGUEST: modules loaded, /dev/sda after $i tries"

ncpu=$(nproc)
# io CPU: this CPU's share of the extents, pinned to it: blk-mq maps each
# CPU to its own hardware queue, so with 2 CPUs both virtqueues carry I/O.
io() {
	while read -r n off bs cnt; do
		[ $((n % ncpu)) -eq "$1" ] || continue
		if taskset -c "$1" dd if="/qguest/data/$n" of=/dev/sda bs="$bs" count="$cnt" seek="$off" \
			oflag=direct,seek_bytes conv=notrunc,fsync 2>/dev/null &&
			taskset -c "$1" dd if=/dev/sda of="/back.$n" bs="$bs" count="$cnt" skip="$off" \
				iflag=direct,skip_bytes 2>/dev/null &&
			cmp "/qguest/data/$n" "/back.$n"; then
			echo "ok $n"
		else
			echo "QGUEST: extent $n ($cnt x $bs bytes at $off) failed"
		fi
	done </qguest/plan
}

r=FAIL
if [ -b /dev/sda ]; then
	c=0
	while [ $c -lt "$ncpu" ]; do
		io $c >/io.$c &
		c=$((c + 1))
	done
	wait
	cat /io.* | grep -v '^ok '
	[ "$(cat /io.* | grep -c '^ok ')" -eq "$(grep -c . /qguest/plan)" ] && r=PASS
fi
# Completion interrupts of each request virtqueue (one MSI-X vector per
# queue, each named "virtioN-request"): the device, not only the guest,
# used every queue.
irqs=$(awk -v n="$ncpu" '/virtio[0-9]+-request/ { t = 0; for (i = 2; i <= n + 1; i++) t += $i
	printf "%s%d", sep, t; sep = "," }' /proc/interrupts)
echo "QGUEST-RESULT: $r disk=$(cat /sys/block/sda/size 2>/dev/null)" \
	"vendor=$(cat /sys/block/sda/device/vendor 2>/dev/null) cpus=$ncpu queues=$QUEUES irqs=$irqs"
poweroff -f
