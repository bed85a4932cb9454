#!/usr/bin/env bash
# Quick start: local services, then the worker with every board pointed at the
# in-process sandbox. Extra arguments go to `boardcast run`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

bash deploy/dev/services.sh

# Respect URLs the caller already chose.
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/boardcast}"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
# With DATABASE_URL set, sqlx's macros would otherwise check queries against
# the (possibly not yet migrated) database at compile time; use .sqlx/ instead.
export SQLX_OFFLINE="${SQLX_OFFLINE:-true}"

# exec, so Ctrl-C / SIGTERM reach the worker and it can drain.
exec cargo run --release --bin boardcast -- run --sandbox "$@"
