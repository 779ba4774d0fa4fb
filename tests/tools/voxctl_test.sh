#!/usr/bin/env bash
# The operator's commands end to end on a real data directory: a durable
# demo, snapshots taken, listed and verified, the log dumped and verified, a
# point-in-time restore, and the refusals (damaged snapshot, missing flags).
set -euo pipefail
voxctl=$1
voxdb=$2
dir=$(mktemp -d /tmp/voxctl-test-XXXXXX)
server_pid=
trap '[ -n "$server_pid" ] && kill -9 $server_pid 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$voxctl" demo --scale=0.001 --data="$dir/db" > "$dir/demo.out" 2>/dev/null || fail "demo"
grep -q "Every index agrees with a full scan of its table: yes" "$dir/demo.out" || fail "demo indexes"
grep -q "transactions logged and synced: ok" "$dir/demo.out" || fail "demo WAL"

"$voxctl" wal verify --data="$dir/db" > "$dir/verify.out" || fail "wal verify"
grep -q "records (LSN 1.." "$dir/verify.out" || fail "wal verify output"
"$voxctl" wal dump --json --data="$dir/db" > "$dir/dump.json" 2>/dev/null || fail "wal dump"
head -1 "$dir/dump.json" | grep -q '"lsn":1,' || fail "wal dump json"

"$voxctl" snapshot take --data="$dir/db" > "$dir/take.out" || fail "snapshot take"
grep -q "engine pause" "$dir/take.out" || fail "snapshot take output"
[ "$("$voxctl" snapshot list --data="$dir/db" | grep -c vsnap)" = 2 ] || fail "snapshot list"
"$voxctl" snapshot verify --data="$dir/db" 2>/dev/null | grep -q verified || fail "snapshot verify"
[ "$(stat -c %a "$dir"/db/snapshots/*.vsnap | sort -u)" = 600 ] || fail "snapshot mode"

"$voxctl" restore --data="$dir/db" --to="$dir/copy" --lsn=3 > "$dir/restore.out" 2>/dev/null \
  || fail "restore"
grep -q "snapshot at LSN 3" "$dir/restore.out" || fail "restore output"
"$voxctl" restore --data="$dir/db" --to="$dir/copy" 2>/dev/null && fail "restore over a database"

# A damaged snapshot is reported, with a non-zero exit.
newest=$(ls "$dir"/db/snapshots/*.vsnap | sort | tail -1)
printf 'XXXXXXXX' | dd of="$newest" bs=1 seek=100000 conv=notrunc status=none
"$voxctl" snapshot verify --data="$dir/db" > "$dir/bad.out" 2>/dev/null && fail "damaged snapshot passed"
grep -q "BAD:" "$dir/bad.out" || fail "damaged snapshot not named"

"$voxctl" wal verify 2>/dev/null && fail "missing --data accepted"
"$voxctl" nonsense 2>/dev/null && fail "unknown command accepted"
# Against a running server: voxctl call.
"$voxdb" --data="$dir/served" --demo_scale=0.001 --listen=127.0.0.1:0 > "$dir/server.out" 2>/dev/null &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$dir/server.out" && break; sleep 0.1; done
server=$(sed -n 's/^listening on //p' "$dir/server.out")
[ -n "$server" ] || fail "server did not start"
"$voxctl" call stats --server="$server" > "$dir/stats.out" || fail "call stats"
grep -q "users  *1000" "$dir/stats.out" || fail "call stats output"
"$voxctl" call stats --json --server="$server" | grep -q '"users":1000' || fail "call stats json"
"$voxctl" call user user1@example.com --server="$server" | grep -q '"username":"user1"' \
  || fail "call user"
rc=0; "$voxctl" call user nobody@example.com --server="$server" 2>/dev/null || rc=$?
[ $rc = 1 ] || fail "a refused call must exit 1 (got $rc)"
"$voxctl" call checkpoint --server="$server" | grep -q "snapshot " || fail "call checkpoint"
"$voxctl" call row users not-a-uuid --server="$server" 2>/dev/null && fail "bad uuid accepted"
kill -TERM $server_pid; wait $server_pid || fail "server exit status"
server_pid=
rc=0; "$voxctl" call stats --server="$server" 2>/dev/null || rc=$?
[ $rc = 3 ] || fail "no server must exit 3 (got $rc)"
echo "voxctl: 1 passed, 0 failed"
