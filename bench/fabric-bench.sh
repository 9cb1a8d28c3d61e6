#!/bin/bash
# The vhost-scsi fabric benchmark: stock vhost_scsi against vhostio_scsi in
# single and per_vq mode, same VM boot, same LUNs (rd_mcp and user:ram),
# 4k randread and randwrite at QD 32 per queue on 1, 2, 4 and 8 request
# queues through vhostio-io.  Boots ONE VM running bench/guest-fabric-bench.sh
# and prints a table per LUN and workload: IOPS, p50/p99 latency, CPU per
# I/O of the device's kernel workers and of the runner, the ratios to stock,
# and a verdict line for each target of issue #14:
#   - per_vq >= 1.5x stock at 4+ queues on rd_mcp;
#   - single within 5% of stock at 1 queue (no regression).
# Both are judged only under KVM with >= 8 vCPUs; elsewhere the figures are
# printed and the verdict says what it needs.  Builds nothing.
#
# Usage: bench/fabric-bench.sh [--runtime S] [--size MiB] [--cpus N]
#                              [--queues "1 2 4 8"] [--json FILE] [BUILD_DIR]
#   --cpus      vCPUs of the VM (default: the host's CPUs, at most 16)
# Env: VHOSTIO_VM_ACCEL=kvm|tcg goes to run-in-vm.sh.
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$BENCH/.." && pwd -P)
PY=${BENCH_PYTHON:-/usr/bin/python3} # bench/bundle.sh sets its own

runtime=3 size=64 json= build=${VHOSTIO_BUILD:-} queues="1 2 4 8"
cpus=$(nproc)
[ "$cpus" -gt 16 ] && cpus=16
while [ $# -gt 0 ]; do
	case "$1" in
	--runtime) runtime=$2 && shift 2 ;;
	--size) size=$2 && shift 2 ;;
	--cpus) cpus=$2 && shift 2 ;;
	--queues) queues=$2 && shift 2 ;;
	--json) json=$2 && shift 2 ;;
	-h | --help) sed -n '2,17p' "$0" && exit 0 ;;
	-*) echo "fabric-bench: unknown option $1" >&2 && exit 2 ;;
	*) build=$1 && shift ;;
	esac
done
[ -n "$build" ] || { echo "fabric-bench: give the build dir (or set VHOSTIO_BUILD)" >&2 && exit 2; }
build=$(cd "$build" && pwd -P)
[ -x "$build/tools/vhostio-io" ] || { echo "fabric-bench: $build has no tools/vhostio-io; build it first" >&2 && exit 2; }
[ -f "$build/kernel/module/vhostio_scsi.ko" ] ||
	echo "fabric-bench: no $build/kernel/module/vhostio_scsi.ko: only stock will be measured" >&2

log=$(mktemp "${TMPDIR:-/tmp}/fabric-bench.XXXXXX.log")
nq=$(wc -w <<<"$queues")
timeout=$((300 + 12 * nq * (runtime + 4) * 3))
echo "fabric-bench: log in $log" >&2
set +e
# shellcheck disable=SC2086
VHOSTIO_VM_APPEND=${VHOSTIO_VM_APPEND-clocksource=tsc tsc=reliable} \
	VHOSTIO_BUILD=$build "$BASH" "$REPO/tests/vm/run-in-vm.sh" --timeout "$timeout" --mem 3072 --cpus "$cpus" \
	"$BENCH/guest-fabric-bench.sh" "$runtime" "$size" $queues 2>&1 | tee "$log" |
	grep --line-buffered -E '^(bench|run-in-vm):' >&2
vmrc=${PIPESTATUS[0]}
set -e
[ "$vmrc" = 0 ] || echo "fabric-bench: run-in-vm.sh exited $vmrc (see $log)" >&2

"$PY" - "$log" "$json" <<'EOF'
import json, os, re, sys
log, out = sys.argv[1], sys.argv[2]
text = open(log, errors="replace").read()
m = re.search(r"@@BENCH-JSON-BEGIN@@\s*\n(.*?)\n@@BENCH-JSON-END@@", text, re.S)
if not m:
    sys.exit("fabric-bench: no JSON from the guest (see %s)" % log)
res = json.loads(m.group(1))
a = re.search(r"run-in-vm: (kvm|tcg) \(-cpu ([^)]*)\)", text)
res["accel"] = a.group(1) if a else "?"
res["host"] = {"nproc": os.cpu_count(),
               "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                            if l.startswith("model name")), "?")}
ncpu = res["guest"]["nproc"]
print("accel=%s vcpus=%d (host %d CPUs, %s); kernel %s; %d s per run, %d MiB region, QD 32 per queue, 4 KiB"
      % (res["accel"], ncpu, res["host"]["nproc"], res["host"]["cpu"], res["guest"]["kernel"],
         res["runtime_s"], res["size_mib"]))
if res["accel"] != "kvm":
    print("WARNING: TCG (emulated CPU): the scaling verdicts need KVM with >= 8 vCPUs")

R = {(r["fabric"], r["lun"], r["rw"], r["queues"]): r for r in res["results"] if r.get("queues")}
fabrics = ["stock", "single", "per_vq"]
queues = sorted({k[3] for k in R})

def f(v, p=0):
    return "-" if v is None else "%.*f" % (p, v)

def get(fab, lun, rw, q, key):
    r = R.get((fab, lun, rw, q))
    return None if not r or r.get("status") != "ok" else r.get(key)

def ratio(a, b):
    return None if a is None or not b else a / b

for lun in ("rd_mcp", "user:ram"):
    for rw in ("randread", "randwrite"):
        print("\n%s %s 4k QD32/queue" % (lun, rw))
        hdr = "%-6s" % "queues"
        for fab in fabrics:
            hdr += " | %9s %7s %7s %6s" % (fab + " IOPS", "p50us", "p99us", "wrk_us")
        hdr += " | %6s" % "run_us" + " | %7s %7s" % ("per_vq/", "single/")
        print(hdr)
        for q in queues:
            line = "%-6d" % q
            for fab in fabrics:
                line += " | %9s %7s %7s %6s" % (f(get(fab, lun, rw, q, "iops")), f(get(fab, lun, rw, q, "p50_us"), 1),
                                               f(get(fab, lun, rw, q, "p99_us"), 1),
                                               f(get(fab, lun, rw, q, "worker_us_per_io"), 1))
            line += " | %6s" % f(get("per_vq", lun, rw, q, "runner_us_per_io"), 1)
            s = get("stock", lun, rw, q, "iops")
            line += " | %6sx %6sx" % (f(ratio(get("per_vq", lun, rw, q, "iops"), s), 2),
                                      f(ratio(get("single", lun, rw, q, "iops"), s), 2))
            print(line)
print("\nwrk_us: CPU time of the device's kernel workers per I/O (all of them); run_us: vhostio-runner's per I/O (user:ram, per_vq run); ratios: IOPS over stock's")

judged = res["accel"] == "kvm" and ncpu >= 8
where = "accel=%s, %d vCPUs" % (res["accel"], ncpu)
verdicts = []
for rw in ("randread", "randwrite"):
    for q in [q for q in queues if q >= 4]:
        r = ratio(get("per_vq", "rd_mcp", rw, q, "iops"), get("stock", "rd_mcp", rw, q, "iops"))
        ok = r is not None and r >= 1.5
        verdicts.append(("per_vq >= 1.5x stock, rd_mcp %s, %d queues: %sx" % (rw, q, f(r, 2)), ok))
    if 1 in queues:
        r = ratio(get("single", "rd_mcp", rw, 1, "iops"), get("stock", "rd_mcp", rw, 1, "iops"))
        ok = r is not None and r >= 0.95
        verdicts.append(("single within 5%% of stock, rd_mcp %s, 1 queue: %sx" % (rw, f(r, 2)), ok))
print()
for what, ok in verdicts:
    v = ("PASS" if ok else "FAIL") if judged else "NOT JUDGED (needs KVM, >= 8 vCPUs; here %s)" % where
    print("verdict: %s: %s" % (what, v))
res["verdicts"] = [{"what": w, "ok": ok, "judged": judged} for w, ok in verdicts]
if out:
    json.dump(res, open(out, "w"), indent=1)
EOF
