//! RabbitMQ: the topology, the intake consumer, and the publisher the CLI uses.
//!
//! Topology (declared by every process at start; declarations are idempotent):
//!
//! ```text
//! exchange "boardcast" (topic) ──post-job──▶ quorum queue "boardcast.post-job"
//!                                              │ x-delivery-limit, dead letters to
//!                                              ▼
//! exchange "boardcast.rejected" (fanout) ──▶ quorum queue "boardcast.post-job.rejected"
//! ```
//!
//! The consumer uses manual acks and a bounded prefetch. Supervision is ours
//! rather than lapin's auto-recovery (RELIABILITY.md §7.8): any connection or
//! channel error, or the broker cancelling the consumer, drops the connection
//! and reconnects with backoff. Unacked deliveries then come back, and the
//! intake's message_id check makes them harmless.
//!
//! Deliveries already buffered are committed together (issue 9): one
//! transaction, a savepoint per message, up to `amqp.intake_batch`.
//!
//! A database outage is not a broker error (issue 12, finding 16): the
//! batch in hand is held (neither acked nor nacked), no other is taken
//! (the prefetch window waits, unacked), and its commit is retried with
//! backoff until the database answers. Nothing is requeued, no channel is
//! dropped, so no delivery count is spent and no confirmed message reaches
//! the dead-letter queue because the database was down.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::{FutureExt, StreamExt};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, BasicRejectOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info, info_span, warn};

use crate::boards::feed::FeedChecks;
use crate::config::{AmqpSettings, Settings};
use crate::dispatch::Wakers;
use crate::ops::metrics::{AttemptLabels, IntakeLabels, Metrics, ReasonLabel};
use crate::store::rejected::clean;

use super::{Processed, Raw, process_batch};

#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    #[error("RabbitMQ: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the AMQP URL is not a valid amqp:// or amqps:// URL")]
    InvalidUrl,
    #[error("could not connect to RabbitMQ within {0:?}")]
    ConnectTimeout(Duration),
    #[error("the broker cancelled our consumer")]
    ConsumerCancelled,
    #[error("the broker did not confirm message {0}")]
    NotConfirmed(String),
    #[error("message {0} could not be routed to any queue")]
    Unroutable(String),
    #[error(
        "message_id is {0} bytes long; an AMQP message-id is a short string of at most 255 bytes"
    )]
    MessageIdTooLong(usize),
}

/// AMQP 0-9-1 short strings (message-id among them) hold at most 255 bytes.
pub const MAX_SHORT_STRING_BYTES: usize = 255;

/// Waits between reconnects: exponential with jitter, and back to the start
/// after a session that stayed up for [`HEALTHY_SESSION`], so one failure
/// after hours of health does not wait as long as the tenth in a row.
pub struct Reconnects {
    builder: ExponentialBuilder,
    delays: backon::ExponentialBackoff,
    max: Duration,
}

/// A session this long was healthy: the next failure starts the schedule over.
pub const HEALTHY_SESSION: Duration = Duration::from_secs(30);

impl Reconnects {
    pub fn new(min: Duration, max: Duration) -> Self {
        let builder = ExponentialBuilder::default()
            .with_min_delay(min)
            .with_max_delay(max)
            .with_jitter()
            .without_max_times();
        Self {
            delays: builder.build(),
            builder,
            max,
        }
    }

    /// The wait before the next attempt, after a session that lasted `up`
    /// (`None` when it never attached).
    pub fn after(&mut self, up: Option<Duration>) -> Duration {
        if up.is_some_and(|up| up >= HEALTHY_SESSION) {
            self.delays = self.builder.build();
        }
        self.delays.next().unwrap_or(self.max)
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest frame we offer the broker, unless the URL names one
/// (`?frame_max=`). lapin keeps a receive and a send buffer of 32 frames per
/// connection, zero-filled: at RabbitMQ's default of 128 KiB that is 8 MiB
/// per connection, 17 MiB of the worker's peak (heaptrack, issue 9). A
/// larger message simply travels in several frames.
pub const FRAME_MAX: u32 = 32 * 1024;

/// Connects without ever logging the URL (it carries the password).
pub async fn connect(settings: &AmqpSettings, name: &str) -> Result<Connection, AmqpError> {
    let properties =
        ConnectionProperties::default().with_connection_name(LongString::from(name.to_owned()));
    // The parser's error may quote the URL: report none of it.
    let mut uri: AMQPUri = settings
        .url
        .expose_secret()
        .parse()
        .map_err(|_| AmqpError::InvalidUrl)?;
    uri.query.frame_max.get_or_insert(FRAME_MAX);
    // lapin#437: a connect to a dead broker could hang; always bound it.
    tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect_uri(uri, properties))
        .await
        .map_err(|_| AmqpError::ConnectTimeout(CONNECT_TIMEOUT))?
        .map_err(AmqpError::from)
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.to_owned()))
}

fn name(value: &str) -> ShortString {
    ShortString::from(value.to_owned())
}

/// Declares the exchanges and queues above. Safe to call from every process.
pub async fn declare_topology(channel: &Channel, settings: &AmqpSettings) -> Result<(), AmqpError> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            name(&settings.exchange),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            name(&settings.dead_letter_exchange),
            ExchangeKind::Fanout,
            durable,
            FieldTable::default(),
        )
        .await?;

    let mut quorum = FieldTable::default();
    quorum.insert(name("x-queue-type"), text("quorum"));
    channel
        .queue_declare(
            name(&settings.dead_letter_queue),
            QueueDeclareOptions::durable(),
            quorum.clone(),
        )
        .await?;
    channel
        .queue_bind(
            name(&settings.dead_letter_queue),
            name(&settings.dead_letter_exchange),
            name("#"),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;

    let mut intake = quorum;
    intake.insert(
        name("x-dead-letter-exchange"),
        text(&settings.dead_letter_exchange),
    );
    // Set explicitly: RabbitMQ 4 defaults to 20; 3.x to unlimited.
    intake.insert(
        name("x-delivery-limit"),
        AMQPValue::LongUInt(settings.delivery_limit),
    );
    channel
        .queue_declare(
            name(&settings.queue),
            QueueDeclareOptions::durable(),
            intake,
        )
        .await?;
    channel
        .queue_bind(
            name(&settings.queue),
            name(&settings.exchange),
            name(&settings.routing_key),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

/// Consumes the intake queue until `shutdown`, reconnecting with backoff.
#[allow(clippy::too_many_arguments)]
pub async fn run_consumer(
    pool: PgPool,
    settings: Arc<Settings>,
    wakers: Arc<Wakers>,
    metrics: Arc<Metrics>,
    consuming: Arc<AtomicBool>,
    consumer_tag: String,
    feeds: FeedChecks,
    ready: Option<tokio::sync::oneshot::Sender<()>>,
    shutdown: CancellationToken,
) {
    let known_boards = settings.board_ids();
    let mut ready = ready;
    let mut reconnects = Reconnects::new(Duration::from_millis(500), Duration::from_secs(30));
    loop {
        let session = Consumer {
            pool: &pool,
            settings: &settings,
            wakers: &wakers,
            metrics: &metrics,
            consuming: &consuming,
            known_boards: &known_boards,
            feeds: &feeds,
            tag: &consumer_tag,
            shutdown: &shutdown,
        };
        let mut attached = None;
        match session.consume(&mut ready, &mut attached).await {
            Ok(()) => return,
            Err(error) => {
                let wait = reconnects.after(attached.map(|at: tokio::time::Instant| at.elapsed()));
                warn!(
                    message = "Intake consumer stopped; reconnecting.",
                    error = error.to_string().as_str(),
                    wait_ms = wait.as_millis() as u64
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

struct Consumer<'a> {
    pool: &'a PgPool,
    settings: &'a Settings,
    wakers: &'a Wakers,
    metrics: &'a Metrics,
    /// True while attached to the queue (readiness).
    consuming: &'a AtomicBool,
    known_boards: &'a BTreeSet<String>,
    feeds: &'a FeedChecks,
    tag: &'a str,
    shutdown: &'a CancellationToken,
}

impl Consumer<'_> {
    async fn consume(
        &self,
        ready: &mut Option<tokio::sync::oneshot::Sender<()>>,
        attached: &mut Option<tokio::time::Instant>,
    ) -> Result<(), AmqpError> {
        let amqp = &self.settings.amqp;
        let connection = connect(amqp, self.tag).await?;
        let channel = connection.create_channel().await?;
        declare_topology(&channel, amqp).await?;
        channel
            .basic_qos(amqp.prefetch, BasicQosOptions::default())
            .await?;
        let mut deliveries = channel
            .basic_consume(
                name(&amqp.queue),
                name(self.tag),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        info!(message = "Consuming.", queue = %amqp.queue, prefetch = amqp.prefetch);
        self.consuming.store(true, Ordering::Relaxed);
        *attached = Some(tokio::time::Instant::now());
        let result = self
            .deliveries(&channel, &connection, &mut deliveries, ready)
            .await;
        self.consuming.store(false, Ordering::Relaxed);
        result
    }

    async fn deliveries(
        &self,
        channel: &Channel,
        connection: &Connection,
        deliveries: &mut lapin::Consumer,
        ready: &mut Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Result<(), AmqpError> {
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }

        let limit = usize::from(self.settings.amqp.intake_batch.max(1));
        loop {
            let first = tokio::select! {
                // Shutdown first: a batch held through an outage is not followed by another.
                biased;
                _ = self.shutdown.cancelled() => {
                    // Unacked deliveries return to the queue when the channel closes.
                    let _ = channel.close(200, name("shutting down")).await;
                    let _ = connection.close(200, name("shutting down")).await;
                    return Ok(());
                }
                next = deliveries.next() => match next {
                    None => return Err(AmqpError::ConsumerCancelled),
                    Some(delivery) => delivery?,
                },
            };
            // Whatever is already buffered joins it; never wait for a batch to fill.
            let mut batch = vec![first];
            let mut cancelled = false;
            while batch.len() < limit {
                match deliveries.next().now_or_never() {
                    Some(Some(delivery)) => batch.push(delivery?),
                    Some(None) => {
                        cancelled = true;
                        break;
                    }
                    None => break,
                }
            }
            self.handle(batch).await?;
            if cancelled {
                return Err(AmqpError::ConsumerCancelled);
            }
        }
    }

    /// A span naming the message on every line about it, even one that fails validation.
    fn span(&self, delivery: &lapin::message::Delivery) -> tracing::Span {
        // An oversized message is not parsed even for its ids: bounded work.
        let (message_id, tenant, job) =
            if delivery.data.len() <= self.settings.amqp.max_message_bytes {
                super::message::identify(&delivery.data)
            } else {
                (None, None, None)
            };
        // The publisher's text, maybe hostile: escaped and cut short for every line.
        let field = |value: Option<String>| clean(value.as_deref().unwrap_or("?"), 100);
        info_span!(
            "message",
            delivery = delivery.delivery_tag,
            redelivered = delivery.redelivered,
            message_id = field(message_id).as_str(),
            tenant = field(tenant).as_str(),
            job = field(job).as_str()
        )
    }

    /// Commits the batch, then settles it: rejects first, then acks, so that
    /// a `multiple` ack covers only deliveries of this batch (every earlier
    /// batch was settled before this one was taken).
    async fn handle(&self, batch: Vec<lapin::message::Delivery>) -> Result<(), AmqpError> {
        let spans: Vec<tracing::Span> = batch.iter().map(|d| self.span(d)).collect();
        let Some(outcomes) = self.commit_holding(&batch).await else {
            // Shutting down while the database is away: the deliveries go
            // back unacked when the channel closes.
            return Ok(());
        };
        self.metrics.intake_batch_size.observe(batch.len() as f64);

        let mut accepted = Vec::with_capacity(batch.len());
        for ((delivery, outcome), span) in batch.iter().zip(outcomes).zip(&spans) {
            let result = match &outcome {
                Processed::Accepted { .. } => "accepted",
                Processed::Duplicate => "duplicate",
                Processed::Rejected(invalid) => {
                    self.metrics
                        .rejections
                        .get_or_create(&ReasonLabel {
                            reason: invalid.reason.as_str().to_owned(),
                        })
                        .inc();
                    "rejected"
                }
            };
            self.metrics
                .intake
                .get_or_create(&IntakeLabels {
                    result: result.to_owned(),
                })
                .inc();
            match outcome {
                Processed::Rejected(invalid) => {
                    delivery
                        .reject(BasicRejectOptions { requeue: false })
                        .instrument(span.clone())
                        .await?;
                    span.in_scope(|| log_rejection(&invalid));
                }
                other => accepted.push((delivery, other, span)),
            }
        }

        let tags: Vec<u64> = accepted.iter().map(|(d, _, _)| d.delivery_tag).collect();
        match (tags.first(), tags.last()) {
            (Some(first), Some(last))
                if tags.len() > 1 && last - first + 1 == tags.len() as u64 =>
            {
                let (highest, _, _) = accepted.last().expect("not empty");
                highest.ack(BasicAckOptions { multiple: true }).await?;
            }
            _ => {
                for (delivery, _, span) in &accepted {
                    delivery
                        .ack(BasicAckOptions::default())
                        .instrument((*span).clone())
                        .await?;
                }
            }
        }

        for (_, outcome, span) in accepted {
            span.in_scope(|| match outcome {
                Processed::Accepted {
                    submission,
                    boards,
                    into_feed,
                } => {
                    info!(
                        message = "Accepted.",
                        action = submission.action().as_str(),
                        boards = boards.len(),
                        into_feed = into_feed.values().sum::<u64>()
                    );
                    for board in &boards {
                        self.wakers.wake(board);
                    }
                    // Counted as the board loop counts its attempts, once committed.
                    for (board, postings) in &into_feed {
                        self.metrics
                            .attempts
                            .get_or_create(&AttemptLabels {
                                board: board.clone(),
                                outcome: "submitted".to_owned(),
                            })
                            .inc_by(*postings);
                    }
                }
                Processed::Duplicate => {
                    info!(message = "Duplicate message ignored: already accepted.");
                }
                Processed::Rejected(_) => unreachable!("rejections were settled above"),
            });
        }
        Ok(())
    }

    /// Processes the batch, retrying while the database is unreachable; the
    /// deliveries stay unacked (and no other is taken) meanwhile. `None`
    /// when shutdown came first.
    async fn commit_holding(&self, batch: &[lapin::message::Delivery]) -> Option<Vec<Processed>> {
        let raws: Vec<Raw<'_>> = batch
            .iter()
            .map(|delivery| Raw {
                data: &delivery.data,
                routing_key: delivery.routing_key.as_str(),
                redelivered: delivery.redelivered,
            })
            .collect();
        let mut waits = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(5))
            .with_jitter()
            .without_max_times()
            .build();
        loop {
            match process_batch(
                self.pool,
                self.settings,
                self.known_boards,
                self.feeds,
                &raws,
            )
            .await
            {
                Ok(batch) => return Some(batch.processed),
                Err(database) => {
                    self.metrics
                        .intake
                        .get_or_create(&IntakeLabels {
                            result: "database_error".to_owned(),
                        })
                        .inc();
                    let wait = waits.next().unwrap_or(Duration::from_secs(5));
                    error!(
                        message = "Database unreachable; holding the messages and retrying.",
                        error = database.to_string().as_str(),
                        messages = batch.len(),
                        wait_ms = wait.as_millis() as u64
                    );
                    tokio::select! {
                        _ = self.shutdown.cancelled() => return None,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }
}

/// Logs a rejection. The detail quotes the publisher's text: it goes in as
/// a string value, which both log formats escape (a newline in it cannot
/// start a forged line), never as raw `Display` text.
fn log_rejection(invalid: &super::message::InvalidMessage) {
    warn!(
        message = "Rejected and dead-lettered.",
        reason = invalid.reason.as_str(),
        detail = invalid.detail.as_str()
    );
}

/// Publishes messages with publisher confirms, for `boardcast publish`.
pub struct Publisher {
    connection: Connection,
    channel: Channel,
    exchange: String,
    routing_key: String,
}

impl Publisher {
    pub async fn connect(settings: &AmqpSettings) -> Result<Self, AmqpError> {
        let connection = connect(settings, "boardcast-publish").await?;
        let channel = connection.create_channel().await?;
        declare_topology(&channel, settings).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Self {
            connection,
            channel,
            exchange: settings.exchange.clone(),
            routing_key: settings.routing_key.clone(),
        })
    }

    /// Publishes one message (persistent, mandatory) and waits for the broker's confirm.
    pub async fn publish(&self, body: &[u8], message_id: &str) -> Result<(), AmqpError> {
        // Refused here: lapin would panic (debug) or write a corrupt frame.
        if message_id.len() > MAX_SHORT_STRING_BYTES {
            return Err(AmqpError::MessageIdTooLong(message_id.len()));
        }
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type(name("application/json"))
            .with_message_id(name(message_id));
        let confirmation = self
            .channel
            .basic_publish(
                name(&self.exchange),
                name(&self.routing_key),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                body,
                properties,
            )
            .await?
            .await?;
        if !confirmation.is_ack() {
            return Err(AmqpError::NotConfirmed(message_id.to_owned()));
        }
        if confirmation.take_message().is_some() {
            return Err(AmqpError::Unroutable(message_id.to_owned()));
        }
        Ok(())
    }

    pub async fn close(self) {
        let _ = self.channel.close(200, name("done")).await;
        let _ = self.connection.close(200, name("done")).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::intake::message::{InvalidMessage, RejectReason};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Issue 12, finding 13: a detail quoting a board name with a newline
    /// printed a second, forged line in the text log.
    #[test]
    fn a_rejection_detail_cannot_forge_a_log_line() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        let invalid = InvalidMessage {
            reason: RejectReason::UnknownBoard,
            detail: "unknown board linkedin\n2026-12-05T06:00:00Z  INFO Accepted. forged=true"
                .to_owned(),
        };
        tracing::subscriber::with_default(subscriber, || log_rejection(&invalid));
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(r"linkedin\n2026"), "{text}");
    }

    #[test]
    fn reconnect_waits_start_over_after_a_healthy_session() {
        let min = Duration::from_millis(100);
        let mut reconnects = Reconnects::new(min, Duration::from_secs(60));
        // Failures in a row grow the wait (jitter adds at most one more delay).
        let mut last = Duration::ZERO;
        for _ in 0..6 {
            last = reconnects.after(None);
        }
        assert!(last >= Duration::from_millis(3_200), "{last:?}");
        // A short session is not healthy: still growing.
        assert!(reconnects.after(Some(Duration::from_secs(1))) >= Duration::from_millis(6_400));
        // After a healthy one the schedule is back at its start.
        let wait = reconnects.after(Some(HEALTHY_SESSION));
        assert!(wait < min * 2, "{wait:?}");
    }
}
