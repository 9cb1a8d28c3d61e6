#!/bin/bash
# What `cmake --install BUILD --prefix DIR` produces, checked file by file,
# and proven usable: an out-of-tree handler builds against the installed
# headers and vhostio.pc alone, and the installed library and plugins export
# exactly their ABI.
#
# usage: install-layout.sh BUILD_DIR SOURCE_DIR
# Exit 0 all good, 1 a check failed, 77 a tool is missing or the build tree
# was configured in a way this test cannot relocate.
set -u

B=${1:?usage: install-layout.sh BUILD_DIR SOURCE_DIR}
S=${2:?usage: install-layout.sh BUILD_DIR SOURCE_DIR}
B=$(cd "$B" && pwd) && S=$(cd "$S" && pwd) || exit 1

for tool in cmake cc pkg-config nm readelf; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

failures=0
pass() { echo "PASS: $*"; }
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
# The build's configured value of a cache entry.
cache() { sed -n "s/^$1:[A-Z]*=//p" "$B/CMakeCache.txt"; }

conf_prefix=$(cache CMAKE_INSTALL_PREFIX)
libdir=$(cache CMAKE_INSTALL_LIBDIR)
includedir=$(cache CMAKE_INSTALL_INCLUDEDIR)
sbindir=$(cache CMAKE_INSTALL_SBINDIR)
mandir=$(cache CMAKE_INSTALL_MANDIR)
# GNUInstallDirs leaves these cache entries empty and derives them.
datarootdir=$(cache CMAKE_INSTALL_DATAROOTDIR)
mandir=${mandir:-${datarootdir:-share}/man}
handler_dir=$(cache VHOSTIO_HANDLER_DIR)
# Code linked to a sanitized libvhostio must be sanitized too.
sanitize=
[ "$(cache VHOSTIO_SANITIZE)" = ON ] && sanitize=-fsanitize=address,undefined
spec_dir=$(cache VHOSTIO_RTSLIB_SPEC_DIR)
for d in libdir includedir sbindir mandir; do
	case ${!d} in
	'') echo "SKIP: no CMAKE_INSTALL_${d^^} in $B/CMakeCache.txt"; exit 77 ;;
	/*) echo "SKIP: CMAKE_INSTALL_${d^^} is absolute (${!d}): not relocatable by --prefix"; exit 77 ;;
	esac
done
if [ "$handler_dir" != "${conf_prefix%/}/$libdir/vhostio" ]; then
	echo "SKIP: VHOSTIO_HANDLER_DIR=$handler_dir is not the default <prefix>/$libdir/vhostio"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/vhostio-install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
P=$T/usr
L=$P/$libdir

# The tree under test is exactly what `--prefix $P` installs.  DESTDIR is
# only a guard: a destination that ignores --prefix (absolute) lands under
# $T/outside instead of on this host.  The prefix tree is then moved to $P,
# the path its vhostio.pc names.
echo "== cmake --install $B --prefix $P"
if ! DESTDIR=$T/outside cmake --install "$B" --prefix "$P" >"$T/install.log" 2>&1; then
	cat "$T/install.log"
	fail "cmake --install"
	exit 1
fi
mv "$T/outside$P" "$P" || exit 1
(cd "$T/outside" && find . \( -type f -o -type l \) -printf '/%P\n') | sort >"$T/outside.list"
while read -r f; do
	case $f in
	"$spec_dir"/*.spec) ;;
	*libvhostio.so* | */handler_*.so | */vhostio.pc | */vhostio.h | */handler.h | */vhostio-runner)
		fail "$f is installed outside --prefix (absolute destination)" ;;
	*) echo "note: $f has an absolute destination (not under --prefix)" ;;
	esac
done <"$T/outside.list"

echo "== layout under $P (libdir $libdir, from $B/CMakeCache.txt)"
real=$(readlink -f "$L/libvhostio.so.0")
check "$libdir/libvhostio.so.0 exists" test -e "$L/libvhostio.so.0"
check "libvhostio.so.0 resolves to a regular file in $libdir (${real#"$P"/})" \
	test -f "$real" -a ! -L "$real" -a "$(dirname "$real")" = "$(readlink -f "$L")"
check "$libdir/libvhostio.so is a symlink (dev link)" test -L "$L/libvhostio.so"
check "libvhostio.so and libvhostio.so.0 are the same file" \
	test "$(readlink -f "$L/libvhostio.so")" = "$real"
for h in ram file; do
	check "$libdir/vhostio/handler_$h.so" test -f "$L/vhostio/handler_$h.so"
done
for h in common.h vhostio.h handler.h initiator.h vhost_fabric.h; do
	check "$includedir/vhostio/$h" test -f "$P/$includedir/vhostio/$h"
done
check "$sbindir/vhostio-runner is executable" test -f "$P/$sbindir/vhostio-runner" -a -x "$P/$sbindir/vhostio-runner"
check "vhostio-runner is not in bin/" test ! -e "$P/bin/vhostio-runner"
bindir=$(cache CMAKE_INSTALL_BINDIR)
check "$bindir/vhostio-io (the vhost-scsi initiator CLI) is executable" test -x "$P/$bindir/vhostio-io"
for m in man8/vhostio-runner.8 man3/vhostio-handler.3 man1/vhostio-io.1; do
	check "$mandir/$m" test -f "$P/$mandir/$m"
done
if [ -n "$spec_dir" ]; then
	case $spec_dir in
	/*) spec_root=$T/outside$spec_dir ;;
	*) spec_root=$P/$spec_dir ;;
	esac
	for f in vhost loopback iscsi; do
		check "rtslib spec $spec_dir/$f.spec" cmp -s "$spec_root/$f.spec" "$S/rtslib-spec/$f.spec"
	done
else
	fail "no VHOSTIO_RTSLIB_SPEC_DIR in the cache"
fi
for f in "$real" "$L"/vhostio/handler_*.so "$P/$sbindir/vhostio-runner" "$P/$bindir/vhostio-io"; do
	[ -e "$f" ] || continue
	check "${f#"$P"/} has no RPATH/RUNPATH into the build tree" \
		sh -c "! readelf -d '$f' | grep -E '\((RPATH|RUNPATH)\)' | grep -qF '$B'"
done

echo "== vhostio.pc"
pc=$L/pkgconfig/vhostio.pc
check "$libdir/pkgconfig/vhostio.pc" test -f "$pc"
export PKG_CONFIG_PATH=$L/pkgconfig PKG_CONFIG_LIBDIR=$L/pkgconfig
check "pkg-config finds vhostio" pkg-config --exists vhostio
pcvar() { pkg-config --variable="$1" vhostio; }
check "prefix=$(pcvar prefix) is the install prefix" test "$(pcvar prefix)" = "$P"
check "libdir=$(pcvar libdir) is $L" test "$(pcvar libdir)" = "$L"
check "includedir=$(pcvar includedir) is $P/$includedir" test "$(pcvar includedir)" = "$P/$includedir"
check "handlerdir=$(pcvar handlerdir) is the installed handler dir $L/vhostio" \
	test "$(pcvar handlerdir)" = "$L/vhostio"
version=$(pkg-config --modversion vhostio)
check "modversion $version matches libvhostio.so.$version" test "$(basename "$real")" = "libvhostio.so.$version"
cflags=$(pkg-config --cflags vhostio) libs=$(pkg-config --libs vhostio)
echo "   cflags: $cflags"
echo "   libs:   $libs"
check "--cflags has -I$P/$includedir" grep -qwF -- "-I$P/$includedir" <<<"$cflags"
check "--libs has -L$L -lvhostio" sh -c "echo ' $libs ' | grep -qF -- ' -L$L ' && echo ' $libs ' | grep -qF -- ' -lvhostio '"

echo "== an out-of-tree handler and program against the installed tree"
# shellcheck disable=SC2086 # word splitting of pkg-config output is intended
if cc $sanitize -shared -fPIC -Wall -Werror -o "$T/handler_example.so" "$S/doc/examples/handler_example.c" \
	$cflags $libs -Wl,--no-undefined; then
	pass "doc/examples/handler_example.c builds with -Wl,--no-undefined"
	exports=$(nm -D --defined-only "$T/handler_example.so" | awk '{print $NF}' | sort -u | tr '\n' ' ')
	check "it exports only vhostio_handler_entry (got: $exports)" test "$exports" = "vhostio_handler_entry "
	check "it needs libvhostio.so.0" sh -c "readelf -d '$T/handler_example.so' | grep -qF '(NEEDED)             Shared library: [libvhostio.so.0]'"
else
	fail "doc/examples/handler_example.c builds against the installed tree"
fi
cat >"$T/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <vhostio/vhostio.h>
int main(void)
{
	const char *v = vhostio_version();
	printf("%s\n", v);
	return strlen(v) ? 0 : 1;
}
EOF
# shellcheck disable=SC2086
if cc $sanitize -Wall -Werror -o "$T/prog" "$T/prog.c" $cflags $libs; then
	out=$(LD_LIBRARY_PATH=$L "$T/prog")
	check "a program linked with pkg-config's flags runs on the installed library (version $out)" \
		test "$out" = "$version"
else
	fail "a program builds against the installed tree"
fi

echo "== ABI of the installed binaries"
check "libvhostio.so.0 has SONAME libvhostio.so.0" \
	sh -c "readelf -d '$real' | grep -qF '(SONAME)             Library soname: [libvhostio.so.0]'"
# Defined dynamic symbols as NAME@@VERSION (version nodes show as themselves).
readelf --dyn-syms -W "$real" | awk '$7 != "UND" && $8 != "" && $1 ~ /^[0-9]+:$/ {print $8}' |
	sort -u >"$T/lib.syms"
nsyms=$(wc -l <"$T/lib.syms")
check "libvhostio exports symbols ($nsyms)" test "$nsyms" -gt 10
bad=$(grep -vE '^(vhostio_[A-Za-z0-9_]+@@VHOSTIO_[0-9.]+|VHOSTIO_[0-9.]+@@VHOSTIO_[0-9.]+|VHOSTIO_[0-9.]+)$' "$T/lib.syms" | tr '\n' ' ')
check "every export is a versioned vhostio_* symbol${bad:+ (not: $bad)}" test -z "$bad"
# The ABI as recorded: nothing removed or moved between nodes, nothing unrecorded added.
grep -v '^#' "$S/libvhostio/vhostio.abi" | sort -u >"$T/abi.expected"
missing=$(comm -23 "$T/abi.expected" "$T/lib.syms" | tr '\n' ' ')
extra=$(comm -13 "$T/abi.expected" "$T/lib.syms" | tr '\n' ' ')
check "every symbol of libvhostio/vhostio.abi is exported at its node${missing:+ (missing: $missing)}" test -z "$missing"
check "every export is recorded in libvhostio/vhostio.abi${extra:+ (unrecorded: $extra)}" test -z "$extra"
for node in VHOSTIO_0.1 VHOSTIO_1.0 VHOSTIO_1.1 VHOSTIO_1.2 VHOSTIO_1.3 VHOSTIO_1.4; do
	check "version node $node is defined" sh -c "readelf -V -W '$real' | grep -qE 'Name: $node\$'"
	check "symbols are exported at $node" grep -q "@@$node\$" "$T/lib.syms"
done
for h in ram file; do
	f=$L/vhostio/handler_$h.so
	[ -f "$f" ] || continue
	exports=$(nm -D --defined-only "$f" | awk '{print $NF}' | sort -u | tr '\n' ' ')
	check "handler_$h.so exports only vhostio_handler_entry (got: $exports)" test "$exports" = "vhostio_handler_entry "
	check "handler_$h.so needs libvhostio.so.0" sh -c "readelf -d '$f' | grep -qF '[libvhostio.so.0]'"
done

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
exit 0
