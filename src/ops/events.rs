//! Events to the ATS: the outbox relay.
//!
//! A trigger (migrations 0002, 0021) writes one `outbox` row per posting change into
//! `posted`, `failed`, `withdrawn`, `skipped` or `cancelled`, and a
//! `job.settled` row when a job has nothing left in flight, in the same
//! transaction as the change. This relay publishes them, with publisher
//! confirms, to the topic exchange `amqp.events_exchange` under their routing
//! key (`posting.posted`, `job.settled`, ...), and marks them published only
//! once the broker confirmed. Rows are claimed with `SKIP LOCKED`, so every
//! replica can relay; a crash between confirm and commit re-sends (at least
//! once: the AMQP `message_id` is the event id, for consumers to dedupe).
//!
//! Published rows are kept `amqp.events_retention_hours` (for ops to look
//! back), then pruned by the relay in small batches.
//!
//! The ATS binds its own durable queue to the exchange; with none bound the
//! broker drops events, so bind before publishing jobs.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ExchangeKind};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::config::Settings;
use crate::intake::amqp::{AmqpError, connect};

/// Events published per database transaction.
const BATCH: i64 = 200;

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error(transparent)]
    Amqp(#[from] AmqpError),
    #[error("RabbitMQ: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the broker refused event {0}")]
    Refused(i64),
}

struct EventPublisher {
    connection: Connection,
    channel: Channel,
    exchange: String,
}

impl EventPublisher {
    async fn connect(settings: &Settings) -> Result<Self, RelayError> {
        let connection = connect(&settings.amqp, "boardcast-events").await?;
        let channel = connection.create_channel().await?;
        let exchange = settings.amqp.events_exchange.clone();
        channel
            .exchange_declare(
                ShortString::from(exchange.clone()),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Self {
            connection,
            channel,
            exchange,
        })
    }

    /// Publishes one batch of due events and marks them published.
    async fn relay_batch(&self, pool: &PgPool) -> Result<usize, RelayError> {
        let mut tx = pool.begin().await?;
        let rows = sqlx::query!(
            r#"SELECT id, routing_key, body FROM outbox
               WHERE published_at IS NULL
               ORDER BY id LIMIT $1
               FOR UPDATE SKIP LOCKED"#,
            BATCH,
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        // Publish the whole batch, then wait for every confirm.
        let mut confirms = Vec::with_capacity(rows.len());
        for row in &rows {
            let properties = BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type(ShortString::from("application/json"))
                .with_message_id(ShortString::from(format!("event-{}", row.id)));
            let confirm = self
                .channel
                .basic_publish(
                    ShortString::from(self.exchange.clone()),
                    ShortString::from(row.routing_key.clone()),
                    BasicPublishOptions::default(),
                    row.body.to_string().as_bytes(),
                    properties,
                )
                .await?;
            confirms.push((row.id, confirm));
        }
        let mut ids = Vec::with_capacity(confirms.len());
        for (id, confirm) in confirms {
            if !confirm.await?.is_ack() {
                return Err(RelayError::Refused(id));
            }
            ids.push(id);
        }
        sqlx::query!(
            "UPDATE outbox SET published_at = now() WHERE id = ANY($1)",
            &ids
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        debug!(message = "Events published.", count = ids.len());
        Ok(ids.len())
    }

    async fn close(self) {
        let _ = self.channel.close(200, ShortString::from("done")).await;
        let _ = self.connection.close(200, ShortString::from("done")).await;
    }
}

/// How often the relay prunes published events.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// Rows deleted per statement, so a large backlog never holds long locks.
const PRUNE_BATCH: i64 = 5_000;

/// Deletes events published more than `keep` ago; returns how many.
pub async fn prune_published(pool: &PgPool, keep: Duration) -> Result<u64, sqlx::Error> {
    let mut pruned = 0;
    loop {
        let deleted = sqlx::query!(
            r#"DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox
                 WHERE published_at < now() - $1 * interval '1 millisecond'
                 LIMIT $2)"#,
            keep.as_millis() as f64,
            PRUNE_BATCH,
        )
        .execute(pool)
        .await?
        .rows_affected();
        pruned += deleted;
        if deleted < PRUNE_BATCH as u64 {
            return Ok(pruned);
        }
    }
}

/// Relays outbox events until `shutdown`, reconnecting with backoff.
pub async fn run_relay(pool: PgPool, settings: Arc<Settings>, shutdown: CancellationToken) {
    let interval = Duration::from_millis(settings.amqp.events_poll_interval_ms);
    let keep = Duration::from_secs(settings.amqp.events_retention_hours * 3600);
    let mut next_prune = tokio::time::Instant::now();
    let reconnect = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(Duration::from_secs(30))
        .with_jitter()
        .without_max_times();
    let mut delays = reconnect.build();
    loop {
        let result = async {
            let publisher = EventPublisher::connect(&settings).await?;
            loop {
                while publisher.relay_batch(&pool).await? as i64 == BATCH {}
                if tokio::time::Instant::now() >= next_prune {
                    next_prune += PRUNE_EVERY;
                    let pruned = prune_published(&pool, keep).await?;
                    debug!(message = "Published events pruned.", count = pruned);
                }
                tokio::select! {
                    _ = shutdown.cancelled() => {
                        publisher.close().await;
                        return Ok::<(), RelayError>(());
                    }
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        }
        .await;
        match result {
            Ok(()) => return,
            Err(error) => {
                let wait = delays.next().unwrap_or(Duration::from_secs(30));
                warn!(message = "Event relay stopped; retrying.", %error, wait_ms = wait.as_millis() as u64);
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}
