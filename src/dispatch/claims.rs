//! The claimer: the board loops' claims, taken together.
//!
//! An intake commit wakes every board it gave postings, and each board's loop
//! claimed in a transaction of its own: in the paced bench, 7,288 claims in
//! 20 s of four postings each, a statement and a commit apiece. The loops hand
//! their claim to one claimer task instead; it takes every claim that queued
//! up while the previous one ran and claims for all of those boards in one
//! statement ([`postings::claim_boards_in`]). A lone claim runs at once:
//! nothing waits for company. Boards with a shared budget or a cluster-wide
//! cap claim on their own ([`crate::store::boards::claim_within_budgets`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::store::job_cache::JobCache;
use crate::store::postings::{self, ClaimWanted, Claimed};

/// At most this many boards' claims in one statement.
const MAX_BOARDS_PER_CLAIM: usize = 64;

/// A claim that could not be made; every board of its statement gets it.
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct ClaimError(Arc<sqlx::Error>);

impl From<sqlx::Error> for ClaimError {
    fn from(error: sqlx::Error) -> Self {
        Self(Arc::new(error))
    }
}

struct Pending {
    board: String,
    limit: i64,
    reply: oneshot::Sender<Result<Vec<Claimed>, ClaimError>>,
}

/// A handle to the claimer task; cheap to clone. The task ends once every
/// handle is dropped.
#[derive(Clone)]
pub struct Claimer {
    queue: mpsc::UnboundedSender<Pending>,
}

impl Claimer {
    /// Starts the claimer: its claims hold postings for `lease` in `worker`'s name.
    pub fn start(
        pool: PgPool,
        jobs: Arc<JobCache>,
        lease: Duration,
        worker: String,
    ) -> (Self, JoinHandle<()>) {
        let (queue, pending) = mpsc::unbounded_channel();
        let task = tokio::spawn(claim_batches(pool, jobs, lease, worker, pending));
        (Self { queue }, task)
    }

    /// Claims up to `limit` due postings of `board`; returns once the claim
    /// has committed.
    pub async fn claim(&self, board: &str, limit: i64) -> Result<Vec<Claimed>, ClaimError> {
        let (reply, claimed) = oneshot::channel();
        let stopped = || ClaimError::from(sqlx::Error::WorkerCrashed);
        self.queue
            .send(Pending {
                board: board.to_owned(),
                limit,
                reply,
            })
            .map_err(|_| stopped())?;
        claimed.await.unwrap_or_else(|_| Err(stopped()))
    }
}

async fn claim_batches(
    pool: PgPool,
    jobs: Arc<JobCache>,
    lease: Duration,
    worker: String,
    mut pending: mpsc::UnboundedReceiver<Pending>,
) {
    let mut batch = Vec::with_capacity(MAX_BOARDS_PER_CLAIM);
    while pending.recv_many(&mut batch, MAX_BOARDS_PER_CLAIM).await > 0 {
        // A loop waits for its claim before asking again, so a board comes
        // once; were it twice, its postings are shared out below, not doubled.
        let mut wanted: Vec<ClaimWanted<'_>> = Vec::with_capacity(batch.len());
        for ask in &batch {
            match wanted.iter_mut().find(|w| w.board == ask.board) {
                Some(same) => same.limit += ask.limit,
                None => wanted.push(ClaimWanted {
                    board: &ask.board,
                    limit: ask.limit,
                    confirmations_only: false,
                }),
            }
        }
        let claimed = postings::claim_boards(&pool, &jobs, &wanted, lease, &worker).await;
        drop(wanted);
        match claimed {
            Ok(claimed) => {
                let mut by_board: HashMap<String, Vec<Claimed>> = HashMap::new();
                for posting in claimed {
                    by_board
                        .entry(posting.board.clone())
                        .or_default()
                        .push(posting);
                }
                for ask in batch.drain(..) {
                    let mine = by_board.get_mut(&ask.board).map_or_else(Vec::new, |all| {
                        let take = all.len().min(usize::try_from(ask.limit).unwrap_or(0));
                        all.drain(..take).collect()
                    });
                    // A loop that stopped waiting lets its postings' leases
                    // expire; the rescuer queues them again.
                    let _ = ask.reply.send(Ok(mine));
                }
            }
            Err(error) => {
                let error = ClaimError::from(error);
                for ask in batch.drain(..) {
                    let _ = ask.reply.send(Err(error.clone()));
                }
            }
        }
    }
}
