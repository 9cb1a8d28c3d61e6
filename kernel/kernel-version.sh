#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the version of the kernel the module is built for: $KVER if set,
# else the one the VM tests boot (tests/vm/run-in-vm.sh asks this script: the newest
# /boot/vmlinuz-*-amd64 that has /lib/modules/<version>), not the host's
# uname -r.  Exit 1 if there is none.
if [ -n "${KVER:-}" ]; then
	echo "$KVER"
	exit 0
fi
for k in $(printf '%s\n' /boot/vmlinuz-*-amd64 | sort -rV); do
	v=${k##*/vmlinuz-}
	if [ -r "$k" ] && [ -d "/lib/modules/$v" ]; then
		echo "$v"
		exit 0
	fi
done
exit 1
