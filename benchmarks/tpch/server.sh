#!/usr/bin/env bash
# Persistent PostgreSQL 15 cluster for the TPC-H benchmark (see README.md in this directory).
#
#   benchmarks/tpch/server.sh init     # initdb + settings (once; no-op if the cluster exists)
#   benchmarks/tpch/server.sh start    # start (inits first if needed), create db tpch + hypopg
#   benchmarks/tpch/server.sh stop     # fast shutdown
#   benchmarks/tpch/server.sh status
#
# Overridable: IA_BENCH_DIR (default /var/tmp/ia-bench), IA_BENCH_PORT (5499),
# PG_BIN (/usr/lib/postgresql/15/bin). DSN: host=$IA_BENCH_DIR port=$IA_BENCH_PORT dbname=tpch user=postgres
set -euo pipefail

BASE=${IA_BENCH_DIR:-/var/tmp/ia-bench}
PORT=${IA_BENCH_PORT:-5499}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DATA=$BASE/data
LOG=$BASE/server.log

# Run a PostgreSQL binary as the postgres OS user (runuser when we are root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

do_init() {
    if [ -f "$DATA/PG_VERSION" ]; then
        return 0
    fi
    mkdir -p "$BASE"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$BASE"
    fi
    chmod 755 "$BASE"  # lets any local user (root included) reach the socket
    as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Durability and maintenance settings only: everything the planner reads when costing
    # (work_mem, effective_cache_size, *_cost) stays at PostgreSQL's defaults, so estimated
    # costs are those any stock server gives.
    as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<CONF

# --- indexadvisor TPC-H benchmark cluster ---
listen_addresses = ''
port = $PORT
unix_socket_directories = '$BASE'
shared_buffers = 2GB
maintenance_work_mem = 1GB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 8GB
CONF
    echo "initialised $DATA"
}

do_start() {
    do_init
    if as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        echo "already running"
    else
        as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null
        echo "started (log: $LOG)"
    fi
    local psql=("$PG_BIN/psql" -X -q -h "$BASE" -p "$PORT" -U postgres)
    if ! "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'tpch'" \
        | grep -q 1; then
        "${psql[@]}" -d postgres -c "CREATE DATABASE tpch"
    fi
    "${psql[@]}" -d tpch -c "SET client_min_messages = warning" \
        -c "CREATE EXTENSION IF NOT EXISTS hypopg"
    echo "DSN: host=$BASE port=$PORT dbname=tpch user=postgres"
}

do_stop() {
    if as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
        echo "stopped"
    else
        echo "not running"
    fi
}

case "${1:-}" in
    init) do_init ;;
    start) do_start ;;
    stop) do_stop ;;
    status) as_pg "$PG_BIN/pg_ctl" -D "$DATA" status ;;
    *) echo "usage: $0 init|start|stop|status" >&2; exit 2 ;;
esac
