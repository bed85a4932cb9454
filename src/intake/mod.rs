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
use message::{InvalidMessage, Limits, Submission};

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
/// and the delivery must go back to the queue.
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
    let submission = match message::parse(raw, &limits) {
        Ok(submission) => submission,
        Err(invalid) => {
            rejected::record(pool, raw, routing_key, redelivered, &invalid).await?;
            return Ok(Processed::Rejected(invalid));
        }
    };
    match stored::apply(pool, settings, &submission).await? {
        IntakeOutcome::Accepted { boards, .. } => Ok(Processed::Accepted {
            submission: Box::new(submission),
            boards,
        }),
        IntakeOutcome::Duplicate => Ok(Processed::Duplicate),
        IntakeOutcome::Refused(invalid) => {
            rejected::record(pool, raw, routing_key, redelivered, &invalid).await?;
            Ok(Processed::Rejected(invalid))
        }
    }
}
