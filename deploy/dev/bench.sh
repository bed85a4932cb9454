#!/usr/bin/env bash
# Benchmark: a release worker with the in-process sandbox (boards answer at
# once) on a fresh database and its own queues; `boardcast bench` publishes
# and times; this script adds the worker's peak memory. Prints figures only:
# nothing here passes or fails on speed.
#   deploy/dev/bench.sh [COPIES]      (default 200)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
copies="${1:-200}"

BOARDCAST_DB=boardcast_bench bash deploy/dev/services.sh
# A clean database each run, so figures do not depend on earlier runs.
psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS boardcast_bench WITH (FORCE)'
createdb -h 127.0.0.1 -U postgres boardcast_bench

SQLX_OFFLINE=true cargo build --release --quiet --bin boardcast

run_id="bench-$$"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/boardcast_bench
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
export BOARDCAST__AMQP__EXCHANGE="$run_id.boardcast"
export BOARDCAST__AMQP__QUEUE="$run_id.post-job"
export BOARDCAST__AMQP__DEAD_LETTER_EXCHANGE="$run_id.rejected"
export BOARDCAST__AMQP__DEAD_LETTER_QUEUE="$run_id.post-job.rejected"
export BOARDCAST__SANDBOX__LISTEN=127.0.0.1:8659
export BOARDCAST__OPS__LISTEN=127.0.0.1:8649
export BOARDCAST__OPS__PUBLIC_LISTEN=127.0.0.1:8648
# LinkedIn confirms asynchronously; ask about its tasks every 100 ms, not 10 s.
export BOARDCAST__DISPATCH__CONFIRM_POLL_MS=100
export BOARDCAST__DISPATCH__POLL_INTERVAL_MS=1000
# Lift the boards' documented rates: this measures the worker, not their quotas.
export BOARDCAST__BOARDS__LINKEDIN__REQUESTS_PER_MINUTE=100000000
export BOARDCAST__BOARDS__INDEED__REQUESTS_PER_MINUTE=100000000
export BOARDCAST__BOARDS__CRAIGSLIST__REQUESTS_PER_MINUTE=100000000
# Two boards cannot take a burst by design, and would only measure their limits:
# Google allows 200 Indexing API publish calls a day, and the Bundesagentur takes
# one upload file per second (its file names carry the second).
export BOARDCAST__BOARDS__GOOGLE_JOBS__ENABLED=false
export BOARDCAST__BOARDS__BUNDESAGENTUR__ENABLED=false
# LinkedIn refuses a job without a poster's e-mail: the sample tenants get a default.
export BOARDCAST__TENANTS__NORTHWIND__POSTER_EMAIL=recruiting@northwind.example
export BOARDCAST__TENANTS__CONTOSO__POSTER_EMAIL=recruiting@contoso.example
# Feed boards post when their crawler fetches the feed: crawl every 500 ms.
export BOARDCAST__SANDBOX__CRAWL_INTERVAL_MS=500
export BOARDCAST__SANDBOX__SMTP_LISTEN=127.0.0.1:8658

target/release/boardcast run --sandbox 2>/tmp/boardcast-bench-worker.log &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT
# Time the pipeline, not the worker's start: wait until it consumes.
for _ in $(seq 1 300); do
  curl -sf http://127.0.0.1:8649/readyz >/dev/null && break
  sleep 0.1
done
curl -sf http://127.0.0.1:8649/readyz >/dev/null || { echo "bench: the worker did not become ready" >&2; exit 1; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -h 127.0.0.1 -U postgres -tAc 'show server_version'), RabbitMQ $(rabbitmqctl version 2>/dev/null || echo '?')"
target/release/boardcast bench --samples "$root/../shared/samples" --copies "$copies"
echo "worker peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$worker/status")"

kill -TERM "$worker"
wait "$worker" || true
