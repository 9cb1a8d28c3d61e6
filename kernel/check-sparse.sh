#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# check-sparse.sh KDIR SRC SCRATCH: build the module with sparse (C=2) in
# SCRATCH and fail if sparse or the compiler says anything.
set -eu
kdir=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cp "$src"/Kbuild "$src"/*.c "$src"/*.h "$out"/
log=$(make -C "$kdir" M="$out" W=1 C=2 modules 2>&1) || { echo "$log"; exit 1; }
reports=$(echo "$log" | grep -vE '^make|^  (CC|LD|CHECK|MODPOST|BTF) |^Skipping BTF' || true)
if [ -n "$reports" ]; then
	echo "$reports"
	exit 1
fi
echo "sparse: clean ($(echo "$log" | grep -c '^  CHECK') files)"
