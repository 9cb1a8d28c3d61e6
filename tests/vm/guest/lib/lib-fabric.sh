# Shell helpers for the tests of vhostio's own fabric module (guest/kernel/):
# where the module is, and the swap from stock vhost_scsi to it.  Sourced
# after lib-lio.sh (fabric_swap_in uses check); on-fabric.sh sources it alone.

# VHOSTIO_FABRIC_KO: another build of the module (e.g. one with a planted leak).
FABRIC_KO=${VHOSTIO_FABRIC_KO:-$VHOSTIO_BUILD/kernel/module/vhostio_scsi.ko}

# Exit 77 (skip) when the module was not built (no kernel headers then).
fabric_ko_or_skip() {
	[ -f "$FABRIC_KO" ] || { echo "no $FABRIC_KO (kernel headers missing at build time)"; exit 77; }
}

# A clean kernel log, stock vhost_scsi unloaded, vhostio_scsi loaded from the build.
fabric_swap_in() {
	dmesg -C
	check "stock vhost_scsi unloaded" rmmod vhost_scsi
	check "vhostio_scsi loaded" insmod "$FABRIC_KO"
}

# fabric_load stock|single|per_vq: the kernel's vhost_scsi, or vhostio_scsi
# loaded with that workers= mode; whichever was loaded is unloaded first,
# with the fabric's configfs group (it holds a reference on its module).
# For the benchmarks, which measure each fabric in turn in one boot.
fabric_load() {
	local m
	[ ! -d "$CFS/vhost" ] || rmdir "$CFS/vhost" || return 1
	for m in vhost_scsi vhostio_scsi; do
		[ ! -d /sys/module/$m ] || rmmod $m || {
			echo "cannot unload $m: refcnt $(cat /sys/module/$m/refcnt), holders: $(ls /sys/module/$m/holders)" >&2
			return 1
		}
	done
	if [ "$1" = stock ]; then
		modprobe vhost_scsi
	else
		insmod "$FABRIC_KO" workers="$1"
	fi
}
