#!/bin/bash
# Guest side of bench/vm-bench.sh: runs as root inside the test VM (see
# tests/vm/run-in-vm.sh). In one boot, each backstore in turn is created
# through configfs, exported through tcm_loop and measured with fio; then the
# vhost path is measured with vhostio-io. All figures end up in one JSON
# object printed between the @@BENCH-JSON-BEGIN@@ / @@BENCH-JSON-END@@ lines.
#
# Usage: guest-bench.sh [RUNTIME_S [SIZE_MIB]]
#   RUNTIME_S  seconds per fio job / vhostio-io run (default 3; use 20+ on KVM)
#   SIZE_MIB   the LUN size and the region the jobs address (default 256)
#
# A benchmark, not a test: a failing backstore is recorded as an error and the
# run goes on; the exit status is 0 whenever the JSON was printed.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd -P)
TESTS=$BENCH_DIR/../tests/vm/guest/lib
# shellcheck source=../tests/vm/guest/lib/lib-lio.sh
. "$TESTS/lib-lio.sh"
# shellcheck source=../tests/vm/guest/lib/lib-vhost.sh
. "$TESTS/lib-vhost.sh"

RUNTIME=${1:-3}
SIZE_MIB=${2:-256}
SIZE=$((SIZE_MIB * MB))
PY=/usr/bin/python3
TCMU_RUNNER=/usr/bin/tcmu-runner
TCMU_HANDLERS=/usr/lib/x86_64-linux-gnu/tcmu-runner
OUT=/tmp/bench-out
IMG=/tmp/bench-img
INDEX=$OUT/index.tsv
mkdir -p "$OUT" "$IMG"
: >"$INDEX"
CLK_TCK=$(getconf CLK_TCK)

log() { echo "bench: $*"; }

# Workloads: NAME RW BS IODEPTH.  The randread-4k queue depths 1..64 are
# also the points of the IOPS-vs-queue-depth plot (bench/plot.py).
WORKLOADS=(
	"randread-4k-qd1 randread 4k 1"
	"randread-4k-qd32 randread 4k 32"
	"randwrite-4k-qd1 randwrite 4k 1"
	"randwrite-4k-qd32 randwrite 4k 32"
	"read-1m-qd8 read 1M 8"
	"write-1m-qd8 write 1M 8"
	"randread-4k-qd4 randread 4k 4"
	"randread-4k-qd16 randread 4k 16"
	"randread-4k-qd64 randread 4k 64"
)
# The busy-poll pass runs only the 4k jobs.
POLL_US=${POLL_US:-50}
# Largest command a user backstore takes (control hw_max_sectors, 512-byte
# units; the kernel's default is 128 = 64 KiB, which splits every 1 MiB
# request into 16 commands).  2048 = 1 MiB, as fileio takes; the same value
# for vhostio and tcmu-runner.
USER_MAX_SECTORS=2048

# cpu_ticks PID: utime+stime of the whole process (all threads), in ticks.
cpu_ticks() {
	local s
	[ -n "${1:-}" ] && s=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo -
		return
	}
	s=${s##*) } # past "pid (comm) "; field 3 (state) is now the first
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

# record BACKSTORE WORKLOAD KIND FILE TICKS_BEFORE TICKS_AFTER
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$INDEX"; }

# loop_dev LUN: /dev node of tcm_loop's LUN (any vendor: LIO-ORG or VHOSTIO).
loop_dev() {
	local d h i
	for i in $(seq 1 150); do
		for d in /sys/bus/scsi/devices/*:*:*:"$1"; do
			[ -d "$d/block" ] || continue
			h=${d##*/}
			h=${h%%:*}
			[[ $(cat "/sys/class/scsi_host/host$h/proc_name" 2>/dev/null) == tcm_loop* ]] || continue
			echo "/dev/$(ls "$d/block")"
			return 0
		done
		sleep 0.1
	done
	echo "bench: no tcm_loop disk for LUN $1:" $(grep -H . /sys/class/scsi_host/*/proc_name) >&2
	return 1
}

# loop_add LUN HBA NAME: export core/HBA/NAME through tcm_loop as LUN.
loop_add() {
	local tpg=$CFS/loopback/$LOOP_WWN/tpgt_1
	mkdir -p "$tpg/lun" || return 1
	[ -n "$(cat "$tpg/nexus" 2>/dev/null)" ] || echo -n naa.50014050000000a2 >"$tpg/nexus" || return 1
	mkdir -p "$tpg/lun/lun_$1" || return 1
	ln -s "$CFS/core/$2/$3" "$tpg/lun/lun_$1/$3"
}

# bench_dev BACKSTORE DEV PID [FILTER]: prefill, then every workload (whose
# name matches FILTER, a regex) with fio.
bench_dev() {
	local bs_name=$1 dev=$2 pid=$3 filter=${4:-.} w name rw bs qd f t0 t1
	log "$bs_name on $dev: prefill"
	fio --name=prefill --filename="$dev" --direct=1 --ioengine=libaio --rw=write --bs=1M \
		--iodepth=8 --size="${SIZE_MIB}M" --output=/dev/null >/dev/null 2>&1 || log "prefill failed"
	for w in "${WORKLOADS[@]}"; do
		# shellcheck disable=SC2086
		set -- $w
		name=$1 rw=$2 bs=$3 qd=$4
		[[ $name =~ $filter ]] || continue
		f=$OUT/fio.$bs_name.$name.json
		t0=$(cpu_ticks "$pid")
		fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio --rw="$rw" --bs="$bs" \
			--iodepth="$qd" --size="${SIZE_MIB}M" --runtime="$RUNTIME" --time_based --norandommap \
			--randrepeat=0 --output-format=json --output="$f" >/dev/null 2>&1 || log "fio $name failed"
		t1=$(cpu_ticks "$pid")
		record "$bs_name" "$name" fio "$f" "$t0" "$t1"
		log "$bs_name $name done"
	done
}

# ------------------------------------------------------------ the backstores

modprobe target_core_file 2>/dev/null
modprobe target_core_user || log "modprobe target_core_user failed"
lun=0

log "kernel rd_mcp"
if rd_create bench_rd $SIZE && loop_add $lun rd_mcp_1 bench_rd && dev=$(loop_dev $lun); then
	bench_dev rd_mcp "$dev" ""
else
	record rd_mcp - error "setup failed" - -
fi
loop_lun_remove $lun
rmdir $CFS/core/rd_mcp_1/bench_rd
lun=$((lun + 1))

log "kernel fileio on tmpfs"
truncate -s $SIZE $IMG/fileio.img
d=$CFS/core/fileio_1/bench_fileio
if mkdir -p $d && echo -n "fd_dev_name=$IMG/fileio.img,fd_dev_size=$SIZE" >$d/control &&
	echo -n 1 >$d/enable && loop_add $lun fileio_1 bench_fileio && dev=$(loop_dev $lun); then
	bench_dev fileio "$dev" ""
else
	record fileio - error "setup failed" - -
fi
loop_lun_remove $lun
rmdir $d
rm -f $IMG/fileio.img
lun=$((lun + 1))

# user_create HBA NAME CONFIG: a user backstore of SIZE taking 1 MiB commands.
user_create() {
	local dir=$CFS/core/user_$1/$2
	mkdir -p "$dir" && echo -n "hw_max_sectors=$USER_MAX_SECTORS" >"$dir/control" &&
		user_backstore_create "$1" "$2" "$3" $SIZE
}

# start_vhostio_runner [OPTIONS]: at the default log level (info), without D-Bus.
start_vhostio_runner() {
	: >"$RUNNER_LOG"
	"$VHOSTIO_BUILD/daemon/vhostio-runner" --handler-dir "$VHOSTIO_BUILD/handlers" --no-dbus "$@" \
		>>"$RUNNER_LOG" 2>&1 &
	RUNNER_PID=$!
	for i in $(seq 1 100); do
		grep -q ready "$RUNNER_LOG" && break
		sleep 0.1
	done
}

# bench_vhostio SUFFIX [FILTER]: user:ram and user:file rows named user:H SUFFIX.
bench_vhostio() {
	local h cfg
	for h in ram file; do
		log "vhostio user:$h$1"
		cfg=ram/bench_$h
		[ $h = file ] && cfg="file/$IMG/user-file.img;create"
		if user_create 1 bench_$h "$cfg" && loop_add $lun user_1 bench_$h && dev=$(loop_dev $lun); then
			bench_dev "user:$h$1" "$dev" "$RUNNER_PID" "${2:-.}"
		else
			record "user:$h$1" - error "setup failed" - -
		fi
		loop_lun_remove $lun
		user_backstore_remove 1 bench_$h
		# The runner logs how it served the ring when the device goes.
		for _ in $(seq 1 20); do
			grep -q "1/bench_$h: served" "$RUNNER_LOG" && break
			sleep 0.1
		done
		record "user:$h$1" - stats "$(grep -o "1/bench_$h: served.*" "$RUNNER_LOG" | tail -n 1)" - -
		rm -f $IMG/user-file.img
		lun=$((lun + 1))
	done
}

log "vhostio-runner, busy-poll window $POLL_US us, 4k jobs"
start_vhostio_runner --poll-us "$POLL_US"
bench_vhostio "+poll$POLL_US" "^rand.*-4k-"
kill -TERM "$RUNNER_PID" && wait "$RUNNER_PID"

log "vhostio-runner"
start_vhostio_runner
bench_vhostio ""

# ------------------------------------------------------------ the vhost path
log "vhost: rd_mcp vs user:ram"
if rd_create vr0 $SIZE && user_create 1 vram0 ram/vram0 &&
	vhost_target_create && vhost_lun_add 0 rd_mcp_1/vr0 && vhost_lun_add 1 user_1/vram0; then
	for l in 0 1; do
		name=rd_mcp pid=""
		[ $l = 1 ] && name=user:ram pid=$RUNNER_PID
		vio run --lun $l --rw write --bs 1M --qd 8 --size $SIZE --json >/dev/null 2>&1 || log "vhost prefill failed"
		for q in 1 4; do
			f=$OUT/vio.$name.q$q.json
			t0=$(cpu_ticks "$pid")
			vio run --lun $l --rw randread --bs 4k --qd 32 --queues $q --size $SIZE \
				--runtime "$RUNTIME" --json >"$f" 2>"$f.err" || log "vhostio-io $name q$q failed"
			t1=$(cpu_ticks "$pid")
			record "$name" "vhost-randread-4k-qd32-q$q" vio "$f" "$t0" "$t1"
			log "vhost $name queues=$q done"
		done
	done
else
	record vhost - error "setup failed" - -
fi
vhost_target_remove
rmdir $CFS/core/rd_mcp_1/vr0 2>/dev/null
user_backstore_remove 1 vram0 2>/dev/null

kill -TERM "$RUNNER_PID" && wait "$RUNNER_PID"

# ------------------------------------------------ Debian's tcmu-runner (qcow)
# Never both runners at once: vhostio-runner is gone by now.
if [ -x $TCMU_RUNNER ]; then
	log "tcmu-runner user:qcow on a raw image"
	mkdir -p $OUT/tcmu-log
	$TCMU_RUNNER --handler-path $TCMU_HANDLERS -l $OUT/tcmu-log >$OUT/tcmu-runner.out 2>&1 &
	TPID=$!
	sleep 3
	truncate -s $SIZE $IMG/tcmu.raw
	if kill -0 $TPID && user_create 2 bench_qcow "qcow/$IMG/tcmu.raw" &&
		loop_add $lun user_2 bench_qcow && dev=$(loop_dev $lun); then
		bench_dev tcmu-runner "$dev" "$TPID"
	else
		record tcmu-runner - error "setup failed" - -
		tail -n 20 $OUT/tcmu-runner.out $OUT/tcmu-log/* 2>/dev/null
	fi
	loop_lun_remove $lun
	user_backstore_remove 2 bench_qcow
	kill -TERM $TPID
	wait $TPID
	rm -f $IMG/tcmu.raw
else
	record tcmu-runner - skipped "$TCMU_RUNNER not installed" - -
fi

# ------------------------------------------------------------ the JSON
echo "@@BENCH-JSON-BEGIN@@"
USER_MAX_SECTORS=$USER_MAX_SECTORS $PY - "$INDEX" "$CLK_TCK" "$RUNTIME" "$SIZE_MIB" <<'EOF'
import json, os, sys
index, clk, runtime, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
res = {"user_hw_max_sectors": int(os.environ.get("USER_MAX_SECTORS", "0")) or None, "guest": {"nproc": os.cpu_count(), "kernel": os.uname().release,
                 "clocksource": open("/sys/devices/system/clocksource/clocksource0/current_clocksource").read().strip(),
                 "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                              if l.startswith("model name")), "?")},
       "runtime_s": runtime, "size_mib": size, "results": []}
for line in open(index):
    bs, wl, kind, path, t0, t1 = line.rstrip("\n").split("\t")
    r = {"backstore": bs, "workload": wl, "status": "ok"}
    if kind == "stats":
        res.setdefault("ring_stats", {})[bs] = path
        continue
    if kind in ("error", "skipped"):
        r.update(status=kind, why=path)
        res["results"].append(r)
        continue
    try:
        if kind == "fio":
            j = json.load(open(path))["jobs"][0]
            d = j["write"] if j["write"]["total_ios"] > j["read"]["total_ios"] else j["read"]
            pct = d["clat_ns"].get("percentile", {})
            r.update(iops=d["iops"], mbps=d["bw_bytes"] / 1e6, ios=d["total_ios"],
                     p50_us=pct.get("50.000000", 0) / 1e3, p99_us=pct.get("99.000000", 0) / 1e3)
        else:
            t = json.load(open(path))["total"]
            r.update(iops=t["iops"], mbps=t["mbps"], ios=t["ios"],
                     p50_us=t["lat_us"]["p50"], p99_us=t["lat_us"]["p99"])
        if t0 != "-" and t1 != "-" and r["ios"]:
            r["cpu_s_per_1k_io"] = (int(t1) - int(t0)) / clk / r["ios"] * 1000
    except Exception as e:  # a benchmark records what failed and goes on
        r.update(status="error", why=repr(e))
    res["results"].append(r)
print(json.dumps(res))
EOF
echo "@@BENCH-JSON-END@@"
exit 0
