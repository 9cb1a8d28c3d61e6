#!/bin/bash
# Install what vhostio needs to build and to run its tests on Debian 12.
# Idempotent; skips apt when everything is already there.
#
# Usage: install-deps.sh [PACKAGE...]   (extra packages, e.g. the benchmarks'
#        tcmu-runner; Debian starts tcmu-runner on install, this stops it)
set -euo pipefail

PACKAGES=(
	# build (g++ from build-essential checks the headers compile as C++; groff lints the man pages)
	build-essential cmake pkg-config libnl-3-dev libnl-genl-3-dev libkmod-dev liburing-dev groff-base
	# vhostio-runner's D-Bus service (GDBus); the system bus and python3-gi for its VM tests
	libglib2.0-dev dbus python3-gi
	# VM test harness: the Debian kernel with LIO/TCMU/uio/vhost modules, run by qemu
	qemu-system-x86 linux-image-amd64 busybox-static kmod
	# kernel/: the fabric module builds against the headers of that same kernel (the
	# metapackages move in step); sparse checks it, dkms builds it as users will
	linux-headers-amd64 sparse dkms
	# test clients inside the VM (they come from the host root over 9p)
	fio sg3-utils e2fsprogs util-linux procps openssl
	# targetcli end-to-end tests: targetcli-fb over the D-Bus system bus, an iSCSI initiator, gdbus
	targetcli-fb python3-rtslib-fb open-iscsi dbus libglib2.0-bin
	# the benchmarks' baseline, which the portable benchmark bundle (bench/bundle.sh) carries
	tcmu-runner
	# test.sh's fuzzing stage: clang, its libFuzzer and sanitizer runtimes (only recommended by clang,
	# so named here), llvm-symbolizer for the stacks of a crash
	clang libclang-rt-dev llvm
	"$@"
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# Only the VMs run tcmu-runner; on the host it would just hold the D-Bus name.
if [[ " ${missing[*]} " == *" tcmu-runner "* ]]; then
	$SUDO systemctl disable --now tcmu-runner 2>/dev/null || true
fi
