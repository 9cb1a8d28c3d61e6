#!/bin/bash
# The whole test suite on a fresh Debian 12 machine: install, build with
# -Werror, run unit and VM tests (the VM tests against the real Linux 6.1
# kernel), then the unit tests again under ASan+UBSan.  A skipped VM test
# is a failure here (VHOSTIO_ALLOW_VM_SKIP=1 relaxes that).
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

[ "$rc" -eq 0 ] && echo "test.sh: all tests passed" || echo "test.sh: FAILED" >&2
exit "$rc"
