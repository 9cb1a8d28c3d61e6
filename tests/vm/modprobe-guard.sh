#!/bin/sh
# Installed by guest-init.sh as /proc/sys/kernel/modprobe, i.e. the program
# the kernel runs for request_module(). It refuses target_core_user while that
# module is not loaded, so only the daemon under test (via libkmod) can load
# it; everything else goes to the real modprobe. Once target_core_user is
# loaded, requests for it are harmless no-ops and pass through too, which
# avoids a misleading "Unable to load target_core_user" in dmesg.
#
# The kernel calls: modprobe -q -- MODULE_NAME (or an alias).

PATH=/usr/sbin:/usr/bin:/sbin:/bin
for arg in "$@"; do
	case "$arg" in
	target_core_user | target-core-user)
		if [ ! -d /sys/module/target_core_user ]; then
			echo "vhostio-vm: refused kernel autoload of target_core_user" >/dev/kmsg
			echo "$arg" >>/run/vhostio/refused-autoloads
			exit 1
		fi
		;;
	esac
done
exec modprobe "$@"
