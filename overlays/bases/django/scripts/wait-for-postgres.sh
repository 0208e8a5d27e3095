#!/bin/sh
# Waits until the preview's PostgreSQL accepts connections (runs in the seed-data image, which
# has pg_isready). Used by the web Deployment and the migration Job as an init container.
#
# Usage: wait-for-postgres.sh [ASLEEP_MARKER]
#
# With ASLEEP_MARKER (the migration Job), it also tells a sleeping preview from a starting one.
# While a preview sleeps (replicas 0) there is no PostgreSQL pod at all, so the headless
# Service $POSTGRES_PODS_SERVICE, which publishes pods before they are ready, has no address.
# Then the sync that puts the preview to sleep must still succeed: the script writes the marker
# (the Job's main container exits 0 when it exists) and succeeds. PREVIEW_REPLICAS=0 in the
# environment, if the plugin ever sets it, says the same without asking DNS.
set -u

marker="${1:-}"
host="${PGHOST:-postgres}"
port="${PGPORT:-5432}"
pods="${POSTGRES_PODS_SERVICE:-postgres-pods}"
timeout="${WAIT_TIMEOUT_SECONDS:-300}"
start=$(date +%s)

while :; do
  if [ -n "$marker" ]; then
    if [ "${PREVIEW_REPLICAS:-}" = "0" ] || ! getent hosts "$pods" >/dev/null 2>&1; then
      echo "no PostgreSQL pod ($pods has no address): the preview is asleep; nothing to migrate"
      : >"$marker"
      exit 0
    fi
  fi
  if pg_isready --quiet --host="$host" --port="$port" --timeout=3; then
    echo "PostgreSQL at $host:$port accepts connections"
    exit 0
  fi
  if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
    echo "PostgreSQL at $host:$port still refuses connections after ${timeout}s" >&2
    exit 1
  fi
  sleep 2
done
