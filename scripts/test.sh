#!/bin/bash
# The whole test suite on a fresh Debian 12 machine: install, build with
# -Werror, run unit and VM tests (the VM tests against the real Linux 6.1
# kernel), then the unit tests again under ASan+UBSan, and at the end each
# fuzz target for 30 s (libFuzzer, clang).  A skipped VM test is a failure
# here (VHOSTIO_ALLOW_VM_SKIP=1 relaxes that).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd -P)
"$src/scripts/install-deps.sh"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "=== build (-Werror) and all tests"
BUILD_DIR=$src/build "$src/scripts/build.sh" -DVHOSTIO_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
rc=0
if ! (cd "$src/build" && ctest --output-on-failure "$@") 2>&1 | tee "$log"; then rc=1; fi
if grep -qE '\((Skipped|Not Run)\)' "$log" && [ "${VHOSTIO_ALLOW_VM_SKIP:-0}" != 1 ]; then
	echo "test.sh: some tests were skipped; with the dependencies installed none may be" >&2
	rc=1
fi

echo "=== unit tests under ASan+UBSan"
BUILD_DIR=$src/build-asan "$src/scripts/build.sh" -DVHOSTIO_SANITIZE=ON -DVHOSTIO_WERROR=ON -DCMAKE_BUILD_TYPE=Debug
(cd "$src/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --output-on-failure -L unit) || rc=1

# ThreadSanitizer (GCC; it cannot share a process with ASan, hence its own
# build): the unit tests, which hold every threaded one (the tcmu group:
# device-parallel, device-serialize, device-busy-poll, ring-ooo, ctx-api;
# the handlers group).
echo "=== unit tests under TSan"
BUILD_DIR=$src/build-tsan "$src/scripts/build.sh" -DVHOSTIO_TSAN=ON -DVHOSTIO_WERROR=ON -DCMAKE_BUILD_TYPE=Debug
(cd "$src/build-tsan" && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	ctest --output-on-failure -L unit) || rc=1

# libFuzzer needs clang: a build of just the fuzz targets (tests/fuzz), each
# fuzzed for 30 s (a crash fails the run), then the in-tree corpus replayed.
echo "=== fuzzing: each libFuzzer target for ${VHOSTIO_FUZZ_SECONDS:-30} s (clang, ASan+UBSan), then the corpus replay"
if command -v clang >/dev/null 2>&1; then
	if CC=clang cmake -S "$src" -B "$src/build-fuzz" -DVHOSTIO_FUZZ=ON -DVHOSTIO_SANITIZE=ON -DVHOSTIO_WERROR=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build "$src/build-fuzz" --target fuzz -j "$(nproc)"; then
		"$src/tests/fuzz/run.sh" --build-dir "$src/build-fuzz" --time "${VHOSTIO_FUZZ_SECONDS:-30}" || rc=1
		(cd "$src/build-fuzz" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			ctest --output-on-failure -L fuzz) || rc=1
	else
		rc=1
	fi
else
	echo "test.sh: clang is missing (install-deps.sh could not install it): fuzzing stage SKIPPED" >&2
fi

[ "$rc" -eq 0 ] && echo "test.sh: all tests passed" || echo "test.sh: FAILED" >&2
exit "$rc"
