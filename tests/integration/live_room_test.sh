#!/usr/bin/env bash
# Runs the client example (tools/examples/live_room.cc) against a real voxdb,
# twice: the second run finds its users again instead of failing.
# Usage: live_room_test.sh VOXDB LIVE_ROOM
set -euo pipefail
voxdb=$1 example=$2
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$voxdb" --listen=127.0.0.1:0 --data="$tmp/db" --durability=write >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "voxdb did not start"; cat "$tmp/log"; exit 1; }

for run in 1 2; do
  "$example" --server=127.0.0.1:$port --listeners=12 >"$tmp/out" 2>&1 || {
    echo "run $run failed:"; cat "$tmp/out"; exit 1; }
  expect() { grep -q "$1" "$tmp/out" || { echo "run $run: missing '$1' in:"; cat "$tmp/out"; exit 1; }; }
  expect "11 listeners joined"
  expect "late listener joined muted as PARTICIPANT"
  expect "retry was a no-op: yes"
  expect "present: 13, hands raised: 1, muted: 1"
  expect "a listener ending the room: PERMISSION_DENIED"
  expect "room ended"
done
# A bad flag is a usage error, an absent server a connection error.
set +e
"$example" --nonsense >/dev/null 2>&1; [ $? -eq 2 ] || { echo "bad flag: want exit 2"; exit 1; }
"$example" --server=127.0.0.1:1 >/dev/null 2>&1; [ $? -eq 3 ] || { echo "no server: want exit 3"; exit 1; }
echo "live_room example: ok"
