//! What the feed server reads and writes: the postings a board's feed holds,
//! each fetch of it, and the crawler's verdicts.

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::job_cache::{JobCache, JobVersion, SharedJob};
use crate::intake::message::Job;

/// A posting that belongs in a board's feed.
#[derive(Debug, Clone)]
pub struct FeedRow {
    pub id: i64,
    pub tenant_id: String,
    pub locale: String,
    pub reference: String,
    pub generation: i32,
    pub content_hash: Option<String>,
    pub first_published: OffsetDateTime,
    /// When the job's current revision arrived.
    pub updated: OffsetDateTime,
    /// The job, parsed once for all its rows (a feed lists a job once per language).
    pub job: SharedJob,
}

#[derive(sqlx::FromRow)]
struct FeedRowDb {
    id: i64,
    tenant_id: String,
    job_id: String,
    locale: String,
    reference: String,
    generation: i32,
    content_hash: Option<String>,
    first_published: OffsetDateTime,
    updated: OffsetDateTime,
    job_revision: i64,
}

/// The `FROM … ORDER BY` of the postings of board `$1` a feed document holds
/// (see [`rows`]), shared by [`rows`] and [`postings`].
macro_rules! held_by_the_feed {
    () => {
        r#"FROM postings p JOIN jobs j ON j.tenant_id = p.tenant_id AND j.job_id = p.job_id
           WHERE p.board = $1 AND p.wanted = 'live'
             AND (p.status IN ('submitted', 'posted')
                  OR (p.sent_hash IS NOT NULL
                      AND p.status IN ('queued', 'in_flight', 'retry_scheduled', 'verifying')))
           ORDER BY p.id"#
    };
}

/// The postings of `board` a document served now must hold: the live ones
/// handed to the feed, and those already in it while an update is on its way
/// (dropping them meanwhile would tell the crawler the job closed).
pub async fn rows(pool: &PgPool, board: &str) -> Result<Vec<FeedRow>, sqlx::Error> {
    // One snapshot for the rows and their jobs' content (read once per job).
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let rows: Vec<FeedRowDb> = sqlx::query_as(concat!(
        r#"SELECT p.id, p.tenant_id, p.job_id, p.locale, p.reference, p.generation, p.content_hash,
                  p.created_at AS first_published, j.updated_at AS updated,
                  j.revision AS job_revision "#,
        held_by_the_feed!()
    ))
    .bind(board)
    .fetch_all(&mut *tx)
    .await?;
    let wanted: Vec<(&str, &str, JobVersion)> = rows
        .iter()
        .map(|row| {
            let version = JobVersion {
                revision: row.job_revision,
                updated_at: row.updated,
            };
            (row.tenant_id.as_str(), row.job_id.as_str(), version)
        })
        .collect();
    let jobs = JobCache::default().resolve(&mut tx, &wanted).await?;
    drop(wanted);
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .zip(jobs)
        .map(|(row, job)| FeedRow {
            id: row.id,
            tenant_id: row.tenant_id,
            locale: row.locale,
            reference: row.reference,
            generation: row.generation,
            content_hash: row.content_hash,
            first_published: row.first_published,
            updated: row.updated,
            job,
        })
        .collect())
}

/// One fetch of a board's feed.
#[derive(Debug, Clone)]
pub struct Fetch<'a> {
    pub board: &'a str,
    pub http_status: u16,
    pub etag: &'a str,
    pub client: Option<&'a str>,
    /// How many postings the document held.
    pub items: usize,
    /// `(posting id, content hash)` of the postings this fetch may move to
    /// `posted`: those of the document that were `submitted` when it was
    /// built (a superset is safe: only a `submitted` posting at that content
    /// hash moves); empty for a fetch that is not the board's crawler.
    pub served: &'a [(i64, Option<String>)],
    /// Whether this was the board's crawler.
    pub crawler: bool,
}

/// Fetch history kept per board: the last this many, and any from the last week.
pub const KEEP_FETCHES: i64 = 1_000;

/// A posting in a board's feed as [`postings`] reads it: everything its
/// item is built from except the job's content (the job stands in by its
/// revision and `updated_at`, which every write of it sets), and its status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedPosting {
    pub id: i64,
    /// Only a `submitted` posting can move to `posted` when the crawler fetches it.
    pub status: String,
    pub tenant_id: String,
    pub job_id: String,
    pub locale: String,
    pub reference: String,
    pub generation: i32,
    pub content_hash: Option<String>,
    pub first_published: OffsetDateTime,
    pub job_revision: i64,
    /// When the job's current revision arrived.
    pub job_updated: OffsetDateTime,
}

impl FeedPosting {
    /// Whether `self` and `other` render the same item: equal in all but status.
    pub fn renders_like(&self, other: &FeedPosting) -> bool {
        let FeedPosting {
            id,
            status: _,
            tenant_id,
            job_id,
            locale,
            reference,
            generation,
            content_hash,
            first_published,
            job_revision,
            job_updated,
        } = other;
        self.id == *id
            && self.tenant_id == *tenant_id
            && self.job_id == *job_id
            && self.locale == *locale
            && self.reference == *reference
            && self.generation == *generation
            && self.content_hash == *content_hash
            && self.first_published == *first_published
            && self.job_revision == *job_revision
            && self.job_updated == *job_updated
    }
}

/// The postings of `board` a document served now must hold (the rows of
/// [`rows`], in id order), without their jobs' content: one light query per
/// fetch, which also tells whether the feed changed since the last one.
pub async fn postings(pool: &PgPool, board: &str) -> Result<Vec<FeedPosting>, sqlx::Error> {
    sqlx::query_as::<_, FeedPosting>(concat!(
        r#"SELECT p.id, p.status::text AS status, p.tenant_id, p.job_id, p.locale, p.reference,
                  p.generation, p.content_hash, p.created_at AS first_published,
                  j.revision AS job_revision, j.updated_at AS job_updated "#,
        held_by_the_feed!()
    ))
    .bind(board)
    .fetch_all(pool)
    .await
}

/// A job's stored content, parsed, with the version it was read at (which
/// may be later than the one a [`FeedPosting`] read just before named).
#[derive(Debug)]
pub struct StoredJob {
    pub tenant_id: String,
    pub job_id: String,
    pub version: JobVersion,
    /// The parse error's text when the stored content is not a job.
    pub job: Result<Job, String>,
}

/// The stored content of the jobs `(tenant, job)` in `wanted`; a job no
/// longer stored is absent.
pub async fn jobs(pool: &PgPool, wanted: &[(&str, &str)]) -> Result<Vec<StoredJob>, sqlx::Error> {
    let (tenants, job_ids): (Vec<&str>, Vec<&str>) = wanted.iter().copied().unzip();
    let rows: Vec<(String, String, i64, OffsetDateTime, String)> = sqlx::query_as(
        "SELECT tenant_id, job_id, revision, updated_at, content::text FROM jobs
         WHERE (tenant_id, job_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
    )
    .bind(&tenants)
    .bind(&job_ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(tenant_id, job_id, revision, updated_at, content)| StoredJob {
                tenant_id,
                job_id,
                version: JobVersion {
                    revision,
                    updated_at,
                },
                job: serde_json::from_str::<Job>(&content).map_err(|error| error.to_string()),
            },
        )
        .collect())
}

/// Fails the postings of `board` that could not be rendered into its
/// document, `(posting id, reason)`, with a history row; only those handed
/// to the feed (the dispatcher owns the others).
pub async fn fail_unrenderable(
    pool: &PgPool,
    board: &str,
    board_name: &str,
    failed: &[(i64, String)],
) -> Result<u64, sqlx::Error> {
    let (ids, reasons): (Vec<i64>, Vec<String>) = failed
        .iter()
        .map(|(id, reason)| (*id, format!("left out of the {board_name} feed: {reason}")))
        .unzip();
    sqlx::query_scalar::<_, i64>(
        r#"WITH bad AS (SELECT * FROM unnest($2::bigint[], $3::text[]) AS b(id, reason)),
           failed AS (
             UPDATE postings p SET status = 'failed', last_error = b.reason,
                    next_attempt_at = NULL, updated_at = now()
             FROM bad b
             WHERE p.id = b.id AND p.board = $1 AND p.status IN ('submitted', 'posted')
             RETURNING p.id, p.revision, b.reason),
           logged AS (
             INSERT INTO posting_attempts (posting_id, operation, revision, started_at, duration_ms,
                                           outcome, detail, worker)
             SELECT id, 'render', revision, now(), 0, 'rejected', reason, 'feed server' FROM failed)
           SELECT count(*) FROM failed"#,
    )
    .bind(board)
    .bind(&ids)
    .bind(&reasons)
    .fetch_one(pool)
    .await
    .map(|failed| failed as u64)
}

/// Records a fetch, and moves the postings it held, as served, to `posted`
/// (with a history row naming the fetch); prunes the board's old fetches.
/// Returns how many moved.
pub async fn record_fetch(pool: &PgPool, fetch: &Fetch<'_>) -> Result<u64, sqlx::Error> {
    let ids: Vec<i64> = fetch.served.iter().map(|(id, _)| *id).collect();
    let hashes: Vec<String> = fetch
        .served
        .iter()
        .map(|(_, hash)| hash.clone().unwrap_or_default())
        .collect();
    let detail = format!(
        "in the feed fetched by {} (HTTP {}, ETag {})",
        fetch.client.unwrap_or("an unnamed client"),
        fetch.http_status,
        fetch.etag
    );
    let moved = sqlx::query_scalar::<_, i64>(
        r#"WITH recorded AS (
             INSERT INTO feed_fetches (board, http_status, etag, items, client, crawler)
             VALUES ($1, $2, $3, $4, $5, $9)),
           served AS (
             SELECT * FROM unnest($6::bigint[], $7::text[]) AS s(id, content_hash)),
           moved AS (
             UPDATE postings p SET status = 'posted', board_task = NULL, next_attempt_at = NULL,
                    last_error = NULL, updated_at = now()
             FROM served s
             WHERE p.id = s.id AND p.board = $1 AND p.status = 'submitted'
               AND COALESCE(p.content_hash, '') = s.content_hash
             RETURNING p.id, p.revision),
           logged AS (
             INSERT INTO posting_attempts (posting_id, operation, revision, started_at, duration_ms,
                                           outcome, http_status, detail, worker)
             SELECT id, 'fetch', revision, now(), 0, 'posted', $2, $8, 'feed server' FROM moved)
           SELECT count(*) FROM moved"#,
    )
    .bind(fetch.board)
    .bind(i32::from(fetch.http_status))
    .bind(fetch.etag)
    .bind(i32::try_from(fetch.items).unwrap_or(i32::MAX))
    .bind(fetch.client)
    .bind(&ids)
    .bind(&hashes)
    .bind(detail)
    .bind(fetch.crawler)
    .fetch_one(pool)
    .await?;
    prune_fetches(pool, fetch.board, KEEP_FETCHES).await?;
    Ok(moved as u64)
}

/// Deletes `board`'s fetches older than a week, and any beyond the last
/// `keep` (a flood of fetches stays bounded).
pub async fn prune_fetches(pool: &PgPool, board: &str, keep: i64) -> Result<u64, sqlx::Error> {
    sqlx::query(
        r#"DELETE FROM feed_fetches
           WHERE board = $1
             AND (fetched_at < now() - interval '7 days'
                  OR id < (SELECT min(id) FROM (SELECT id FROM feed_fetches WHERE board = $1
                                                ORDER BY id DESC LIMIT $2) AS kept))"#,
    )
    .bind(board)
    .bind(keep)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
}

/// A board's feed at a glance, for `boardcast boards` and the ops API.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FeedStatus {
    pub board: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_fetched_at: Option<OffsetDateTime>,
    pub last_fetched_by: Option<String>,
    pub fetches_last_day: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub crawled_at: Option<OffsetDateTime>,
    pub document_error: Option<String>,
    pub accepted: Option<i32>,
    pub rejected: Option<i32>,
}

/// Last fetched: by the board's crawler (anonymous fetches count only in
/// `fetches_last_day`).
pub async fn status(pool: &PgPool, board: &str) -> Result<FeedStatus, sqlx::Error> {
    sqlx::query_as::<_, FeedStatus>(
        r#"SELECT $1::text AS board,
                  (SELECT max(fetched_at) FROM feed_fetches WHERE board = $1 AND crawler)
                    AS last_fetched_at,
                  (SELECT client FROM feed_fetches WHERE board = $1 AND crawler
                   ORDER BY fetched_at DESC LIMIT 1) AS last_fetched_by,
                  (SELECT count(*) FROM feed_fetches
                   WHERE board = $1 AND fetched_at > now() - interval '1 day') AS fetches_last_day,
                  v.crawled_at, v.document_error, v.accepted, v.rejected
           FROM (SELECT 1) AS one LEFT JOIN feed_verdicts v ON v.board = $1"#,
    )
    .bind(board)
    .fetch_one(pool)
    .await
}

/// Stores the crawler's verdict and applies it: items it refused fail with
/// its reason; a refused document sends the board's posted postings back to
/// `submitted`, with the reason, until a crawl takes the document.
/// Only postings whose job revision the crawl saw are judged.
pub async fn apply_verdict(
    pool: &PgPool,
    board: &str,
    board_name: &str,
    crawled_at: OffsetDateTime,
    document_error: Option<&str>,
    accepted: i32,
    rejected: &[(String, String)],
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let fresh = sqlx::query_scalar!(
        r#"INSERT INTO feed_verdicts (board, crawled_at, document_error, accepted, rejected)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (board) DO UPDATE SET crawled_at = excluded.crawled_at,
             document_error = excluded.document_error, accepted = excluded.accepted,
             rejected = excluded.rejected, checked_at = now()
           WHERE feed_verdicts.crawled_at < excluded.crawled_at
           RETURNING board"#,
        board,
        crawled_at,
        document_error,
        accepted,
        rejected.len() as i32,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if fresh.is_none() {
        // A crawl we have applied already.
        return Ok(0);
    }
    let mut changed = 0;
    if let Some(error) = document_error {
        let reason = format!("{board_name} could not read the feed: {error}");
        changed += sqlx::query!(
            r#"UPDATE postings p SET status = 'submitted', last_error = $2, updated_at = now()
               FROM jobs j
               WHERE p.board = $1 AND p.status = 'posted' AND p.wanted = 'live'
                 AND j.tenant_id = p.tenant_id AND j.job_id = p.job_id AND j.updated_at <= $3"#,
            board,
            reason,
            crawled_at,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    let (references, reasons): (Vec<String>, Vec<String>) = rejected
        .iter()
        .map(|(reference, reason)| {
            (
                reference.clone(),
                format!("{board_name}'s crawler refused it: {reason}"),
            )
        })
        .unzip();
    changed += sqlx::query_scalar!(
        r#"WITH refused AS (
             SELECT * FROM unnest($2::text[], $3::text[]) AS r(reference, reason)),
           failed AS (
             UPDATE postings p SET status = 'failed', last_error = r.reason,
                    next_attempt_at = NULL, updated_at = now()
             FROM refused r, jobs j
             WHERE p.board = $1 AND p.wanted = 'live' AND p.status IN ('submitted', 'posted')
               -- A feed may list a posting once per location as <ref>-<n>;
               -- references are [a-z0-9], so '-' only starts that suffix.
               AND board_reference(p.reference, p.generation) = split_part(r.reference, '-', 1)
               AND j.tenant_id = p.tenant_id AND j.job_id = p.job_id AND j.updated_at <= $4
             RETURNING p.id, p.revision, r.reason),
           logged AS (
             INSERT INTO posting_attempts (posting_id, operation, revision, started_at, duration_ms,
                                           outcome, detail, worker)
             SELECT id, 'crawl', revision, now(), 0, 'rejected', reason, 'feed server' FROM failed)
           SELECT count(*) AS "failed!" FROM failed"#,
        board,
        &references,
        &reasons,
        crawled_at,
    )
    .fetch_one(&mut *tx)
    .await? as u64;
    tx.commit().await?;
    Ok(changed)
}

/// A posting whose page we serve ourselves (Google for Jobs), in whatever
/// state it is: the page shows it, or answers that it is gone.
#[derive(Debug, Clone)]
pub struct PageRow {
    pub id: i64,
    pub tenant_id: String,
    pub locale: String,
    pub reference: String,
    pub generation: i32,
    /// `live` or `withdrawn`: what the job's owner wants.
    pub wanted: String,
    pub status: String,
    pub first_published: OffsetDateTime,
    /// When the job's current revision arrived.
    pub updated: OffsetDateTime,
    pub job: serde_json::Value,
}

/// The posting of `board` whose board reference (see
/// [`crate::plan::board_reference`]) is `reference`, if any.
pub async fn page(
    pool: &PgPool,
    board: &str,
    reference: &str,
) -> Result<Option<PageRow>, sqlx::Error> {
    sqlx::query_as!(
        PageRow,
        r#"SELECT p.id, p.tenant_id, p.locale, p.reference, p.generation, p.wanted,
                  p.status::text AS "status!", p.created_at AS first_published,
                  j.updated_at AS updated, j.content AS job
           FROM postings p JOIN jobs j ON j.tenant_id = p.tenant_id AND j.job_id = p.job_id
           WHERE p.board = $1
             AND board_reference(p.reference, p.generation) = $2
           ORDER BY p.id DESC LIMIT 1"#,
        board,
        reference,
    )
    .fetch_optional(pool)
    .await
}

/// Calls to `board` since `since` that reached it, as the attempt history
/// records them (an attempt refused before sending has no HTTP status; 401
/// and 429 answers are not counted against a quota).
pub async fn calls_since(
    pool: &PgPool,
    board: &str,
    since: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "calls!"
           FROM posting_attempts a JOIN postings p ON p.id = a.posting_id
           WHERE p.board = $1 AND a.started_at >= $2
             AND a.operation IN ('publish', 'update', 'withdraw')
             AND a.http_status IS NOT NULL AND a.http_status NOT IN (401, 429)"#,
        board,
        since,
    )
    .fetch_one(pool)
    .await
}
