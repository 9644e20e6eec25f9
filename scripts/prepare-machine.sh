#!/usr/bin/env bash
# Installs the Debian packages that building and testing BotHost need on a fresh machine,
# when they are missing (as root), or says which to install (otherwise). Run by
# scripts/test.sh and by .ci/run before it builds.
set -uo pipefail

# GRDB (the update journal) links the system SQLite; the PostgreSQL lock tests start their
# own server (initdb, postgres) and PgBouncer in front of it; every test process is
# launched through setpriv (util-linux); the dashboard test loads the admin server's page
# in a headless Chromium.
missing=()
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
{ command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
[ -x /usr/bin/setpriv ] || missing+=(util-linux)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/prepare-machine.sh: building and testing need ${missing[*]}; install them as root with:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "+ apt-get install -y ${missing[*]}"
apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
