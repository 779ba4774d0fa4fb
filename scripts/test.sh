#!/usr/bin/env bash
# Installs missing dependencies, builds everything and runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "${VOX_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${VOX_JOBS:-2}"
