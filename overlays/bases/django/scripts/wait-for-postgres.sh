#!/bin/sh
# Waits until the preview's PostgreSQL accepts connections, for at most WAIT_TIMEOUT_SECONDS
# (300 by default), and fails if it never does. Runs in the seed-data image (which has
# pg_isready) as an init container of the web Deployment and of the migration Job.
#
# The only case where there is nothing to wait for is a sleeping preview: the plugin puts the
# preview's `replicas` into preview-env as PREVIEW_REPLICAS, and while the preview sleeps it is
# 0 and so is database_replicas, so there is no PostgreSQL at all. The sync that puts the preview
# to sleep still runs the migration hook, which must then succeed without migrating (the Job's
# main container skips `migrate` on the same condition). Any other value, or none, means the
# preview is awake: wait, and fail rather than let the sync go on to roll web pods onto an
# unmigrated database (a DNS hiccup, a PostgreSQL that never gets ready).
set -u

host="${PGHOST:-postgres}"
port="${PGPORT:-5432}"
timeout="${WAIT_TIMEOUT_SECONDS:-300}"

case "${PREVIEW_REPLICAS-unset}" in
  0)
    echo "PREVIEW_REPLICAS=0: the preview is asleep, there is no PostgreSQL to wait for"
    exit 0
    ;;
  unset)
    echo "PREVIEW_REPLICAS is not set: taking the preview as awake"
    ;;
esac

start=$(date +%s)
attempt=0
while :; do
  attempt=$((attempt + 1))
  pg_isready --quiet --host="$host" --port="$port" --timeout=3
  status=$?
  if [ "$status" -eq 0 ]; then
    echo "PostgreSQL at $host:$port accepts connections (attempt $attempt)"
    exit 0
  fi
  elapsed=$(($(date +%s) - start))
  if [ "$elapsed" -ge "$timeout" ]; then
    echo "PostgreSQL at $host:$port still not accepting connections after ${elapsed}s" \
      "($attempt attempts, last pg_isready status $status): giving up" >&2
    exit 1
  fi
  # pg_isready: 1 = rejecting connections (starting up), 2 = no response, 3 = no attempt
  # (e.g. the name does not resolve).
  if [ $((attempt % 10)) -eq 1 ]; then
    echo "waiting for PostgreSQL at $host:$port (pg_isready status $status, ${elapsed}s of ${timeout}s)"
  fi
  sleep 2
done
