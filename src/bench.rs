//! `boardcast bench`: publishes messages to a running worker and measures,
//! from the database's own clock, how long they take to settle.
//!
//! Two phases: the sample messages as they are (time from publish to every
//! posting settled), then a load of one sample under fresh job ids: either
//! `copies` at once (burst), or `rate` messages a second for `seconds`
//! (paced). Reports board sends/s (posted + failed + submitted; skipped rows
//! never reach a board and are shown apart) and per-job latency percentiles.
//! `deploy/dev/bench.sh` runs it against a release worker and a separate
//! sandbox process and adds peak memory and CPU seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::intake::amqp::Publisher;

/// Publishes `messages`, waits until every posting of their jobs is terminal,
/// and returns the database time from just before publishing to the last change.
async fn publish_and_settle(
    pool: &PgPool,
    publisher: &Publisher,
    messages: &[Value],
    patience: Duration,
) -> Result<Duration> {
    let started: OffsetDateTime = sqlx::query_scalar!(r#"SELECT now() AS "now!""#)
        .fetch_one(pool)
        .await?;
    publish_all(publisher, messages, None).await?;
    let jobs = jobs_of(messages);
    settle(pool, &jobs, patience).await?;
    let (tenants, job_ids): (Vec<String>, Vec<String>) = jobs.iter().cloned().unzip();
    let last: Option<OffsetDateTime> = sqlx::query_scalar(
        "SELECT max(p.updated_at) FROM postings p
         JOIN unnest($1::text[], $2::text[]) AS j(tenant_id, job_id) USING (tenant_id, job_id)",
    )
    .bind(&tenants)
    .bind(&job_ids)
    .fetch_one(pool)
    .await?;
    Ok((last.unwrap_or(started) - started).unsigned_abs())
}

/// The (tenant, job) of each message.
fn jobs_of(messages: &[Value]) -> Vec<(String, String)> {
    messages
        .iter()
        .map(|m| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&m["tenant_id"]), text(&m["job"]["id"]))
        })
        .collect()
}

fn with_fresh_ids(mut message: Value, job_id: Option<String>) -> Value {
    message["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    if let Some(job_id) = job_id {
        message["job"]["id"] = json!(job_id);
    }
    message
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// How the load phase publishes.
#[derive(Debug, Clone, Copy)]
pub enum Load {
    /// `copies` messages at once.
    Burst { copies: usize },
    /// `rate` messages a second for `seconds`.
    Paced { rate: u32, seconds: u64 },
}

#[derive(Debug, Clone)]
pub struct Options {
    pub samples: std::path::PathBuf,
    pub load: Load,
    /// Sets faults `latency_ms` on every configured board of the sandbox at
    /// `sandbox_url` before publishing (e.g. to measure boards answering after 1 s).
    pub board_latency_ms: Option<u64>,
    pub sandbox_url: String,
}

/// Publishes `messages`, spread evenly over time at `rate` a second if given,
/// else all at once. A burst keeps up to 256 publishes waiting for their
/// confirms, as a bulk-publishing ATS would: one at a time, each waiting for
/// the quorum queue's confirm, the bench measured its own publishing.
async fn publish_all(publisher: &Publisher, messages: &[Value], rate: Option<u32>) -> Result<()> {
    use futures_util::{StreamExt, TryStreamExt};
    let publish = |message: &Value| {
        let id = message["message_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let body = message.to_string();
        async move { publisher.publish(body.as_bytes(), &id).await }
    };
    let Some(rate) = rate else {
        futures_util::stream::iter(messages.iter().map(publish))
            .buffer_unordered(256)
            .try_collect::<()>()
            .await?;
        return Ok(());
    };
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    // A late tick publishes late rather than in a catch-up burst: the rate is a ceiling.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Each message leaves on its tick; its confirm is awaited alongside the next ones.
    let mut confirming = futures_util::stream::FuturesUnordered::new();
    for message in messages {
        loop {
            tokio::select! {
                Some(confirmed) = confirming.next(), if !confirming.is_empty() => confirmed?,
                // Cancel-safe: a confirm arriving first does not lose the tick.
                _ = ticks.tick() => break,
            }
        }
        confirming.push(publish(message));
    }
    while let Some(confirmed) = confirming.next().await {
        confirmed?;
    }
    Ok(())
}

/// Waits until every posting of `jobs` is terminal. Looks only at the jobs'
/// rows and at their open postings (an index of those), every 250 ms: the bench's
/// own queries must not be what keeps PostgreSQL busy (a join over every
/// posting of the load, 20 times a second, was the largest query there).
/// The figures come from the database's timestamps, not from this poll.
async fn settle(pool: &PgPool, jobs: &[(String, String)], patience: Duration) -> Result<()> {
    let (tenants, job_ids): (Vec<String>, Vec<String>) = jobs.iter().cloned().unzip();
    let deadline = Instant::now() + patience;
    loop {
        let (seen, open): (i64, i64) = sqlx::query_as(
            "WITH wanted AS (SELECT * FROM unnest($1::text[], $2::text[]) AS w(tenant_id, job_id))
             SELECT (SELECT count(*) FROM jobs j JOIN wanted USING (tenant_id, job_id)),
                    (SELECT count(*) FROM postings p JOIN wanted USING (tenant_id, job_id)
                     -- Open postings, as the index postings_open_by_job holds them.
                     WHERE p.status NOT IN ('posted', 'failed', 'withdrawn', 'skipped', 'cancelled'))",
        )
        .bind(&tenants)
        .bind(&job_ids)
        .fetch_one(pool)
        .await?;
        if seen as usize == jobs.len() && open == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "postings did not settle within {patience:?}: {open} still open, {seen} of {} jobs seen",
                jobs.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Figures of one load, from the database's own clock.
async fn report(pool: &PgPool, job_prefix: &str, label: &str, wall: Duration) -> Result<()> {
    // Board sends: rows that reached a board. Skipped rows (board not wanted
    // for this ad/language) never did, so they are counted apart.
    let (sends, skipped, other, span): (i64, i64, i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE p.status IN ('posted', 'failed', 'submitted')),
                count(*) FILTER (WHERE p.status = 'skipped'),
                count(*) FILTER (WHERE p.status NOT IN ('posted', 'failed', 'submitted', 'skipped')),
                extract(epoch FROM max(p.updated_at) - min(s.received_at))::float8
         FROM postings p JOIN submissions s ON s.job_id = p.job_id AND s.tenant_id = p.tenant_id
         WHERE p.job_id LIKE $1 || '%'",
    )
    .bind(job_prefix)
    .fetch_one(pool)
    .await?;
    let mut latencies: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(p.updated_at) - s.received_at)::float8 * 1000.0
         FROM postings p JOIN submissions s ON s.job_id = p.job_id AND s.tenant_id = p.tenant_id
         WHERE p.job_id LIKE $1 || '%'
         GROUP BY s.job_id, s.tenant_id, s.received_at",
    )
    .bind(job_prefix)
    .fetch_all(pool)
    .await?;
    latencies.sort_by(f64::total_cmp);
    let span = span.unwrap_or_default().max(f64::EPSILON);
    println!(
        "{label}: {} jobs, {sends} board sends in {span:.2} s = {:.0} board sends/s \
         (skipped apart, not counted: {skipped}; cancelled/withdrawn: {other}; wall {:.2} s)",
        latencies.len(),
        sends as f64 / span,
        wall.as_secs_f64()
    );
    println!(
        "per-job latency, intake -> all settled: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or_default()
    );
    // Per board: a slow board (e.g. a feed waiting for its crawler) hides in
    // the per-job figure behind the fast ones.
    let per_board: Vec<(String, f64, f64)> = sqlx::query_as(
        "SELECT p.board,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::float8,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::float8
         FROM postings p JOIN submissions s ON s.job_id = p.job_id AND s.tenant_id = p.tenant_id,
              LATERAL (SELECT extract(epoch FROM p.updated_at - s.received_at)::float8 * 1000.0) AS l(ms)
         WHERE p.job_id LIKE $1 || '%' AND p.status <> 'skipped'
         GROUP BY p.board ORDER BY p.board",
    )
    .bind(job_prefix)
    .fetch_all(pool)
    .await?;
    let per_board: Vec<String> = per_board
        .iter()
        .map(|(board, p50, p99)| format!("{board} {p50:.0}/{p99:.0}"))
        .collect();
    println!("per-board latency p50/p99 ms: {}", per_board.join(", "));
    Ok(())
}

/// Puts `latency_ms` on every configured board of the sandbox.
async fn slow_boards(settings: &Settings, sandbox_url: &str, latency_ms: u64) -> Result<()> {
    let client = reqwest::Client::new();
    for board in settings.boards.keys() {
        let url = format!("{sandbox_url}/_sandbox/boards/{board}/faults");
        let answer = client
            .put(&url)
            .json(&json!({ "latency_ms": latency_ms }))
            .send()
            .await
            .with_context(|| format!("setting faults at {url}"))?;
        if !answer.status().is_success() {
            bail!("setting faults at {url}: {}", answer.status());
        }
    }
    println!("every board of the sandbox answers after {latency_ms} ms");
    Ok(())
}

pub async fn run(settings: &Settings, pool: &PgPool, options: &Options) -> Result<()> {
    let samples = options.samples.as_path();
    let mut publish_samples = Vec::new();
    for entry in
        std::fs::read_dir(samples).with_context(|| format!("reading {}", samples.display()))?
    {
        let path = entry?.path();
        if path.to_string_lossy().ends_with(".publish.json") {
            let message: Value = serde_json::from_slice(&std::fs::read(&path)?)?;
            publish_samples.push(message);
        }
    }
    if publish_samples.is_empty() {
        bail!("no *.publish.json in {}", samples.display());
    }
    publish_samples.sort_by_key(|m| m["job"]["id"].as_str().unwrap_or_default().to_owned());
    if let Some(latency_ms) = options.board_latency_ms {
        slow_boards(settings, &options.sandbox_url, latency_ms).await?;
    }
    let publisher = Publisher::connect(&settings.amqp).await?;
    let patience = Duration::from_secs(600);

    // Phase 1: the samples as they are (new message ids, so a rerun is not a duplicate).
    let run = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
    let messages: Vec<Value> = publish_samples
        .iter()
        .map(|m| {
            let job = format!("{}-{run}", m["job"]["id"].as_str().unwrap_or_default());
            with_fresh_ids(m.clone(), Some(job))
        })
        .collect();
    let samples_time = publish_and_settle(pool, &publisher, &messages, patience).await?;
    let postings: i64 =
        sqlx::query_scalar("SELECT count(*) FROM postings WHERE job_id LIKE '%-' || $1")
            .bind(&run)
            .fetch_one(pool)
            .await?;
    println!(
        "samples: {} messages, {postings} postings, publish -> all settled in {:.0} ms",
        messages.len(),
        samples_time.as_secs_f64() * 1000.0
    );

    // Phase 2: the load, from the sample with the most ads.
    let template = publish_samples
        .iter()
        .max_by_key(|m| m["job"]["ads"].as_object().map_or(0, |a| a.len()))
        .cloned()
        .expect("at least one sample");
    let count = match options.load {
        Load::Burst { copies } => copies,
        Load::Paced { rate, seconds } => rate as usize * seconds as usize,
    };
    let prefix = format!("BENCH-{run}-");
    let messages: Vec<Value> = (0..count)
        .map(|i| with_fresh_ids(template.clone(), Some(format!("{prefix}{i:06}"))))
        .collect();
    let jobs = jobs_of(&messages);
    let in_flight = InFlightSampler::start(pool);
    let wall = Instant::now();
    let label = match options.load {
        Load::Burst { copies } => {
            publish_all(&publisher, &messages, None).await?;
            format!("burst of {copies} messages")
        }
        Load::Paced { rate, seconds } => {
            publish_all(&publisher, &messages, Some(rate)).await?;
            let published = wall.elapsed().as_secs_f64();
            format!(
                "paced {rate} messages/s for {seconds} s (published in {published:.1} s = {:.1} messages/s)",
                count as f64 / published.max(f64::EPSILON)
            )
        }
    };
    settle(pool, &jobs, patience).await?;
    let peak = in_flight.finish().await;
    report(pool, &prefix, &label, wall.elapsed()).await?;
    println!("postings in flight at once: peak {peak} (sampled every 250 ms)");
    publisher.close().await;
    Ok(())
}

/// Samples how many postings are in flight (claimed, at their board) while
/// the load runs: the memory figure means little without it.
struct InFlightSampler {
    peak: Arc<AtomicI64>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl InFlightSampler {
    fn start(pool: &PgPool) -> Self {
        let peak = Arc::new(AtomicI64::new(0));
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let (pool, peak, stop) = (pool.clone(), peak.clone(), stop.clone());
            async move {
                while !stop.is_cancelled() {
                    let now: Result<i64, _> = sqlx::query_scalar(
                        "SELECT count(*) FROM postings WHERE status = 'in_flight'",
                    )
                    .fetch_one(&pool)
                    .await;
                    if let Ok(now) = now {
                        peak.fetch_max(now, Ordering::Relaxed);
                    }
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                    }
                }
            }
        });
        Self { peak, stop, task }
    }

    async fn finish(self) -> i64 {
        self.stop.cancel();
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}
