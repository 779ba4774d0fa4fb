#!/usr/bin/env bash
# Installs missing dependencies, builds the server and voxctl, and starts
# voxdb on 127.0.0.1:7070 with a demo data set (the standard workload at
# SF=0.01, generated on first start into an empty data directory).
# Extra arguments go to voxdb, e.g. `scripts/demo.sh --demo_scale=0.1`.
# Stop it with Ctrl-C: it finishes what is in flight, syncs the log, exits 0.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VOX_BUILD_DIR:-$root/build}
data=${VOXDB_DEMO_DIR:-/tmp/voxdb-demo}
"$root/scripts/setup.sh"
"$root/scripts/build.sh" voxdb voxctl live_room
echo "demo: data in $data; in another terminal try:"
echo "  $build/tools/voxctl call stats"
echo "  $build/tools/voxctl shell"
exec "$build/tools/voxdb" --data="$data" --demo_scale=0.01 "$@"
