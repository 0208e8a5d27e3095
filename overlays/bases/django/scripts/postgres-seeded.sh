# Sourced by the postgres image's entrypoint as its last init script, once every SQL file of the
# seed has loaded: marks the seed complete beside PGDATA (see start-postgres.sh). Sourced, not
# run: no `exit`, no shell options.
touch "${PGDATA%/*}/.preview-tower-seeded"
