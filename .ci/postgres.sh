#!/usr/bin/env bash
# Starts a local PostgreSQL for the tests of internal/store/postgres and
# prints the line that points them at it:
#
#   eval "$(bash .ci/postgres.sh | grep '^export ')"
#
# Run as root on Debian 12. It installs the postgresql package when it is
# missing, starts (or creates) the cluster of the newest installed version,
# waits until it accepts connections on 127.0.0.1:5432, and creates the role
# dynpool (password dynpool, CREATEDB) and the database dynpool. Running it
# again changes nothing.
set -euo pipefail

readonly host=127.0.0.1 port=5432 role=dynpool password=dynpool db=dynpool
readonly wait_seconds=60

log() { echo "postgres.sh: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (it installs and starts PostgreSQL)"
  exit 1
fi

if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The newest installed server version (e.g. 15 on Debian 12).
version=$(ls -1d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | awk -F/ '{ print $5 }' | sort -n | tail -n 1)
if [ -z "$version" ]; then
  log "no PostgreSQL server found under /usr/lib/postgresql"
  exit 1
fi

# Use the cluster on our port, whatever its name; create "main" if none.
cluster=$(pg_lsclusters --no-header | awk -v v="$version" -v p="$port" '$1 == v && $3 == p { print $2; exit }')
if [ -z "$cluster" ]; then
  log "creating cluster $version/main on port $port"
  pg_createcluster --port "$port" "$version" main >/dev/null
  cluster=main
fi

status=$(pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')
if [ "$status" != "online" ]; then
  log "starting cluster $version/$cluster"
  pg_ctlcluster "$version" "$cluster" start
fi

# Wait until the server accepts TCP connections on host:port.
for ((i = 0; ; i++)); do
  if pg_isready -q -h "$host" -p "$port"; then
    break
  fi
  if ((i >= wait_seconds * 2)); then
    log "server on $host:$port not ready after ${wait_seconds}s; log:"
    tail -n 20 "/var/log/postgresql/postgresql-$version-$cluster.log" >&2 || true
    exit 1
  fi
  sleep 0.5
done

# psql as the postgres superuser over the local socket.
psql_admin() {
  (cd / && runuser -u postgres -- psql -p "$port" -X -q -v ON_ERROR_STOP=1 "$@")
}

if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != 1 ]; then
  log "creating role $role"
  psql_admin -c "CREATE ROLE $role"
fi
# Every run: the role may predate this script with other attributes.
psql_admin -c "ALTER ROLE $role LOGIN CREATEDB PASSWORD '$password'"
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  log "creating database $db"
  psql_admin -c "CREATE DATABASE $db OWNER $role"
fi

# Check the way the tests will connect: password over TCP.
PGPASSWORD=$password psql -X -q -h "$host" -p "$port" -U "$role" -d "$db" -tAc 'SELECT 1' >/dev/null

echo "export DYNPOOL_TEST_POSTGRES_URL=postgres://$role:$password@$host:$port/$db?sslmode=disable"
