//! PostgreSQL: the one source of truth for every posting.
//!
//! All times are the database's `now()`, never a worker's clock. Every HTTP
//! call to a board is bracketed by two short statements (claim, complete);
//! no transaction is ever held open across one.

pub mod activity;
pub mod boards;
pub mod feeds;
pub mod intake;
pub mod job_cache;
pub mod ops;
pub mod postings;
pub mod rejected;

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::config::DatabaseSettings;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects a pool; the URL is never logged (it may carry a password).
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = settings.url.expose_secret().parse()?;
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A connection keeps the largest statement it ever sent and the
        // largest result it ever read as its buffers, for life; a full intake
        // batch is megabytes, so every pooled connection ended up holding
        // that much (issue 9). Back to the default size on each return.
        .after_release(|conn, _| {
            Box::pin(async move {
                conn.shrink_buffers();
                Ok(true)
            })
        })
        .connect_with(options)
        .await
}

/// Applies the migrations in `migrations/` that the database has not seen.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// The states a posting moves through (the `posting_status` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostingStatus {
    Queued,
    InFlight,
    Submitted,
    RetryScheduled,
    Verifying,
    Posted,
    Failed,
    Skipped,
    Cancelled,
    Withdrawn,
}

impl PostingStatus {
    pub const ALL: [PostingStatus; 10] = [
        Self::Queued,
        Self::InFlight,
        Self::Submitted,
        Self::RetryScheduled,
        Self::Verifying,
        Self::Posted,
        Self::Failed,
        Self::Skipped,
        Self::Cancelled,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::InFlight => "in_flight",
            Self::Submitted => "submitted",
            Self::RetryScheduled => "retry_scheduled",
            Self::Verifying => "verifying",
            Self::Posted => "posted",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// True when nothing more will happen without a new message or ops.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Posted | Self::Failed | Self::Skipped | Self::Cancelled | Self::Withdrawn
        )
    }
}

impl std::str::FromStr for PostingStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown status \"{text}\"; one of {}", names.join(", "))
            })
    }
}

impl std::fmt::Display for PostingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
