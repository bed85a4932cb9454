//! What the boards did over time, for the console's charts: attempts,
//! postings posted and failed attempts per board per time bucket.

use serde::Serialize;
use sqlx::PgPool;

/// A span of recent time cut into equal buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// 60 one-minute buckets.
    Hour,
    /// 48 half-hour buckets.
    Day,
}

impl Window {
    pub fn buckets(self) -> usize {
        match self {
            Window::Hour => 60,
            Window::Day => 48,
        }
    }

    pub fn bucket_seconds(self) -> i64 {
        match self {
            Window::Hour => 60,
            Window::Day => 1800,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hour" => Some(Window::Hour),
            "day" => Some(Window::Day),
            _ => None,
        }
    }

    /// Tick labels for a chart of this window: `(bucket, text)`.
    pub fn ticks(self) -> Vec<(usize, String)> {
        let last = self.buckets() - 1;
        match self {
            Window::Hour => vec![
                (0, "-60 min".into()),
                (last / 2, "-30 min".into()),
                (last, "now".into()),
            ],
            Window::Day => vec![
                (0, "-24 h".into()),
                (last / 2, "-12 h".into()),
                (last, "now".into()),
            ],
        }
    }
}

/// One board's counts per bucket, oldest bucket first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BoardActivity {
    pub board: String,
    /// Every attempt that finished in the bucket (sends and confirmation polls).
    pub attempts: Vec<u64>,
    /// Attempts whose outcome was `posted`.
    pub posted: Vec<u64>,
    /// Attempts that failed, for whatever reason (rejected, throttled, transport, ...).
    pub failed: Vec<u64>,
}

/// Attempt outcomes that are not failures; every other outcome is one.
const NOT_FAILED: &[&str] = &[
    "posted",
    "closed",
    "withdrawn",
    "accepted",
    "submitted",
    "pending",
];

/// Per board (all of `boards`, zero-filled), what finished in each bucket of `window`.
pub async fn recent(
    pool: &PgPool,
    boards: &[String],
    window: Window,
) -> Result<Vec<BoardActivity>, sqlx::Error> {
    let buckets = window.buckets();
    let not_failed: Vec<String> = NOT_FAILED.iter().map(|s| (*s).to_owned()).collect();
    // Bucket 0 is the newest; the window ends at the database's now().
    let rows = sqlx::query!(
        r#"SELECT p.board AS "board!",
                  floor(extract(epoch FROM (now() - a.finished_at)) / $1)::int AS "ago!",
                  count(*) AS "attempts!",
                  count(*) FILTER (WHERE a.outcome = 'posted') AS "posted!",
                  count(*) FILTER (WHERE NOT a.outcome = ANY($3)) AS "failed!"
           FROM posting_attempts a JOIN postings p ON p.id = a.posting_id
           WHERE a.finished_at > now() - make_interval(secs => $1 * $2)
           GROUP BY 1, 2"#,
        window.bucket_seconds() as f64,
        buckets as f64,
        &not_failed,
    )
    .fetch_all(pool)
    .await?;
    let mut activity: Vec<BoardActivity> = boards
        .iter()
        .map(|board| BoardActivity {
            board: board.clone(),
            attempts: vec![0; buckets],
            posted: vec![0; buckets],
            failed: vec![0; buckets],
        })
        .collect();
    for row in rows {
        let Some(entry) = activity.iter_mut().find(|a| a.board == row.board) else {
            continue;
        };
        let Ok(ago) = usize::try_from(row.ago) else {
            continue;
        };
        if ago >= buckets {
            continue;
        }
        let index = buckets - 1 - ago;
        entry.attempts[index] = row.attempts as u64;
        entry.posted[index] = row.posted as u64;
        entry.failed[index] = row.failed as u64;
    }
    Ok(activity)
}
