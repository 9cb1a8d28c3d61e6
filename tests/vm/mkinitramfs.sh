#!/bin/bash
# Build a busybox initramfs: the test VM's (run-in-vm.sh) and the nested
# QEMU guest's (guest/vhost/vhost-qemu-guest.sh).  The second runs inside a
# TCG VM, where every exec costs 0.1-0.3 s, so the work is done by bash
# builtins where possible: modules.dep is resolved in bash, the busybox
# applet links and /dev/console are cpio records written with printf.
#
# Usage: mkinitramfs.sh [--busybox PATH] [--moddir DIR] [--module NAME]...
#                       [--file SRC=DEST]... [--gzip] --init FILE OUTPUT
#
#   --busybox   a static busybox (default /bin/busybox), as /bin/busybox
#               with a link for each applet in /bin
#   --moddir    /lib/modules/<version> the modules come from
#   --module    load NAME at boot: it and what modules.dep says it needs go
#               uncompressed to /modules/NAME.ko, and their names, each after
#               its dependencies, to /modules/load-order
#   --file      copy SRC, a file or a whole directory, to DEST (relative to
#               the archive's root)
#   --gzip      compress (default: plain cpio)
#   --init      the /init script
#
# Exit status: 0; 77 if a module or a decompressor is missing (the archive
# cannot be built on this machine); 1 on other errors; 2 on usage errors.
set -uo pipefail

die() {
	echo "mkinitramfs: $2" >&2
	exit "$1"
}

busybox=/bin/busybox moddir='' init='' gzip=0
modules=() files=()
while [ $# -gt 1 ]; do
	case "$1" in
	--busybox) busybox=$2 && shift 2 ;;
	--moddir) moddir=$2 && shift 2 ;;
	--module) modules+=("$2") && shift 2 ;;
	--file) files+=("$2") && shift 2 ;;
	--init) init=$2 && shift 2 ;;
	--gzip) gzip=1 && shift ;;
	*) die 2 "unknown option $1" ;;
	esac
done
if [ $# -ne 1 ] || [ -z "$init" ]; then die 2 "usage: mkinitramfs.sh [options] --init FILE OUTPUT"; fi
out=$1
[ ${#modules[@]} -eq 0 ] || [ -f "$moddir/modules.dep" ] || die 77 "no $moddir/modules.dep"

# Post-order DFS over modules.dep: every module after its dependencies.
declare -A dep_of=() path_of=() seen=()
order=()
if [ ${#modules[@]} -gt 0 ]; then
	while IFS= read -r line; do
		path=${line%%:*}
		n=${path##*/} && n=${n%%.ko*} && n=${n//-/_}
		path_of[$n]=$path
		dep_of[$n]=${line#*:}
	done <"$moddir/modules.dep"
fi
add_module() {
	local m=$1 d
	[ -z "${seen[$m]:-}" ] || return 0
	seen[$m]=1
	if [ -z "${path_of[$m]:-}" ]; then
		# Built into the kernel: nothing to load.
		sed 's/-/_/g' "$moddir/modules.builtin" 2>/dev/null | grep -q "/$m\.ko\$" && return 0
		die 77 "no module $m in $moddir"
	fi
	for d in ${dep_of[$m]}; do
		d=${d##*/} && d=${d%%.ko*}
		add_module "${d//-/_}"
	done
	order+=("$m")
}
for n in "${modules[@]}"; do add_module "${n//-/_}"; done

stage=$(mktemp -d "${TMPDIR:-/tmp}/mkinitramfs.XXXXXX") || exit 1
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,modules} || exit 1
cp "$busybox" "$stage/bin/busybox" && install -m 0755 "$init" "$stage/init" || exit 1
: >"$stage/modules/load-order"
# busybox insmod may lack xz/zstd support, so store plain .ko files.
for n in "${order[@]}"; do
	path=$moddir/${path_of[$n]}
	case "$path" in
	*.ko) cp "$path" "$stage/modules/$n.ko" ;;
	*.ko.xz) xz -dc "$path" >"$stage/modules/$n.ko" ;;
	*.ko.zst) zstd -qdc "$path" >"$stage/modules/$n.ko" ;;
	*.ko.gz) gzip -dc "$path" >"$stage/modules/$n.ko" ;;
	*) die 77 "cannot handle module file $path" ;;
	esac || die 77 "cannot decompress $path (missing xz/zstd?)"
	echo "$n" >>"$stage/modules/load-order"
done
for f in "${files[@]}"; do
	dest=${f#*=}
	case "$dest" in */*) mkdir -p "$stage/${dest%/*}" || exit 1 ;; esac
	cp -r "${f%%=*}" "$stage/$dest" || exit 1
done

# One newc record: NAME MODE [DATA [RDEV_MAJOR RDEV_MINOR]] (DATA is text: a
# symlink's target).  The records need no staging files, so no mknod (which
# a non-root user cannot do) and no ln per applet.
pad4() { # LENGTH: NULs up to the next multiple of 4
	local i
	for ((i = $1 % 4; i % 4; i++)); do printf '\0'; done
}
newc_record() {
	local namesize=$((${#1} + 1)) data=${3:-}
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 "$2" 0 0 1 0 "${#data}" 0 0 "${4:-0}" "${5:-0}" "$namesize" 0
	printf '%s\0' "$1"
	pad4 $((110 + namesize))
	printf '%s' "$data"
	pad4 ${#data}
}

applets=$("$busybox" --list) || die 1 "$busybox --list failed"
# Two concatenated archives (the kernel accepts that): the staged tree, then
# /dev/console (the kernel opens it for /init's fds 0-2) and the applet links.
{
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) || exit 1
	newc_record dev/console $((8#020600)) '' 5 1
	for n in $applets; do
		[ "$n" = busybox ] || newc_record "bin/$n" $((8#0120777)) busybox
	done
	newc_record TRAILER!!! 0
} | if [ "$gzip" = 1 ]; then gzip -6; else cat; fi >"$out" || die 1 "cannot write $out"
echo "mkinitramfs: $out (modules: ${order[*]})" >&2
