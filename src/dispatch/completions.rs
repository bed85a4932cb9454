//! The completion writer: finished attempts are written in batches.
//!
//! One commit per attempt made PostgreSQL's WAL flush the dispatcher's
//! bottleneck (each commit waits for its own fsync). Attempts hand their
//! [`Completion`] to one writer task instead; it takes whatever has queued up
//! while the previous batch was committing and writes it in one transaction.
//! The batch is written set-based ([`postings::complete_batch`]: one UPDATE
//! and one INSERT for all of it, not a statement per completion); nothing is
//! traded for this: each completion lands only while its own lease holds, and
//! an attempt learns its outcome only after its batch commits.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::warn;

use crate::store::PostingStatus;
use crate::store::postings::{self, Completion};

/// What writing a completion gave: the posting's new status, or `None` when
/// the lease was lost (the attempt is still kept in the history).
pub type Written = Result<Option<PostingStatus>, sqlx::Error>;

struct Pending {
    completion: Completion,
    reply: oneshot::Sender<Written>,
}

/// A handle to the writer task; cheap to clone. The task ends once every
/// handle is dropped and what was queued is written.
#[derive(Clone)]
pub struct CompletionWriter {
    queue: mpsc::UnboundedSender<Pending>,
    pool: PgPool,
}

impl CompletionWriter {
    /// Starts the writer. `max_batch` bounds the completions per transaction.
    pub fn start(pool: PgPool, max_batch: usize) -> (Self, JoinHandle<()>) {
        let (queue, pending) = mpsc::unbounded_channel();
        let task = tokio::spawn(write_batches(pool.clone(), pending, max_batch.max(1)));
        (Self { queue, pool }, task)
    }

    /// Writes `done` (retrying briefly if the database blips) and returns once
    /// its transaction has committed.
    pub async fn write(&self, done: Completion) -> Written {
        let (reply, written) = oneshot::channel();
        if let Err(unsent) = self.queue.send(Pending {
            completion: done,
            reply,
        }) {
            // The writer has stopped: write this one alone. Boxed: the
            // statement's future is kilobytes, and every attempt in flight
            // would otherwise carry room for it (issue 9).
            return Box::pin(write_alone(&self.pool, &unsent.0.completion)).await;
        }
        match written.await {
            Ok(written) => written,
            Err(_) => Err(sqlx::Error::WorkerCrashed),
        }
    }
}

async fn write_batches(pool: PgPool, mut pending: mpsc::UnboundedReceiver<Pending>, max: usize) {
    let mut batch = Vec::with_capacity(max);
    while pending.recv_many(&mut batch, max).await > 0 {
        // One order for every writer's batches, so two replicas' batches do
        // not lock the same postings crosswise.
        batch.sort_by_key(|p| p.completion.posting_id);
        match write_together(&pool, &batch).await {
            Ok(statuses) => {
                for (item, status) in batch.drain(..).zip(statuses) {
                    let _ = item.reply.send(Ok(status));
                }
            }
            Err(error) => {
                // A failed batch (a deadlock, a blip) writes nothing: write
                // each alone, so one bad completion cannot hold back others.
                warn!(message = "A batch of completions failed; writing them one by one.", size = batch.len(), %error);
                for item in batch.drain(..) {
                    let written = write_alone(&pool, &item.completion).await;
                    let _ = item.reply.send(written);
                }
            }
        }
    }
}

async fn write_together(
    pool: &PgPool,
    batch: &[Pending],
) -> Result<Vec<Option<PostingStatus>>, sqlx::Error> {
    let completions: Vec<&Completion> = batch.iter().map(|p| &p.completion).collect();
    // One statement, so one transaction and one commit for the lot.
    postings::complete_batch(pool, &completions).await
}

/// One completion in its own transaction, retried briefly. If it still fails
/// the lease expires and the rescuer sends the posting round again.
async fn write_alone(pool: &PgPool, done: &Completion) -> Written {
    use backon::{ExponentialBuilder, Retryable};
    let write = || async { postings::complete(pool, done).await };
    write
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(100))
                .with_max_delay(Duration::from_secs(2))
                .with_max_times(5)
                .with_jitter(),
        )
        .await
}
