#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# check-dkms.sh SRC KVER SCRATCH: what `dkms add` + `dkms build` do with the
# installed sources (dkms.conf), in a private DKMS tree: the module must
# come out built for KVER.
set -eu
src=$1 kver=$2 out=$3
command -v dkms >/dev/null || { echo "no dkms"; exit 77; }
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")
rm -rf "$out" && mkdir -p "$out/src/vhostio-scsi-$version" "$out/tree"
(cd "$src" && cp Kbuild *.c *.h Makefile kernel-version.sh dkms.conf "$out/src/vhostio-scsi-$version/")
dkms --dkmstree "$out/tree" --sourcetree "$out/src" add -m vhostio-scsi -v "$version"
dkms --dkmstree "$out/tree" --sourcetree "$out/src" build -m vhostio-scsi -v "$version" -k "$kver"
ko=$(find "$out/tree/vhostio-scsi/$version/$kver" -name 'vhostio_scsi.ko*' | head -n 1)
[ -n "$ko" ] || { echo "dkms built no module"; exit 1; }
modinfo -F vermagic "$ko" | grep -q "^$kver " || { echo "$ko: wrong vermagic"; exit 1; }
echo "dkms: $ko for $kver"
