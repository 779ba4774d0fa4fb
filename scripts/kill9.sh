#!/usr/bin/env bash
# Kill -9 of the real server under load (tests/crash/kill9_server_test.cc):
# voxdb with fsync durability driven by tests/crash/acked_writer, SIGKILLed
# at random moments, restarted on the same data, and checked: every
# acknowledged write there, unknown ones all or nothing, the invariants hold.
#   scripts/kill9.sh [--rounds N] [--seed S] [--keep]
# N: 100 by default (CI runs 4 through ctest). --keep leaves the data
# directory (printed) in place. Builds into $VOX_BUILD_DIR (build/ by default).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=100 seed= keep=0
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --seed) seed=$2; shift 2 ;;
    --seed=*) seed=${1#*=}; shift ;;
    --keep) keep=1; shift ;;
    *) echo "kill9.sh: unknown argument '$1' (--rounds N, --seed S, --keep)" >&2; exit 2 ;;
  esac
done
export VOX_BUILD_DIR=${VOX_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" voxdb acked_writer kill9_server_test
VOX_KILL9_ROUNDS=$rounds VOX_KILL9_SEED=$seed VOX_KILL9_KEEP=$keep \
  exec "$VOX_BUILD_DIR/tests/crash/kill9_server_test" \
  --gtest_filter=Kill9ServerTest.EveryAcknowledgedWriteSurvivesSigkillOfTheServer
