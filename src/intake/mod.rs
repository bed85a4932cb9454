//! Intake: from an AMQP delivery to committed postings.
//!
//! [`process`] is the whole decision for one message and knows nothing of
//! AMQP; [`amqp`] owns the connection, the topology and the acks. The rule
//! joining them: a delivery is acked only after [`process`] committed, and a
//! rejected one is dead-lettered only after its rejection row committed.

pub mod amqp;
pub mod message;

use std::collections::BTreeSet;

use sqlx::PgPool;

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
        Ok(submission) => commit(pool, settings, &delivery, submission).await,
        Err(invalid) => reject(pool, &delivery, invalid).await,
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
    match stored::apply(pool, settings, &submission).await {
        Ok(IntakeOutcome::Accepted { boards, .. }) => Ok(Processed::Accepted {
            submission: Box::new(submission),
            boards,
        }),
        Ok(IntakeOutcome::Duplicate) => Ok(Processed::Duplicate),
        Ok(IntakeOutcome::Refused(invalid)) => reject(pool, delivery, invalid).await,
        Err(error) => match data_error(&error) {
            Some(refused) => reject(pool, delivery, refused).await,
            None => Err(error),
        },
    }
}

async fn reject(
    pool: &PgPool,
    delivery: &Delivery<'_>,
    invalid: InvalidMessage,
) -> Result<Processed, sqlx::Error> {
    rejected::record(
        pool,
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
