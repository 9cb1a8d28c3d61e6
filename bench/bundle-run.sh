#!/bin/bash
# The benchmark bundle's driver (bench/bundle.sh builds the bundle; its ./run
# starts this with the bundle's own bash).  Runs bench/vm-bench.sh and
# bench/fabric-bench.sh in the bundle's VM, on the bundle's Debian tree, with
# PATH holding only the bundle's programs, and prints their tables and
# verdicts.  Everything it writes goes to OUT.
#
# Usage: ./run [--runtime S] [--only vm|fabric] [--queues "1 2 4 8"]
#              [--cpus N] [--label TEXT] [--out DIR]
#   --runtime  seconds per measured run (default 3; KVM: about 7 minutes in all)
#   --only     one of the two benchmarks (default: both)
#   --queues   the fabric benchmark's request-queue counts
#   --cpus     vCPUs of the fabric benchmark's VM (default: the host's, <= 16)
#   --label    a name for the machine, printed with the figures
#   --out      default ./vhostio-bench-results
set -euo pipefail
BENCH=$(cd "${BASH_SOURCE[0]%/*}" && pwd -P)
SRC=${BENCH%/bench}
R=${SRC%/opt/vhostio/src}
TOP=${R%/root}
[ -x "$TOP/hostbin/.exec" ] || {
	echo "bundle-run: not inside an unpacked bundle (no $TOP/hostbin); see bench/bundle.sh" >&2
	exit 2
}
export PATH=$TOP/hostbin

runtime=3 only='' queues='1 2 4 8' cpus='' label='' out=$PWD/vhostio-bench-results
while [ $# -gt 0 ]; do
	case "$1" in
	--runtime) runtime=$2 && shift 2 ;;
	--only) only=$2 && shift 2 ;;
	--queues) queues=$2 && shift 2 ;;
	--cpus) cpus=$2 && shift 2 ;;
	--label) label=$2 && shift 2 ;;
	--out) out=$2 && shift 2 ;;
	-h | --help) sed -n '2,16p' "$0" && exit 0 ;;
	*) echo "run: unknown argument $1 (--help)" >&2 && exit 2 ;;
	esac
done
case "$only" in '' | vm | fabric) ;; *) echo "run: --only vm or fabric" >&2 && exit 2 ;; esac

mkdir -p "$out/tmp"
out=$(cd "$out" && pwd -P)
export TMPDIR=$out/tmp VHOSTIO_VM_CACHE=$out/tmp/vm-cache
export VHOSTIO_VM_ROOT=$R BENCH_PYTHON=$TOP/hostbin/python3
build=$R/opt/vhostio/build

kvm=no
if { : <>/dev/kvm; } 2>/dev/null; then kvm=yes; fi
cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
	echo "vhostio benchmark bundle: $(head -n 1 "$TOP/VERSION")"
	echo "machine: ${label:-$(cat /proc/sys/kernel/hostname)}; $(nproc) CPUs, $cpu_model; host kernel $(uname -r); /dev/kvm usable: $kvm"
	echo "started $(date -u +%Y-%m-%dT%H:%M:%SZ); --runtime $runtime"
} | tee "$out/summary.txt"

start=$SECONDS rc=0
if [ "$only" != fabric ]; then
	echo "== bench/vm-bench.sh" | tee -a "$out/summary.txt"
	"$BASH" "$BENCH/vm-bench.sh" --runtime "$runtime" --json "$out/vm-bench.json" "$build" |
		tee "$out/vm-bench.txt" | tee -a "$out/summary.txt" || rc=1
fi
if [ "$only" != vm ]; then
	echo "== bench/fabric-bench.sh" | tee -a "$out/summary.txt"
	"$BASH" "$BENCH/fabric-bench.sh" --runtime "$runtime" --queues "$queues" ${cpus:+--cpus "$cpus"} \
		--json "$out/fabric-bench.json" "$build" | tee "$out/fabric-bench.txt" | tee -a "$out/summary.txt" || rc=1
fi
echo "done in $((SECONDS - start)) s; figures in $out" | tee -a "$out/summary.txt"
rm -rf "$VHOSTIO_VM_CACHE" # the logs stay in $out/tmp
exit "$rc"
