//! Intake: from an AMQP delivery to committed postings.
//!
//! [`process`] is the whole decision for one message ([`process_batch`] for
//! several in one commit) and knows nothing of AMQP; [`amqp`] owns the
//! connection, the topology and the acks. The rule joining them: a delivery
//! is acked only after its effects committed, and a rejected one is
//! dead-lettered only after its rejection row committed.

pub mod amqp;
pub mod message;

use std::collections::BTreeSet;

use sqlx::{PgConnection, PgPool};

use crate::config::Settings;
use crate::store::intake::{self as stored, IntakeOutcome};
use crate::store::rejected;
use message::{InvalidMessage, Limits, RejectReason, Submission};

/// What became of one message.
#[derive(Debug, PartialEq)]
pub enum Processed {
    /// Committed; these boards have new work.
    Accepted {
        submission: Box<Submission>,
        boards: BTreeSet<String>,
    },
    /// Seen before (same message_id): nothing changed.
    Duplicate,
    /// Recorded in `rejected_messages`; dead-letter the delivery.
    Rejected(InvalidMessage),
}

/// Validates one raw message and commits its effects (or its rejection).
/// An `Err` means the database could not be reached: nothing was committed
/// and the delivery must be held and the commit retried.
pub async fn process(
    pool: &PgPool,
    settings: &Settings,
    known_boards: &BTreeSet<String>,
    raw: &[u8],
    routing_key: &str,
    redelivered: bool,
) -> Result<Processed, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let processed = process_on(
        &mut tx,
        settings,
        known_boards,
        raw,
        routing_key,
        redelivered,
    )
    .await?;
    tx.commit().await?;
    Ok(processed)
}

/// One delivery of a batch.
pub struct Raw<'a> {
    pub data: &'a [u8],
    pub routing_key: &'a str,
    pub redelivered: bool,
}

/// Processes `batch` in order in ONE transaction, a savepoint each, so a
/// message the database refuses rolls back only itself and every outcome is
/// what one-at-a-time gives; one commit (one WAL flush) for the lot. An
/// `Err` means nothing was committed: hold the whole batch and retry.
pub async fn process_batch(
    pool: &PgPool,
    settings: &Settings,
    known_boards: &BTreeSet<String>,
    batch: &[Raw<'_>],
) -> Result<Vec<Processed>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for raw in batch {
        outcomes.push(
            process_on(
                &mut tx,
                settings,
                known_boards,
                raw.data,
                raw.routing_key,
                raw.redelivered,
            )
            .await?,
        );
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// [`process`] inside the caller's transaction; nothing is committed here.
async fn process_on(
    conn: &mut PgConnection,
    settings: &Settings,
    known_boards: &BTreeSet<String>,
    raw: &[u8],
    routing_key: &str,
    redelivered: bool,
) -> Result<Processed, sqlx::Error> {
    let limits = Limits {
        max_bytes: settings.amqp.max_message_bytes,
        boards: known_boards,
        max_ads: settings.amqp.max_ads_per_message,
    };
    let delivery = Delivery {
        raw,
        max_bytes: settings.amqp.max_message_bytes,
        routing_key,
        redelivered,
    };
    match message::parse(raw, &limits) {
        Ok(submission) => commit_on(conn, settings, &delivery, submission).await,
        Err(invalid) => reject(conn, &delivery, invalid).await,
    }
}

/// The delivery a submission came in, as a rejection files it.
pub struct Delivery<'a> {
    pub raw: &'a [u8],
    pub max_bytes: usize,
    pub routing_key: &'a str,
    pub redelivered: bool,
}

/// Commits a parsed submission. A database error about the content (a data
/// error, SQLSTATE class 22, 23 or 54) rejects the message: retrying would fail
/// the same way forever. Any other error is an outage: `Err`.
pub async fn commit(
    pool: &PgPool,
    settings: &Settings,
    delivery: &Delivery<'_>,
    submission: Submission,
) -> Result<Processed, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let processed = commit_on(&mut tx, settings, delivery, submission).await?;
    tx.commit().await?;
    Ok(processed)
}

/// [`commit`] inside the caller's transaction: the submission gets a
/// savepoint of its own, so its refusal leaves the caller's work standing.
async fn commit_on(
    conn: &mut PgConnection,
    settings: &Settings,
    delivery: &Delivery<'_>,
    submission: Submission,
) -> Result<Processed, sqlx::Error> {
    match stored::apply_on(conn, settings, &submission).await {
        Ok(IntakeOutcome::Accepted { boards, .. }) => Ok(Processed::Accepted {
            submission: Box::new(submission),
            boards,
        }),
        Ok(IntakeOutcome::Duplicate) => Ok(Processed::Duplicate),
        Ok(IntakeOutcome::Refused(invalid)) => reject(conn, delivery, invalid).await,
        Err(error) => match data_error(&error) {
            Some(refused) => reject(conn, delivery, refused).await,
            None => Err(error),
        },
    }
}

async fn reject(
    conn: &mut PgConnection,
    delivery: &Delivery<'_>,
    invalid: InvalidMessage,
) -> Result<Processed, sqlx::Error> {
    rejected::record(
        &mut *conn,
        delivery.raw,
        delivery.max_bytes,
        delivery.routing_key,
        delivery.redelivered,
        &invalid,
    )
    .await?;
    Ok(Processed::Rejected(invalid))
}

/// A rejection for an error that is about the data, not the database being
/// unreachable, per PostgreSQL's "Appendix A. PostgreSQL Error Codes": class
/// 22 (data exception: NUL in text, bad encoding, value out of range), 23
/// (integrity constraint violation) and 54 (program limit exceeded: an index
/// row too large for its b-tree). Retrying these fails the same way forever.
pub fn data_error(error: &sqlx::Error) -> Option<InvalidMessage> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    let code = database.code()?;
    if !["22", "23", "54"]
        .iter()
        .any(|class| code.starts_with(class))
    {
        return None;
    }
    Some(InvalidMessage {
        reason: RejectReason::RefusedByDatabase,
        detail: format!(
            "the database refused the message's content (SQLSTATE {code}): {}",
            rejected::clean(database.message(), 500)
        ),
    })
}
