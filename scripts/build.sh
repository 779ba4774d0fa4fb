#!/usr/bin/env bash
# Configures and builds VoxDB into build/ (Release, ccache, Ninja).
# Usage: scripts/build.sh [target...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${VOX_BUILD_DIR:-$root/build}
jobs=${VOX_JOBS:-2}
# Build directories side by side share ccache's hits: paths relative to the
# source root, the build directory's name left out of the hash.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE="${VOX_BUILD_TYPE:-Release}" \
    -DVOX_ASSERTS="${VOX_ASSERTS:-OFF}" \
    -DVOX_SANITIZE="${VOX_SANITIZE:-}" \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
if (($#)); then
  cmake --build "$build_dir" -j "$jobs" --target "$@"
else
  cmake --build "$build_dir" -j "$jobs"
fi
