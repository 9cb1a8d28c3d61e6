#!/bin/bash
# Build the portable benchmark bundle: one tarball that runs the VM
# benchmarks (bench/vm-bench.sh, bench/fabric-bench.sh) on any x86-64 Linux
# host with /dev/kvm, with no Debian packages and no network.  The host needs
# a kernel, /bin/sh and /dev/kvm (TCG otherwise); everything else comes
# from the tarball:
#
#   vhostio-bench/run         the entry point (POSIX sh)
#   vhostio-bench/hostbin/    one link per program, all to .exec: it runs the
#                             bundle's own copy through the bundle's own
#                             dynamic loader and libraries
#   vhostio-bench/root/       a minimal Debian 12 tree, booted as the guest's
#                             root (tests/vm/run-in-vm.sh VHOSTIO_VM_ROOT):
#                             qemu, the Debian kernel and the modules the
#                             guest loads, bash, coreutils, python3, fio,
#                             sg3-utils, Debian's tcmu-runner, busybox, and
#                             the vhostio tree in /opt/vhostio/{src,build}
#
# Usage: bench/bundle.sh [--out FILE] [--fast] [BUILD_DIR]
#   BUILD_DIR  the built tree (default build/); its vhostio_scsi.ko is shipped
#   --out      the tarball (default BUILD_DIR/vhostio-bench.tar.xz)
#   --fast     xz -1 instead of -9e: a bigger file, built in seconds, whose
#              size is not checked (tests)
#   --dir DIR  also leave the unpacked tree in DIR (must not exist)
# Installs what is missing (scripts/install-deps.sh).  Fails
# when the tarball would be over 60 MiB.
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$BENCH/.." && pwd -P)
MAX_BYTES=$((60 << 20))

out='' fast=0 build='' keep=''
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2 && shift 2 ;;
	--fast) fast=1 && shift ;;
	--dir) keep=$2 && shift 2 ;;
	-h | --help) sed -n '2,25p' "$0" && exit 0 ;;
	-*) echo "bundle: unknown option $1" >&2 && exit 2 ;;
	*) build=$1 && shift ;;
	esac
done
build=$(cd "${build:-$REPO/build}" && pwd -P)
out=${out:-$build/vhostio-bench.tar.xz}
msg() { echo "bundle: $*" >&2; }
die() {
	msg "$*"
	exit 1
}
for f in daemon/vhostio-runner tools/vhostio-io kernel/module/vhostio_scsi.ko; do
	[ -e "$build/$f" ] || die "$build has no $f: build it first"
done
[ -z "$keep" ] || [ ! -e "$keep" ] || die "--dir $keep exists"

# Debian packages shipped whole (less documentation and translations): the
# guest scripts' tools, which double as the host's (through hostbin/).
PACKAGES=(
	libc6 libc-bin bash coreutils util-linux mount procps psmisc grep sed mawk
	findutils diffutils gzip xz-utils kmod iproute2 busybox-static
	python3-minimal python3.11-minimal libpython3.11-minimal libpython3.11-stdlib
	fio sg3-utils tcmu-runner dbus-daemon dbus-system-bus-common
)
"$REPO/scripts/install-deps.sh" >&2
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || die "package $p is not installed"
done

kver=$(KVER='' "$REPO/kernel/kernel-version.sh") || die "no Debian kernel in /boot (apt-get install linux-image-amd64)"
modver=$(modinfo -F vermagic "$build/kernel/module/vhostio_scsi.ko" | cut -d' ' -f1)
[ "$modver" = "$kver" ] || die "vhostio_scsi.ko is built for $modver, the VM boots $kver"

stage=$(mktemp -d "${TMPDIR:-/tmp}/vhostio-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
top=$stage/vhostio-bench
R=$top/root
mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R"/{etc,boot,opt,tmp,run,proc,sys,dev,root}
chmod 1777 "$R/tmp"
# Debian 12's merged /usr.
for d in bin sbin lib lib64; do ln -s "usr/$d" "$R/$d"; done

# The tree's path for a host path: /bin, /lib... as under merged /usr.
tree_path() {
	case "$1" in
	/bin/* | /sbin/* | /lib/* | /lib64/*) echo "$R/usr$1" ;;
	*) echo "$R$1" ;;
	esac
}
copy_in() { # HOST_PATH: the file (a link stays a link), its directory made
	local dst
	dst=$(tree_path "$1")
	if [ -e "$dst" ] || [ -L "$dst" ]; then return 0; fi
	mkdir -p "${dst%/*}"
	cp -a "$1" "$dst"
}

# Left out: documentation and translations; Python's test suite, GUI,
# packaging, build support and the packages no script here imports; glibc's
# iconv charset modules (nothing here converts charsets).
SKIP='^/usr/share/(doc|man|info|locale|lintian|bash-completion|zsh|bug|i18n|fish)/'
SKIP+='|^/usr/lib/python3\.11/(test|idlelib|tkinter|ensurepip|lib2to3|pydoc_data|distutils|turtledemo|config-3\.11-[^/]*|asyncio|email|xml|xmlrpc|unittest|multiprocessing|sqlite3|curses|dbm|wsgiref|venv)/'
SKIP+='|^/usr/lib/python3\.11/lib-dynload/_(dbm|gdbm|sqlite3|tkinter|curses|curses_panel|test|xxtest)'
SKIP+='|^/usr/lib/x86_64-linux-gnu/gconv/'
msg "packages: ${PACKAGES[*]}"
for p in "${PACKAGES[@]}"; do
	dpkg -L "$p" | grep -Ev "$SKIP" | while IFS= read -r f; do
		if [ -f "$f" ] || [ -L "$f" ]; then copy_in "$f"; fi
	done
done
# Debian's alternatives are not in any package's file list.
ln -sf mawk "$R/usr/bin/awk"

# qemu: the one binary, the modules it loads (TCG is one), the firmware a
# -nodefaults q35 guest with -kernel reads.
copy_in /usr/bin/qemu-system-x86_64
copy_in /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
mkdir -p "$R/usr/share/qemu"
for f in bios-256k.bin kvmvapic.bin linuxboot_dma.bin linuxboot.bin pvh.bin multiboot_dma.bin multiboot.bin; do
	# Debian's qemu looks in the seabios and ipxe packages' directories too;
	# the bundle's qemu gets one directory (-L).
	for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
		[ -e "$d/$f" ] && cp -L "$d/$f" "$R/usr/share/qemu/$f" && break
	done
	[ -e "$R/usr/share/qemu/$f" ] || die "no qemu firmware $f"
done

# The kernel and the modules the guest loads (their dependencies too), with
# indexes made for just these.
copy_in "/boot/vmlinuz-$kver"
copy_in "/boot/config-$kver"
moddir=/lib/modules/$kver
GUEST_MODULES=(
	virtio_pci 9pnet_virtio 9p overlay configfs target_core_mod target_core_user
	target_core_file target_core_iblock target_core_pscsi tcm_loop uio sd_mod sg
	vhost vhost_scsi vhost_iotlb iscsi_target_mod iscsi_tcp loop
)
declare -A seen=()
add_module() {
	local m=$1 path dep
	[ -z "${seen[$m]:-}" ] || return 0
	seen[$m]=1
	path=$(modinfo -b / -k "$kver" -F filename "$m" 2>/dev/null) || die "no module $m for $kver"
	[ "$path" != "(builtin)" ] || return 0
	copy_in "$path"
	for dep in $(modinfo -b / -k "$kver" -F depends "$m" | tr , ' '); do add_module "$dep"; done
}
for m in "${GUEST_MODULES[@]}"; do add_module "$m"; done
for f in modules.order modules.builtin modules.builtin.modinfo; do copy_in "$moddir/$f"; done
depmod -b "$R" "$kver"

# The vhostio tree: the harness and benchmark scripts, and what they run.
src=$R/opt/vhostio/src
mkdir -p "$src/kernel"
cp -a "$REPO/tests" "$REPO/bench" "$src/"
cp "$REPO/kernel/kernel-version.sh" "$src/kernel/"
rm -rf "$src/bench/results"
dst=$R/opt/vhostio/build
mkdir -p "$dst"/{daemon,tools,handlers,kernel/module}
cp "$build/daemon/vhostio-runner" "$dst/daemon/"
cp "$build/tools/vhostio-io" "$dst/tools/"
cp "$build"/handlers/handler_*.so "$dst/handlers/"
cp "$build/kernel/module/vhostio_scsi.ko" "$dst/kernel/module/"
# The binaries' RUNPATH names the build tree; in the bundle the library is
# found where the loader looks by default.
cp -a "$build"/libvhostio/libvhostio.so.* "$R/usr/lib/x86_64-linux-gnu/"

# Every library any shipped ELF file needs (ldd gives the whole closure).
is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; }
find "$R" -type f \( -perm -u+x -o -name '*.so*' \) -print0 | while IFS= read -r -d '' f; do
	is_elf "$f" || continue
	# (ldd fails for a static program: nothing to add)
	ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' || true
done | sort -u | while IFS= read -r lib; do
	case "$lib" in "$build"/*) continue ;; esac
	# The soname link as the loader found it, and the file it points at.
	copy_in "$lib"
	real=$(readlink -f "$lib")
	[ "$real" = "$lib" ] || copy_in "$real"
done

# /etc: the accounts dbus-daemon and the scripts expect, the loader's cache.
cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
messagebus:x:100:101::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
tty:x:5:
messagebus:x:101:
nogroup:x:65534:
EOF
echo 'include /etc/ld.so.conf.d/*.conf' >"$R/etc/ld.so.conf"
mkdir -p "$R/etc/ld.so.conf.d"
printf '%s\n' /usr/local/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu \
	/usr/lib/x86_64-linux-gnu/ceph >"$R/etc/ld.so.conf.d/x86_64-linux-gnu.conf"
ldconfig -r "$R"
ln -sf /proc/self/mounts "$R/etc/mtab"

# Absolute links would point into the host's / when the tree is used from
# the host (hostbin/): make them relative (the same file in the guest).
find "$R" -type l -lname '/*' -print0 | while IFS= read -r -d '' l; do
	ln -sfnr "$R$(readlink "$l")" "$l"
done

# hostbin/: a link per program of the tree to .exec, which runs it with the
# tree's loader and every library directory of the tree (--library-path comes
# before the host's cache, so no host library is picked up).
mkdir -p "$top/hostbin"
libpath=$(find "$R/usr/lib" -name '*.so*' -printf '%h\n' | sort -u | sed "s|^$R|\$r|" | paste -sd:)
cat >"$top/hostbin/.exec" <<EOF
#!/bin/sh
# Run the bundle's copy of the program this link is named after, with the
# bundle's dynamic loader and libraries (generated by vhostio's bench/bundle.sh).
r=\${0%/*}/../root
name=\${0##*/}
for d in usr/bin usr/sbin; do
	[ -f "\$r/\$d/\$name" ] || continue
	case \$name in
	python3*) PYTHONHOME=\$r/usr && export PYTHONHOME ;;
	qemu-system-*)
		QEMU_MODULE_DIR=\$r/usr/lib/x86_64-linux-gnu/qemu && export QEMU_MODULE_DIR
		set -- -L "\$r/usr/share/qemu" "\$@"
		;;
	esac
	exec "\$r/usr/lib64/ld-linux-x86-64.so.2" --library-path "$libpath" \\
		--argv0 "\$0" "\$r/\$d/\$name" "\$@"
done
echo "\$name: not in the bundle" >&2
exit 127
EOF
chmod 0755 "$top/hostbin/.exec"
for f in "$R"/usr/bin/* "$R"/usr/sbin/*; do
	n=${f##*/}
	t=$(readlink -f "$f")
	is_elf "$t" || continue
	[ -e "$top/hostbin/$n" ] || ln -s .exec "$top/hostbin/$n"
done

cat >"$top/run" <<'EOF'
#!/bin/sh
# vhostio benchmark bundle: runs bench/vm-bench.sh and bench/fabric-bench.sh
# in the bundle's own VM.  ./run --help for the options.
case $0 in /*) b=${0%/*} ;; */*) b=$(pwd)/${0%/*} ;; *) b=$(pwd) ;; esac
exec "$b/hostbin/bash" "$b/root/opt/vhostio/src/bench/bundle-run.sh" "$@"
EOF
chmod 0755 "$top/run"
cp "$BENCH/bundle-README.txt" "$top/README"
{
	echo "vhostio $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?'), built $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "kernel $kver; qemu $(qemu-system-x86_64 --version | head -n 1)"
	echo "fio $(fio --version); $(dpkg-query -W -f='tcmu-runner ${Version}' tcmu-runner)"
} >"$top/VERSION"

level=-9e
[ "$fast" = 0 ] || level=-1
msg "compressing $(du -sh "$top" | cut -f1) (xz $level)"
tar -C "$stage" --owner=0 --group=0 -cf - vhostio-bench | xz -T0 "$level" >"$out.tmp"
size=$(stat -c %s "$out.tmp")
[ -z "$keep" ] || mv "$top" "$keep"
if [ "$fast" = 1 ]; then
	msg "--fast: not checked against the 60 MiB limit (that is for xz -9e)"
elif [ "$size" -gt "$MAX_BYTES" ]; then
	rm -f "$out.tmp"
	die "the tarball is $((size >> 20)) MiB, over the 60 MiB limit"
fi
mv "$out.tmp" "$out"
msg "wrote $out ($((size >> 20)) MiB, $size bytes)"
