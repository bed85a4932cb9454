//! What ops can do to postings: retry, cancel; each recorded with who asked.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::postings::like_literal;

/// Which postings an ops action applies to. Every field narrows the set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    #[serde(default)]
    pub ids: Option<Vec<i64>>,
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub job: Option<String>,
    #[serde(default)]
    pub board: Option<String>,
    /// Defaults to `failed` for retry.
    #[serde(default)]
    pub status: Option<String>,
    /// The posting's language.
    #[serde(default)]
    pub locale: Option<String>,
    /// Only postings not updated for at least this many minutes.
    #[serde(default)]
    pub older_than_minutes: Option<i64>,
    /// Text in the job id or the ad's title, as the console's search box.
    #[serde(default)]
    pub search: Option<String>,
}

impl Selection {
    fn is_everything(&self) -> bool {
        self.ids.is_none()
            && self.tenant.is_none()
            && self.job.is_none()
            && self.board.is_none()
            && self.locale.is_none()
            && self.older_than_minutes.is_none()
            && self.search.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionResult {
    pub action: &'static str,
    pub dry_run: bool,
    /// Postings the action changed (or would change).
    pub affected: i64,
    /// The boards with new work, to wake.
    #[serde(skip)]
    pub boards: Vec<String>,
}

/// Sends failed or cancelled postings round again with a fresh attempt
/// budget; waiting ones (`retry_scheduled`, `verifying`) are made due now.
pub async fn retry(
    pool: &PgPool,
    selection: &Selection,
    dry_run: bool,
    actor: &str,
) -> Result<ActionResult, sqlx::Error> {
    let status = selection
        .status
        .clone()
        .unwrap_or_else(|| "failed".to_owned());
    let mut tx = pool.begin().await?;
    let boards = sqlx::query_scalar!(
        r#"WITH chosen AS (
             SELECT id FROM postings
             WHERE ($1::bigint[] IS NULL OR id = ANY($1))
               AND ($2::text IS NULL OR tenant_id = $2)
               AND ($3::text IS NULL OR job_id = $3)
               AND ($4::text IS NULL OR board = $4)
               AND status = $5::text::posting_status
               AND status IN ('failed', 'cancelled', 'retry_scheduled', 'verifying')
               AND ($7::text IS NULL OR locale = $7)
               AND ($8::bigint IS NULL OR updated_at < now() - $8 * interval '1 minute')
               AND ($9::text IS NULL OR id = ANY (ARRAY(SELECT s.id FROM postings_search($9) s)))
             FOR UPDATE SKIP LOCKED),
           changed AS (
             UPDATE postings p SET
               status = CASE WHEN p.status IN ('failed', 'cancelled') THEN 'queued'
                             ELSE p.status END::posting_status,
               attempts = CASE WHEN p.status IN ('failed', 'cancelled') THEN 0 ELSE p.attempts END,
               next_attempt_at = now(),
               last_error = CASE WHEN p.status IN ('failed', 'cancelled') THEN NULL ELSE p.last_error END,
               updated_at = now()
             FROM chosen WHERE p.id = chosen.id AND NOT $6
             RETURNING p.board)
           SELECT board AS "board!" FROM changed
           UNION ALL
           SELECT p.board FROM postings p JOIN chosen ON chosen.id = p.id WHERE $6"#,
        selection.ids.as_deref(),
        selection.tenant,
        selection.job,
        selection.board,
        status,
        dry_run,
        selection.locale,
        selection.older_than_minutes,
        selection.search.as_deref().map(like_literal),
    )
    .fetch_all(&mut *tx)
    .await?;
    finish(tx, "retry", selection, dry_run, actor, boards).await
}

/// Stops postings that have not settled (or failed): they are not sent again
/// unless retried. A posting in flight is left to finish.
pub async fn cancel(
    pool: &PgPool,
    selection: &Selection,
    dry_run: bool,
    actor: &str,
) -> Result<ActionResult, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let boards = sqlx::query_scalar!(
        r#"WITH chosen AS (
             SELECT id FROM postings
             WHERE ($1::bigint[] IS NULL OR id = ANY($1))
               AND ($2::text IS NULL OR tenant_id = $2)
               AND ($3::text IS NULL OR job_id = $3)
               AND ($4::text IS NULL OR board = $4)
               AND ($5::text IS NULL OR status = $5::text::posting_status)
               AND status IN ('queued', 'retry_scheduled', 'verifying', 'submitted', 'failed')
               AND ($8::text IS NULL OR locale = $8)
               AND ($9::bigint IS NULL OR updated_at < now() - $9 * interval '1 minute')
               AND ($10::text IS NULL OR id = ANY (ARRAY(SELECT s.id FROM postings_search($10) s)))
             FOR UPDATE SKIP LOCKED),
           changed AS (
             UPDATE postings p SET
               status = 'cancelled', board_task = NULL, next_attempt_at = NULL,
               last_error = 'cancelled by ' || $7, updated_at = now()
             FROM chosen WHERE p.id = chosen.id AND NOT $6
             RETURNING p.board)
           SELECT board AS "board!" FROM changed
           UNION ALL
           SELECT p.board FROM postings p JOIN chosen ON chosen.id = p.id WHERE $6"#,
        selection.ids.as_deref(),
        selection.tenant,
        selection.job,
        selection.board,
        selection.status,
        dry_run,
        actor,
        selection.locale,
        selection.older_than_minutes,
        selection.search.as_deref().map(like_literal),
    )
    .fetch_all(&mut *tx)
    .await?;
    finish(tx, "cancel", selection, dry_run, actor, boards).await
}

async fn finish(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    action: &'static str,
    selection: &Selection,
    dry_run: bool,
    actor: &str,
    mut boards: Vec<String>,
) -> Result<ActionResult, sqlx::Error> {
    let affected = boards.len() as i64;
    if dry_run {
        // Rolled back here, not on drop: a dropped transaction's ROLLBACK is
        // sent later by the pool, and until then its `FOR UPDATE` locks make
        // the confirmed action right after a dry run skip every posting.
        tx.rollback().await?;
    } else {
        let mut filter = serde_json::to_value(selection).expect("serialisable");
        filter["everything"] = serde_json::json!(selection.is_everything());
        sqlx::query!(
            "INSERT INTO operator_actions (actor, action, filter, affected) VALUES ($1, $2, $3, $4)",
            actor,
            action,
            filter,
            affected as i32,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    boards.sort();
    boards.dedup();
    Ok(ActionResult {
        action,
        dry_run,
        affected,
        boards,
    })
}

/// One board's recent record, for `boardcast boards` and the ops API.
#[derive(Debug, Clone, Serialize)]
pub struct BoardHealth {
    pub board: String,
    /// Postings due to be sent now.
    pub due: i64,
    pub in_flight: i64,
    pub posted: i64,
    pub failed: i64,
    /// Attempts in the last hour, and how many of them the board accepted.
    pub attempts_last_hour: i64,
    pub successes_last_hour: i64,
    /// Postings whose worker died mid-attempt in the last 24 hours (every replica).
    pub rescued_last_day: i64,
}

pub async fn board_health(pool: &PgPool) -> Result<Vec<BoardHealth>, sqlx::Error> {
    sqlx::query_as!(
        BoardHealth,
        r#"WITH counts AS (
             SELECT board,
                    count(*) FILTER (WHERE status IN ('queued', 'retry_scheduled', 'verifying', 'submitted')
                                       AND next_attempt_at <= now()) AS due,
                    count(*) FILTER (WHERE status = 'in_flight') AS in_flight,
                    count(*) FILTER (WHERE status = 'posted') AS posted,
                    count(*) FILTER (WHERE status = 'failed') AS failed
             FROM postings GROUP BY board),
           recent AS (
             SELECT p.board, count(*) AS attempts,
                    count(*) FILTER (WHERE a.outcome IN ('posted', 'accepted', 'submitted', 'withdrawn', 'pending', 'closed')) AS successes
             FROM posting_attempts a JOIN postings p ON p.id = a.posting_id
             WHERE a.finished_at > now() - interval '1 hour' AND a.operation <> 'rescue'
             GROUP BY p.board),
           rescues AS (
             SELECT p.board, count(*) AS rescued
             FROM posting_attempts a JOIN postings p ON p.id = a.posting_id
             WHERE a.finished_at > now() - interval '1 day' AND a.operation = 'rescue'
             GROUP BY p.board)
           SELECT c.board AS "board!", c.due AS "due!", c.in_flight AS "in_flight!", c.posted AS "posted!",
                  c.failed AS "failed!", COALESCE(r.attempts, 0) AS "attempts_last_hour!",
                  COALESCE(r.successes, 0) AS "successes_last_hour!",
                  COALESCE(x.rescued, 0) AS "rescued_last_day!"
           FROM counts c LEFT JOIN recent r ON r.board = c.board
                         LEFT JOIN rescues x ON x.board = c.board
           ORDER BY c.board"#
    )
    .fetch_all(pool)
    .await
}

/// A posting ops should look at, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Attention {
    pub id: i64,
    pub tenant_id: String,
    pub job_id: String,
    pub board: String,
    pub locale: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub why: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

/// Failed postings and stuck ones: in flight past their lease, submitted
/// and unconfirmed for `submitted_minutes`, or retried many times.
/// `submitted_minutes`: how long a board may take to confirm what it
/// accepted; `unfetched_minutes`: how long a posting may wait in a feed for
/// the board's crawler (crawls come every 12–24 hours).
pub async fn attention(
    pool: &PgPool,
    submitted_minutes: i64,
    unfetched_minutes: i64,
    limit: i64,
) -> Result<Vec<Attention>, sqlx::Error> {
    sqlx::query_as!(
        Attention,
        r#"SELECT id, tenant_id, job_id, board, locale, status::text AS "status!", attempts, last_error,
                  CASE
                    WHEN status = 'failed' THEN 'failed'
                    WHEN status = 'in_flight' THEN 'in flight past its lease (worker gone?)'
                    WHEN status = 'submitted' AND board_task IS NULL
                      THEN 'in the feed, not fetched by the board for ' || ($3::bigint / 60) || '+ hours'
                    WHEN status = 'submitted' THEN 'board has not confirmed for ' || $1::bigint || '+ minutes'
                    ELSE 'retried ' || attempts || ' times'
                  END AS "why!",
                  updated_at
           FROM postings
           WHERE status = 'failed'
              OR (status = 'in_flight' AND lease_expires_at < now())
              OR (status = 'submitted' AND board_task IS NOT NULL
                  AND updated_at < now() - $1::bigint * interval '1 minute')
              OR (status = 'submitted' AND board_task IS NULL
                  AND updated_at < now() - $3::bigint * interval '1 minute')
              OR (status IN ('retry_scheduled', 'verifying') AND attempts >= 3)
           ORDER BY (status = 'failed') DESC, updated_at DESC
           LIMIT $2"#,
        submitted_minutes,
        limit,
        unfetched_minutes,
    )
    .fetch_all(pool)
    .await
}

/// Postings by board and status, for the dashboard.
pub async fn counts(pool: &PgPool) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT board, status::text AS "status!", count(*) AS "count!"
           FROM postings GROUP BY 1, 2 ORDER BY 1, 2"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.board, r.status, r.count))
        .collect())
}

/// A board's attempts over the last hour and day, for the console's boards
/// page: how many, how many the board accepted, and the 95th percentile of
/// their durations (`None` without timed attempts).
#[derive(Debug, Clone, Serialize)]
pub struct BoardTimings {
    pub board: String,
    pub attempts_last_hour: i64,
    pub successes_last_hour: i64,
    pub p95_ms_last_hour: Option<f64>,
    pub attempts_last_day: i64,
    pub successes_last_day: i64,
    pub p95_ms_last_day: Option<f64>,
}

pub async fn board_timings(pool: &PgPool) -> Result<Vec<BoardTimings>, sqlx::Error> {
    sqlx::query_as!(
        BoardTimings,
        r#"SELECT p.board AS "board!",
                  count(*) FILTER (WHERE a.finished_at > now() - interval '1 hour') AS "attempts_last_hour!",
                  count(*) FILTER (WHERE a.finished_at > now() - interval '1 hour'
                                     AND a.outcome IN ('posted', 'accepted', 'submitted', 'withdrawn', 'pending', 'closed'))
                    AS "successes_last_hour!",
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms)
                    FILTER (WHERE a.finished_at > now() - interval '1 hour') AS p95_ms_last_hour,
                  count(*) AS "attempts_last_day!",
                  count(*) FILTER (WHERE a.outcome IN ('posted', 'accepted', 'submitted', 'withdrawn', 'pending', 'closed'))
                    AS "successes_last_day!",
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms) AS p95_ms_last_day
           FROM posting_attempts a JOIN postings p ON p.id = a.posting_id
           WHERE a.finished_at > now() - interval '1 day' AND a.operation <> 'rescue'
           GROUP BY p.board ORDER BY p.board"#
    )
    .fetch_all(pool)
    .await
}

/// One entry of the operator log: who did what, when, to how many postings.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorAction {
    pub id: i64,
    pub actor: String,
    pub action: String,
    /// What the action selected (a filter, a board and reason, a rejected message).
    pub filter: serde_json::Value,
    pub affected: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// The newest operator actions first, below `before_id` when paging.
pub async fn operator_log(
    pool: &PgPool,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<OperatorAction>, sqlx::Error> {
    sqlx::query_as!(
        OperatorAction,
        r#"SELECT id, actor, action, filter, affected, at FROM operator_actions
           WHERE ($1::bigint IS NULL OR id < $1)
           ORDER BY id DESC LIMIT $2"#,
        before_id,
        limit,
    )
    .fetch_all(pool)
    .await
}
