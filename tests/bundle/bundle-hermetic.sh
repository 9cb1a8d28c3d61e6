#!/bin/bash
# The portable benchmark bundle (bench/bundle.sh) runs on a host without any
# of the Debian packages it carries: build it, unpack it into an empty
# directory, and run it from another empty directory in a mount namespace
# whose /usr and /boot are empty, but for /usr/bin/sh (a copy of the static
# busybox, standing in for the host's own shell), with PATH=/usr/bin:/bin.
# Asserts on what it measured: every row of its JSON has status ok and
# figures, the tables and the verdict lines are printed.
#
# Usage: bundle-hermetic.sh BUILD_DIR [--full]
#   default  the fabric benchmark, 1 queue, 1 s per run (CI)
#   --full   both benchmarks with their default runs (by hand; under TCG
#            about 9 minutes)
# Exit: 0 pass, 1 fail, 77 skip (not root: no mount namespace).
set -uo pipefail
build=$(cd "${1:?usage: bundle-hermetic.sh BUILD_DIR [--full]}" && pwd -P) || exit 1
full=${2:-}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
PY=/usr/bin/python3
fail() {
	echo "FAIL: $*"
	exit 1
}
[ "$(id -u)" = 0 ] || {
	echo "SKIP: needs root for a mount namespace"
	exit 77
}
command -v unshare >/dev/null || fail "no unshare (util-linux)"

work=$(mktemp -d "${TMPDIR:-/tmp}/bundle-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$SRC/bench/bundle.sh" --fast --out "$work/vhostio-bench.tar.xz" "$build" || fail "bench/bundle.sh failed"
mkdir "$work/unpacked" "$work/cwd"
tar -C "$work/unpacked" -xf "$work/vhostio-bench.tar.xz" || fail "cannot unpack the bundle"
bundle=$work/unpacked/vhostio-bench

args=(--only fabric --runtime 1 --queues 1 --label bundle-hermetic)
[ "$full" != --full ] || args=(--label bundle-hermetic)
# The host's /usr (every Debian package, with /bin, /sbin and /lib through
# the merged-/usr links) and /boot are hidden; /usr/bin/sh is the only program.
mkdir -p "$work/fake-usr/bin" "$work/fake-boot"
cp /bin/busybox "$work/fake-usr/bin/sh" || fail "no static busybox"
unshare --mount --propagation private /bin/bash -c '
	set -e
	mount --bind "$1/fake-boot" /boot
	mount --bind "$1/fake-usr" /usr # the last program of /usr this runs
	cd "$1/cwd"
	shift
	exec -c /usr/bin/sh -c "PATH=/usr/bin:/bin HOME=/root; export PATH HOME; exec \"\$0\" \"\$@\"" "$@"
' - "$work" "$bundle/run" "${args[@]}" 2>&1 | tee "$work/run.log"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || fail "the bundle's run exited $rc"

out=$work/cwd/vhostio-bench-results
"$PY" - "$out" "$full" <<'PYEOF' || exit 1
import json, os, sys
out, full = sys.argv[1], sys.argv[2] == "--full"
bad = []
files = ["fabric-bench.json"] + (["vm-bench.json"] if full else [])
for name in files:
    path = os.path.join(out, name)
    if not os.path.exists(path):
        sys.exit("FAIL: the bundle wrote no %s" % name)
    res = json.load(open(path))
    rows = [r for r in res["results"] if r.get("workload", "x") != "-"]
    if not rows:
        bad.append("%s: no rows" % name)
    for r in rows:
        if r.get("status") != "ok" or not r.get("iops"):
            bad.append("%s: %s" % (name, r))
    if name == "fabric-bench.json":
        fabrics = {r["fabric"] for r in rows}
        if fabrics != {"stock", "single", "per_vq"}:
            bad.append("fabrics measured: %s" % sorted(fabrics))
    print("PASS: %s: %d rows, all measured" % (name, len(rows)) if not bad else "")
if bad:
    print("FAIL: rows not measured:\n  " + "\n  ".join(map(str, bad[:10])))
    sys.exit(1)
PYEOF
grep -q '^verdict: ' "$out/fabric-bench.txt" || fail "no verdict lines"
grep -q '^accel=' "$out/fabric-bench.txt" || fail "no accel= line"
echo "PASS: the bundle ran with /usr hidden: $(tail -n 1 "$out/summary.txt")"
