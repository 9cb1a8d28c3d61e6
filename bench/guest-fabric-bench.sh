#!/bin/bash
# Guest side of bench/fabric-bench.sh: in one VM boot, the same two LUNs
# (rd_mcp and vhostio user:ram) behind three vhost-scsi fabrics in turn:
# the kernel's stock vhost_scsi, vhostio_scsi with workers=single and with
# workers=per_vq.  Each serves vhostio-io's 4k randread and randwrite at
# QD 32 per queue on 1, 2, 4 and 8 request queues (by default); the
# figures, with the CPU time of the device's kernel workers and of the
# runner, end up in one JSON object between @@BENCH-JSON-BEGIN@@ and
# @@BENCH-JSON-END@@.
#
# Usage: guest-fabric-bench.sh [RUNTIME_S [SIZE_MIB [QUEUES...]]]
#
# A benchmark, not a test: a failing run is recorded and the rest go on.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd -P)
TESTS=$BENCH_DIR/../tests/vm/guest/lib
. "$TESTS/lib-lio.sh"
. "$TESTS/lib-vhost.sh"
. "$TESTS/lib-fabric.sh"

RUNTIME=${1:-3}
SIZE_MIB=${2:-64}
[ $# -ge 2 ] && shift 2 || set --
QUEUES=("$@")
[ ${#QUEUES[@]} -gt 0 ] || QUEUES=(1 2 4 8)
SIZE=$((SIZE_MIB * MB))
PY=/usr/bin/python3
OUT=/tmp/fabric-bench
INDEX=$OUT/index.tsv
mkdir -p "$OUT"
: >"$INDEX"
CLK_TCK=$(getconf CLK_TCK)
log() { echo "bench: $*"; }

# cpu_ticks PID: utime+stime of a process (all threads), in ticks.
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -; return; }
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

# record FABRIC LUN RW QUEUES FILE RUNNER_TICKS_BEFORE AFTER
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$INDEX"; }

runner_start --no-dbus >/dev/null || { log "runner did not start"; exit 1; }
rd_create fr0 "$SIZE" && user_backstore_create 1 fram0 ram/fram0 "$SIZE" ||
	{ log "backstores not created"; exit 1; }
filled=0
for fabric in stock single per_vq; do
	[ "$fabric" != stock ] && [ ! -f "$FABRIC_KO" ] && { record "$fabric" - - - error - -; continue; }
	if ! fabric_load "$fabric" || ! vhost_target_create || ! vhost_lun_add 0 rd_mcp_1/fr0 ||
		! vhost_lun_add 1 user_1/fram0; then
		log "$fabric: setup failed"
		record "$fabric" - - - error - -
		vhost_target_remove
		continue
	fi
	if [ $filled = 0 ]; then
		# Written once: reads then find data, in every fabric's turn.
		for l in 0 1; do vio run --lun $l --rw write --bs 1M --qd 8 --size "$SIZE" >/dev/null 2>&1; done
		filled=1
	fi
	for l in 0 1; do
		lun=rd_mcp pid=-
		[ $l = 1 ] && lun=user:ram pid=$RUNNER_PID
		for rw in randread randwrite; do
			for q in "${QUEUES[@]}"; do
				f=$OUT/$fabric.$l.$rw.q$q.json
				t0=$(cpu_ticks "$pid")
				vio run --lun $l --rw $rw --bs 4k --qd 32 --queues "$q" --size "$SIZE" \
					--runtime "$RUNTIME" --json >"$f" 2>"$f.err" || log "$fabric $lun $rw q$q failed"
				t1=$(cpu_ticks "$pid")
				record "$fabric" "$lun" "$rw" "$q" "$f" "$t0" "$t1"
				log "$fabric $lun $rw queues=$q done"
			done
		done
	done
	vhost_target_remove
done
rmdir "$CFS/core/rd_mcp_1/fr0"
user_backstore_remove 1 fram0
runner_stop >/dev/null

echo "@@BENCH-JSON-BEGIN@@"
$PY - "$INDEX" "$CLK_TCK" "$RUNTIME" "$SIZE_MIB" <<'EOF'
import json, os, sys
index, clk, runtime, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
res = {"guest": {"nproc": os.cpu_count(), "kernel": os.uname().release},
       "runtime_s": runtime, "size_mib": size, "results": []}
for line in open(index):
    fabric, lun, rw, q, path, t0, t1 = line.rstrip("\n").split("\t")
    r = {"fabric": fabric, "lun": lun, "rw": rw, "queues": int(q) if q != "-" else None}
    if path in ("error", "-"):
        r["status"] = "error"
        res["results"].append(r)
        continue
    try:
        j = json.load(open(path))
        t = j["total"]
        r.update(status="ok" if t["errors"] == 0 else "errors", iops=t["iops"], ios=t["ios"],
                 p50_us=t["lat_us"]["p50"], p99_us=t["lat_us"]["p99"],
                 workers=j["cpu"]["workers"],
                 worker_us_per_io=j["cpu"]["workers_s"] / t["ios"] * 1e6 if t["ios"] else None)
        if t0 != "-" and t1 != "-" and t["ios"]:
            r["runner_us_per_io"] = (int(t1) - int(t0)) / clk / t["ios"] * 1e6
    except Exception as e:  # a benchmark records what failed and goes on
        r.update(status="error", why=repr(e))
    res["results"].append(r)
print(json.dumps(res))
EOF
echo "@@BENCH-JSON-END@@"
exit 0
