#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for the benchmark's PostgreSQL peer
# (WORKLOAD.md), from Debian's postgresql-15 package: its own directory,
# loopback TCP only, durable commits (fsync, synchronous_commit,
# full_page_writes on), shared_buffers sized for the data.
#
#   cluster.sh start DIR [PORT]   create the cluster in DIR (first time) and
#                                 start it on 127.0.0.1:PORT (default 5433);
#                                 prints the libpq conninfo
#   cluster.sh stop DIR           stop it (fast shutdown)
#   cluster.sh load DIR CSV_DIR   (re)create database voxbench from CSV files
#                                 (datagen --csv_dir): schema.sql, COPY, indexes.sql,
#                                 functions.sql, VACUUM ANALYZE; prints one JSON
#                                 line: {"system":"postgres","load_seconds":..,...}
#   cluster.sh conninfo DIR       prints the conninfo of the running cluster
#
# Environment: VOX_PG_SHARED_BUFFERS (e.g. 12GB; default 25% of RAM, at most
# 8GB), VOX_PG_LOAD_JOBS (tables copied at once; default: the cores),
# VOX_PG_BIN (default /usr/lib/postgresql/15/bin).
#
# As root, the server runs as the system user `postgres` (which the package
# creates): PostgreSQL refuses to run as root. DIR is then given to that user.
# Authentication is `trust`: the cluster listens on 127.0.0.1 only and its
# Unix socket is inside DIR. Progress goes to stderr, results to stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${VOX_PG_BIN:-/usr/lib/postgresql/15/bin}
db=voxbench
superuser=voxbench
# Every table of the engine's catalog (schema/tables.h), parents before the
# tables that refer to them.
tables=(users auth_providers room_categories tags rooms room_participants call_sessions
        recordings audit_logs moderation_actions wallets transactions fee_schedule
        premium_features premium_purchases notifications system_events)

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Runs a server binary as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

need_binaries() {
  [ -x "$bin/pg_ctl" ] && [ -x "$bin/initdb" ] ||
    die "no PostgreSQL 15 server in $bin (Debian: apt-get install postgresql-15; or set VOX_PG_BIN)"
  command -v psql > /dev/null || die "psql not found (Debian: apt-get install postgresql-client-15)"
}

port_of() {
  [ -f "$1/port" ] || die "no cluster in $1 (run: cluster.sh start $1)"
  cat "$1/port"
}

running() { [ -f "$1/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$1/data" status > /dev/null 2>&1; }

conninfo() { echo "host=127.0.0.1 port=$(port_of "$1") dbname=$db user=$superuser"; }

# psql on database $2 of cluster $1, stopping at the first error; quiet
# but for warnings and errors.
psql_verbose() {
  local dir=$1 database=$2
  shift 2
  PGOPTIONS="-c client_min_messages=warning" psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 \
    -p "$(port_of "$dir")" -U "$superuser" -d "$database" "$@"
}
run_psql() { psql_verbose "$@" -q; }

# 25% of the machine's memory, at most 8GB, in MB.
default_shared_buffers() {
  local kb
  kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
  local mb=$((kb / 1024 / 4))
  ((mb > 8192)) && mb=8192
  echo "${mb}MB"
}

cmd_start() {
  local dir=$1 asked=${2:-}
  local port=${asked:-5433}
  [[ $port =~ ^[0-9]+$ ]] || die "port '$port' is not a number"
  need_binaries
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    id postgres > /dev/null 2>&1 || die "no system user 'postgres' to run the server as"
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" ||
      die "user postgres cannot write $dir: make its parent directories searchable (chmod o+x)"
  fi
  if running "$dir"; then
    [ -z "$asked" ] || [ "$(cat "$dir/port")" = "$asked" ] ||
      die "the cluster in $dir already runs on port $(cat "$dir/port"); stop it first"
    log "already running"
    conninfo "$dir"
    return
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "initdb $dir/data"
    # The C locale: byte-order comparisons, and lower() folds ASCII only,
    # as the engine's case-insensitive keys do.
    as_owner "$bin/initdb" -D "$dir/data" -U "$superuser" --auth=trust --encoding=UTF8 \
      --locale=C > "$dir/initdb.log" 2>&1 || die "initdb failed; see $dir/initdb.log"
    echo "include 'voxbench.conf'" >> "$dir/data/postgresql.conf"
  fi
  local buffers=${VOX_PG_SHARED_BUFFERS:-$(default_shared_buffers)}
  # Rewritten at every start, so PORT and VOX_PG_SHARED_BUFFERS take effect.
  as_owner tee "$dir/data/voxbench.conf" > /dev/null << EOF
# Written by bench/peers/postgres/cluster.sh at every start.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = '$buffers'
# Durability as VoxDB's: a commit is acknowledged once on disk.
fsync = on
synchronous_commit = on
full_page_writes = on
# Few checkpoints during the load and the runs; the WAL lives on the same disk.
max_wal_size = '16GB'
checkpoint_timeout = '15min'
checkpoint_completion_target = 0.9
# Index builds after the load (indexes.sql).
maintenance_work_mem = '1GB'
# The benchmark's queries are short: no JIT compilation in their latency.
jit = off
log_min_messages = warning
log_checkpoints = on
EOF
  echo "$port" > "$dir/port"
  log "starting on 127.0.0.1:$port (shared_buffers $buffers)"
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 120 start \
      > /dev/null; then
    tail -20 "$dir/data/server.log" >&2 || true
    die "the server did not start (port $port in use?); log: $dir/data/server.log"
  fi
  conninfo "$dir"
}

cmd_stop() {
  local dir=$1
  need_binaries
  if ! running "$dir"; then
    log "not running"
    return
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 120 stop > /dev/null
  log "stopped"
}

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# COPY of one table's CSV file; prints "<table> <rows>".
copy_table() {
  local dir=$1 csv=$2 t=$3 t0 n
  t0=$(now)
  # Not quiet: psql prints "COPY <rows>".
  n=$(psql_verbose "$dir" "$db" \
    -c "COPY $t ($(head -1 "$csv/$t.csv")) FROM STDIN (FORMAT csv, HEADER MATCH)" \
    < "$csv/$t.csv" | awk '/^COPY/ { print $2 }')
  [ -n "$n" ] || return 1
  log "$t: $n rows in $(since "$t0") s"
  echo "$t $n"
}

# Runs `ALTER TABLE ... ADD CONSTRAINT` for the lifted keys of type $2
# ('p' primary, 'f' foreign).
restore_keys() {
  run_psql "$1" "$db" << EOF
SET max_parallel_maintenance_workers = $3;
DO \$\$
DECLARE
  k record;
BEGIN
  FOR k IN SELECT * FROM vox_load_keys WHERE contype = '$2' LOOP
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.tab, k.conname, k.def);
  END LOOP;
END \$\$;
EOF
}

cmd_load() {
  local dir=$1 csv=$2
  need_binaries
  running "$dir" || die "no cluster runs in $dir (run: cluster.sh start $dir)"
  [ -d "$csv" ] || die "no directory $csv"
  for t in "${tables[@]}"; do
    [ -r "$csv/$t.csv" ] || die "missing $csv/$t.csv (export every table: datagen --csv_dir)"
  done
  for f in "$csv"/*.csv; do
    local t
    t=$(basename "$f" .csv)
    [[ " ${tables[*]} " == *" $t "* ]] || die "$f: no table '$t' in schema.sql"
  done
  local jobs=${VOX_PG_LOAD_JOBS:-$(nproc)}

  local start t0
  start=$(now)
  run_psql "$dir" postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  run_psql "$dir" "$db" -f "$here/schema.sql"

  # As pg_restore does, the keys are lifted for the COPY and put back after
  # it: a primary key built from the loaded rows is several times cheaper
  # than a B-tree insert per row, and a foreign key added to a full table is
  # checked for every row in one join rather than by a trigger per row.
  run_psql "$dir" "$db" << 'EOF'
CREATE TABLE vox_load_keys AS
  SELECT conrelid::regclass::text AS tab, conname, contype, pg_get_constraintdef(oid) AS def
    FROM pg_constraint
   WHERE contype IN ('p', 'f') AND connamespace = 'public'::regnamespace;
DO $$
DECLARE
  k record;
BEGIN
  FOR k IN SELECT * FROM vox_load_keys ORDER BY contype = 'p' LOOP  -- foreign keys first
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', k.tab, k.conname);
  END LOOP;
END $$;
EOF

  # The tables in parallel, largest first, `jobs` at a time.
  t0=$(now)
  local results="$dir/load-rows" running=0 failed=0
  : > "$results"
  for t in $(for t in "${tables[@]}"; do echo "$(stat -c %s "$csv/$t.csv") $t"; done |
             sort -rn | awk '{ print $2 }'); do
    if ((running >= jobs)); then
      wait -n || failed=1
      running=$((running - 1))
    fi
    copy_table "$dir" "$csv" "$t" >> "$results" &
    running=$((running + 1))
  done
  while ((running > 0)); do
    wait -n || failed=1
    running=$((running - 1))
  done
  ((failed == 0)) || die "COPY failed (see above)"
  local rows copy_seconds
  rows=$(awk '{ n += $2 } END { print n + 0 }' "$results")
  copy_seconds=$(since "$t0")

  t0=$(now)
  log "primary keys and indexes"
  restore_keys "$dir" p "$jobs"
  run_psql "$dir" "$db" -c "SET max_parallel_maintenance_workers = $jobs" -f "$here/indexes.sql"
  local index_seconds
  index_seconds=$(since "$t0")

  t0=$(now)
  log "foreign keys"
  restore_keys "$dir" f "$jobs"
  run_psql "$dir" "$db" -c "DROP TABLE vox_load_keys"
  local fk_seconds
  fk_seconds=$(since "$t0")

  run_psql "$dir" "$db" -f "$here/functions.sql"
  t0=$(now)
  log "vacuum analyze"
  # Sets the visibility map and hint bits now rather than in the first runs.
  run_psql "$dir" "$db" -c "VACUUM ANALYZE"
  # The benchmark starts without a load's worth of dirty pages to write.
  run_psql "$dir" "$db" -c "CHECKPOINT"
  local vacuum_seconds
  vacuum_seconds=$(since "$t0")

  local seconds bytes
  seconds=$(since "$start")
  bytes=$(run_psql "$dir" "$db" -At -c "SELECT pg_database_size('$db')")
  log "loaded $rows rows in $seconds s; database $((bytes / 1048576)) MiB"
  printf '{"system":"postgres","load_seconds":%s,"database_bytes":%s,"rows":%s,' \
    "$seconds" "$bytes" "$rows"
  printf '"copy_seconds":%s,"index_seconds":%s,"foreign_key_seconds":%s,"vacuum_seconds":%s}\n' \
    "$copy_seconds" "$index_seconds" "$fk_seconds" "$vacuum_seconds"
}

(($# >= 2)) || usage
command=$1
dir=$2
case $command in
  start) (($# <= 3)) || usage; cmd_start "$dir" "${3:-}" ;;
  stop) (($# == 2)) || usage; cmd_stop "$dir" ;;
  load) (($# == 3)) || usage; cmd_load "$dir" "$3" ;;
  conninfo) (($# == 2)) || usage; running "$dir" || die "no cluster runs in $dir"; conninfo "$dir" ;;
  *) usage ;;
esac
