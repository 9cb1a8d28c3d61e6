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
