#!/bin/bash
# The main job, end to end on a fresh Debian 12 machine: install, build,
# boot the Debian kernel in a VM, start vhostio-runner, create a user:ram
# LUN through LIO configfs, write and verify data through the kernel's SCSI
# stack, and print what happened.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd -P)
"$src/scripts/install-deps.sh"
"$src/scripts/build.sh"
export VHOSTIO_BUILD=$src/build
exec "$src/tests/vm/run-in-vm.sh" --timeout 600 "$src/tests/vm/guest/lio/demo.sh"
