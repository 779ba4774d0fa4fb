#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz; clang-14, ASan + UBSan, into
# build-fuzz/) and runs each for N seconds on a scratch copy of its seed
# corpus (tests/fuzz/corpus/<target>/, never written to). Prints executions,
# exec/s and coverage per target; exits non-zero on any crash, leak,
# timeout or out-of-memory, whose input is kept in build-fuzz/findings/.
#   scripts/fuzz.sh [--seconds N] [target...]   default: 30 s, every target
#   scripts/fuzz.sh --seeds                     regenerate the checked-in seeds
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VOX_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=30
seeds=0
targets=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --seeds) seeds=1; shift ;;
    fuzz_frame|fuzz_wal_reader|fuzz_snapshot_reader) targets+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=(fuzz_frame fuzz_wal_reader fuzz_snapshot_reader)

if ! grep -qs '^VOX_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1 cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DVOX_FUZZ=ON -DVOX_ASSERTS=ON \
    -DVOX_SANITIZE=address,undefined >/dev/null
fi
corpus=$root/tests/fuzz/corpus
if ((seeds)); then
  VOX_BUILD_DIR=$build "$root/scripts/build.sh" fuzz_seed_gen
  rm -rf "$corpus"
  "$build/tests/fuzz/fuzz_seed_gen" "$corpus"
  exit 0
fi
VOX_BUILD_DIR=$build "$root/scripts/build.sh" "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for t in "${targets[@]}"; do
  scratch=$build/fuzz-run/$t
  findings=$build/findings/$t
  log=$build/fuzz-run/$t.log
  rm -rf "$scratch" "$findings" && mkdir -p "$scratch" "$findings"
  cp "$corpus/$t"/* "$scratch/"
  dict=()
  [[ -f $root/tests/fuzz/$t.dict ]] && dict=("-dict=$root/tests/fuzz/$t.dict")
  rc=0
  "$build/tests/fuzz/$t" "$scratch" "${dict[@]}" -max_total_time="$seconds" \
    -print_final_stats=1 -rss_limit_mb=2048 -timeout=30 -artifact_prefix="$findings/" \
    >"$log" 2>&1 || rc=$?
  # The last status line has the final coverage: "#N DONE cov: C ft: F corp: U/B ...".
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  stat() { grep -oP "^stat::$1:\s*\K[0-9]+" "$log" | tail -1 | grep . || echo '?'; }
  cov=$(grep -oP 'cov: \K[0-9]+' <<<"$last" || echo '?')
  ft=$(grep -oP 'ft: \K[0-9]+' <<<"$last" || echo '?')
  corp=$(grep -oP 'corp: \K[0-9]+/[0-9]+[a-zA-Z]*' <<<"$last" || echo '?')
  printf '%-22s %s s: %s executions, %s exec/s, cov %s, ft %s, corpus %s, peak RSS %s MB\n' \
    "$t" "$seconds" "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
    "$cov" "$ft" "$corp" "$(stat peak_rss_mb)"
  if ((rc != 0)) || grep -qE '^(==[0-9]+==ERROR|SUMMARY: |.*runtime error: |FUZZ_CHECK failed)' "$log"; then
    failed=1
    echo "$t: FAILED (exit $rc); log $log; input kept in $findings/:" >&2
    ls "$findings" >&2 || true
    # What went wrong and where: the report's first lines and first frames.
    grep -m 12 -A1 -E '==ERROR|FUZZ_CHECK|runtime error|SUMMARY|^ +#[0-5] 0x' "$log" | cut -c1-200 >&2 ||
      true
  fi
done
exit $failed
