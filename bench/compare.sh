#!/usr/bin/env bash
# The side-by-side benchmark, one command: VoxDB and PostgreSQL on the same
# data set (WORKLOAD.md at --scale), the same operations, the same client
# counts, durability on in both (docs/benchmarks.md).
#
#   bench/compare.sh [--scale=0.1] [--duration=10] [--warmup=1] [--clients=1,32]
#                    [--ops=all] [--out=DIR] [--systems=voxdb,postgres] [--no-build]
#
# Leaves in DIR (default bench-results/<time>-sf<scale>): voxdb.jsonl and
# postgres.jsonl (voxbench's records), *-load.json (load, memory, snapshot
# and restore facts), compare.md (the table and the targets) and
# compare.svg (the chart). The systems run one after the other, each with
# the whole machine. Work files (the VoxDB data directory, the CSV files,
# the PostgreSQL cluster) go to DIR/work and are deleted at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

scale=0.1 duration=10 warmup=1 clients=1,32 ops=all out="" systems=voxdb,postgres build=1
for arg in "$@"; do
  case $arg in
    --scale=*) scale=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --warmup=*) warmup=${arg#*=} ;;
    --clients=*) clients=${arg#*=} ;;
    --ops=*) ops=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --systems=*) systems=${arg#*=} ;;
    --no-build) build=0 ;;
    -h | --help)
      sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "compare.sh: unknown argument '$arg' (--help)" >&2
      exit 2
      ;;
  esac
done

build_dir=${VOX_BUILD_DIR:-$root/build}
if ((build)); then
  "$root/scripts/setup.sh"
  "$root/scripts/build.sh" datagen voxdb voxbench voxbench_compare
fi
out=${out:-$root/bench-results/$(date -u +%Y%m%d-%H%M%S)-sf$scale}
work=$out/work
mkdir -p "$out"
rm -rf "$work"
mkdir -p "$work"
vox_port=${VOX_BENCH_VOXDB_PORT:-17070}
pg_port=${VOX_BENCH_PG_PORT:-15433}
voxdb_pid=""
pg_dir=""

cleanup() {
  if [[ -n $voxdb_pid ]] && kill -0 "$voxdb_pid" 2>/dev/null; then
    kill -TERM "$voxdb_pid" 2>/dev/null || true
    wait "$voxdb_pid" 2>/dev/null || true
  fi
  if [[ -n $pg_dir ]]; then "$root/bench/peers/postgres/cluster.sh" stop "$pg_dir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

log() { echo "compare.sh: $*" >&2; }

want() { [[ ,$systems, == *,$1,* ]]; }

bench_args=(--keys="$out/keys" --ops="$ops" --clients="$clients" --duration="$duration" --warmup="$warmup")

log "generating SF=$scale (VoxDB snapshot, CSV for PostgreSQL, voxbench keys)"
csv_arg=()
if want postgres; then csv_arg=(--csv_dir="$work/csv"); fi
"$build_dir/tools/datagen/datagen" --scale="$scale" --data_dir="$work/voxdb" --keys="$out/keys" \
  "${csv_arg[@]}" --summary="$out/voxdb-load.json" >&2

rm -f "$out/voxdb.jsonl" "$out/postgres.jsonl"
runs=()
facts=("$out/voxdb-load.json")
if want voxdb; then
  log "starting voxdb on 127.0.0.1:$vox_port (restore from the snapshot)"
  start=$(date +%s.%N)
  # No maintenance (it would delete R5's expired recordings) and no
  # scheduled checkpoint during the run; durability fsync, the default.
  "$build_dir/tools/voxdb" --data="$work/voxdb" --listen="127.0.0.1:$vox_port" \
    --maintenance_interval_s=0 --checkpoint_interval_s=0 --checkpoint_wal_bytes=$((64 << 30)) \
    >"$out/voxdb.log" 2>&1 &
  voxdb_pid=$!
  for _ in $(seq 1 6000); do
    grep "^listening on" "$out/voxdb.log" >/dev/null && break
    kill -0 "$voxdb_pid" 2>/dev/null || { cat "$out/voxdb.log" >&2; exit 1; }
    sleep 0.05
  done
  grep "^listening on" "$out/voxdb.log" >/dev/null || { log "voxdb did not start"; exit 1; }
  restore=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  rss_kib=$(awk '/^VmRSS/ {print $2}' "/proc/$voxdb_pid/status")
  echo "{\"system\":\"voxdb\",\"restore_seconds\":$restore,\"resident_bytes_after_restore\":$((rss_kib * 1024))}" \
    >"$out/voxdb-restore.json"
  facts+=("$out/voxdb-restore.json")
  log "voxdb: restored in ${restore} s, resident $((rss_kib / 1024)) MiB; running voxbench"
  "$build_dir/bench/voxbench/voxbench" --system=voxdb --address="127.0.0.1:$vox_port" \
    "${bench_args[@]}" --out="$out/voxdb.jsonl" | tee "$out/voxdb.txt"
  kill -TERM "$voxdb_pid"
  wait "$voxdb_pid" || { log "voxdb did not stop cleanly"; exit 1; }
  voxdb_pid=""
  runs+=("$out/voxdb.jsonl")
fi

if want postgres; then
  pg_dir=$work/pg
  log "starting a private PostgreSQL cluster on 127.0.0.1:$pg_port"
  "$root/bench/peers/postgres/cluster.sh" start "$pg_dir" "$pg_port" >&2
  log "loading the CSV files into PostgreSQL"
  "$root/bench/peers/postgres/cluster.sh" load "$pg_dir" "$work/csv" >"$out/postgres-load.json"
  facts+=("$out/postgres-load.json")
  rm -rf "$work/csv"
  log "running voxbench against PostgreSQL"
  "$build_dir/bench/voxbench/voxbench" --system=postgres \
    --pg="$("$root/bench/peers/postgres/cluster.sh" conninfo "$pg_dir")" \
    "${bench_args[@]}" --out="$out/postgres.jsonl" | tee "$out/postgres.txt"
  "$root/bench/peers/postgres/cluster.sh" stop "$pg_dir" >&2
  pg_dir=""
  runs+=("$out/postgres.jsonl")
fi

joined=$(IFS=,; echo "${runs[*]}")
joined_facts=$(IFS=,; echo "${facts[*]}")
"$build_dir/bench/voxbench/voxbench_compare" --runs="$joined" --facts="$joined_facts" \
  --chart="$out/compare.svg" | tee "$out/compare.md"
log "results in $out (compare.md, compare.svg, *.jsonl)"
