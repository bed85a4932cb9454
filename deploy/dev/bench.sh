#!/usr/bin/env bash
# Benchmark: a release worker and, as its own process, the sandbox (boards
# answer at once unless --latency-ms), on a fresh database and its own queues.
# `boardcast bench` publishes and reports board sends/s and per-job latency;
# this script adds each process's peak RSS (VmHWM) and CPU seconds
# (utime+stime during the bench), so the worker's figures are the worker's.
# Prints figures only: nothing here passes or fails on speed.
#   deploy/dev/bench.sh [COPIES | --copies N]          burst (default 200 messages)
#   deploy/dev/bench.sh --rate N --seconds T           paced: N messages/s for T s
#   ... [--latency-ms MS]                              every board answers after MS
#   ... [--concurrency N]                              requests in flight per board (dispatch.concurrency)
# BOARDCAST_BENCH_SLOT=N (0-9) gives a run its own database and ports, so
# benches in several checkouts can run side by side.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
bench_args=(--copies 200)
latency_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --copies) bench_args=(--copies "$2"); shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --latency-ms) latency_args=(--board-latency-ms "$2"); shift 2 ;;
    --concurrency) export BOARDCAST__DISPATCH__CONCURRENCY="$2"; shift 2 ;;
    [0-9]*) bench_args=(--copies "$1"); shift ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -n "${rate:-}" ] || [ -n "${seconds:-}" ]; then
  bench_args=(--rate "${rate:?--rate N needs --seconds T}" --seconds "${seconds:?--seconds T needs --rate N}")
fi

slot="${BOARDCAST_BENCH_SLOT:-0}"
[[ "$slot" =~ ^[0-9]$ ]] || { echo "bench: BOARDCAST_BENCH_SLOT must be 0-9" >&2; exit 2; }
db=boardcast_bench$([ "$slot" = 0 ] || echo "_$slot")
port() { echo $((8600 + 100 * slot + $1)); }
BOARDCAST_DB=$db bash deploy/dev/services.sh
# A clean database each run, so figures do not depend on earlier runs.
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
createdb -h 127.0.0.1 -U postgres "$db"

SQLX_OFFLINE=true cargo build --release --quiet --bin boardcast

# The shared samples sit beside the checkout; a worktree (/work/wt/<name>) names them with
# BOARDCAST_SAMPLES.
samples="${BOARDCAST_SAMPLES:-$root/../shared/samples}"
[ -d "$samples" ] || { echo "bench: no samples at $samples (set BOARDCAST_SAMPLES)" >&2; exit 2; }

run_id="bench-$$"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
export BOARDCAST__AMQP__EXCHANGE="$run_id.boardcast"
export BOARDCAST__AMQP__QUEUE="$run_id.post-job"
export BOARDCAST__AMQP__DEAD_LETTER_EXCHANGE="$run_id.rejected"
export BOARDCAST__AMQP__DEAD_LETTER_QUEUE="$run_id.post-job.rejected"
export BOARDCAST__SANDBOX__LISTEN=127.0.0.1:$(port 59)
export BOARDCAST__OPS__LISTEN=127.0.0.1:$(port 49)
export BOARDCAST__OPS__PUBLIC_LISTEN=127.0.0.1:$(port 48)
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
export BOARDCAST__SANDBOX__SMTP_LISTEN=127.0.0.1:$(port 58)
export BOARDCAST__SANDBOX__TLS_LISTEN=127.0.0.1:$(port 57)

# The sandbox as its own process, so its CPU is not counted as the worker's.
# It writes the credentials it accepts; the worker reads them from there.
secrets=$(mktemp -d)
# Its feed crawlers fetch the worker's public feeds.
BOARDCAST__OPS__PUBLIC_URL="http://$BOARDCAST__OPS__PUBLIC_LISTEN" \
  target/release/boardcast sandbox --write-secrets "$secrets" >/tmp/boardcast-bench$slot-sandbox.log 2>&1 &
sandbox=$!
worker=
trap 'kill "$sandbox" $worker 2>/dev/null || true; rm -rf "$secrets"' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://$BOARDCAST__SANDBOX__LISTEN/_sandbox/postings" >/dev/null && break
  sleep 0.1
done
curl -sf "http://$BOARDCAST__SANDBOX__LISTEN/_sandbox/postings" >/dev/null || { echo "bench: the sandbox did not start" >&2; exit 1; }

BOARDCAST__SECRETS_DIR="$secrets" \
  target/release/boardcast run --sandbox-host 127.0.0.1 2>/tmp/boardcast-bench$slot-worker.log &
worker=$!
# Time the pipeline, not the worker's start: wait until it consumes.
for _ in $(seq 1 300); do
  curl -sf http://127.0.0.1:$(port 49)/readyz >/dev/null && break
  sleep 0.1
done
curl -sf http://127.0.0.1:$(port 49)/readyz >/dev/null || { echo "bench: the worker did not become ready" >&2; exit 1; }

echo "worker: dispatch.concurrency ${BOARDCAST__DISPATCH__CONCURRENCY:-256 (default)} per board"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -h 127.0.0.1 -U postgres -tAc 'show server_version'), RabbitMQ $(rabbitmqctl version 2>/dev/null || echo '?')"

# CPU seconds of a process so far: utime + stime (fields 14 and 15 of
# /proc/<pid>/stat, in clock ticks; counted after the ")" ending the name).
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}
peak_rss() { awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }
# The whole machine's busy CPU seconds so far (every process: PostgreSQL,
# RabbitMQ and the bench's publisher too), from the first line of /proc/stat.
machine_busy() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz; exit }' /proc/stat
}
machine_before=$(machine_busy)
worker_cpu_before=$(cpu_seconds "$worker")
sandbox_cpu_before=$(cpu_seconds "$sandbox")
target/release/boardcast bench --samples "$samples" "${bench_args[@]}" "${latency_args[@]}" \
  --sandbox-url "http://$BOARDCAST__SANDBOX__LISTEN"
echo "worker: peak RSS $(peak_rss "$worker"), CPU $(awk -v a="$worker_cpu_before" -v b="$(cpu_seconds "$worker")" 'BEGIN {printf "%.2f", b - a}') s during the bench"
echo "sandbox (own process): peak RSS $(peak_rss "$sandbox"), CPU $(awk -v a="$sandbox_cpu_before" -v b="$(cpu_seconds "$sandbox")" 'BEGIN {printf "%.2f", b - a}') s during the bench"
echo "machine: $(awk -v a="$machine_before" -v b="$(machine_busy)" 'BEGIN {printf "%.2f", b - a}') CPU seconds busy during the bench (all processes, $(nproc) cores)"

kill -TERM "$worker" "$sandbox"
wait "$worker" || true
wait "$sandbox" || true
