//! `boardcast run`: the intake consumer, the dispatcher, the event relay and
//! the two HTTP servers (public and ops) in one process, sharing the pool, the wakers and the
//! metrics, stopped together by one token.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::boards::feed::FeedChecks;
use crate::boards::{self, BuildError};
use crate::config::Settings;
use crate::dispatch::{Dispatcher, Wakers};
use crate::feeds::{self, Feeds};
use crate::intake::amqp;
use crate::ops::events;
use crate::ops::http::{self, OpsState};
use crate::ops::metrics::Metrics;
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
/// finish and returns. `ready` fires once the consumer is attached; the ops
/// server (API, dashboard, metrics) answers on `ops`, the public one (feeds,
/// job pages, sitemap) on `public`.
pub async fn run(
    settings: Arc<Settings>,
    pool: PgPool,
    ops: TcpListener,
    public: TcpListener,
    ready: Option<oneshot::Sender<()>>,
    shutdown: CancellationToken,
) -> Result<(), WorkerError> {
    store::migrate(&pool).await?;
    let boards = boards::build(&settings)?;
    let wakers = Arc::new(Wakers::new(boards.keys()));
    let metrics = Arc::new(Metrics::default());
    let consuming = Arc::new(AtomicBool::new(false));
    let id = worker_id();
    info!(
        message = "Worker starting.",
        worker = %id,
        boards = ?boards.keys().collect::<Vec<_>>(),
        ops = %ops.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        public = %public.local_addr().map(|a| a.to_string()).unwrap_or_default(),
    );

    let feeds = Feeds::from_boards(&boards);
    let feed_checks = FeedChecks::new(&boards, &id);
    let feed_boards: Vec<_> = boards
        .values()
        .filter(|accounts| accounts.default.feed().is_some())
        .map(|accounts| accounts.default.clone())
        .collect();
    let state = OpsState {
        feeds,
        pool: pool.clone(),
        settings: settings.clone(),
        wakers: wakers.clone(),
        metrics: metrics.clone(),
        consuming: consuming.clone(),
    };
    let (ops_routes, public_routes) = (http::router(state.clone()), http::public_router(state));
    let stop = shutdown.clone();
    let ops_server = async move {
        if let Err(error) =
            http::serve(ops, ops_routes, async move { stop.cancelled().await }).await
        {
            error!(message = "The ops server stopped.", %error);
        }
    };
    let stop = shutdown.clone();
    let public_server = async move {
        let stopped = async move { stop.cancelled().await };
        if let Err(error) = http::serve(public, public_routes, stopped).await {
            error!(message = "The public server stopped.", %error);
        }
    };
    let dispatcher = Dispatcher::new(
        pool.clone(),
        settings.clone(),
        boards,
        wakers.clone(),
        metrics.clone(),
        id.clone(),
    );
    let relay = events::run_relay(pool.clone(), settings.clone(), shutdown.clone());
    let crawl_reports = feeds::run_report_loop(
        pool.clone(),
        feed_boards,
        Duration::from_millis(settings.dispatch.crawl_report_poll_ms),
        shutdown.clone(),
    );
    let consumer = amqp::run_consumer(
        pool,
        settings,
        wakers,
        metrics,
        consuming,
        id,
        feed_checks,
        ready,
        shutdown.clone(),
    );
    tokio::join!(
        dispatcher.run(shutdown.clone()),
        consumer,
        relay,
        crawl_reports,
        ops_server,
        public_server
    );
    info!(message = "Worker stopped.");
    Ok(())
}
