#!/bin/bash
# Configure and build into BUILD_DIR (default: build). Extra args go to cmake.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd -P)
build=${BUILD_DIR:-$src/build}
cmake -S "$src" -B "$build" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
