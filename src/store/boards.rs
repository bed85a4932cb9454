//! Board-wide controls that every replica honours, kept where claims happen:
//! pauses (ops stop a board; its postings wait without using attempts) and
//! request budgets (a board's documented limits, shared by all replicas).
//!
//! A budget is "at most `requests` in any `period`", counted over the
//! `board_requests` log: a sliding window, so no minute (or ten minutes, or
//! day) ever holds more than the board allows, whichever replicas sent them.
//! Claims for one budgeted board are serialised by a transaction-scoped
//! advisory lock, so two replicas never both see the same room left.

use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::job_cache::JobCache;
use super::postings::{self, Claimed};

/// Added to every budget's window (see [`claim_within_budgets`]).
const ARRIVAL_MARGIN: Duration = Duration::from_secs(1);

/// A board's limits for all replicas together.
#[derive(Debug, Clone, Copy)]
pub struct ClusterLimits<'a> {
    pub budgets: &'a [Budget],
    /// Requests in flight at once.
    pub concurrency: Option<u32>,
}

/// How often a replica looks again when a cluster-wide limit holds it back.
#[derive(Debug, Clone, Copy)]
pub struct Poll {
    /// Due postings (a slot of the cluster-wide concurrency may free up).
    pub due: Duration,
    /// Confirmations, while a send budget is spent.
    pub confirm: Duration,
}

/// "At most `requests` in any `period`", for every replica together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub requests: u32,
    pub period: Duration,
    /// Counts sends only (publish, update, withdraw), not confirmation
    /// polls: Google's daily quota is of publish calls.
    pub sends_only: bool,
}

impl Budget {
    /// A budget of every request.
    pub fn requests(requests: u32, period: Duration) -> Self {
        Self {
            requests,
            period,
            sends_only: false,
        }
    }
}

/// A paused board, as ops see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pause {
    pub board: String,
    pub paused_by: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub paused_at: OffsetDateTime,
}

/// Pauses `board` for every replica; recorded in the operator log. Pausing
/// a paused board keeps the first pause (who and why).
pub async fn pause(
    pool: &PgPool,
    board: &str,
    actor: &str,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let paused = sqlx::query!(
        "INSERT INTO board_pauses (board, paused_by, reason) VALUES ($1, $2, $3) ON CONFLICT (board) DO NOTHING",
        board,
        actor,
        reason,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    log(&mut tx, actor, "pause", board, reason, paused).await?;
    tx.commit().await?;
    Ok(paused)
}

/// Resumes `board`; its due postings go at the next claim.
pub async fn resume(pool: &PgPool, board: &str, actor: &str) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let resumed = sqlx::query!("DELETE FROM board_pauses WHERE board = $1", board)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    log(&mut tx, actor, "resume", board, "", resumed).await?;
    tx.commit().await?;
    Ok(resumed)
}

async fn log(
    tx: &mut sqlx::PgConnection,
    actor: &str,
    action: &str,
    board: &str,
    reason: &str,
    changed: bool,
) -> Result<(), sqlx::Error> {
    let filter = serde_json::json!({ "board": board, "reason": reason });
    sqlx::query!(
        "INSERT INTO operator_actions (actor, action, filter, affected) VALUES ($1, $2, $3, $4)",
        actor,
        action,
        filter,
        i32::from(changed),
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Every paused board.
pub async fn pauses(pool: &PgPool) -> Result<Vec<Pause>, sqlx::Error> {
    sqlx::query_as!(
        Pause,
        "SELECT board, paused_by, reason, paused_at FROM board_pauses ORDER BY board"
    )
    .fetch_all(pool)
    .await
}

/// Claims like [`postings::claim`], but no more than `budgets` leave room
/// for across all replicas (each claimed posting counts as one request),
/// and no more than `cluster_concurrency` in flight at once.
/// When a budget is spent, also says how long until it has room again; with
/// only a send budget spent, confirmations go on every `confirm_poll`.
#[allow(clippy::too_many_arguments)]
pub async fn claim_within_budgets(
    pool: &PgPool,
    jobs: &JobCache,
    board: &str,
    limit: i64,
    lease: Duration,
    worker: &str,
    limits: ClusterLimits<'_>,
    poll: Poll,
) -> Result<(Vec<Claimed>, Option<Duration>), sqlx::Error> {
    let ClusterLimits {
        budgets,
        concurrency: cluster_concurrency,
    } = limits;
    let confirm_poll = poll.confirm;
    let requests: Vec<i64> = budgets.iter().map(|b| i64::from(b.requests)).collect();
    // A request leaves its window a little after the period: what the board
    // counts is when it received it, a moment after we claimed it.
    let windows: Vec<f64> = budgets
        .iter()
        .map(|b| (b.period + ARRIVAL_MARGIN).as_secs_f64())
        .collect();
    // Nothing due: no lock, no count of the windows, no transaction. Board
    // loops look far more often than they find work, and the lock would
    // serialise every replica's look.
    if postings::next_due_in(pool, board).await? != Some(Duration::ZERO) {
        return Ok((Vec::new(), None));
    }
    let mut tx = pool.begin().await?;
    // Taken before the statements below, so their snapshots see every
    // request the previous holder logged.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('boardcast.budget.' || $1, 0))",
        board
    )
    .execute(&mut *tx)
    .await?;
    // Requests in flight at the board, whichever replica sent them.
    let limit = match cluster_concurrency {
        None => limit,
        Some(cap) => {
            let in_flight = sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM postings WHERE board = $1 AND status = 'in_flight'"#,
                board
            )
            .fetch_one(&mut *tx)
            .await?;
            let free = i64::from(cap) - in_flight;
            if free <= 0 {
                tx.commit().await?;
                return Ok((Vec::new(), Some(poll.due)));
            }
            limit.min(free)
        }
    };
    let sends_only: Vec<bool> = budgets.iter().map(|b| b.sends_only).collect();
    let room = sqlx::query!(
        r#"SELECT min(b.requests - w.used) FILTER (WHERE NOT b.sends_only)::bigint AS "room",
                  min(b.requests - w.used) FILTER (WHERE b.sends_only)::bigint AS "send_room",
                  -- A full window has room again when its oldest request leaves it.
                  max(CASE WHEN w.used >= b.requests
                      THEN extract(epoch FROM w.oldest + b.span_s * interval '1 second' - clock_timestamp())
                      END) FILTER (WHERE NOT b.sends_only)::float8 AS "wait",
                  max(CASE WHEN w.used >= b.requests
                      THEN extract(epoch FROM w.oldest + b.span_s * interval '1 second' - clock_timestamp())
                      END) FILTER (WHERE b.sends_only)::float8 AS "send_wait"
           FROM unnest($2::bigint[], $3::float8[], $4::bool[]) AS b(requests, span_s, sends_only)
           CROSS JOIN LATERAL (
             SELECT count(*) AS used, min(r.sent_at) AS oldest FROM board_requests r
             WHERE r.board = $1 AND (r.send OR NOT b.sends_only)
               AND r.sent_at > clock_timestamp() - b.span_s * interval '1 second') w"#,
        board,
        &requests,
        &windows,
        &sends_only,
    )
    .fetch_one(&mut *tx)
    .await?;
    let seconds = |s: Option<f64>| s.map(|s| Duration::from_secs_f64(s.max(0.001)));
    let room_all = room.room.unwrap_or(limit);
    let send_room = room.send_room.unwrap_or(limit);
    let grant = limit.min(room_all.max(0));
    if grant == 0 {
        tx.commit().await?;
        return Ok((Vec::new(), seconds(room.wait)));
    }
    // With the sends spent, confirmations (a task, an inspection) still go.
    let confirmations_only = send_room <= 0;
    let grant = if confirmations_only {
        grant
    } else {
        grant.min(send_room)
    };
    let claimed = postings::claim_in(
        &mut tx,
        jobs,
        board,
        grant,
        lease,
        worker,
        confirmations_only,
    )
    .await?;
    let sends: Vec<bool> = claimed.iter().map(|c| c.board_task.is_none()).collect();
    let longest = windows.iter().copied().fold(0.0, f64::max);
    sqlx::query!(
        r#"WITH logged AS (
             INSERT INTO board_requests (board, sent_at, send)
             SELECT $1, clock_timestamp(), send FROM unnest($2::bool[]) AS s(send))
           DELETE FROM board_requests WHERE board = $1 AND sent_at < clock_timestamp() - $3 * interval '1 second'"#,
        board,
        &sends,
        longest,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let sent = sends.iter().filter(|send| **send).count() as i64;
    let wait = if claimed.len() as i64 >= room_all {
        Some(seconds(room.wait).unwrap_or(Duration::from_millis(100)))
    } else if confirmations_only || sent >= send_room {
        // Sends wait for their window; confirmations are looked at again soon.
        Some(
            seconds(room.send_wait)
                .unwrap_or(confirm_poll)
                .min(confirm_poll),
        )
    } else {
        None
    };
    Ok((claimed, wait))
}

/// Requests claimed for `board` by every replica since `since` (sends only,
/// or polls too), as the budgets' sliding windows count them.
pub async fn requests_since(
    pool: &PgPool,
    board: &str,
    since: OffsetDateTime,
    sends_only: bool,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "requests!" FROM board_requests
           WHERE board = $1 AND sent_at > $2 AND (send OR NOT $3)"#,
        board,
        since,
        sends_only,
    )
    .fetch_one(pool)
    .await
}
