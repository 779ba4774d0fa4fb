#!/usr/bin/env bash
# The PostgreSQL peer end to end: pg_driver_test's data set exported as CSV,
# a private cluster started on a free port (cluster.sh), the data loaded
# (twice: a load replaces the database), then pg_driver_test against it.
# The cluster is stopped and its directory removed however this ends.
# Usage: pg_peer_test.sh PG_DRIVER_TEST CLUSTER_SH
set -euo pipefail
test_bin=$1
cluster=$2
dir=$(mktemp -d /tmp/pg-peer-test-XXXXXX)
# As root the server runs as user postgres, which must reach the cluster.
chmod 755 "$dir"
trap '"$cluster" stop "$dir/pg" > /dev/null 2>&1 || true; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Below the ephemeral range (32768-60999), which other tests' client
# sockets draw from while this one runs (hostile_test holds 10,000).
port=
for p in $(shuf -i 10000-32000 -n 100); do
  if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then
    port=$p
    break
  fi
done
[ -n "$port" ] || fail "no free port"

"$test_bin" --export_csv="$dir/csv" || fail "export"

# Refusals before there is a cluster.
"$cluster" load "$dir/pg" "$dir/csv" 2> "$dir/err" && fail "load without a cluster"
grep -q "no cluster" "$dir/err" || fail "load without a cluster: $(cat "$dir/err")"

conninfo=$("$cluster" start "$dir/pg" "$port" 2> "$dir/start.log") || {
  cat "$dir/start.log"
  fail "start"
}
[ "$conninfo" = "host=127.0.0.1 port=$port dbname=voxbench user=voxbench" ] ||
  fail "conninfo '$conninfo'"
[ "$("$cluster" start "$dir/pg" "$port" 2> /dev/null)" = "$conninfo" ] || fail "start again"
[ "$("$cluster" conninfo "$dir/pg")" = "$conninfo" ] || fail "conninfo"
"$cluster" load "$dir/pg" "$dir/missing" 2> "$dir/err" && fail "load of a missing directory"
grep -q "no directory" "$dir/err" || fail "missing directory: $(cat "$dir/err")"

for round in 1 2; do
  "$cluster" load "$dir/pg" "$dir/csv" > "$dir/load.json" 2> "$dir/load.log" || {
    cat "$dir/load.log"
    fail "load $round"
  }
  grep -q '^{"system":"postgres","load_seconds":[0-9.]*,"database_bytes":[0-9]*,' \
    "$dir/load.json" || fail "load $round output: $(cat "$dir/load.json")"
done

VOX_PG_CONNINFO=$conninfo "$test_bin" || fail "pg_driver_test"

"$cluster" stop "$dir/pg" 2> /dev/null || fail "stop"
"$cluster" conninfo "$dir/pg" 2> /dev/null && fail "conninfo after stop"
echo "PASS"
