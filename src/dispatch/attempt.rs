//! One attempt: a claimed posting goes to its board, and what the board said
//! becomes a [`Completion`] (the next state, the retry time, the history row).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use uuid::Uuid;

use crate::boards::http;
use crate::boards::{Board, BoardError, CallLog, ErrorClass, PostingContext, Receipt};
use crate::config::RetryPolicy;
use crate::intake::message::{Job, LocalizedAd};
use crate::plan::board_reference;
use crate::store::PostingStatus;
use crate::store::postings::{AttemptRecord, Claimed, Completion};

use super::schedule;

/// What the attempt does at the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Publish,
    Update,
    Withdraw,
    /// Ask about work the board accepted for later.
    Confirm,
    /// Close the board's posting because an update changes a field the
    /// board cannot update; the next attempt publishes a new one.
    Replace,
}

impl Operation {
    pub fn of(claimed: &Claimed) -> Operation {
        if claimed.board_task.is_some() {
            Operation::Confirm
        } else if claimed.wanted == "withdrawn" {
            Operation::Withdraw
        } else if claimed.external_id.is_none() {
            Operation::Publish
        } else {
            Operation::Update
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Update => "update",
            Self::Withdraw => "withdraw",
            Self::Confirm => "confirm",
            Self::Replace => "replace",
        }
    }
}

/// The knobs an attempt needs besides the posting.
pub struct AttemptSettings {
    pub policy: RetryPolicy,
    pub confirm_poll: Duration,
    /// The attempt is abandoned (as ambiguous) before its lease runs out.
    pub deadline: Duration,
    pub circuit_open: Duration,
    pub worker: String,
    /// The largest board answer read (see [`crate::boards::http::read_reply`]).
    pub max_answer_bytes: usize,
}

/// The idempotency key of one operation on one posting: the same across
/// attempts, rescues and redeliveries, different for the next revision.
pub fn idempotency_key(claimed: &Claimed, operation: Operation) -> Uuid {
    let mut name = format!(
        "boardcast:{}:{}:{}:{}",
        claimed.id,
        operation.as_str(),
        claimed.revision,
        claimed.content_hash.as_deref().unwrap_or("")
    );
    if claimed.generation > 0 {
        name.push_str(&format!(":{}", claimed.generation));
    }
    Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes())
}

/// Runs one attempt and says how to record it. Never fails: every failure is
/// an outcome to record.
pub async fn run(
    board: &dyn Board,
    claimed: &Claimed,
    settings: &AttemptSettings,
) -> (Completion, Option<ErrorClass>) {
    let started = Instant::now();
    let mut operation = Operation::of(claimed);
    let mut log = CallLog::default();
    let reference = board_reference(&claimed.reference, claimed.generation);
    // What the board's posting will hold once this attempt succeeds.
    let mut fixed_now = None;

    // Parsed once for every posting of this job (store::job_cache).
    let result = match &claimed.job {
        Err(unreadable) => Err(BoardError::rule(unreadable.to_string())),
        Ok(job) => {
            let ad = pick_ad(job, &claimed.locale);
            let mut context = PostingContext {
                reference: &reference,
                tenant_id: &claimed.tenant_id,
                locale: &claimed.locale,
                job,
                ad,
                external_id: claimed.external_id.as_deref(),
                live_at_board: claimed.sent_hash.is_some(),
                may_exist: claimed.may_exist,
                idempotency_key: idempotency_key(claimed, operation),
                first_published_at: claimed.first_published_at,
            };
            // Board code that panics fails this attempt, never the worker,
            // and never leaves the posting in flight (issue 12, finding 2).
            fixed_now = match catch_unwind(AssertUnwindSafe(|| board.fixed_fields(&context))) {
                Ok(fixed) => fixed,
                Err(panic) => {
                    return failed_by_panic(claimed, operation, &log, started, settings, &panic);
                }
            };
            if operation == Operation::Update
                && claimed.fixed_fields.is_some()
                && fixed_now != claimed.fixed_fields
            {
                operation = Operation::Replace;
                context.idempotency_key = idempotency_key(claimed, operation);
            }
            let call = async {
                match operation {
                    Operation::Publish => board.publish(&context, &mut log).await,
                    Operation::Update => board.update(&context, &mut log).await,
                    Operation::Withdraw | Operation::Replace => {
                        board.withdraw(&context, &mut log).await
                    }
                    Operation::Confirm => {
                        let task = claimed.board_task.as_deref().unwrap_or_default();
                        board.confirm(&context, task, &mut log).await
                    }
                }
            };
            let call = http::MAX_ANSWER_BYTES.scope(
                settings.max_answer_bytes,
                AssertUnwindSafe(call).catch_unwind(),
            );
            match tokio::time::timeout(settings.deadline, call).await {
                Ok(Ok(result)) => result,
                Ok(Err(panic)) => Err(internal_error(&panic, log.http_status.is_some())),
                Err(_) => Err(BoardError::new(
                    ErrorClass::Ambiguous,
                    None,
                    format!(
                        "the attempt took longer than {} ms and was abandoned",
                        settings.deadline.as_millis()
                    ),
                )),
            }
        }
    };

    let class = result.as_ref().err().map(|e| e.class);
    let mut completion = complete(
        claimed,
        operation,
        result,
        &log,
        started.elapsed(),
        settings,
    );
    if !log.notes.is_empty() {
        let notes = log.notes.join("; ");
        completion.attempt.detail = Some(match completion.attempt.detail.take() {
            Some(detail) => format!("{detail} (the board noted: {notes})"),
            None => format!("the board noted: {notes}"),
        });
    }
    // The board shows this content now (live, or in its feed): remember
    // what its posting was made with.
    if matches!(completion.board_shows, Some(Some(_))) {
        completion.fixed_fields = Some(fixed_now.clone());
    }
    if completion.replaced {
        completion.attempt.detail = Some(format!(
            "closed {} at {}: it cannot change {} to {} once published; publishing a new posting as {}",
            claimed.external_id.as_deref().unwrap_or("the posting"),
            board.id(),
            claimed.fixed_fields.as_deref().unwrap_or(""),
            fixed_now.as_deref().unwrap_or("(none)"),
            board_reference(&claimed.reference, claimed.generation + 1),
        ));
    }
    (completion, class)
}

/// A panic in board code as the attempt's error, with the panic's own message.
/// Before anything was sent it is permanent (the same input panics again);
/// after, the board may have acted, so it is ambiguous (looked up, retried, and
/// failed once attempts run out).
fn internal_error(panic: &Box<dyn Any + Send>, sent: bool) -> BoardError {
    let what = crate::boards::panic_message(panic);
    let message = format!("internal error: {}", http::excerpt(&what));
    if sent {
        BoardError::new(ErrorClass::Ambiguous, None, message)
    } else {
        BoardError::rule(message)
    }
}

fn failed_by_panic(
    claimed: &Claimed,
    operation: Operation,
    log: &CallLog,
    started: Instant,
    settings: &AttemptSettings,
    panic: &Box<dyn Any + Send>,
) -> (Completion, Option<ErrorClass>) {
    let error = internal_error(panic, false);
    let class = Some(error.class);
    let completion = complete(
        claimed,
        operation,
        Err(error),
        log,
        started.elapsed(),
        settings,
    );
    (completion, class)
}

/// The ad to send; a withdrawal of a variant the job no longer has still
/// needs one for the boards that send content with a close.
fn pick_ad<'a>(job: &'a Job, locale: &str) -> &'a LocalizedAd {
    job.ads
        .get(locale)
        .or_else(|| job.ads.values().next())
        .expect("a stored job has at least one ad")
}

/// Maps the board's answer to the posting's next state (DESIGN.md "Retries").
pub fn complete(
    claimed: &Claimed,
    operation: Operation,
    result: Result<Receipt, BoardError>,
    log: &CallLog,
    elapsed: Duration,
    settings: &AttemptSettings,
) -> Completion {
    let jitter: f64 = rand::random();
    let mut done = Completion {
        posting_id: claimed.id,
        lease_token: claimed.lease_token,
        wanted_at_claim: claimed.wanted.clone(),
        hash_at_claim: claimed.content_hash.clone(),
        revision_at_claim: claimed.revision,
        status: PostingStatus::Failed,
        attempts_delta: 0,
        retry_in: None,
        external_id: None,
        external_url: None,
        board_task: None,
        may_exist: claimed.may_exist,
        board_shows: None,
        fixed_fields: None,
        replaced: false,
        last_error: None,
        attempt: AttemptRecord {
            started_at: claimed.claimed_at,
            operation: operation.as_str(),
            outcome: "failed",
            http_status: log.http_status,
            detail: None,
            duration: elapsed,
            request_hash: log.request_hash.clone(),
            worker: settings.worker.clone(),
        },
    };

    match result {
        Ok(Receipt::Live { external_id, url }) => {
            done.status = PostingStatus::Posted;
            done.attempt.outcome = "posted";
            done.attempt.detail = Some(format!("live as {external_id}"));
            done.external_id = Some(external_id);
            done.external_url = url;
            done.may_exist = false;
            done.board_shows = Some(claimed.content_hash.clone());
        }
        Ok(Receipt::Withdrawn) if operation == Operation::Replace => {
            // Closed; publish the new posting at once.
            done.status = PostingStatus::Queued;
            done.attempt.outcome = "closed";
            done.replaced = true;
            done.may_exist = false;
            done.board_shows = Some(None);
            done.retry_in = Some(Duration::ZERO);
        }
        Ok(Receipt::Withdrawn) => {
            done.status = PostingStatus::Withdrawn;
            done.attempt.outcome = "withdrawn";
            done.may_exist = false;
            done.board_shows = Some(None);
        }
        Ok(Receipt::Accepted { task, external_id }) => {
            done.status = PostingStatus::Submitted;
            done.attempt.outcome = "accepted";
            done.attempt.detail = Some(format!("accepted; confirming with {task}"));
            done.board_task = Some(task);
            done.external_id = external_id;
            done.may_exist = true;
            done.retry_in = Some(settings.confirm_poll);
        }
        Ok(Receipt::Submitted { external_id }) => {
            // Nothing to poll: the feed server marks it posted when fetched.
            done.status = PostingStatus::Submitted;
            done.attempt.outcome = "submitted";
            done.attempt.detail = Some("in the feed; posted once the board fetches it".into());
            done.external_id = Some(external_id);
            done.may_exist = false;
            done.board_shows = Some(claimed.content_hash.clone());
        }
        Ok(Receipt::Pending) => {
            done.status = PostingStatus::Submitted;
            done.attempt.outcome = "pending";
            done.board_task = claimed.board_task.clone();
            done.retry_in = Some(settings.confirm_poll);
        }
        Err(error) => fail(claimed, operation, error, &mut done, jitter, settings),
    }
    done
}

fn fail(
    claimed: &Claimed,
    operation: Operation,
    error: BoardError,
    done: &mut Completion,
    jitter: f64,
    settings: &AttemptSettings,
) {
    done.attempt.http_status = error.http_status.or(done.attempt.http_status);
    done.attempt.detail = Some(error.message.clone());
    done.last_error = Some(error.message.clone());
    let waiting = if claimed.may_exist || error.class == ErrorClass::Ambiguous {
        PostingStatus::Verifying
    } else {
        PostingStatus::RetryScheduled
    };

    if operation == Operation::Confirm {
        // A failed task is the board's verdict; anything else: ask again later.
        match error.class {
            ErrorClass::Rejected => {
                done.status = PostingStatus::Failed;
                done.attempt.outcome = "rejected";
                done.may_exist = false;
            }
            ErrorClass::Throttled | ErrorClass::Auth => {
                done.status = PostingStatus::Submitted;
                done.attempt.outcome = "throttled";
                done.board_task = claimed.board_task.clone();
                done.retry_in = Some(
                    schedule::snooze_delay(&settings.policy, error.retry_after, jitter)
                        .max(settings.confirm_poll),
                );
            }
            ErrorClass::Transient | ErrorClass::Ambiguous => {
                done.status = PostingStatus::Submitted;
                done.attempt.outcome = "confirm_failed";
                done.board_task = claimed.board_task.clone();
                done.retry_in = Some(settings.confirm_poll);
            }
        }
        return;
    }

    match error.class {
        ErrorClass::Rejected => {
            done.status = PostingStatus::Failed;
            done.attempt.outcome = "rejected";
        }
        ErrorClass::Throttled => {
            done.status = waiting;
            done.attempt.outcome = "throttled";
            done.attempts_delta = -1;
            done.retry_in = Some(schedule::snooze_delay(
                &settings.policy,
                error.retry_after,
                jitter,
            ));
        }
        ErrorClass::Auth => {
            // Not the posting's fault: give the attempt back and wait for the circuit.
            done.status = waiting;
            done.attempt.outcome = "auth";
            done.attempts_delta = -1;
            done.retry_in = Some(settings.circuit_open);
        }
        ErrorClass::Transient | ErrorClass::Ambiguous => {
            done.attempt.outcome = if error.class == ErrorClass::Ambiguous {
                "ambiguous"
            } else {
                "transient"
            };
            done.may_exist = claimed.may_exist || error.class == ErrorClass::Ambiguous;
            if schedule::exhausted(claimed.max_attempts, claimed.attempts) {
                done.status = PostingStatus::Failed;
                done.last_error = Some(format!(
                    "gave up after {} attempts; last: {}",
                    claimed.attempts, error.message
                ));
            } else {
                done.status = waiting;
                done.retry_in = Some(schedule::retry_delay(
                    &settings.policy,
                    claimed.attempts.max(1) as u32,
                    jitter,
                    error.retry_after,
                ));
            }
        }
    }
}
