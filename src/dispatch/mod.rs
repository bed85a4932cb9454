//! Dispatch: claim due postings, send them through their board, record the outcome.
//!
//! Each board has its own loop, so a slow or failing board never holds back
//! another. A loop sleeps until intake wakes it (in-process, right after a
//! commit), a finished attempt frees a slot it was waiting for or leaves work
//! due before the next poll, or the poll interval passes; then, at most every
//! `dispatch.claim_gap_ms`, it claims as many due postings as it has free
//! request slots and its pace allows, in one statement shared with the
//! other boards' claims that queued up meanwhile ([`claims`]). The rescuer returns
//! postings whose worker died (expired lease) to the queue.

pub mod attempt;
pub mod claims;
pub mod completions;
pub mod pace;
pub mod schedule;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{Mutex, Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, error, info, info_span, warn};

use crate::boards::{Accounts, ErrorClass};
use crate::config::Settings;
use crate::ops::metrics::{AttemptLabels, Metrics};
use crate::store::job_cache::JobCache;
use crate::store::{PostingStatus, boards, postings};

use attempt::AttemptSettings;
use claims::{ClaimError, Claimer};
use completions::CompletionWriter;
use pace::{Pace, cluster_budgets};

/// One `Notify` per board: intake and finished attempts wake a board's loop.
#[derive(Default)]
pub struct Wakers {
    boards: BTreeMap<String, Arc<Notify>>,
}

impl Wakers {
    pub fn new<'a>(boards: impl IntoIterator<Item = &'a String>) -> Self {
        Self {
            boards: boards
                .into_iter()
                .map(|b| (b.clone(), Arc::new(Notify::new())))
                .collect(),
        }
    }

    pub fn wake(&self, board: &str) {
        if let Some(notify) = self.boards.get(board) {
            notify.notify_one();
        }
    }

    fn get(&self, board: &str) -> Arc<Notify> {
        self.boards.get(board).cloned().unwrap_or_default()
    }
}

/// A board's circuit: open after repeated failures or refused credentials,
/// so its postings wait without burning attempts; then one probe at a time
/// until a call succeeds.
#[derive(Debug, Default)]
struct Circuit {
    open_until: Option<Instant>,
    half_open: bool,
    consecutive_failures: u32,
}

impl Circuit {
    fn record(
        &mut self,
        outcome: Option<ErrorClass>,
        retry_after: Option<Duration>,
        settings: &Settings,
    ) -> bool {
        let open_for = Duration::from_millis(settings.dispatch.circuit_open_ms);
        match outcome {
            None | Some(ErrorClass::Rejected) => {
                self.consecutive_failures = 0;
                self.half_open = false;
                false
            }
            Some(ErrorClass::Throttled) => {
                // Slow this board only, for as long as it asked.
                let wait = retry_after.unwrap_or(Duration::from_millis(settings.retry.base_ms));
                self.open_until = Some(Instant::now() + wait);
                false
            }
            Some(ErrorClass::Auth) => {
                self.open_until = Some(Instant::now() + open_for);
                self.half_open = true;
                true
            }
            Some(ErrorClass::Transient | ErrorClass::Ambiguous) => {
                self.consecutive_failures += 1;
                if self.consecutive_failures >= settings.dispatch.circuit_failures || self.half_open
                {
                    self.open_until = Some(Instant::now() + open_for);
                    self.half_open = true;
                    self.consecutive_failures = 0;
                    return true;
                }
                false
            }
        }
    }
}

/// Everything the board loops share.
pub struct Dispatcher {
    pool: PgPool,
    settings: Arc<Settings>,
    boards: BTreeMap<String, Accounts>,
    wakers: Arc<Wakers>,
    metrics: Arc<Metrics>,
    worker_id: String,
    /// Parsed jobs shared by every board's claims.
    jobs: Arc<JobCache>,
}

impl Dispatcher {
    pub fn new(
        pool: PgPool,
        settings: Arc<Settings>,
        boards: BTreeMap<String, Accounts>,
        wakers: Arc<Wakers>,
        metrics: Arc<Metrics>,
        worker_id: String,
    ) -> Self {
        Self {
            pool,
            settings,
            boards,
            wakers,
            metrics,
            worker_id,
            jobs: Arc::default(),
        }
    }

    /// Runs every board loop and the rescuer until `shutdown`; then lets the
    /// attempts in flight finish (each is bounded by its deadline).
    pub async fn run(self, shutdown: CancellationToken) {
        let (writer, writer_task) =
            CompletionWriter::start(self.pool.clone(), self.settings.dispatch.completion_batch);
        let (claimer, claimer_task) = Claimer::start(
            self.pool.clone(),
            self.jobs.clone(),
            self.settings.dispatch.lease(),
            self.worker_id.clone(),
        );
        let this = Arc::new(self);
        let loops = TaskTracker::new();
        for (id, board) in &this.boards {
            let this = this.clone();
            let board = board.clone();
            let shutdown = shutdown.clone();
            let writer = writer.clone();
            let claimer = claimer.clone();
            loops.spawn(
                async move { this.board_loop(board, claimer, writer, shutdown).await }
                    .instrument(info_span!("board", board = %id)),
            );
        }
        {
            let this = this.clone();
            let shutdown = shutdown.clone();
            loops.spawn(async move { this.rescue_loop(shutdown).await });
        }
        // Postings left due by an earlier run get going without waiting a poll.
        if let Ok(boards) = postings::boards_with_due_work(&this.pool).await {
            for board in boards {
                this.wakers.wake(&board);
            }
        }
        drop(claimer);
        loops.close();
        loops.wait().await;
        // Every attempt has its answer; the writer ends with the last handle.
        drop(writer);
        if let Err(error) = writer_task.await {
            error!(message = "The completion writer stopped abnormally.", %error);
        }
        if let Err(error) = claimer_task.await {
            error!(message = "The claimer stopped abnormally.", %error);
        }
    }

    async fn board_loop(
        &self,
        accounts: Accounts,
        claimer: Claimer,
        writer: CompletionWriter,
        shutdown: CancellationToken,
    ) {
        let id = accounts.id();
        let board_settings = self.settings.board(id);
        // Attempts at once: requests in flight, times the postings a request
        // carries where the board's adapter batches concurrent attempts.
        let concurrency = board_settings
            .and_then(|b| b.concurrency)
            .unwrap_or(self.settings.dispatch.concurrency)
            .max(1)
            * accounts.default.limits().postings_per_request.max(1);
        let request_timeout = Duration::from_millis(
            board_settings
                .and_then(|b| b.request_timeout_ms)
                .unwrap_or(self.settings.dispatch.request_timeout_ms),
        );
        let lease = self.settings.dispatch.lease();
        let attempt_settings = Arc::new(AttemptSettings {
            policy: self.settings.retry_policy(id),
            confirm_poll: self.settings.dispatch.confirm_poll(),
            // Leave a margin so the outcome is written while the lease still holds.
            deadline: (lease - request_timeout / 4).max(request_timeout),
            circuit_open: Duration::from_millis(self.settings.dispatch.circuit_open_ms),
            worker: self.worker_id.clone(),
            max_answer_bytes: self.settings.dispatch.max_answer_bytes,
        });
        let slots = Arc::new(Semaphore::new(concurrency));
        let per_minute = board_settings.and_then(|b| b.requests_per_minute);
        let mut pace = Pace::new(
            accounts.default.limits(),
            per_minute,
            self.settings.dispatch.claim_gap(),
        );
        let budgets = cluster_budgets(accounts.default.limits(), board_settings);
        let cluster_concurrency = board_settings.and_then(|b| b.cluster_concurrency);
        let mut paced_until: Option<Instant> = None;
        let circuit = Arc::new(Mutex::new(Circuit::default()));
        let notify = self.wakers.get(id);
        // Set while more may be due than there were free slots: then every
        // finished attempt wakes the loop. Otherwise a finished attempt wakes
        // it only for work of its own (a retry or confirmation due before the
        // next poll); waking on every answer made most claims come back empty.
        let backlog = Arc::new(AtomicBool::new(false));
        let poll_interval = self.settings.dispatch.poll_interval();
        let claim_gap = self.settings.dispatch.claim_gap();
        let mut last_claim: Option<Instant> = None;
        let attempts = TaskTracker::new();
        info!(message = "Board loop started.", concurrency);

        loop {
            let sleep_for = {
                let circuit = circuit.lock().await;
                match circuit.open_until.max(paced_until) {
                    Some(until) if until > Instant::now() => until - Instant::now(),
                    // Wake for the next retry or confirmation due before the next poll.
                    // With every slot busy, a finishing attempt wakes the loop.
                    _ if slots.available_permits() == 0 => self.settings.dispatch.poll_interval(),
                    _ => match postings::next_due_in(&self.pool, id).await {
                        Ok(Some(due)) => due.min(self.settings.dispatch.poll_interval()),
                        _ => self.settings.dispatch.poll_interval(),
                    },
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = notify.notified() => {}
                _ = tokio::time::sleep(sleep_for) => {}
            }
            // Let what falls due within the gap join this claim.
            if let Some(rest) = last_claim.and_then(|at| claim_gap.checked_sub(at.elapsed())) {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(rest) => {}
                }
            }
            last_claim = Some(Instant::now());

            loop {
                let limit = {
                    let circuit = circuit.lock().await;
                    if circuit
                        .open_until
                        .is_some_and(|until| until > Instant::now())
                    {
                        break;
                    }
                    if circuit.half_open {
                        // One probe at a time until a call succeeds.
                        if slots.available_permits() < concurrency {
                            backlog.store(true, Ordering::Relaxed);
                            break;
                        }
                        1
                    } else {
                        slots.available_permits()
                    }
                };
                // Take no more postings than the board's pace allows now.
                let (granted, wait) = pace.grant(limit);
                if let Some(wait) = wait {
                    paced_until = Some(Instant::now() + wait);
                }
                let limit = granted;
                if limit == 0 || shutdown.is_cancelled() {
                    backlog.store(slots.available_permits() == 0, Ordering::Relaxed);
                    break;
                }
                let claim = if budgets.is_empty() && cluster_concurrency.is_none() {
                    claimer
                        .claim(id, limit as i64)
                        .await
                        .map(|claimed| (claimed, None))
                } else {
                    boards::claim_within_budgets(
                        &self.pool,
                        &self.jobs,
                        id,
                        limit as i64,
                        lease,
                        &self.worker_id,
                        boards::ClusterLimits {
                            budgets: &budgets,
                            concurrency: cluster_concurrency,
                        },
                        boards::Poll {
                            due: self.settings.dispatch.poll_interval(),
                            confirm: self.settings.dispatch.confirm_poll(),
                        },
                    )
                    .await
                    .map_err(ClaimError::from)
                };
                let claimed = match claim {
                    Ok((claimed, budget_wait)) => {
                        if let Some(wait) = budget_wait {
                            paced_until = Some(Instant::now() + wait);
                        }
                        claimed
                    }
                    Err(error) => {
                        error!(message = "Could not claim postings.", %error);
                        break;
                    }
                };
                let count = claimed.len();
                pace.spend(count);
                for posting in claimed {
                    let permit = slots
                        .clone()
                        .try_acquire_owned()
                        .expect("claimed no more than the free slots");
                    let span = info_span!("attempt", posting = posting.id, tenant = %posting.tenant_id,
                        job = %posting.job_id, locale = %posting.locale, attempt = posting.attempts);
                    let writer = writer.clone();
                    let board = accounts.for_tenant(&posting.tenant_id).clone();
                    // A tenant's refused credentials wait on their own; ours stop the board.
                    let trips_circuit = !accounts.has_own_account(&posting.tenant_id);
                    let settings = attempt_settings.clone();
                    let circuit = circuit.clone();
                    let notify = notify.clone();
                    let app = self.settings.clone();
                    let metrics = self.metrics.clone();
                    let backlog = backlog.clone();
                    attempts.spawn(
                        async move {
                            let (done, class) = attempt::run(board.as_ref(), &posting, &settings).await;
                            let (outcome, duration, retry_in) =
                                (done.attempt.outcome, done.attempt.duration, done.retry_in);
                            // Boxed: recording is brief, and unboxed its future
                            // made every attempt in flight kilobytes larger.
                            let written = Box::pin(record(&writer, done)).await;
                            let label = Metrics::board(board.id());
                            metrics
                                .attempts
                                .get_or_create(&AttemptLabels { board: label.board.clone(), outcome: outcome.to_owned() })
                                .inc();
                            metrics.attempt_seconds.get_or_create(&label).observe(duration.as_secs_f64());
                            let mut circuit = circuit.lock().await;
                            let was_probe = circuit.half_open;
                            let opened = if trips_circuit || class != Some(ErrorClass::Auth) {
                                circuit.record(class, retry_in, &app)
                            } else {
                                false
                            };
                            let open = circuit.open_until.is_some_and(|until| until > Instant::now()) && class != Some(ErrorClass::Throttled);
                            metrics.circuit_open.get_or_create(&label).set(i64::from(open));
                            drop(circuit);
                            if opened {
                                warn!(message = "Circuit opened: the board keeps failing; its postings wait.");
                            }
                            drop(permit);
                            let due_soon = written == Some(PostingStatus::Queued)
                                || retry_in.is_some_and(|wait| wait < poll_interval);
                            if backlog.load(Ordering::Relaxed) || due_soon || was_probe {
                                notify.notify_one();
                            }
                        }
                        .instrument(span),
                    );
                }
                if count < limit {
                    backlog.store(false, Ordering::Relaxed);
                    break;
                }
            }
        }

        attempts.close();
        attempts.wait().await;
        info!(message = "Board loop stopped.");
    }

    async fn rescue_loop(&self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.settings.dispatch.rescue_interval()) => {}
            }
            match postings::rescue_expired(&self.pool).await {
                Ok(rescued) => {
                    for (posting, board) in rescued {
                        self.metrics
                            .rescued
                            .get_or_create(&Metrics::board(&board))
                            .inc();
                        warn!(message = "Rescued a posting whose worker stopped answering.", posting, board = %board);
                        self.wakers.wake(&board);
                    }
                }
                Err(error) => error!(message = "Could not rescue expired postings.", %error),
            }
        }
    }
}

/// Writes a completion through the batching writer, logs what it gave and
/// returns the posting's new status (`None`: lease lost or not written).
/// If it fails the lease expires and the rescuer sends the posting round again.
async fn record(writer: &CompletionWriter, done: postings::Completion) -> Option<PostingStatus> {
    let (operation, outcome, http_status, duration) = (
        done.attempt.operation,
        done.attempt.outcome,
        done.attempt.http_status,
        done.attempt.duration,
    );
    let error = done.last_error.clone();
    match writer.write(done).await {
        Ok(Some(status)) => {
            info!(
                message = "Attempt recorded.",
                operation,
                outcome,
                status = %status,
                http_status,
                duration_ms = duration.as_millis() as u64,
                error = error.as_deref().unwrap_or(""),
            );
            Some(status)
        }
        Ok(None) => {
            warn!(
                message = "Lease lost: another worker took this posting over; outcome kept in its history only."
            );
            None
        }
        Err(error) => {
            error!(message = "Could not record the attempt; the rescuer will retry the posting.", %error);
            None
        }
    }
}
