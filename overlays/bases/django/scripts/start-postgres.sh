#!/bin/sh
# Starts PostgreSQL through the image's own entrypoint (docker-entrypoint.sh), which creates the
# database and loads /docker-entrypoint-initdb.d/* when, and only when, PGDATA is empty: once per
# volume, since the data lives on the preview's PersistentVolumeClaim.
#
# A seed cut short (the pod stopped while the entrypoint was loading it: a spot interruption, a
# sync that replaced the pod) leaves a data directory that the entrypoint would take as complete
# and never seed again. The entrypoint's last init script (postgres-seeded.sh, mounted after the
# image's SQL files) marks a complete seed beside PGDATA; a data directory without the mark is
# removed here, so the seed starts over instead of leaving a half-loaded database for the
# preview's life.
set -eu

marker="${PGDATA%/*}/.preview-tower-seeded"
if [ ! -e "$marker" ] && [ -e "$PGDATA" ]; then
  echo "$PGDATA holds an unfinished seed (no $marker): removing it to seed again" >&2
  rm -rf "$PGDATA"
fi
exec docker-entrypoint.sh "$@"
