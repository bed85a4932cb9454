//! `boardcast run`: the intake consumer, the dispatcher and the event relay in one process,
//! sharing the pool and the wakers, stopped together by one token.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::boards::{self, BuildError};
use crate::config::Settings;
use crate::dispatch::{Dispatcher, Wakers};
use crate::intake::amqp;
use crate::ops::events;
use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Boards(#[from] BuildError),
    #[error("could not migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A name for this process in leases, logs and the broker's connection list.
pub fn worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    format!("{host}/{}", std::process::id())
}

/// Runs until `shutdown`, then stops consuming, lets in-flight board calls
/// finish and returns. `ready` fires once the consumer is attached.
pub async fn run(
    settings: Arc<Settings>,
    pool: PgPool,
    ready: Option<oneshot::Sender<()>>,
    shutdown: CancellationToken,
) -> Result<(), WorkerError> {
    store::migrate(&pool).await?;
    let boards = boards::build(&settings)?;
    let wakers = Arc::new(Wakers::new(boards.keys()));
    let id = worker_id();
    info!(message = "Worker starting.", worker = %id, boards = ?boards.keys().collect::<Vec<_>>());

    let dispatcher = Dispatcher::new(
        pool.clone(),
        settings.clone(),
        boards,
        wakers.clone(),
        id.clone(),
    );
    let relay = events::run_relay(pool.clone(), settings.clone(), shutdown.clone());
    let consumer = amqp::run_consumer(pool, settings, wakers, id, ready, shutdown.clone());
    tokio::join!(dispatcher.run(shutdown.clone()), consumer, relay);
    info!(message = "Worker stopped.");
    Ok(())
}
