#!/usr/bin/env bash
# Quick start: every test against local PostgreSQL and RabbitMQ.
# Extra arguments go to `cargo test`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

# The dashboard test drives headless Chromium through chromedriver.
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
  echo "test: installing chromium and chromium-driver"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# Tests create their own databases; they connect through this one to do it.
BOARDCAST_DB=boardcast_test bash deploy/dev/services.sh

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/boardcast_test}"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
# Build from the committed .sqlx/ query cache, not the live database.
export SQLX_OFFLINE=true

cargo test --all-targets "$@"
