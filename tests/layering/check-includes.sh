#!/bin/bash
# The library's layering, checked on the #include lines (CMake include
# scopes enforce the same at build time; this names the offending line).
#
#   libvhostio/tcmu   -> scsi, common
#   libvhostio/scsi   -> common
#   libvhostio/virtio -> common
#   libvhostio/common -> (nothing)
#   daemon/, handlers/, tools/ -> public headers, and the header-only
#                        helpers of libvhostio/common (byteorder.h, clock.h, util.h)
#   public headers    -> <vhostio/...> and system headers only
#   kernel/           -> its own headers and kernel headers only (it is built
#                        by Kbuild: no libvhostio header, no userspace header
#                        outside vring_port.h's !__KERNEL__ branch)
#   tests/unit/kernel/, tests/fuzz/fuzz-vring.c -> kernel/ headers, their own,
#                        tests/fuzz/fuzz.h; no libvhostio header
#
# Usage: check-includes.sh [SOURCE_DIR]
set -u
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
lib=$src/libvhostio
fail=0

allowed_dirs() {
	case $1 in
	tcmu) echo "tcmu scsi common" ;;
	scsi) echo "scsi common" ;;
	virtio) echo "virtio common" ;;
	common) echo "common" ;;
	esac
}

# Where a quoted include resolves among the library's folders ("" if none).
owner_of() {
	for d in common scsi tcmu virtio; do
		[ -f "$lib/$d/$1" ] && { echo "$d"; return; }
	done
}

check_file() { # file, space-separated allowed folders, header-only-common
	local f=$1 allowed=$2 header_only=${3:-0}
	while IFS=: read -r line inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		# A header next to the file itself is always fine.
		[ -f "$(dirname "$f")/$inc" ] && [ "$header_only" = 0 ] && continue
		local o
		o=$(owner_of "$inc")
		[ -z "$o" ] && continue # not a library header (e.g. a daemon's own)
		if [ "$header_only" = 1 ]; then
			case $inc in
			byteorder.h | clock.h | util.h) [ "$o" = common ] && continue ;;
			esac
		elif [[ " $allowed " == *" $o "* ]]; then
			continue
		fi
		echo "layering: ${f#"$src"/}:$line includes \"$inc\" from libvhostio/$o"
		fail=1
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
}

for sub in common scsi tcmu virtio; do
	[ -d "$lib/$sub" ] || { echo "layering: libvhostio/$sub is missing"; fail=1; continue; }
	for f in "$lib/$sub"/*.[ch]; do
		check_file "$f" "$(allowed_dirs "$sub")"
	done
done
for dir in daemon handlers tools; do
	while IFS= read -r f; do
		check_file "$f" "" 1
	done < <(find "$src/$dir" -name '*.[ch]')
done
for h in "$lib"/include/vhostio/*.h; do
	if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$h"; then
		echo "layering: ${h#"$src"/} includes a private header"
		fail=1
	fi
	if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<vhostio/' "$h" | grep -v -E '<vhostio/(common|handler|vhost_fabric)\.h>'; then
		echo "layering: ${h#"$src"/} includes a public header other than common.h, handler.h, vhost_fabric.h"
		fail=1
	fi
done
# kernel/: quoted includes only of files in kernel/ itself.
if [ -d "$src/kernel" ]; then
	while IFS= read -r f; do
		while IFS=: read -r line inc; do
			inc=${inc#*\"}
			inc=${inc%%\"*}
			[ -f "$src/kernel/$inc" ] && continue
			echo "layering: ${f#"$src"/}:$line includes \"$inc\", not a kernel/ header"
			fail=1
		done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
		if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<vhostio/' "$f"; then
			echo "layering: ${f#"$src"/} includes a libvhostio public header"
			fail=1
		fi
	done < <(find "$src/kernel" -name '*.[ch]')
fi
# The host tests of kernel/ see kernel/ and their own headers, not the library.
kernel_tests=()
[ -d "$src/tests/unit/kernel" ] && while IFS= read -r f; do kernel_tests+=("$f"); done \
	< <(find "$src/tests/unit/kernel" -name '*.[ch]')
[ -f "$src/tests/fuzz/fuzz-vring.c" ] && kernel_tests+=("$src/tests/fuzz/fuzz-vring.c")
for f in "${kernel_tests[@]}"; do
	while IFS=: read -r line inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		[ -f "$(dirname "$f")/$inc" ] && [ -z "$(owner_of "$inc")" ] && continue
		[ -f "$src/kernel/$inc" ] && continue
		echo "layering: ${f#"$src"/}:$line includes \"$inc\", not a kernel/ or own header"
		fail=1
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
	if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<vhostio/' "$f"; then
		echo "layering: ${f#"$src"/} includes a libvhostio public header"
		fail=1
	fi
done
# initiator.h must not pull in the plugin API.
if grep -q '#include <vhostio/handler.h>' "$lib/include/vhostio/initiator.h"; then
	echo "layering: initiator.h includes the plugin API"
	fail=1
fi
[ "$fail" = 0 ] && echo "layering: ok"
exit "$fail"
