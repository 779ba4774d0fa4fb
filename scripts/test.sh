#!/usr/bin/env bash
# Installs missing dependencies, builds everything and runs every test.
#   scripts/test.sh             optimized, with every VOX_DCHECK checked (build-test/)
#   scripts/test.sh --sanitize  the same under AddressSanitizer + UBSan (build-asan/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
export VOX_ASSERTS=ON
if [[ ${1:-} == --sanitize ]]; then
  # Any report fails the test: UBSan does not recover, ASan stops at the
  # first error, LeakSanitizer checks every process at exit.
  export VOX_BUILD_DIR=${VOX_BUILD_DIR:-$root/build-asan} VOX_SANITIZE=address,undefined
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
elif (($#)); then
  echo "test.sh: unknown argument '$1' (--sanitize)" >&2
  exit 2
else
  # Tests build separately from build/ (benchmarks, demo): optimized, with
  # every VOX_DCHECK precondition checked.
  export VOX_BUILD_DIR=${VOX_BUILD_DIR:-$root/build-test}
fi
"$root/scripts/build.sh"
cd "$VOX_BUILD_DIR"
ctest --output-on-failure -j "${VOX_JOBS:-2}"
