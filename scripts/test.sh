#!/usr/bin/env bash
# Installs missing dependencies, builds everything and runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
# Tests build separately from build/ (benchmarks, demo): optimized, with
# every VOX_DCHECK precondition checked.
export VOX_BUILD_DIR=${VOX_BUILD_DIR:-$root/build-test} VOX_ASSERTS=ON
"$root/scripts/build.sh"
cd "$VOX_BUILD_DIR"
ctest --output-on-failure -j "${VOX_JOBS:-2}"
