//! Claiming, completing and rescuing postings, and listing them for ops.
//!
//! The claim/complete/rescue SQL follows RELIABILITY.md §7.4: claims take due
//! rows with `FOR UPDATE SKIP LOCKED` and write a fresh lease token; every
//! completion lands only while that token still matches, so a worker that
//! froze past its lease cannot overwrite the attempt that replaced it.

use std::time::Duration;

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::PostingStatus;
use super::job_cache::{JobCache, JobVersion, SharedJob};

/// A posting claimed for one attempt, with the job content to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub tenant_id: String,
    pub job_id: String,
    pub board: String,
    pub locale: String,
    pub reference: String,
    pub revision: i64,
    /// `live` or `withdrawn`.
    pub wanted: String,
    /// This attempt's number for the current operation (confirmations do not count).
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_token: Uuid,
    pub content_hash: Option<String>,
    /// Fingerprint of what the board shows; `None` once withdrawn there.
    pub sent_hash: Option<String>,
    pub may_exist: bool,
    pub external_id: Option<String>,
    pub external_url: Option<String>,
    pub board_task: Option<String>,
    /// How many times the board's posting was closed and re-created.
    pub generation: i32,
    /// What the board's posting was created with ([`crate::boards::Board::fixed_fields`]).
    pub fixed_fields: Option<String>,
    /// When the board first accepted this posting (`None` before).
    pub first_published_at: Option<OffsetDateTime>,
    /// When this claim took the posting (the database's clock): the attempt's start.
    pub claimed_at: OffsetDateTime,
    /// The job, parsed once and shared by every posting of it in flight.
    pub job: SharedJob,
}

/// A claimed row: the posting, and which version of its job the claim saw.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    tenant_id: String,
    job_id: String,
    board: String,
    locale: String,
    reference: String,
    revision: i64,
    wanted: String,
    attempts: i32,
    max_attempts: i32,
    lease_token: Uuid,
    content_hash: Option<String>,
    sent_hash: Option<String>,
    may_exist: bool,
    external_id: Option<String>,
    external_url: Option<String>,
    board_task: Option<String>,
    generation: i32,
    fixed_fields: Option<String>,
    first_published_at: Option<OffsetDateTime>,
    attempt_started_at: OffsetDateTime,
    job_revision: i64,
    job_updated_at: OffsetDateTime,
}

/// Claims up to `limit` due postings of `board` for `lease`, in a
/// transaction of its own (see [`claim_boards`]).
pub async fn claim(
    pool: &PgPool,
    jobs: &JobCache,
    board: &str,
    limit: i64,
    lease: Duration,
    worker: &str,
    confirmations_only: bool,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let wanted = [ClaimWanted {
        board,
        limit,
        confirmations_only,
    }];
    claim_boards(pool, jobs, &wanted, lease, worker).await
}

/// [`claim_boards_in`] in a transaction of its own.
pub async fn claim_boards(
    pool: &PgPool,
    jobs: &JobCache,
    wanted: &[ClaimWanted<'_>],
    lease: Duration,
    worker: &str,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let claimed = claim_boards_in(&mut tx, jobs, wanted, lease, worker).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Claims up to `limit` due postings of `board` for `lease` on `conn` (in a
/// transaction); see [`claim_boards_in`].
pub async fn claim_in(
    conn: &mut PgConnection,
    jobs: &JobCache,
    board: &str,
    limit: i64,
    lease: Duration,
    worker: &str,
    confirmations_only: bool,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let wanted = [ClaimWanted {
        board,
        limit,
        confirmations_only,
    }];
    claim_boards_in(conn, jobs, &wanted, lease, worker).await
}

/// What one board asks of a claim.
#[derive(Debug, Clone, Copy)]
pub struct ClaimWanted<'a> {
    pub board: &'a str,
    /// At most this many postings.
    pub limit: i64,
    /// Only postings with a board task to poll (a spent send budget).
    pub confirmations_only: bool,
}

/// Claims, for each of `wanted`, up to its limit of its board's due postings
/// for `lease` on `conn` (in a transaction), in one statement. The claim
/// returns each posting's job key and version, not its content; the batch's
/// jobs come from `jobs`, read and parsed once each.
pub async fn claim_boards_in(
    conn: &mut PgConnection,
    jobs: &JobCache,
    wanted: &[ClaimWanted<'_>],
    lease: Duration,
    worker: &str,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let boards: Vec<&str> = wanted.iter().map(|w| w.board).collect();
    let limits: Vec<i64> = wanted.iter().map(|w| w.limit).collect();
    let confirmations_only: Vec<bool> = wanted.iter().map(|w| w.confirmations_only).collect();
    let rows: Vec<ClaimedRow> = sqlx::query_as(
        r#"WITH wanted AS (
             SELECT * FROM unnest($1::text[], $2::int8[], $5::bool[])
               AS w(board, n, confirmations_only)),
           picked AS (
             SELECT due.id FROM wanted w CROSS JOIN LATERAL (
               SELECT id FROM postings
               WHERE board = w.board
                 AND status IN ('queued', 'retry_scheduled', 'verifying', 'submitted')
                 AND next_attempt_at <= now()
                 -- A paused board's postings wait, using no attempts.
                 AND NOT EXISTS (SELECT 1 FROM board_pauses bp WHERE bp.board = w.board)
                 -- A spent send budget leaves the confirmations (a task to poll).
                 AND (NOT w.confirmations_only OR board_task IS NOT NULL)
               ORDER BY next_attempt_at, id
               LIMIT w.n
               FOR UPDATE SKIP LOCKED) due)
           UPDATE postings p SET
             status = 'in_flight',
             attempts = CASE WHEN p.board_task IS NULL THEN p.attempts + 1 ELSE p.attempts END,
             lease_token = gen_random_uuid(),
             lease_expires_at = now() + $3 * interval '1 millisecond',
             leased_by = $4,
             attempt_started_at = now(),
             updated_at = now()
           FROM picked, jobs j
           WHERE p.id = picked.id AND j.tenant_id = p.tenant_id AND j.job_id = p.job_id
           RETURNING p.id, p.tenant_id, p.job_id, p.board, p.locale, p.reference, p.revision,
                     p.wanted, p.attempts, p.max_attempts, p.lease_token,
                     p.content_hash, p.sent_hash, p.may_exist, p.external_id, p.external_url,
                     p.board_task, p.generation, p.fixed_fields, p.first_published_at,
                     p.attempt_started_at, j.revision AS job_revision, j.updated_at AS job_updated_at"#,
    )
    .bind(&boards)
    .bind(&limits)
    .bind(lease.as_millis() as f64)
    .bind(worker)
    .bind(&confirmations_only)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<(&str, &str, JobVersion)> = rows
        .iter()
        .map(|row| {
            let version = JobVersion {
                revision: row.job_revision,
                updated_at: row.job_updated_at,
            };
            (row.tenant_id.as_str(), row.job_id.as_str(), version)
        })
        .collect();
    let shared = jobs.resolve(conn, &wanted).await?;
    drop(wanted);
    Ok(rows
        .into_iter()
        .zip(shared)
        .map(|(row, job)| Claimed {
            id: row.id,
            tenant_id: row.tenant_id,
            job_id: row.job_id,
            board: row.board,
            locale: row.locale,
            reference: row.reference,
            revision: row.revision,
            wanted: row.wanted,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            lease_token: row.lease_token,
            content_hash: row.content_hash,
            sent_hash: row.sent_hash,
            may_exist: row.may_exist,
            external_id: row.external_id,
            external_url: row.external_url,
            board_task: row.board_task,
            generation: row.generation,
            fixed_fields: row.fixed_fields,
            first_published_at: row.first_published_at,
            claimed_at: row.attempt_started_at,
            job,
        })
        .collect())
}

/// What an attempt found, to be written back under the attempt's lease.
#[derive(Debug, Clone)]
pub struct Completion {
    pub posting_id: i64,
    pub lease_token: Uuid,
    /// What the claim saw: if the job changed since, the posting goes round again.
    pub wanted_at_claim: String,
    pub hash_at_claim: Option<String>,
    pub revision_at_claim: i64,
    pub status: PostingStatus,
    /// Added to the attempt count: -1 gives back the attempt of a throttled call.
    pub attempts_delta: i32,
    /// When to try again; `None` for a posting that waits for nothing.
    pub retry_in: Option<Duration>,
    pub external_id: Option<String>,
    pub external_url: Option<String>,
    pub board_task: Option<String>,
    pub may_exist: bool,
    /// Some when the board's copy is now known: `Some(Some(hash))` shows that
    /// content, `Some(None)` is withdrawn.
    pub board_shows: Option<Option<String>>,
    /// Some when the board's posting was created or updated: the fixed
    /// fields it now has.
    pub fixed_fields: Option<Option<String>>,
    /// The board's posting was closed so that a new one can be published
    /// (next generation, no board id, attempts start again).
    pub replaced: bool,
    pub last_error: Option<String>,
    pub attempt: AttemptRecord,
}

/// One row of a posting's history.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// When the attempt began: its claim ([`Claimed::claimed_at`]).
    pub started_at: OffsetDateTime,
    pub operation: &'static str,
    pub outcome: &'static str,
    pub http_status: Option<u16>,
    pub detail: Option<String>,
    pub duration: Duration,
    pub request_hash: Option<String>,
    pub worker: String,
}

/// Writes a completion; returns the status the posting now has, or `None`
/// when the lease was lost (the attempt is still kept in the history).
pub async fn complete(
    executor: impl sqlx::PgExecutor<'_>,
    done: &Completion,
) -> Result<Option<PostingStatus>, sqlx::Error> {
    let (set_shown, shown_hash) = match &done.board_shows {
        Some(hash) => (true, hash.clone()),
        None => (false, None),
    };
    let (set_fixed, fixed) = match &done.fixed_fields {
        Some(fixed) => (true, fixed.clone()),
        None => (false, None),
    };
    let status = sqlx::query_scalar!(
        r#"WITH done AS (
             UPDATE postings SET
               status = CASE WHEN wanted = $3 AND content_hash IS NOT DISTINCT FROM $4
                             THEN $5::text::posting_status ELSE 'queued' END,
               attempts = CASE WHEN $23 THEN 0
                               WHEN wanted = $3 AND content_hash IS NOT DISTINCT FROM $4
                               THEN greatest(attempts + $6, 0) ELSE 0 END,
               next_attempt_at = CASE
                 WHEN NOT (wanted = $3 AND content_hash IS NOT DISTINCT FROM $4) THEN now()
                 WHEN $7::float8 IS NULL THEN NULL
                 ELSE now() + $7 * interval '1 millisecond' END,
               external_id = CASE WHEN $23 THEN NULL ELSE COALESCE($8, external_id) END,
               external_url = CASE WHEN $23 THEN NULL ELSE COALESCE($9, external_url) END,
               generation = CASE WHEN $23 THEN generation + 1 ELSE generation END,
               first_published_at = CASE
                 WHEN $23 THEN NULL
                 WHEN first_published_at IS NULL AND $3 = 'live'
                      AND $5::text IN ('posted', 'submitted', 'verifying') THEN now()
                 ELSE first_published_at END,
               fixed_fields = CASE WHEN $23 THEN NULL WHEN $24 THEN $25 ELSE fixed_fields END,
               board_task = $10,
               may_exist = $11,
               sent_hash = CASE WHEN $12 THEN $13 ELSE sent_hash END,
               sent_revision = CASE WHEN $12 AND $13::text IS NOT NULL THEN $14
                                    WHEN $12 THEN NULL ELSE sent_revision END,
               last_error = $15,
               lease_token = NULL, lease_expires_at = NULL, leased_by = NULL,
               updated_at = now()
             WHERE id = $1 AND lease_token = $2 AND status = 'in_flight'
             RETURNING status::text AS status),
           attempt AS (
             INSERT INTO posting_attempts (posting_id, operation, revision, started_at, duration_ms,
                                           outcome, http_status, detail, request_hash, worker)
             VALUES ($1, $16, $14, $26, $17, $18, $19, $20, $21, $22))
           SELECT status AS "status!" FROM done"#,
        done.posting_id,
        done.lease_token,
        done.wanted_at_claim,
        done.hash_at_claim,
        done.status.as_str(),
        done.attempts_delta,
        done.retry_in.map(|d| d.as_millis() as f64),
        done.external_id,
        done.external_url,
        done.board_task,
        done.may_exist,
        set_shown,
        shown_hash,
        done.revision_at_claim,
        done.last_error,
        done.attempt.operation,
        done.attempt.duration.as_millis().min(i32::MAX as u128) as i32,
        done.attempt.outcome,
        done.attempt.http_status.map(i32::from),
        done.attempt.detail,
        done.attempt.request_hash,
        done.attempt.worker,
        done.replaced,
        set_fixed,
        fixed,
        done.attempt.started_at,
    )
    .fetch_optional(executor)
    .await?;
    Ok(status.map(|s| s.parse().expect("the database only holds known statuses")))
}

/// Writes a batch of completions with two set-based statements (one UPDATE of
/// the postings, one INSERT of their attempts) instead of a statement each:
/// the same fence and the same next state per completion as [`complete`].
/// Returns, in `batch` order, each posting's new status, or `None` where the
/// lease was lost (its attempt is still kept). One statement: all or nothing.
pub async fn complete_batch(
    executor: impl sqlx::PgExecutor<'_>,
    batch: &[&Completion],
) -> Result<Vec<Option<PostingStatus>>, sqlx::Error> {
    let n = batch.len();
    let mut ids = Vec::with_capacity(n);
    let mut leases = Vec::with_capacity(n);
    let mut wanted = Vec::with_capacity(n);
    let mut hashes = Vec::with_capacity(n);
    let mut statuses = Vec::with_capacity(n);
    let mut deltas = Vec::with_capacity(n);
    let mut retry_ms = Vec::with_capacity(n);
    let mut external_ids = Vec::with_capacity(n);
    let mut external_urls = Vec::with_capacity(n);
    let mut tasks = Vec::with_capacity(n);
    let mut may_exist = Vec::with_capacity(n);
    let mut set_shown = Vec::with_capacity(n);
    let mut shown = Vec::with_capacity(n);
    let mut revisions = Vec::with_capacity(n);
    let mut last_errors = Vec::with_capacity(n);
    let mut operations = Vec::with_capacity(n);
    let mut durations = Vec::with_capacity(n);
    let mut outcomes = Vec::with_capacity(n);
    let mut http_statuses = Vec::with_capacity(n);
    let mut details = Vec::with_capacity(n);
    let mut request_hashes = Vec::with_capacity(n);
    let mut workers = Vec::with_capacity(n);
    let mut replaced = Vec::with_capacity(n);
    let mut set_fixed = Vec::with_capacity(n);
    let mut fixed = Vec::with_capacity(n);
    let mut started_at = Vec::with_capacity(n);
    for done in batch {
        ids.push(done.posting_id);
        leases.push(done.lease_token);
        wanted.push(done.wanted_at_claim.clone());
        hashes.push(done.hash_at_claim.clone());
        statuses.push(done.status.as_str().to_owned());
        deltas.push(done.attempts_delta);
        retry_ms.push(done.retry_in.map(|d| d.as_millis() as f64));
        external_ids.push(done.external_id.clone());
        external_urls.push(done.external_url.clone());
        tasks.push(done.board_task.clone());
        may_exist.push(done.may_exist);
        set_shown.push(done.board_shows.is_some());
        shown.push(done.board_shows.clone().flatten());
        revisions.push(done.revision_at_claim);
        last_errors.push(done.last_error.clone());
        operations.push(done.attempt.operation.to_owned());
        durations.push(done.attempt.duration.as_millis().min(i32::MAX as u128) as i32);
        outcomes.push(done.attempt.outcome.to_owned());
        http_statuses.push(done.attempt.http_status.map(i32::from));
        details.push(done.attempt.detail.clone());
        request_hashes.push(done.attempt.request_hash.clone());
        workers.push(done.attempt.worker.clone());
        replaced.push(done.replaced);
        set_fixed.push(done.fixed_fields.is_some());
        fixed.push(done.fixed_fields.clone().flatten());
        started_at.push(done.attempt.started_at);
    }
    // A posting whose job changed since its claim (wanted or content hash)
    // goes round again. Each attempt row starts at its claim (carried, not
    // read back): joining the postings again for it made the planner hash a
    // scan of the whole table on every batch while the table was small.
    let rows = sqlx::query!(
        r#"WITH c AS (
             SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                                  $6::int4[], $7::float8[], $8::text[], $9::text[], $10::text[],
                                  $11::bool[], $12::bool[], $13::text[], $14::bigint[], $15::text[],
                                  $16::text[], $17::int4[], $18::text[], $19::int4[], $20::text[],
                                  $21::text[], $22::text[], $23::bool[], $24::bool[], $25::text[],
                                  $26::timestamptz[])
               WITH ORDINALITY
               AS c(id, lease, wanted, hash, status, delta, retry_ms, external_id, external_url,
                    task, may_exist, set_shown, shown, revision, last_error, operation,
                    duration_ms, outcome, http_status, detail, request_hash, worker, replaced,
                    set_fixed, fixed, started_at, ord)),
           done AS (
             UPDATE postings p SET
               status = CASE WHEN p.wanted = c.wanted AND p.content_hash IS NOT DISTINCT FROM c.hash
                             THEN c.status::posting_status ELSE 'queued' END,
               attempts = CASE WHEN c.replaced THEN 0
                               WHEN p.wanted = c.wanted AND p.content_hash IS NOT DISTINCT FROM c.hash
                               THEN greatest(p.attempts + c.delta, 0) ELSE 0 END,
               next_attempt_at = CASE
                 WHEN NOT (p.wanted = c.wanted AND p.content_hash IS NOT DISTINCT FROM c.hash) THEN now()
                 WHEN c.retry_ms IS NULL THEN NULL
                 ELSE now() + c.retry_ms * interval '1 millisecond' END,
               external_id = CASE WHEN c.replaced THEN NULL ELSE COALESCE(c.external_id, p.external_id) END,
               external_url = CASE WHEN c.replaced THEN NULL ELSE COALESCE(c.external_url, p.external_url) END,
               generation = CASE WHEN c.replaced THEN p.generation + 1 ELSE p.generation END,
               first_published_at = CASE
                 WHEN c.replaced THEN NULL
                 WHEN p.first_published_at IS NULL AND c.wanted = 'live'
                      AND c.status IN ('posted', 'submitted', 'verifying') THEN now()
                 ELSE p.first_published_at END,
               fixed_fields = CASE WHEN c.replaced THEN NULL WHEN c.set_fixed THEN c.fixed
                                   ELSE p.fixed_fields END,
               board_task = c.task,
               may_exist = c.may_exist,
               sent_hash = CASE WHEN c.set_shown THEN c.shown ELSE p.sent_hash END,
               sent_revision = CASE WHEN c.set_shown AND c.shown IS NOT NULL THEN c.revision
                                    WHEN c.set_shown THEN NULL ELSE p.sent_revision END,
               last_error = c.last_error,
               lease_token = NULL, lease_expires_at = NULL, leased_by = NULL,
               updated_at = now()
             FROM c
             WHERE p.id = c.id AND p.lease_token = c.lease AND p.status = 'in_flight'
             RETURNING c.ord, p.status::text AS status),
           attempt AS (
             INSERT INTO posting_attempts (posting_id, operation, revision, started_at, duration_ms,
                                           outcome, http_status, detail, request_hash, worker)
             SELECT c.id, c.operation, c.revision, c.started_at,
                    c.duration_ms, c.outcome, c.http_status, c.detail, c.request_hash, c.worker
             FROM c
             ORDER BY c.ord)
           SELECT c.ord AS "ord!", done.status AS "status?"
           FROM c LEFT JOIN done ON done.ord = c.ord
           ORDER BY c.ord"#,
        &ids,
        &leases,
        &wanted,
        &hashes as &[Option<String>],
        &statuses,
        &deltas,
        &retry_ms as &[Option<f64>],
        &external_ids as &[Option<String>],
        &external_urls as &[Option<String>],
        &tasks as &[Option<String>],
        &may_exist,
        &set_shown,
        &shown as &[Option<String>],
        &revisions,
        &last_errors as &[Option<String>],
        &operations,
        &durations,
        &outcomes,
        &http_statuses as &[Option<i32>],
        &details as &[Option<String>],
        &request_hashes as &[Option<String>],
        &workers,
        &replaced,
        &set_fixed,
        &fixed as &[Option<String>],
        &started_at,
    )
    .fetch_all(executor)
    .await?;
    debug_assert_eq!(rows.len(), n);
    Ok(rows
        .into_iter()
        .map(|row| {
            row.status
                .map(|s| s.parse().expect("the database only holds known statuses"))
        })
        .collect())
}

/// Postings whose worker died (lease expired) go back to be sent again. A
/// send may have reached the board, so they go to `verifying`: the next
/// attempt looks the posting up before creating it again.
pub async fn rescue_expired(pool: &PgPool) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"WITH rescued AS (
             UPDATE postings SET
               status = CASE
                 WHEN board_task IS NOT NULL THEN 'submitted'
                 WHEN attempts >= max_attempts THEN 'failed'
                 ELSE 'verifying' END::posting_status,
               may_exist = may_exist OR board_task IS NULL,
               last_error = CASE WHEN board_task IS NULL AND attempts >= max_attempts
                 THEN 'the worker stopped during the last attempt; the board may hold the ad'
                 ELSE last_error END,
               next_attempt_at = now(),
               lease_token = NULL, lease_expires_at = NULL, leased_by = NULL, updated_at = now()
             WHERE status = 'in_flight' AND lease_expires_at < now()
             RETURNING id, board, revision, attempt_started_at, leased_by),
           logged AS (
             INSERT INTO posting_attempts (posting_id, operation, revision, started_at, outcome, detail, worker)
             SELECT id, 'rescue', revision, COALESCE(attempt_started_at, now()), 'lease_expired',
                    'worker ' || COALESCE(leased_by, '?') || ' stopped answering before it finished; its lease expired',
                    'rescuer'
             FROM rescued)
           SELECT id AS "id!", board AS "board!" FROM rescued"#,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.board)).collect())
}

/// How long until the board's next waiting posting falls due (`None`: nothing waits).
pub async fn next_due_in(pool: &PgPool, board: &str) -> Result<Option<Duration>, sqlx::Error> {
    let seconds = sqlx::query_scalar!(
        r#"SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 AS "seconds"
           FROM postings
           WHERE board = $1 AND status IN ('queued', 'retry_scheduled', 'verifying', 'submitted')
             AND NOT EXISTS (SELECT 1 FROM board_pauses WHERE board = $1)"#,
        board,
    )
    .fetch_one(pool)
    .await?;
    Ok(seconds.map(|s| Duration::from_secs_f64(s.max(0.0))))
}

/// The boards that have postings due now (to wake their loops at start).
pub async fn boards_with_due_work(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT board AS "board!" FROM postings
           WHERE status IN ('queued', 'retry_scheduled', 'verifying', 'submitted')
             AND next_attempt_at <= now()
             AND board NOT IN (SELECT board FROM board_pauses)"#
    )
    .fetch_all(pool)
    .await
}

/// A posting as ops and the ATS see it.
#[derive(Debug, Clone, Serialize)]
pub struct PostingView {
    pub id: i64,
    pub tenant_id: String,
    pub job_id: String,
    pub revision: i64,
    pub board: String,
    pub locale: String,
    pub reference: String,
    pub status: String,
    pub wanted: String,
    pub attempts: i32,
    pub external_id: Option<String>,
    pub external_url: Option<String>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PostingFilter {
    pub tenant: Option<String>,
    pub job: Option<String>,
    pub board: Option<String>,
    pub status: Option<PostingStatus>,
    pub locale: Option<String>,
    /// Only postings not updated for at least this many minutes (stuck ones).
    pub older_than_minutes: Option<i64>,
    /// Paging: only postings with a smaller id (newest first).
    pub before_id: Option<i64>,
    pub limit: Option<i64>,
    /// Text in the job id or in the ad's title (in the posting's language),
    /// case-insensitive; the console's search box (not an API parameter).
    #[serde(skip)]
    pub search: Option<String>,
}

/// `text` as a literal `LIKE` pattern part: its `%`, `_` and `\` match themselves.
pub(crate) fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Postings matching `filter`, newest first.
///
/// The search is `postings_search` (migration 0022, trigram indexes), shared
/// with the bulk actions in `ops.rs`; taken as an array so the planner looks
/// the few ids found up by key instead of testing every posting.
pub async fn list(pool: &PgPool, filter: &PostingFilter) -> Result<Vec<PostingView>, sqlx::Error> {
    sqlx::query_as!(
        PostingView,
        r#"SELECT id, tenant_id, job_id, revision, board, locale, reference,
                  status::text AS "status!", wanted, attempts, external_id, external_url,
                  last_error, next_attempt_at, updated_at
           FROM postings
           WHERE ($1::text IS NULL OR tenant_id = $1)
             AND ($2::text IS NULL OR job_id = $2)
             AND ($3::text IS NULL OR board = $3)
             AND ($4::text IS NULL OR status = $4::text::posting_status)
             AND ($5::text IS NULL OR locale = $5)
             AND ($6::bigint IS NULL OR updated_at < now() - $6 * interval '1 minute')
             AND ($7::bigint IS NULL OR id < $7)
             AND ($9::text IS NULL OR id = ANY (ARRAY(SELECT s.id FROM postings_search($9) s)))
           ORDER BY id DESC
           LIMIT $8"#,
        filter.tenant,
        filter.job,
        filter.board,
        filter.status.map(|s| s.as_str()),
        filter.locale,
        filter.older_than_minutes,
        filter.before_id,
        filter.limit.unwrap_or(10_000),
        filter.search.as_deref().map(like_literal),
    )
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Option<PostingView>, sqlx::Error> {
    sqlx::query_as!(
        PostingView,
        r#"SELECT id, tenant_id, job_id, revision, board, locale, reference,
                  status::text AS "status!", wanted, attempts, external_id, external_url,
                  last_error, next_attempt_at, updated_at
           FROM postings WHERE id = $1"#,
        id,
    )
    .fetch_optional(pool)
    .await
}

/// One attempt as ops see it.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    pub posting_id: i64,
    pub operation: String,
    pub revision: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub duration_ms: Option<i32>,
    pub outcome: String,
    pub http_status: Option<i32>,
    pub detail: Option<String>,
}

pub async fn attempts(pool: &PgPool, posting_id: i64) -> Result<Vec<AttemptView>, sqlx::Error> {
    sqlx::query_as!(
        AttemptView,
        r#"SELECT posting_id, operation, revision, started_at, duration_ms, outcome, http_status, detail
           FROM posting_attempts WHERE posting_id = $1 ORDER BY id"#,
        posting_id,
    )
    .fetch_all(pool)
    .await
}
