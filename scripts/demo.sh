#!/usr/bin/env bash
# Installs missing dependencies, builds voxctl and runs the demo: generated
# data loaded into the engine, then every documented data flow, printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" voxctl
exec "${VOX_BUILD_DIR:-$root/build}/tools/voxctl" demo "$@"
