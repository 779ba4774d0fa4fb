#!/usr/bin/env bash
# Installs missing dependencies, builds everything and runs every test.
#   scripts/test.sh             optimized, with every VOX_DCHECK checked (build-test/)
#   scripts/test.sh --sanitize  the same under AddressSanitizer + UBSan (build-asan/)
#   scripts/test.sh --tsan      the threaded tests (queues, WAL thread, server,
#                               client, reports) under ThreadSanitizer (build-tsan/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
export VOX_ASSERTS=ON
# The tests whose code runs on more than one thread.
threaded_tests=(wal_wal_writer_test wal_recovery_test dispatch_test crash_test server_test client_test metrics_test
                reports_test hostile_test kill9_server_test schema_evolution_test streams_test
                streams_resume_test subscription_test)
if [[ ${1:-} == --tsan ]]; then
  # A race aborts the process that saw it: a test fails, or a server it
  # started dies and the test fails on the lost connection.
  export VOX_BUILD_DIR=${VOX_BUILD_DIR:-$root/build-tsan} VOX_SANITIZE=thread
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:second_deadlock_stack=1}
  "$root/scripts/build.sh" "${threaded_tests[@]}"
  cd "$VOX_BUILD_DIR"
  pattern=$(IFS='|'; echo "${threaded_tests[*]}")
  exec ctest --output-on-failure -j "${VOX_JOBS:-2}" -R "^(${pattern})\$"
elif [[ ${1:-} == --sanitize ]]; then
  # Any report fails the test: UBSan does not recover, ASan stops at the
  # first error, LeakSanitizer checks every process at exit.
  export VOX_BUILD_DIR=${VOX_BUILD_DIR:-$root/build-asan} VOX_SANITIZE=address,undefined
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
elif (($#)); then
  echo "test.sh: unknown argument '$1' (--sanitize, --tsan)" >&2
  exit 2
else
  # Tests build separately from build/ (benchmarks, demo): optimized, with
  # every VOX_DCHECK precondition checked.
  export VOX_BUILD_DIR=${VOX_BUILD_DIR:-$root/build-test}
fi
"$root/scripts/build.sh"
cd "$VOX_BUILD_DIR"
ctest --output-on-failure -j "${VOX_JOBS:-2}"
