//! Intake: from an AMQP delivery to committed postings.
//!
//! [`process`] is the whole decision for one message ([`process_batch`] for
//! several in one commit) and knows nothing of AMQP; [`amqp`] owns the
//! connection, the topology and the acks. The rule joining them: a delivery
//! is acked only after its effects committed, and a rejected one is
//! dead-lettered only after its rejection row committed.

pub mod amqp;
pub mod message;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::{PgConnection, PgPool};
use tracing::warn;

use crate::boards::feed::FeedChecks;
use crate::config::Settings;
use crate::store::intake::{self as stored, IntakeOutcome};
use crate::store::rejected;
use message::{Command, InvalidMessage, Job, Limits, RejectReason, Submission};

/// What became of one message.
#[derive(Debug, PartialEq)]
pub enum Processed {
    /// Committed; these boards have new work.
    Accepted {
        submission: Box<Submission>,
        boards: BTreeSet<String>,
        /// Postings that went into their board's feed at intake, by board
        /// (attempts made here, not by a board loop).
        into_feed: BTreeMap<String, u64>,
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
    feeds: &FeedChecks,
    raw: &[u8],
    routing_key: &str,
    redelivered: bool,
) -> Result<Processed, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let processed = process_on(
        &mut tx,
        settings,
        known_boards,
        feeds,
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

/// What became of a batch: each message's outcome, in delivery order.
#[derive(Debug)]
pub struct Batch {
    pub processed: Vec<Processed>,
    /// How many messages took the set-based path (see
    /// [`stored::batch`]); the others were applied one at a time.
    pub set_based: usize,
}

/// Processes `batch` in ONE transaction with every outcome what
/// one-at-a-time gives; one commit (one WAL flush) for the lot. An `Err`
/// means nothing was committed: hold the whole batch and retry.
pub async fn process_batch(
    pool: &PgPool,
    settings: &Settings,
    known_boards: &BTreeSet<String>,
    feeds: &FeedChecks,
    batch: &[Raw<'_>],
) -> Result<Batch, sqlx::Error> {
    let limits = Limits {
        max_bytes: settings.amqp.max_message_bytes,
        boards: known_boards,
        max_ads: settings.amqp.max_ads_per_message,
    };
    let parsed = batch
        .iter()
        .map(|raw| {
            let delivery = Delivery {
                raw: raw.data,
                max_bytes: settings.amqp.max_message_bytes,
                routing_key: raw.routing_key,
                redelivered: raw.redelivered,
            };
            (delivery, message::parse(raw.data, &limits))
        })
        .collect();
    commit_batch(pool, settings, feeds, parsed).await
}

/// [`process_batch`] past the parser: commits parsed submissions (and
/// records the rejections of unparsable ones) in one transaction.
///
/// Publishes and updates whose message_id and job are each unique in the
/// batch go through [`stored::batch::apply_set`] together, in one
/// savepoint; nothing else in the batch touches their jobs, so their place
/// in the order does not matter. The rest (withdraws, a job or message_id
/// seen twice) take a savepoint each, in delivery order, so one job's
/// messages apply in order. If the set's savepoint fails, its messages are
/// applied one at a time instead, where a data error rejects only the
/// message that carries it.
pub async fn commit_batch(
    pool: &PgPool,
    settings: &Settings,
    feeds: &FeedChecks,
    batch: Vec<(Delivery<'_>, Result<Submission, InvalidMessage>)>,
) -> Result<Batch, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let set = set_based(&batch);
    let mut set_outcomes: HashMap<usize, IntakeOutcome> = HashMap::new();
    if !set.is_empty() {
        let members: Vec<(&Submission, &Job)> = set.iter().map(|&(_, member)| member).collect();
        match stored::batch::apply_set(&mut tx, settings, feeds, &members).await {
            Ok(outcomes) => {
                set_outcomes = set.iter().map(|&(index, _)| index).zip(outcomes).collect();
            }
            Err(error) => warn!(
                message =
                    "The batch's set-based intake failed; applying its messages one at a time.",
                error = error.to_string().as_str(),
                messages = set.len()
            ),
        }
    }
    let set_based = set_outcomes.len();

    let mut processed = Vec::with_capacity(batch.len());
    for (index, (delivery, parsed)) in batch.into_iter().enumerate() {
        processed.push(match (parsed, set_outcomes.remove(&index)) {
            (Ok(submission), Some(outcome)) => {
                settle(&mut tx, &delivery, submission, Ok(outcome)).await?
            }
            (Ok(submission), None) => {
                commit_on(&mut tx, settings, feeds, &delivery, submission).await?
            }
            (Err(invalid), _) => reject(&mut tx, &delivery, invalid).await?,
        });
    }
    tx.commit().await?;
    Ok(Batch {
        processed,
        set_based,
    })
}

/// The messages of `batch` the set-based path may take, with their indices:
/// publishes and updates whose message_id and (tenant, job) no other parsed
/// message of the batch shares.
fn set_based<'b>(
    batch: &'b [(Delivery<'_>, Result<Submission, InvalidMessage>)],
) -> Vec<(usize, (&'b Submission, &'b Job))> {
    let submissions = || batch.iter().filter_map(|(_, parsed)| parsed.as_ref().ok());
    let mut message_ids: HashMap<uuid::Uuid, usize> = HashMap::new();
    let mut jobs: HashMap<(&str, &str), usize> = HashMap::new();
    for submission in submissions() {
        *message_ids.entry(submission.message_id).or_default() += 1;
        *jobs
            .entry((&submission.tenant_id, &submission.job_id))
            .or_default() += 1;
    }
    batch
        .iter()
        .enumerate()
        .filter_map(|(index, (_, parsed))| {
            let submission = parsed.as_ref().ok()?;
            let (Command::Publish(job) | Command::Update(job)) = &submission.command else {
                return None;
            };
            let unique = message_ids[&submission.message_id] == 1
                && jobs[&(submission.tenant_id.as_str(), submission.job_id.as_str())] == 1;
            unique.then_some((index, (submission, job)))
        })
        .collect()
}

/// [`process`] inside the caller's transaction; nothing is committed here.
async fn process_on(
    conn: &mut PgConnection,
    settings: &Settings,
    known_boards: &BTreeSet<String>,
    feeds: &FeedChecks,
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
        Ok(submission) => commit_on(conn, settings, feeds, &delivery, submission).await,
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
    feeds: &FeedChecks,
    delivery: &Delivery<'_>,
    submission: Submission,
) -> Result<Processed, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let processed = commit_on(&mut tx, settings, feeds, delivery, submission).await?;
    tx.commit().await?;
    Ok(processed)
}

/// [`commit`] inside the caller's transaction: the submission gets a
/// savepoint of its own, so its refusal leaves the caller's work standing.
async fn commit_on(
    conn: &mut PgConnection,
    settings: &Settings,
    feeds: &FeedChecks,
    delivery: &Delivery<'_>,
    submission: Submission,
) -> Result<Processed, sqlx::Error> {
    let applied = stored::apply_on(conn, settings, feeds, &submission).await;
    settle(conn, delivery, submission, applied).await
}

/// Turns what the store made of a submission into its outcome, recording
/// the rejection of a refused one.
async fn settle(
    conn: &mut PgConnection,
    delivery: &Delivery<'_>,
    submission: Submission,
    applied: Result<IntakeOutcome, sqlx::Error>,
) -> Result<Processed, sqlx::Error> {
    match applied {
        Ok(IntakeOutcome::Accepted {
            boards, into_feed, ..
        }) => Ok(Processed::Accepted {
            submission: Box::new(submission),
            boards,
            into_feed,
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
