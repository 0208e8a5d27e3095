#!/bin/sh
# Waits until the preview's database holds every migration of this image, for at most
# WAIT_TIMEOUT_SECONDS (600 by default), and fails if it never does. Runs in the app image
# (`python manage.py migrate --check` exits non-zero while a migration is unapplied, and when the
# database cannot be reached) as the last init container of the web Deployment, so that a web
# pod never serves before the schema it expects is there.
#
# The migration Job (a Sync hook of wave 0) applies the migrations before the web Deployment of
# wave 1 rolls out, so on a sync this passes at its first attempt. It matters for a web pod that
# starts on its own (rescheduled, or the preview waking up) next to a database that no sync has
# migrated yet. Failing after the bound restarts the init container (with the kubelet's backoff)
# and shows why in the pod's events and logs; the Deployment's progress deadline makes the
# Application Degraded.
set -u

timeout="${WAIT_TIMEOUT_SECONDS:-600}"

start=$(date +%s)
attempt=0
while :; do
  attempt=$((attempt + 1))
  output=$(python manage.py migrate --check 2>&1)
  status=$?
  if [ "$status" -eq 0 ]; then
    echo "every migration of this image is applied (attempt $attempt)"
    exit 0
  fi
  elapsed=$(($(date +%s) - start))
  if [ "$elapsed" -ge "$timeout" ]; then
    echo "the database still lacks migrations of this image (or cannot be reached) after" \
      "${elapsed}s ($attempt attempts): giving up. The migration Job applies them on every sync:" \
      "see its logs, or sync the Application. Last output of \`migrate --check\`:" >&2
    printf '%s\n' "$output" | tail -n 20 >&2
    exit 1
  fi
  if [ $((attempt % 6)) -eq 1 ]; then
    echo "waiting for the migrations of this image" \
      "(migrate --check status $status, ${elapsed}s of ${timeout}s)"
  fi
  sleep 5
done
