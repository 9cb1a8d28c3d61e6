#!/bin/bash
# Backstore benchmark in the test VM: kernel rd_mcp and fileio, vhostio
# user:ram and user:file, Debian's tcmu-runner user:qcow (raw image) through
# tcm_loop with fio; rd_mcp vs user:ram through vhost-scsi with vhostio-io.
# Boots ONE VM (tests/vm/run-in-vm.sh) running bench/guest-bench.sh, pulls the
# JSON it prints and prints one table per workload. Builds nothing.
#
# Usage: bench/vm-bench.sh [--runtime S] [--size MiB] [--json FILE] [BUILD_DIR]
#   BUILD_DIR   the build tree (default $VHOSTIO_BUILD)
#   --runtime   seconds per job (default 3: enough under TCG; use 20+ on KVM)
#   --size      LUN size / region addressed, MiB (default 256)
#   --json      also write every figure as one JSON object to FILE
# Env: VHOSTIO_VM_ACCEL=kvm|tcg is passed to run-in-vm.sh; VHOSTIO_VM_APPEND
#      (extra guest kernel parameters) defaults to "clocksource=tsc tsc=reliable":
#      fio reads the clock around every I/O, and the HPET the guest would
#      otherwise pick is an emulated MMIO device (slow, serialising) under TCG.
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$BENCH/.." && pwd -P)
PY=${BENCH_PYTHON:-/usr/bin/python3} # not the PATH's python3: that may be a pyenv shim

runtime=3 size=256 json= build=${VHOSTIO_BUILD:-}
while [ $# -gt 0 ]; do
	case "$1" in
	--runtime) runtime=$2 && shift 2 ;;
	--size) size=$2 && shift 2 ;;
	--json) json=$2 && shift 2 ;;
	-h | --help) sed -n '2,16p' "$0" && exit 0 ;;
	-*) echo "vm-bench: unknown option $1" >&2 && exit 2 ;;
	*) build=$1 && shift ;;
	esac
done
[ -n "$build" ] || { echo "vm-bench: give the build dir (or set VHOSTIO_BUILD)" >&2 && exit 2; }
build=$(cd "$build" && pwd -P)
[ -x "$build/daemon/vhostio-runner" ] && [ -x "$build/tools/vhostio-io" ] ||
	{ echo "vm-bench: $build has no daemon/vhostio-runner or tools/vhostio-io; build it first" >&2 && exit 2; }

log=$(mktemp "${TMPDIR:-/tmp}/vm-bench.XXXXXX.log")
# Budget: 59 fio jobs + 6 vhostio-io runs, prefills, plus TCG overhead.
timeout=$((600 + 70 * runtime))
echo "vm-bench: log in $log" >&2
set +e
VHOSTIO_VM_APPEND=${VHOSTIO_VM_APPEND-clocksource=tsc tsc=reliable} \
	VHOSTIO_BUILD=$build "$BASH" "$REPO/tests/vm/run-in-vm.sh" --timeout "$timeout" --mem 3072 \
	"$BENCH/guest-bench.sh" "$runtime" "$size" 2>&1 | tee "$log" |
	grep --line-buffered -E '^(bench|run-in-vm):' >&2
vmrc=${PIPESTATUS[0]}
set -e
[ "$vmrc" = 0 ] || echo "vm-bench: run-in-vm.sh exited $vmrc (see $log)" >&2

"$PY" - "$log" "$json" <<'EOF'
import json, os, re, sys
log, out = sys.argv[1], sys.argv[2]
text = open(log, errors="replace").read()
m = re.search(r"@@BENCH-JSON-BEGIN@@\s*\n(.*?)\n@@BENCH-JSON-END@@", text, re.S)
if not m:
    sys.exit("vm-bench: no JSON from the guest (see %s)" % log)
res = json.loads(m.group(1))
a = re.search(r"run-in-vm: (kvm|tcg) \(-cpu ([^)]*)\)", text)
res["accel"] = a.group(1) if a else "?"
res["host"] = {"nproc": os.cpu_count(),
               "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                            if l.startswith("model name")), "?")}
print("machine: host %d CPUs, %s; VM: accel=%s, %d vCPUs, kernel %s, clocksource %s; %d s per job, %d MiB region"
      % (res["host"]["nproc"], res["host"]["cpu"], res["accel"], res["guest"]["nproc"],
         res["guest"]["kernel"], res["guest"].get("clocksource", "?"), res["runtime_s"], res["size_mib"]))
if res["accel"] != "kvm":
    print("WARNING: TCG (emulated CPU) -- these figures say little about real speed")

R = {}
for r in res["results"]:
    R[(r["backstore"], r["workload"])] = r
status = {r["backstore"]: r for r in res["results"] if r["workload"] == "-"}

def fmt(v, p=1):
    return "-" if v is None else ("%.*f" % (p, v))

def row(name, r, key=None):
    if r is None:
        st = status.get(key or name)
        return "%-22s %s" % (name, st["status"] + ": " + st.get("why", "") if st else "missing")
    if r["status"] != "ok":
        return "%-22s %s: %s" % (name, r["status"], r.get("why", ""))
    return "%-22s %10s %9s %9s %9s %12s" % (name, fmt(r["iops"], 0), fmt(r["mbps"]), fmt(r["p50_us"]),
                                           fmt(r["p99_us"]), fmt(r.get("cpu_s_per_1k_io"), 3))

def ratio(a, b, key):
    if not a or not b or a["status"] != "ok" or b["status"] != "ok" or not b.get(key):
        return "-"
    return "%.2f" % (a[key] / b[key])

hdr = "%-22s %10s %9s %9s %9s %12s" % ("backstore", "IOPS", "MB/s", "p50 us", "p99 us", "CPU s/1k IO")
fio_wl = []
for r in res["results"]:
    if r["workload"] != "-" and not r["workload"].startswith("vhost") and r["workload"] not in fio_wl:
        fio_wl.append(r["workload"])
poll = sorted({r["backstore"].split("+", 1)[1] for r in res["results"] if "+poll" in r["backstore"]})
poll = "+" + poll[0] if poll else None
names = [("rd_mcp", "rd_mcp"), ("fileio", "fileio"), ("user:ram", "user:ram")]
names += [("user:ram" + poll, "user:ram" + poll)] if poll else []
names += [("user:file", "user:file")]
names += [("user:file" + poll, "user:file" + poll)] if poll else []
names += [("tcmu-runner", "tcmu-runner qcow(raw)")]
pairs = [("user:ram", "rd_mcp"), ("user:file", "fileio"), ("user:file", "tcmu-runner")]
if poll:
    pairs = [("user:ram", "rd_mcp"), ("user:ram" + poll, "rd_mcp"), ("user:file", "fileio"),
             ("user:file" + poll, "fileio"), ("user:file", "tcmu-runner"), ("user:file" + poll, "tcmu-runner")]
for wl in fio_wl:
    print("\n== %s (fio libaio direct=1, tcm_loop)" % wl)
    print(hdr)
    for key, label in names:
        if R.get((key, wl)) or not key.endswith(poll or "\0"):
            print(row(label, R.get((key, wl)), key))
    g = lambda b: R.get((b, wl))
    for a, b in pairs:
        if g(a):
            print("  ratio %-32s IOPS %5s   p99 %5s" % (a + "/" + b, ratio(g(a), g(b), "iops"),
                                                     ratio(g(a), g(b), "p99_us")))

if res.get("ring_stats"):
    print("\n== how vhostio-runner served each LUN (all its jobs, prefill included; logged at removal)")
    for bs, line in res["ring_stats"].items():
        print("  %-18s %s" % (bs, line.split(": ", 1)[-1] if line else "(not logged)"))

# Issue #6's targets, each a ratio of IOPS (MB/s for 1M) from this run.
targets = [("user:ram", "rd_mcp", w, 0.95) for w in ("randread-4k-qd32", "randwrite-4k-qd32")]
targets += [("user:file", "fileio", w, 0.95) for w in ("randread-4k-qd32", "randwrite-4k-qd32")]
targets += [("user:file", "tcmu-runner", w, 2.0) for w in ("randread-4k-qd32", "randwrite-4k-qd32")]
targets += [("user:file", "fileio", w, 0.9) for w in ("read-1m-qd8", "write-1m-qd8")]
print("\n== targets of issue #6 (IOPS ratio; best of the default and the busy-poll runner)")
res["targets"] = []
for a, b, wl, want in targets:
    cands = [(x, R.get((x, wl))) for x in (a, a + poll if poll else None) if x and R.get((x, wl))]
    base = R.get((b, wl))
    got = [(float(ratio(r, base, "iops")), x) for x, r in cands if ratio(r, base, "iops") != "-"]
    best = max(got) if got else None
    verdict = "-" if not best else ("met" if best[0] >= want else "NOT met")
    print("  %-12s / %-12s %-18s want >= %.2f  got %s  %s" % (a, b, wl, want,
          "%.2f (%s)" % best if best else "-", verdict))
    res["targets"].append({"a": a, "b": b, "workload": wl, "want": want,
                           "got": best[0] if best else None, "by": best[1] if best else None})
vh = [w for w in dict.fromkeys(r["workload"] for r in res["results"]) if w.startswith("vhost")]
for wl in vh:
    print("\n== %s (vhostio-io over /dev/vhost-scsi)" % wl)
    print(hdr)
    for key in ("rd_mcp", "user:ram"):
        print(row(key, R.get((key, wl))))
    g = lambda b: R.get((b, wl))
    print("  ratio %-32s IOPS %5s   p99 %5s" % ("user:ram/rd_mcp", ratio(g("user:ram"), g("rd_mcp"), "iops"),
                                                 ratio(g("user:ram"), g("rd_mcp"), "p99_us")))
if "vhost" in status:
    print("\nvhost: %s %s" % (status["vhost"]["status"], status["vhost"].get("why", "")))
if out:
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print("\nJSON written to %s" % out)
EOF
