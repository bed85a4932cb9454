#!/usr/bin/env bash
# Brings up the local PostgreSQL and RabbitMQ that boardcast's dev and test
# commands expect, and creates the database named by $BOARDCAST_DB.
# Safe to run repeatedly: every step checks before it acts.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
DB="${BOARDCAST_DB:-boardcast}"
WAIT_SECS="${BOARDCAST_WAIT_SECS:-90}"

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

# The database name is spliced into SQL below; keep it to a plain identifier.
[[ "$DB" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "BOARDCAST_DB='$DB' is not a plain identifier"

# Debian's own packages; the installer must be root and must not prompt (CI has no stdin).
apt_install() {
  [[ $EUID -eq 0 ]] || die "need root to apt-get install $*"
  say "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

# Polls "$@" once a second until it succeeds or WAIT_SECS pass.
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + WAIT_SECS))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$what did not answer within ${WAIT_SECS}s"
    sleep 1
  done
}

# ---------------------------------------------------------------- PostgreSQL

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }

pg_fresh_install=false
if command -v pg_ctlcluster >/dev/null 2>&1; then
  say "postgresql: installed"
else
  apt_install postgresql
  pg_fresh_install=true
fi

if [[ $pg_fresh_install == true ]]; then
  # A fresh Debian cluster asks for a password over TCP; the dev URLs carry none,
  # so trust loopback only. Existing installs are left exactly as they are.
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    [[ -f $hba ]] || continue
    if ! grep -q 'boardcast dev: trust loopback' "$hba"; then
      say "postgresql: trusting loopback connections in $hba"
      tmp=$(mktemp)
      {
        echo '# boardcast dev: trust loopback (added by deploy/dev/services.sh)'
        echo 'host all all 127.0.0.1/32 trust'
        echo 'host all all ::1/128 trust'
        cat "$hba"
      } >"$tmp"
      cat "$tmp" >"$hba" # keeps the file's owner and mode
      rm -f "$tmp"
    fi
  done
fi

if pg_up; then
  say "postgresql: running on $PG_HOST:$PG_PORT"
else
  # Start whichever cluster owns our port; create one only if none exists at all.
  cluster=$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1 " " $2; exit }')
  if [[ -z $cluster ]]; then
    if [[ -n $(pg_lsclusters --no-header 2>/dev/null) ]]; then
      die "no PostgreSQL cluster is configured on port $PG_PORT (see pg_lsclusters)"
    fi
    ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -n $ver ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
    say "postgresql: creating cluster $ver/main on port $PG_PORT"
    pg_createcluster "$ver" main -p "$PG_PORT" >/dev/null
    cluster="$ver main"
  fi
  say "postgresql: starting cluster ${cluster/ //}"
  # shellcheck disable=SC2086 # "$ver $name" must split into two arguments
  pg_ctlcluster --skip-systemctl-redirect $cluster start ||
    die "pg_ctlcluster failed to start ${cluster/ //} (see /var/log/postgresql/)"
  wait_for "PostgreSQL on $PG_HOST:$PG_PORT" pg_up
  say "postgresql: running on $PG_HOST:$PG_PORT"
fi

# -w: never prompt for a password; fail instead (CI has no stdin).
psql_pg() { psql -X -w -h "$PG_HOST" -p "$PG_PORT" -U postgres "$@"; }

psql_pg -d postgres -tAc 'select 1' >/dev/null 2>&1 ||
  die "cannot connect as role postgres to $PG_HOST:$PG_PORT without a password; the dev URLs need 'trust' for loopback in pg_hba.conf"

if [[ $(psql_pg -d postgres -tAc "select 1 from pg_database where datname = '$DB'") == 1 ]]; then
  say "postgresql: database $DB exists"
else
  say "postgresql: creating database $DB"
  createdb -w -h "$PG_HOST" -p "$PG_PORT" -U postgres "$DB"
fi

# ------------------------------------------------------------------ RabbitMQ

# Bounded, because the CLI can hang while a node is half up.
rmq() { timeout 30 rabbitmq-diagnostics -q "$@"; }
# "Answers" means the app is booted and the AMQP port is open, not just the Erlang VM.
rmq_up() { rmq check_running && rmq check_port_listener 5672; }

if command -v rabbitmq-server >/dev/null 2>&1; then
  say "rabbitmq: installed"
else
  apt_install rabbitmq-server
fi

if rmq_up >/dev/null 2>&1; then
  say "rabbitmq: running"
else
  if rmq ping >/dev/null 2>&1; then
    # The node is alive but its app is stopped; a second server would clash on the node name.
    say "rabbitmq: node up but app stopped; starting app"
    timeout 60 rabbitmqctl -q start_app || die "rabbitmqctl start_app failed"
  else
    say "rabbitmq: starting server"
    rabbitmq-server -detached || die "rabbitmq-server -detached failed (see /var/log/rabbitmq/)"
  fi
  wait_for "RabbitMQ" rmq_up
  say "rabbitmq: running"
fi

say "ready (database $DB)"
