#!/bin/bash
# ctest-style self-test of the VM harness: exit 0 pass, 1 fail, 77 skip.
#
# One boot runs guest/harness/harness-check.sh, which checks the guest
# environment and then exits with 3, so the same boot also proves that a
# script's exit status (and its arguments, cwd and output) make it back
# through run-in-vm.sh.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
src=$(cd "$here/../.." && pwd -P)

# The kernel run-in-vm.sh should pick: the newest Debian kernel with modules.
# (With VHOSTIO_VM_KERNEL the guest compares against what the host reported.)
kernel=''
if [ -z "${VHOSTIO_VM_KERNEL:-}" ]; then
	for k in $(printf '%s\n' /boot/vmlinuz-*-amd64 | sort -rV); do
		v=${k##*/vmlinuz-}
		if [ -r "$k" ] && [ -d "/lib/modules/$v" ]; then
			kernel=$v
			break
		fi
	done
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Run from a directory other than the repo root to check the cwd is kept.
cd "$here/guest" || exit 1
# shellcheck disable=SC2016  # '$x' is meant literally
"$here/run-in-vm.sh" --timeout "${VHOSTIO_VM_TEST_TIMEOUT:-300}" \
	"$here/guest/harness/harness-check.sh" ${kernel:+--kernel "$kernel"} \
	--src "$src" --cwd "$PWD" --exit 3 -- "a b" '$x' '' '*' | tee "$out"
rc=${PIPESTATUS[0]}

case "$rc" in
77)
	echo "test-harness: SKIP (no VM possible here)"
	exit 77
	;;
3)
	if grep -q '^harness-check: all [0-9]* checks passed' "$out"; then
		echo "test-harness: PASS"
		exit 0
	fi
	echo "test-harness: FAIL: status 3 but the guest's output is missing from stdout"
	;;
*) echo "test-harness: FAIL: run-in-vm.sh returned $rc, expected 3" ;;
esac
exit 1
