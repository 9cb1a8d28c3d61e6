#!/bin/bash
# Where a vhost worker spends its time: stock vhost_scsi against vhostio_scsi
# (single and per_vq), 4k randread at QD 32 on one request queue to rd_mcp
# through vhostio-io, under perf (cpu-clock, whole system).  Prints each
# fabric's IOPS, its workers' CPU per I/O, and the top kernel symbols of the
# vhost-<pid> threads.  By hand, in the test VM:
#
#   tests/vm/run-in-vm.sh --mem 3072 bench/guest-fabric-profile.sh [SECONDS]
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd -P)
TESTS=$BENCH_DIR/../tests/vm/guest/lib
. "$TESTS/lib-lio.sh"
. "$TESTS/lib-vhost.sh"
. "$TESTS/lib-fabric.sh"
SECS=${1:-6}
SIZE=$((64 * MB))
OUT=/tmp/fabric-profile
mkdir -p "$OUT"
command -v perf >/dev/null || { echo "no perf (apt-get install linux-perf)"; exit 77; }

rd_create prof_rd "$SIZE" || exit 1
for fabric in stock single per_vq; do
	fabric_load "$fabric" && vhost_target_create && vhost_lun_add 0 rd_mcp_1/prof_rd || { echo "$fabric: setup failed"; continue; }
	vio run --lun 0 --rw write --bs 1M --qd 8 --size "$SIZE" >/dev/null 2>&1
	# perf takes seconds to start under TCG: the run goes inside its window.
	perf record -a -g -e cpu-clock -F 1000 -o "$OUT/$fabric.data" -- sleep "$((SECS + 6))" >/dev/null 2>&1 &
	p=$!
	sleep 4
	vio run --lun 0 --rw randread --bs 4k --qd 32 --queues 1 --size "$SIZE" --runtime "$SECS" \
		--json >"$OUT/$fabric.json" 2>/dev/null
	wait $p
	/usr/bin/python3 - "$fabric" "$OUT/$fabric.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[2]))
t = j["total"]
print("@@ %s: %.0f IOPS, workers %.1f us CPU per I/O (%d worker threads)"
      % (sys.argv[1], t["iops"], j["cpu"]["workers_s"] / t["ios"] * 1e6, j["cpu"]["workers"]))
PY
	# The workers are the vhost-<owner pid> threads (the owner has exited).
	perf report -i "$OUT/$fabric.data" --no-children --sort comm,sym --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+% +vhost-' | head -30
	vhost_target_remove
done
