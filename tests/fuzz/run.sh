#!/bin/bash
# Run the libFuzzer targets of tests/fuzz from a clang build made with
#   CC=clang cmake -S . -B build-fuzz -DVHOSTIO_FUZZ=ON -DVHOSTIO_SANITIZE=ON
#   cmake --build build-fuzz --target fuzz
# and print, per target, executions, executions per second, corpus size and
# crashes.  Exits 1 if any target crashed (or leaked, timed out, ran out of
# memory), 2 on a usage or setup error.
#
#   run.sh [--build-dir DIR] [--target T]... [--execs N | --time S] [--jobs J] [--merge]
#
#   --build-dir DIR  the clang build (default: build-fuzz at the top of the tree)
#   --target T       ring, scsi, config, virtio, inotify or vring; repeatable (default: all)
#   --execs N        total executions over all targets (default 10000000),
#                    split by weight: ring and scsi 40 each, config,
#                    virtio and vring 10 each, inotify 2 (renormalised
#                    over the targets chosen)
#   --time S         instead: S seconds per target (-max_total_time), as CI runs it
#   --jobs J         processes per target (libFuzzer -jobs/-workers; default:
#                    the CPUs, at most 8)
#   --merge          afterwards, add to tests/fuzz/corpus/<target>/ the few
#                    inputs of the run that add most coverage (a -set_cover_merge=1
#                    over both corpora, then curate.py: at most 10, each adding at
#                    least 5 features); review and commit them by hand
#
# The work corpus, logs and crash artifacts stay in DIR/fuzz-work/<target>/
# (corpus/, logs/, artifacts/), outside git; the in-tree corpus is read, and
# written only by --merge.  A crash artifact is an input: replay it with
# DIR/tests/fuzz/fuzz-<target> FILE, or the plain driver fuzz-<target>-replay.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd -P)
build=$src/build-fuzz
targets=()
execs=10000000
seconds=
jobs=$(nproc)
[ "$jobs" -gt 8 ] && jobs=8
merge=0

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) build=$(cd "$2" && pwd -P); shift 2 ;;
	--target) targets+=("$2"); shift 2 ;;
	--execs) execs=$2; shift 2 ;;
	--time) seconds=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--merge) merge=1; shift ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=(ring scsi config virtio inotify vring)
[ "$jobs" -ge 1 ] || { echo "run.sh: --jobs must be at least 1" >&2; exit 2; }

declare -A weight=([ring]=40 [scsi]=40 [config]=10 [virtio]=10 [inotify]=2 [vring]=10)
declare -A max_len=([ring]=16384 [scsi]=16384 [config]=1024 [virtio]=4096 [inotify]=4096 [vring]=8192)
total_weight=0
for t in "${targets[@]}"; do
	[ -n "${weight[$t]:-}" ] || { echo "run.sh: unknown target '$t' (ring, scsi, config, virtio, inotify, vring)" >&2; exit 2; }
	[ -x "$build/tests/fuzz/fuzz-$t" ] || {
		echo "run.sh: $build/tests/fuzz/fuzz-$t is missing; build it with" >&2
		echo "  CC=clang cmake -S $src -B $build -DVHOSTIO_FUZZ=ON -DVHOSTIO_SANITIZE=ON && cmake --build $build --target fuzz" >&2
		exit 2
	}
	total_weight=$((total_weight + weight[$t]))
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ -n "$seconds" ]; then
	echo "run.sh: ${targets[*]}: $seconds s each, $jobs job(s) per target, in $build/fuzz-work"
else
	echo "run.sh: ${targets[*]}: $execs executions in all, $jobs job(s) per target, in $build/fuzz-work"
fi
failed=0
summary=()
for t in "${targets[@]}"; do
	work=$build/fuzz-work/$t
	mkdir -p "$work/corpus" "$work/logs" "$work/artifacts"
	rm -f "$work"/logs/fuzz-*.log
	find "$work/artifacts" -type f | sort >"$work/logs/artifacts-before"
	limit=()
	if [ -n "$seconds" ]; then
		limit=(-max_total_time="$seconds")
	else
		per_job=$((execs * weight[$t] / total_weight / jobs))
		[ "$per_job" -ge 1 ] || per_job=1
		limit=(-runs="$per_job")
	fi
	dict=()
	[ -f "$src/tests/fuzz/$t.dict" ] && dict=(-dict="$src/tests/fuzz/$t.dict")
	start=$(date +%s.%N)
	# Each job is its own process (log in logs/fuzz-N.log); they share the
	# work corpus, the in-tree seeds are read only.  A crash ends only its job.
	(cd "$work/logs" && "$build/tests/fuzz/fuzz-$t" -jobs="$jobs" -workers="$jobs" "${limit[@]}" \
		-max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$work/artifacts/" "$work/corpus" "$src/tests/fuzz/corpus/$t" \
		>"$work/logs/driver.log" 2>&1) || true
	end=$(date +%s.%N)
	n=$(cat "$work"/logs/fuzz-*.log 2>/dev/null | sed -n 's/^stat::number_of_executed_units: *//p' |
		awk '{ s += $1 } END { print s + 0 }')
	rate=$(awk -v n="$n" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", (b > a) ? n / (b - a) : 0 }')
	corpus=$(find "$work/corpus" -type f | wc -l)
	find "$work/artifacts" -type f | sort | comm -13 "$work/logs/artifacts-before" - >"$work/logs/artifacts-new"
	crashes=$(wc -l <"$work/logs/artifacts-new")
	wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
	summary+=("$(printf '%-8s %12s %10s %8s %8s %6s' "$t" "$n" "$rate" "$corpus" "$crashes" "$wall")")
	if [ "$crashes" -gt 0 ]; then
		failed=1
		echo "run.sh: $t: $crashes new artifact(s) in $work/artifacts:" >&2
		sed 's/^/  /' "$work/logs/artifacts-new" >&2
		# The first report, with its stack, from the job logs.
		grep -h -m1 -A40 -E '^==[0-9]+==ERROR|runtime error:|fuzz: invariant broken|ERROR: libFuzzer' \
			"$work"/logs/fuzz-*.log 2>/dev/null | head -60 >&2 || true
	fi
	if [ "$merge" = 1 ]; then
		# Every input's coverage (set-cover merge without counters: about
		# the edges), then curate.py copies the few that add most of it.
		rm -rf "$work/merge" "$work/logs/merge.ctl"
		mkdir -p "$work/merge"
		if (cd "$work/logs" && "$build/tests/fuzz/fuzz-$t" -set_cover_merge=1 -use_counters=0 \
			-merge_control_file="$work/logs/merge.ctl" -max_len="${max_len[$t]}" -timeout=10 \
			"$work/merge" "$src/tests/fuzz/corpus/$t" "$work/corpus" >"$work/logs/merge.log" 2>&1); then
			python3 "$src/tests/fuzz/curate.py" "$work/logs/merge.ctl" "$src/tests/fuzz/corpus/$t" | sed "s/^/run.sh: $t: /"
		else
			echo "run.sh: $t: merge failed, see $work/logs/merge.log" >&2
		fi
		rm -rf "$work/merge"
		echo "run.sh: $t: in-tree corpus now $(find "$src/tests/fuzz/corpus/$t" -type f | wc -l) inputs"
	fi
done

printf '%-8s %12s %10s %8s %8s %6s\n' target execs exec/s corpus crashes wall_s
for line in "${summary[@]}"; do echo "$line"; done
if [ "$failed" = 1 ]; then
	echo "run.sh: crashes found (artifacts above)" >&2
	exit 1
fi
echo "run.sh: no crashes"
