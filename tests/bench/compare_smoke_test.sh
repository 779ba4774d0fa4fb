#!/usr/bin/env bash
# CI's smoke run of the side-by-side benchmark (bench/compare.sh) at SF=0.01:
# that the harness works end to end, not how fast anything is. Then that a
# wrong answer is caught: voxbench against a server holding other data must
# mark its records unchecked and exit 1.
# Usage: compare_smoke_test.sh BUILD_DIR
set -euo pipefail
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/compare-smoke-XXXXXX)
chmod 755 "$dir"  # the PostgreSQL server runs as user postgres
voxdb_pid=""
cleanup() {
  if [[ -n $voxdb_pid ]]; then
    kill -9 "$voxdb_pid" 2>/dev/null || true
    wait "$voxdb_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Below the ephemeral range (32768-60999), which other tests' client
# sockets draw from while this one runs (hostile_test holds 10,000).
free_port() {
  for p in $(shuf -i 10000-32000 -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  fail "no free port"
}

export VOX_BUILD_DIR=$build VOX_BENCH_VOXDB_PORT=$(free_port) VOX_BENCH_PG_PORT=$(free_port)
"$root/bench/compare.sh" --scale=0.01 --duration=0.3 --warmup=0.1 --clients=1,4 --no-build \
  --out="$dir/out" >"$dir/compare.log" 2>&1 || {
  tail -40 "$dir/compare.log"
  fail "compare.sh"
}
out=$dir/out
for system in voxdb postgres; do
  # 18 cells (16 operations, 2 mixes) x 2 client counts, every answer checked.
  n=$(grep -c '"checked":true' "$out/$system.jsonl") || true
  [ "$n" = 36 ] || fail "$system: $n checked records of 36: $(grep -v '"checked":true' "$out/$system.jsonl" | head -3)"
  grep '"op":"read-mostly","clients":4' "$out/$system.jsonl" | grep '"per_op":{"R1"' >/dev/null ||
    fail "$system: no per-operation figures for the mix"
done
grep '"op":"W3","clients":4' "$out/voxdb.jsonl" | grep '"txn_per_sync":' >/dev/null ||
  fail "voxdb: W3 without transactions per fdatasync"
grep '^| R1 | 4 |' "$out/compare.md" >/dev/null || fail "compare.md has no R1 row"
grep '^| read-mostly, 4 clients: throughput >= 20x |' "$out/compare.md" >/dev/null ||
  fail "compare.md has no targets"
grep '^| postgres | database_bytes |' "$out/compare.md" >/dev/null || fail "no PostgreSQL size"
grep '^| voxdb | resident_bytes_after_restore |' "$out/compare.md" >/dev/null ||
  fail "no VoxDB resident memory"
head -c 200 "$out/compare.svg" | grep "^<svg xmlns" >/dev/null || fail "compare.svg is not SVG"
tail -c 10 "$out/compare.svg" | grep '</svg>' >/dev/null || fail "compare.svg is truncated"
grep '>W5<' "$out/compare.svg" >/dev/null || fail "compare.svg has no W5 label"
[ ! -e "$out/work" ] || fail "work files left behind"

# Wrong answers count for nothing: keys of another seed name users and rooms
# this server does not hold.
"$build/tools/datagen/datagen" --scale=0.002 --seed=1 --data_dir="$dir/data" --keys="$dir/own.keys" \
  >/dev/null 2>&1
"$build/tools/datagen/datagen" --scale=0.002 --seed=2 --keys="$dir/other.keys" >/dev/null 2>&1
port=$(free_port)
"$build/tools/voxdb" --data="$dir/data" --listen="127.0.0.1:$port" >"$dir/voxdb.log" 2>&1 &
voxdb_pid=$!
for _ in $(seq 1 200); do
  grep "^listening on" "$dir/voxdb.log" >/dev/null && break
  sleep 0.05
done
if "$build/bench/voxbench/voxbench" --keys="$dir/other.keys" --address="127.0.0.1:$port" \
  --ops=R1 --clients=1 --duration=0.2 --warmup=0 --out="$dir/wrong.jsonl" >"$dir/wrong.txt" 2>&1; then
  fail "voxbench accepted wrong answers"
fi
grep '"checked":false' "$dir/wrong.jsonl" >/dev/null || fail "the record is not marked unchecked"
grep "count for nothing" "$dir/wrong.txt" >/dev/null || fail "no verdict: $(cat "$dir/wrong.txt")"
# Open loop: the clients send on a schedule, so the rate is what was asked.
"$build/bench/voxbench/voxbench" --keys="$dir/own.keys" --address="127.0.0.1:$port" --ops=R1 \
  --clients=2 --rate=400 --duration=2 --warmup=0.2 --out="$dir/open.jsonl" >"$dir/open.txt" 2>&1 ||
  fail "open loop: $(cat "$dir/open.txt")"
grep '"mode":"open","target_rate":400,' "$dir/open.jsonl" >/dev/null || fail "open loop record"
rate=$(grep -o '"throughput":[0-9]*' "$dir/open.jsonl" | cut -d: -f2)
((rate >= 360 && rate <= 440)) || fail "open loop at 400/s ran at $rate/s"
# Bad arguments are refused before anything runs.
"$build/bench/voxbench/voxbench" --keys="$dir/other.keys" --ops=R10 >/dev/null 2>&1 &&
  fail "--ops=R10 accepted"
"$build/bench/voxbench/voxbench" --keys="$dir/none" >/dev/null 2>&1 && fail "a missing keys file"
echo "PASS"
