#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite, on 127.0.0.1 only.
#   scripts/postgres.sh start DIR PORT   installs Debian's postgresql if needed, initialises DIR, starts the
#                                        server and prints its SQLAlchemy URL on the last line
#   scripts/postgres.sh stop DIR         stops it and removes DIR
# PostgreSQL refuses to run as root, so under root the server runs as the `postgres` system user.
set -euo pipefail

cmd=${1:?usage: postgres.sh start DIR PORT | stop DIR}
dir=${2:?data directory}

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  echo "$found"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    port=${3:?port}
    bin=$(find_bin)
    if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
      echo "installing PostgreSQL (Debian package postgresql)..." >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
      bin=$(find_bin)
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      chown postgres "$dir"
      runuser -u postgres -- test -w "$dir" || {
        echo "error: user postgres cannot reach $dir (a parent folder is private); use a folder under /tmp" >&2
        exit 2
      }
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >&2
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres winback_test
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/winback_test"
    ;;
  stop)
    bin=$(find_bin)
    if [ -d "$dir/data" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: postgres.sh start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
