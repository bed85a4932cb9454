//! `boardcast bench`: publishes messages to a running worker and measures,
//! from the database's own clock, how long they take to settle.
//!
//! Two phases: the sample messages as they are (time from publish to every
//! posting settled), then `copies` of one sample under fresh job ids
//! (throughput and per-job latency percentiles). `deploy/dev/bench.sh` runs it
//! against a release worker and adds the worker's peak memory.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;

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
    let jobs: Vec<String> = messages
        .iter()
        .map(|m| m["job"]["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    for message in messages {
        let id = message["message_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        publisher
            .publish(message.to_string().as_bytes(), &id)
            .await?;
    }
    let deadline = Instant::now() + patience;
    loop {
        let row = sqlx::query!(
            r#"SELECT count(DISTINCT job_id) AS "jobs!",
                      count(*) FILTER (WHERE status NOT IN ('posted', 'failed', 'skipped', 'cancelled', 'withdrawn')) AS "open!",
                      max(updated_at) AS last
               FROM postings WHERE job_id = ANY($1)"#,
            &jobs,
        )
        .fetch_one(pool)
        .await?;
        if row.jobs as usize == jobs.len() && row.open == 0 {
            let last = row.last.unwrap_or(started);
            return Ok((last - started).unsigned_abs());
        }
        if Instant::now() > deadline {
            bail!(
                "postings did not settle within {patience:?}: {} still open",
                row.open
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

pub async fn run(settings: &Settings, pool: &PgPool, samples: &Path, copies: usize) -> Result<()> {
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
    let publisher = Publisher::connect(&settings.amqp).await?;
    let patience = Duration::from_secs(300);

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
    let postings: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM postings WHERE job_id LIKE '%-' || $1"#,
        run
    )
    .fetch_one(pool)
    .await?;
    println!(
        "samples: {} messages, {postings} postings, publish -> all settled in {:.0} ms",
        messages.len(),
        samples_time.as_secs_f64() * 1000.0
    );

    // Phase 2: many jobs at once.
    let template = publish_samples
        .iter()
        .max_by_key(|m| m["job"]["ads"].as_object().map_or(0, |a| a.len()))
        .cloned()
        .expect("at least one sample");
    let messages: Vec<Value> = (0..copies)
        .map(|i| with_fresh_ids(template.clone(), Some(format!("BENCH-{run}-{i:05}"))))
        .collect();
    let wall = Instant::now();
    let load_time = publish_and_settle(pool, &publisher, &messages, patience).await?;
    let wall = wall.elapsed();
    let rows = sqlx::query!(
        r#"SELECT extract(epoch FROM max(p.updated_at) - s.received_at)::float8 AS "seconds!",
                  count(*) AS "postings!"
           FROM postings p JOIN submissions s ON s.job_id = p.job_id AND s.tenant_id = p.tenant_id
           WHERE p.job_id LIKE 'BENCH-' || $1 || '-%'
           GROUP BY s.received_at"#,
        run
    )
    .fetch_all(pool)
    .await?;
    let total_postings: i64 = rows.iter().map(|r| r.postings).sum();
    let mut latencies: Vec<f64> = rows.iter().map(|r| r.seconds * 1000.0).collect();
    latencies.sort_by(f64::total_cmp);
    println!(
        "load: {copies} messages, {total_postings} postings in {:.2} s ({:.0} postings/s, {:.1} messages/s; wall {:.2} s)",
        load_time.as_secs_f64(),
        total_postings as f64 / load_time.as_secs_f64(),
        copies as f64 / load_time.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "per-job latency, intake -> all settled: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or_default()
    );
    publisher.close().await;
    Ok(())
}
