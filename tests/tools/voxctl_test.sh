#!/usr/bin/env bash
# The operator's commands end to end on a real data directory: a durable
# demo, snapshots taken, listed and verified, the log dumped and verified, a
# point-in-time restore, and the refusals (damaged snapshot, missing flags);
# then voxctl against a running server: calls, output formats, exit codes,
# the shell.
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
head -1 "$dir/dump.json" | grep '"lsn":1,' >/dev/null || fail "wal dump json"

"$voxctl" snapshot take --data="$dir/db" > "$dir/take.out" || fail "snapshot take"
grep -q "engine pause" "$dir/take.out" || fail "snapshot take output"
[ "$("$voxctl" snapshot list --data="$dir/db" | grep -c vsnap)" = 2 ] || fail "snapshot list"
"$voxctl" snapshot verify --data="$dir/db" 2>/dev/null | grep verified >/dev/null || fail "snapshot verify"
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
# Against a running server (docs/voxctl.md): any operation by name, the
# shortcuts, the output formats, the exit codes and the shell. The server
# takes tokens, so every call authenticates with --token_file.
printf 'admin voxctl-test-admin-token-0123\n' > "$dir/tokens"
printf 'voxctl-test-admin-token-0123\n' > "$dir/token"
printf 'wrong-token-that-is-long-enough\n' > "$dir/bad_token"
"$voxdb" --data="$dir/served" --listen=127.0.0.1:0 --token_file="$dir/tokens" \
  > "$dir/server.out" 2>/dev/null &
server_pid=$!
for _ in $(seq 300); do grep -q "^listening" "$dir/server.out" && break; sleep 0.1; done
server=$(sed -n 's/^listening on //p' "$dir/server.out")
[ -n "$server" ] || fail "server did not start"
vc() { "$voxctl" --server="$server" --token_file="$dir/token" "$@"; }
field() { awk -v k="$1" '$1 == k { print $2 }'; }  # a `key  value` line's value

vc call RegisterUser username=maya email=maya@example.com password_hash=x \
  display_name="Maya Lin" bio="hello there" > "$dir/reg.out" || fail "call RegisterUser"
maya=$(field user_id < "$dir/reg.out")
[[ $maya =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || fail "user_id: $maya"
leo=$(vc call register_user username=leo email=leo@example.com password_hash=x display_name=Leo |
  field user_id)
[ -n "$leo" ] || fail "call register_user"

# Read back: the user shortcut and GetRow, as key/value lines and as JSON.
vc call user maya@example.com > "$dir/user.out" || fail "call user"
[ "$(field username < "$dir/user.out")" = maya ] || fail "user: username"
grep -q '^display_name  *Maya Lin$' "$dir/user.out" || fail "user: display_name"
vc call GetRow table=users id="$maya" > "$dir/row.out" || fail "call GetRow"
[ "$(field id < "$dir/row.out")" = "$maya" ] || fail "GetRow: id"
grep -q '^bio  *hello there$' "$dir/row.out" || fail "GetRow: bio"
grep -q password "$dir/row.out" && fail "GetRow printed a password column"
vc call GetRow table=users id="$maya" --json > "$dir/row.json" || fail "call GetRow --json"
grep -q "^{\"rows\":\[{\"id\":\"$maya\",\"username\":\"maya\",.*\"bio\":\"hello there\"" \
  "$dir/row.json" || fail "GetRow json: $(cat "$dir/row.json")"
[ "$(vc call user leo --format=csv | sed -n 2p | cut -d, -f2)" = leo ] || fail "user csv"

# A room with tags, a join, and the participants as a table.
vc call CreateAndOpenRoom owner_id="$maya" room_code=k3x9 title="Late talk" tags=music,talk \
  > "$dir/room.out" || fail "call CreateAndOpenRoom"
room=$(field room_id < "$dir/room.out")
vc call row rooms "$room" | grep '^tags  *\["music","talk"\]$' >/dev/null || fail "room tags"
[ "$(vc call JoinRoom room_id="$room" user_id="$leo" | field role)" = PARTICIPANT ] \
  || fail "call JoinRoom"
vc call PresentParticipants room_id="$room" > "$dir/present.out" || fail "PresentParticipants"
head -1 "$dir/present.out" | grep '^participant_id  *user_id  *role  *muted' >/dev/null \
  || fail "participants header: $(head -1 "$dir/present.out")"
grep -q "  $maya  HOST  " "$dir/present.out" || fail "participants: host row"
grep -q "  $leo  PARTICIPANT  " "$dir/present.out" || fail "participants: leo row"
[ "$(wc -l < "$dir/present.out")" = 3 ] || fail "participants: 2 rows"
vc call stats | grep '^users  *2 ' >/dev/null || fail "call stats"
vc call stats --json | grep '"tables":\[{"name":"users","rows":2,' >/dev/null || fail "call stats json"
vc ops | grep '^JoinRoom  *room_id:uuid user_id:uuid$' >/dev/null || fail "ops lists JoinRoom"
vc help join_room | grep '^  room_id  *uuid  *required' >/dev/null || fail "help JoinRoom"

# Exit codes: 2 usage (nothing sent), 1 refused, 3 no connection.
rc=0; vc call JoinRoom room_id=not-a-uuid user_id="$leo" 2> "$dir/err" || rc=$?
[ $rc = 2 ] || fail "a bad uuid must exit 2 (got $rc)"
grep -q 'room_id (uuid)' "$dir/err" || fail "bad uuid: field not named: $(cat "$dir/err")"
rc=0; vc call JoinRoom user_id="$leo" 2> "$dir/err" || rc=$?
[ $rc = 2 ] && grep -q 'missing room_id (uuid)' "$dir/err" || fail "missing id ($rc)"
rc=0; vc call JoinRoom room_id="$room" user_id="$leo" colour=red 2> "$dir/err" || rc=$?
[ $rc = 2 ] && grep -q "no field 'colour'" "$dir/err" || fail "unknown field ($rc)"
rc=0; vc call NoSuchOp 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "unknown op must exit 2 (got $rc)"
rc=0; vc --format=xml call stats 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "a bad --format must exit 2 (got $rc)"
rc=0; vc call user nobody@example.com 2> "$dir/err" || rc=$?
[ $rc = 1 ] || fail "a refused call must exit 1 (got $rc)"
grep -q '^voxctl: NOT_FOUND: ' "$dir/err" || fail "refusal: $(cat "$dir/err")"
rc=0; vc call RegisterUser username=maya email=m2@example.com password_hash=x display_name=M \
  2> "$dir/err" || rc=$?
[ $rc = 1 ] && grep -q '^voxctl: ALREADY_EXISTS: ' "$dir/err" || fail "duplicate user ($rc)"
rc=0; "$voxctl" --server="$server" --token_file="$dir/bad_token" call stats 2> "$dir/err" || rc=$?
[ $rc = 1 ] && grep -q UNAUTHENTICATED "$dir/err" || fail "a bad token must exit 1 ($rc)"
grep -q wrong-token "$dir/err" && fail "the token was printed"
vc call checkpoint | grep '^path  .*\.vsnap$' >/dev/null || fail "call checkpoint"

# The shell, fed by a pipe: an error in the middle does not stop it; the
# exit code is the last failure's.
rc=0
vc shell > "$dir/shell.out" 2> "$dir/shell.err" <<EOF || rc=$?
participants $room
JoinRoom room_id=$room user_id=bad
\\json
UserByEmail email="leo@example.com"
EOF
[ $rc = 2 ] || fail "shell exit code (got $rc)"
grep -q "  $leo  PARTICIPANT  " "$dir/shell.out" || fail "shell: participants"
grep -q 'user_id (uuid)' "$dir/shell.err" || fail "shell: the error"
grep -q '"username":"leo"' "$dir/shell.out" || fail "shell: the command after the error"
grep -q voxctl-test-admin-token "$dir"/*.out "$dir/shell.err" && fail "the token was printed"

# Reports print as time series and draw as SVG charts (docs/voxctl.md,
# "Reports and charts"), once the server has the report operations.
if vc ops | grep '^IdentityReport ' >/dev/null; then
  now=$(date +%s)
  day=(from=$(((now - 86400) * 1000000)) to=$(((now + 3600) * 1000000)) by=provider)
  vc call IdentityReport "${day[@]}" bucket=hour --chart="$dir/identity.svg" > "$dir/report.out" \
    || fail "IdentityReport --chart: $(cat "$dir/report.out")"
  head -1 "$dir/report.out" | grep '^identity by provider: .* hourly buckets)$' >/dev/null \
    || fail "report heading: $(head -1 "$dir/report.out")"
  sed -n 2p "$dir/report.out" | grep '^bucket  *provider  *signups ' >/dev/null || fail "report header"
  grep -q '^snapshot LSN [0-9]*, [0-9]* rows scanned, ' "$dir/report.out" || fail "report footer"
  grep -q "^chart: $dir/identity.svg$" "$dir/report.out" || fail "chart path not printed"
  head -c 200 "$dir/identity.svg" | grep '<svg xmlns="http://www.w3.org/2000/svg"' >/dev/null \
    || fail "not an SVG"
  grep -q '<polyline class="line"' "$dir/identity.svg" || fail "a day of hours draws no line"
  grep -q '<script\|href=' "$dir/identity.svg" && fail "the SVG is not self-contained"
  tail -1 "$dir/identity.svg" | grep '^</svg>$' >/dev/null || fail "SVG not closed"
  ls "$dir"/identity.svg.tmp* 2>/dev/null && fail "a temporary file was left"
  vc call IdentityReport "${day[@]}" bucket=day --chart="$dir/bars.svg" --chart_type=bar \
    --chart_column=signups > /dev/null || fail "IdentityReport --chart_type=bar"
  grep -q '<rect class="bar"' "$dir/bars.svg" || fail "two sign-ups draw no bar"
  vc call IdentityReport "${day[@]}" --format=json > "$dir/report.json" 2> "$dir/err" \
    || fail "IdentityReport json"
  grep -q '^{"table":"identity","bucket":"[0-9T:-]*Z","key":' "$dir/report.json" \
    || fail "report json: $(cat "$dir/report.json")"
  vc call IdentityReport "${day[@]}" --format=csv | head -1 \
    | grep '^table,bucket,provider,signups,' >/dev/null || fail "report csv"
  rc=0; vc call IdentityReport "${day[@]}" --chart="$dir/x.svg" --chart_column=nope \
    > /dev/null 2> "$dir/err" || rc=$?
  [ $rc = 2 ] && grep -q "has no column 'nope'; its columns: 'signups'" "$dir/err" \
    || fail "an unknown --chart_column must exit 2 ($rc): $(cat "$dir/err")"
  rc=0; vc call IdentityReport "${day[@]}" --chart="$dir/no/such/dir/x.svg" \
    > /dev/null 2> "$dir/err" || rc=$?
  [ $rc = 2 ] && grep -q "cannot write $dir/no/such/dir/x.svg" "$dir/err" \
    || fail "an unwritable --chart must exit 2 ($rc): $(cat "$dir/err")"
  rc=0; vc call stats --chart="$dir/x.svg" > /dev/null 2> "$dir/err" || rc=$?
  [ $rc = 2 ] && grep -q 'not a report' "$dir/err" || fail "--chart on stats ($rc)"
  rc=0; vc call stats --chart_type=pie > /dev/null 2>&1 || rc=$?
  [ $rc = 2 ] || fail "--chart_type without --chart must exit 2 ($rc)"
fi

kill -TERM $server_pid; wait $server_pid || fail "server exit status"
server_pid=
rc=0; vc call stats 2>/dev/null || rc=$?
[ $rc = 3 ] || fail "no server must exit 3 (got $rc)"
echo "voxctl: 1 passed, 0 failed"
