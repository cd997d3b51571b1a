#!/usr/bin/env bash
# Make a throwaway PostgreSQL server available to the test suite.
#
#   bash scripts/postgres-for-tests.sh          start (or reuse) it; print its URL
#   bash scripts/postgres-for-tests.sh --stop   stop it (make stop-postgres)
#
# The URL (postgresql+psycopg://postgres@127.0.0.1:<port>/credit_engine_test) is
# written to .credit-engine-test/postgres/url, where tests/store_backends.py reads
# it. Nothing happens if CREDIT_ENGINE_TEST_POSTGRES_URL is already set. If no
# PostgreSQL binaries are found (and they cannot be installed with apt-get as
# root), the script says so and exits 0: the PostgreSQL tests then skip, or fail
# when CREDIT_ENGINE_REQUIRE_POSTGRES=1 (as in CI).
#
# The server trusts every local connection and runs with fsync off: it is for
# tests only. Its data lives in .credit-engine-test/postgres/data (or, when the
# postgres system user cannot reach the checkout, e.g. under /root, in
# /var/tmp/credit-engine-test-<hash>, linked from there).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$REPO/.credit-engine-test/postgres"
URL_FILE="$STATE/url"
DATABASE=credit_engine_test
FIRST_PORT=54329

say() { printf 'postgres-for-tests: %s\n' "$*" >&2; }

find_bin_dir() {
    local pg_ctl
    if pg_ctl="$(command -v pg_ctl 2>/dev/null)" && [ -x "$(dirname "$(readlink -f "$pg_ctl")")/initdb" ]; then
        dirname "$(readlink -f "$pg_ctl")"
        return 0
    fi
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

# Commands that touch the cluster run as the postgres system user when we are
# root (initdb and pg_ctl refuse to run as root).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        # From /: the postgres user may not be allowed into the current folder.
        if command -v runuser >/dev/null 2>&1; then
            (cd / && runuser -u postgres -- "$@")
        else
            (cd / && su postgres -s /bin/bash -c "$(printf '%q ' "$@")")
        fi
    else
        "$@"
    fi
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pg_dir() {
    # Where the cluster's data, socket and log live (owned by the server's user).
    if [ -f "$STATE/pgdir" ]; then
        cat "$STATE/pgdir"
    else
        echo "$STATE"
    fi
}

stop_server() {
    local bin_dir dir
    if ! bin_dir="$(find_bin_dir)"; then
        say "no PostgreSQL binaries found; nothing to stop"
        return 0
    fi
    dir="$(pg_dir)"
    if [ -f "$dir/data/PG_VERSION" ] && as_owner "$bin_dir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_owner "$bin_dir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
        say "stopped the test server in $dir/data"
    else
        say "no test server running"
    fi
}

if [ "${1:-}" = "--stop" ]; then
    stop_server
    exit 0
fi

if [ -n "${CREDIT_ENGINE_TEST_POSTGRES_URL:-}" ]; then
    say "CREDIT_ENGINE_TEST_POSTGRES_URL is set; using that server"
    exit 0
fi

if ! BIN_DIR="$(find_bin_dir)"; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing PostgreSQL with apt-get (no pg_ctl/initdb found)"
        # Our cluster is created below; do not let the package create and start
        # a system-wide one on port 5432.
        mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/credit-engine-tests.conf
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    if ! BIN_DIR="$(find_bin_dir)"; then
        say "PostgreSQL is not installed (no pg_ctl/initdb on PATH or in /usr/lib/postgresql/*/bin)."
        say "Install it (Debian/Ubuntu: apt-get install postgresql) and re-run this script,"
        say "or export CREDIT_ENGINE_TEST_POSTGRES_URL=postgresql://user@host:port/db."
        say "Without it the PostgreSQL tests skip (or fail if CREDIT_ENGINE_REQUIRE_POSTGRES=1)."
        exit 0
    fi
fi

mkdir -p "$STATE"
PG_DIR="$(pg_dir)"

# Quick path: the server of a previous run is still up.
if [ -f "$URL_FILE" ] && [ -f "$PG_DIR/port" ] && [ -f "$PG_DIR/data/PG_VERSION" ]; then
    PORT="$(cat "$PG_DIR/port")"
    if as_owner "$BIN_DIR/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1 \
        && "$BIN_DIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d "$DATABASE" -U postgres; then
        say "test server already running"
        cat "$URL_FILE"
        exit 0
    fi
fi

if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        say "running as root but there is no 'postgres' system user to run the server as;"
        say "create one (useradd --system postgres) or run this script as a normal user."
        exit 1
    fi
    chown postgres: "$STATE"
    if [ "$PG_DIR" = "$STATE" ] && ! runuser -u postgres -- test -w "$STATE" 2>/dev/null; then
        # The postgres user cannot traverse the checkout (e.g. /root is 0700).
        PG_DIR="/var/tmp/credit-engine-test-$(printf '%s' "$REPO" | cksum | cut -d' ' -f1)"
        echo "$PG_DIR" >"$STATE/pgdir"
    fi
    mkdir -p "$PG_DIR"
    chown postgres: "$PG_DIR"
    if [ "$PG_DIR" != "$STATE" ]; then
        ln -sfn "$PG_DIR/data" "$STATE/data"
    fi
fi

SOCKET_DIR="$PG_DIR/run"
if [ "${#SOCKET_DIR}" -gt 90 ]; then
    # Unix socket paths are limited to about 107 bytes.
    SOCKET_DIR="/tmp/credit-engine-pg-$(printf '%s' "$REPO" | cksum | cut -d' ' -f1)"
fi
as_owner mkdir -p "$SOCKET_DIR"

if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    say "creating a test cluster in $PG_DIR/data"
    as_owner "$BIN_DIR/initdb" -D "$PG_DIR/data" -U postgres --auth=trust \
        --encoding=UTF8 --no-locale --no-sync >/dev/null
fi

if as_owner "$BIN_DIR/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1 && [ -f "$PG_DIR/port" ]; then
    PORT="$(cat "$PG_DIR/port")"
else
    # Keep the previous port when it is free, so that the URL stays the same.
    PORT=""
    if [ -f "$PG_DIR/port" ] && ! port_in_use "$(cat "$PG_DIR/port")"; then
        PORT="$(cat "$PG_DIR/port")"
    fi
    if [ -z "$PORT" ]; then
        for candidate in $(seq "$FIRST_PORT" $((FIRST_PORT + 200))); do
            if ! port_in_use "$candidate"; then
                PORT="$candidate"
                break
            fi
        done
    fi
    if [ -z "$PORT" ]; then
        say "no free TCP port in $FIRST_PORT-$((FIRST_PORT + 200)) on 127.0.0.1"
        exit 1
    fi
    echo "$PORT" | as_owner tee "$PG_DIR/port" >/dev/null
    say "starting the test server on 127.0.0.1:$PORT"
    if ! as_owner "$BIN_DIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-k $SOCKET_DIR -p $PORT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null; then
        say "the server did not start; the end of $PG_DIR/server.log:"
        tail -n 20 "$PG_DIR/server.log" >&2 || true
        exit 1
    fi
fi

PSQL=("$BIN_DIR/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres)
if [ "$("${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DATABASE" >/dev/null
fi

URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/$DATABASE"
echo "$URL" >"$URL_FILE"
say "test server ready; URL written to ${URL_FILE#"$REPO"/}"
echo "$URL"
