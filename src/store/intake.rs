//! The intake transaction: one accepted message becomes its submission row,
//! the job's new revision and every posting it plans, all in one commit.
//! The AMQP delivery is acked only after that commit.

pub mod batch;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::{Connection, PgConnection, PgPool};

use crate::boards::PostingContext;
use crate::boards::feed::FeedChecks;
use crate::config::Settings;
use crate::intake::message::{Command, InvalidMessage, Job, RejectReason, Submission, Targets};
use crate::plan::{self, PlannedPosting};

#[derive(Debug, PartialEq)]
pub enum IntakeOutcome {
    /// Committed; these boards have new work.
    Accepted {
        boards: BTreeSet<String>,
        postings: usize,
        /// Postings that went into their board's feed in this commit, by
        /// board: each is an attempt, made at intake.
        into_feed: BTreeMap<String, u64>,
    },
    /// This message_id was accepted before: nothing changed.
    Duplicate,
    /// Valid in shape but not against what is stored (stale revision, unknown job).
    Refused(InvalidMessage),
}

/// Records `submission` and its postings in one transaction.
pub async fn apply(
    pool: &PgPool,
    settings: &Settings,
    feeds: &FeedChecks,
    submission: &Submission,
) -> Result<IntakeOutcome, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    apply_on(&mut conn, settings, feeds, submission).await
}

/// [`apply`] on a connection. Inside an open transaction this is a
/// savepoint: a refusal or an error rolls back this message only, and the
/// caller's commit makes it durable.
pub async fn apply_on(
    conn: &mut PgConnection,
    settings: &Settings,
    feeds: &FeedChecks,
    submission: &Submission,
) -> Result<IntakeOutcome, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let fresh = sqlx::query_scalar!(
        r#"INSERT INTO submissions (message_id, tenant_id, job_id, action, revision)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (message_id) DO NOTHING
           RETURNING true AS "fresh!""#,
        submission.message_id,
        submission.tenant_id,
        submission.job_id,
        submission.action().as_str(),
        submission.revision(),
    )
    .fetch_optional(&mut *tx)
    .await?;
    if fresh.is_none() {
        return Ok(IntakeOutcome::Duplicate);
    }

    // The row lock orders concurrent messages for the same job.
    let stored = sqlx::query!(
        "SELECT revision FROM jobs WHERE tenant_id = $1 AND job_id = $2 FOR UPDATE",
        submission.tenant_id,
        submission.job_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|row| row.revision);

    let outcome = match &submission.command {
        Command::Publish(job) | Command::Update(job) => {
            if let Some(refusal) = check_revision(submission, job, stored) {
                return Ok(IntakeOutcome::Refused(refusal));
            }
            upsert_job(&mut tx, submission, job).await?;
            plan_postings(&mut tx, settings, feeds, submission, job).await?
        }
        Command::Withdraw { revision } => {
            let Some(stored) = stored else {
                return Ok(IntakeOutcome::Refused(InvalidMessage {
                    reason: RejectReason::UnknownJob,
                    detail: format!(
                        "withdraw of job \"{}\" of tenant \"{}\", which was never published",
                        submission.job_id, submission.tenant_id
                    ),
                }));
            };
            if let Some(revision) = revision
                && *revision < stored
            {
                return Ok(IntakeOutcome::Refused(stale(*revision, stored)));
            }
            withdraw(&mut tx, submission).await?
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

fn stale(revision: i64, stored: i64) -> InvalidMessage {
    InvalidMessage {
        reason: RejectReason::StaleRevision,
        detail: format!(
            "job.revision {revision} is not newer than the stored revision {stored}; revisions only go up"
        ),
    }
}

fn check_revision(
    submission: &Submission,
    job: &Job,
    stored: Option<i64>,
) -> Option<InvalidMessage> {
    match (stored, &submission.command) {
        (Some(stored), _) if job.revision <= stored => Some(stale(job.revision, stored)),
        (None, Command::Update(_)) => Some(InvalidMessage {
            reason: RejectReason::UnknownJob,
            detail: format!(
                "update of job \"{}\" of tenant \"{}\", which was never published",
                submission.job_id, submission.tenant_id
            ),
        }),
        _ => None,
    }
}

async fn upsert_job(
    tx: &mut sqlx::PgConnection,
    submission: &Submission,
    job: &Job,
) -> Result<(), sqlx::Error> {
    let content = serde_json::to_value(job).expect("a parsed job serialises");
    sqlx::query!(
        r#"INSERT INTO jobs (tenant_id, job_id, revision, content)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (tenant_id, job_id) DO UPDATE
           SET revision = EXCLUDED.revision, content = EXCLUDED.content,
               withdrawn = false, updated_at = now()"#,
        submission.tenant_id,
        submission.job_id,
        job.revision,
        content,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn plan_postings(
    tx: &mut sqlx::PgConnection,
    settings: &Settings,
    feeds: &FeedChecks,
    submission: &Submission,
    job: &Job,
) -> Result<IntakeOutcome, sqlx::Error> {
    let mut stored = StoredPostings::default();
    let rows = sqlx::query!(
        r#"SELECT board, locale,
                  wanted = 'live' AND status NOT IN ('skipped', 'cancelled', 'withdrawn') AS "live!"
           FROM postings WHERE tenant_id = $1 AND job_id = $2"#,
        submission.tenant_id,
        submission.job_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        stored.push(row.board, row.locale, row.live);
    }
    let mut rows = PostingRows::default();
    let mut dropped = DroppedRows::default();
    let outcome = plan_job(
        settings,
        feeds,
        submission,
        job,
        stored,
        &mut rows,
        &mut dropped,
    );
    let mut into_feed = insert_postings(tx, feeds, &rows).await?;
    if !dropped.is_empty() {
        withdraw_rows(tx, &dropped).await?;
    }
    Ok(outcome.with_into_feed(&mut into_feed, submission))
}

/// The postings of one or more jobs' new revisions, one element per posting,
/// as [`insert_postings`] takes them.
#[derive(Default)]
struct PostingRows {
    tenants: Vec<String>,
    jobs: Vec<String>,
    revisions: Vec<i64>,
    boards: Vec<String>,
    locales: Vec<String>,
    references: Vec<String>,
    hashes: Vec<String>,
    max_attempts: Vec<i32>,
    skip_reasons: Vec<Option<String>>,
    /// Checked for its feed board at intake: new, it goes into the feed now.
    submit: Vec<bool>,
    /// The fixed fields of a posting that goes into its feed now.
    fixed_fields: Vec<Option<String>>,
}

/// The (board, locale) postings a job has already.
#[derive(Default)]
struct StoredPostings {
    /// Live (not skipped, cancelled or withdrawn): the boards carry or will carry them.
    live: Vec<(String, String)>,
    /// Ended: a new revision re-plans them, but they are not new.
    ended: Vec<(String, String)>,
}

impl StoredPostings {
    fn push(&mut self, board: String, locale: String, live: bool) {
        let side = if live {
            &mut self.live
        } else {
            &mut self.ended
        };
        side.push((board, locale));
    }

    fn has(&self, board: &str, locale: &str) -> bool {
        let same = |(b, l): &(String, String)| b == board && l == locale;
        self.live.iter().any(same) || self.ended.iter().any(same)
    }
}

/// Postings to come down, one element per posting, as [`withdraw_rows`] takes them.
#[derive(Default)]
struct DroppedRows {
    tenants: Vec<String>,
    jobs: Vec<String>,
    boards: Vec<String>,
    locales: Vec<String>,
}

impl DroppedRows {
    fn push(&mut self, tenant: &str, job: &str, board: String, locale: String) {
        self.tenants.push(tenant.to_owned());
        self.jobs.push(job.to_owned());
        self.boards.push(board);
        self.locales.push(locale);
    }

    fn is_empty(&self) -> bool {
        self.boards.is_empty()
    }
}

/// Plans one job's new revision against the postings it has (`stored`):
/// adds its postings to `rows` and the variants the ad dropped to
/// `dropped`. Pure, so one message and a whole batch plan alike. A new
/// posting on a feed board that passes its format's check is marked to go
/// into the feed in this commit; the boards of every other posting are the
/// ones with new work.
fn plan_job(
    settings: &Settings,
    feeds: &FeedChecks,
    submission: &Submission,
    job: &Job,
    stored: StoredPostings,
    rows: &mut PostingRows,
    dropped: &mut DroppedRows,
) -> IntakeOutcome {
    // Boards that carry the job get the new content whatever the targets say.
    let carrying: BTreeSet<String> = stored.live.iter().map(|(board, _)| board.clone()).collect();
    let planned = plan::plan(
        settings,
        &submission.tenant_id,
        job,
        &submission.targets,
        &carrying,
    );

    let mut hash_by_locale: std::collections::HashMap<&str, String> = Default::default();
    let mut waiting_boards = BTreeSet::new();
    for PlannedPosting {
        board,
        locale,
        skip_reason,
    } in &planned
    {
        let reference = plan::posting_reference(&submission.tenant_id, &submission.job_id, locale);
        // One hash per language, not per posting: each clones and prints the job.
        let hash = hash_by_locale
            .entry(locale.as_str())
            .or_insert_with(|| plan::content_hash(job, locale));
        let submitted = (skip_reason.is_none() && !stored.has(board, locale))
            .then(|| feed_check(feeds, submission, job, board, locale, &reference))
            .flatten();
        if skip_reason.is_none() && submitted.is_none() {
            waiting_boards.insert(board.clone());
        }
        rows.submit.push(submitted.is_some());
        rows.fixed_fields.push(submitted.flatten());
        rows.tenants.push(submission.tenant_id.clone());
        rows.jobs.push(submission.job_id.clone());
        rows.revisions.push(job.revision);
        rows.references.push(reference);
        rows.hashes.push(hash.clone());
        rows.max_attempts
            .push(settings.retry_policy(board).max_attempts as i32);
        rows.boards.push(board.clone());
        rows.locales.push(locale.clone());
        rows.skip_reasons.push(skip_reason.clone());
    }

    // Variants dropped from the ad come down from the boards that carry them.
    for (board, locale) in stored.live {
        if !planned
            .iter()
            .any(|p| p.board == board && p.locale == locale)
        {
            dropped.push(&submission.tenant_id, &submission.job_id, board, locale);
        }
    }

    IntakeOutcome::Accepted {
        boards: waiting_boards,
        postings: planned.len(),
        into_feed: BTreeMap::new(),
    }
}

/// A new posting's check against its feed board's format (see
/// [`FeedChecks`]): `Some(fixed fields)` when it can go into the feed now.
fn feed_check(
    feeds: &FeedChecks,
    submission: &Submission,
    job: &Job,
    board: &str,
    locale: &str,
    reference: &str,
) -> Option<Option<String>> {
    let ad = job.ads.get(locale)?;
    let posting = PostingContext::unsent(reference, &submission.tenant_id, locale, job, ad);
    feeds.submits(board, &posting)
}

/// Writes `rows`, of any number of jobs, in one statement (the posting
/// events are written once per statement, see migration 0021). A job may
/// appear only once: a statement cannot update one row twice.
///
/// A posting is re-sent when its content changed or it is not live; one
/// that is in flight is left to its worker, whose completion sees the new
/// content and queues it again. A new posting marked `submit` (checked for
/// its feed board, see [`FeedChecks`]) goes into the feed now, as its
/// attempt would have put it, with that attempt's row, unless its board is
/// paused: then it waits like any other.
async fn insert_postings(
    tx: &mut sqlx::PgConnection,
    feeds: &FeedChecks,
    rows: &PostingRows,
) -> Result<IntoFeed, sqlx::Error> {
    let counted: Vec<(String, String, String, i64)> = sqlx::query_as(
        r#"WITH planned AS MATERIALIZED (
             -- The pauses are read once (an InitPlan): a subquery per row and
             -- per use made the estimate large enough for JIT compilation,
             -- 1.2-1.7 s of a 20 ms statement.
             SELECT u.*, u.submit AND u.board <> ALL (ARRAY(SELECT board FROM board_pauses))
                    AS into_feed
             FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::int[], $9::text[], $10::bool[], $11::text[])
                  AS u(tenant_id, job_id, revision, board, locale, reference, hash, max_attempts,
                       skip_reason, submit, fixed)),
           written AS (
             INSERT INTO postings AS p (tenant_id, job_id, board, locale, reference, revision,
                                        wanted, status, content_hash, max_attempts,
                                        next_attempt_at, last_error, attempts, external_id,
                                        sent_hash, sent_revision, first_published_at, fixed_fields)
             SELECT u.tenant_id, u.job_id, u.board, u.locale, u.reference, u.revision, 'live',
                    CASE WHEN u.skip_reason IS NOT NULL THEN 'skipped'
                         WHEN u.into_feed THEN 'submitted'
                         ELSE 'queued' END::posting_status,
                    u.hash, u.max_attempts,
                    CASE WHEN u.into_feed THEN NULL ELSE now() END, u.skip_reason,
                    CASE WHEN u.into_feed THEN 1 ELSE 0 END,
                    CASE WHEN u.into_feed THEN u.reference END,
                    CASE WHEN u.into_feed THEN u.hash END,
                    CASE WHEN u.into_feed THEN u.revision END,
                    CASE WHEN u.into_feed THEN now() END,
                    CASE WHEN u.into_feed THEN u.fixed END
             FROM planned u
             ON CONFLICT (tenant_id, job_id, board, locale) DO UPDATE SET
               revision = EXCLUDED.revision,
               wanted = 'live',
               content_hash = EXCLUDED.content_hash,
               max_attempts = EXCLUDED.max_attempts,
               sent_revision = CASE WHEN p.sent_hash = EXCLUDED.content_hash
                                    THEN EXCLUDED.revision ELSE p.sent_revision END,
               status = CASE
                 WHEN p.status = 'in_flight' THEN p.status
                 WHEN EXCLUDED.status = 'skipped' AND p.external_id IS NULL THEN 'skipped'
                 WHEN EXCLUDED.status = 'skipped' THEN p.status
                 WHEN p.status IN ('posted', 'submitted') AND p.wanted = 'live'
                      AND p.content_hash = EXCLUDED.content_hash THEN p.status
                 ELSE 'queued' END::posting_status,
               attempts = CASE
                 WHEN p.status = 'in_flight' OR EXCLUDED.status = 'skipped' THEN p.attempts
                 WHEN p.status IN ('posted', 'submitted') AND p.wanted = 'live'
                      AND p.content_hash = EXCLUDED.content_hash THEN p.attempts
                 ELSE 0 END,
               next_attempt_at = CASE WHEN p.status = 'in_flight' THEN p.next_attempt_at ELSE now() END,
               board_task = CASE
                 WHEN p.status = 'submitted' AND p.content_hash = EXCLUDED.content_hash THEN p.board_task
                 WHEN p.status = 'in_flight' THEN p.board_task
                 ELSE NULL END,
               last_error = CASE WHEN EXCLUDED.status = 'skipped' THEN EXCLUDED.last_error
                                 WHEN p.status = 'in_flight' THEN p.last_error ELSE NULL END,
               updated_at = now()
             -- xmax = 0: this statement inserted the row (a conflict updated it).
             RETURNING p.id, p.tenant_id, p.job_id, p.board, p.revision, p.status,
                       p.xmax = 0 AS inserted),
           attempted AS (
             INSERT INTO posting_attempts (posting_id, operation, revision, started_at,
                                           duration_ms, outcome, detail, worker)
             SELECT w.id, 'publish', w.revision, now(), 0, 'submitted',
                    'checked at intake: in the feed; posted once the board fetches it', $12
             FROM written w
             WHERE w.inserted AND w.status = 'submitted'
             ORDER BY w.id
             RETURNING posting_id)
           SELECT w.tenant_id, w.job_id, w.board, count(*)
           FROM written w JOIN attempted a ON a.posting_id = w.id
           GROUP BY w.tenant_id, w.job_id, w.board"#,
    )
    .bind(&rows.tenants)
    .bind(&rows.jobs)
    .bind(&rows.revisions)
    .bind(&rows.boards)
    .bind(&rows.locales)
    .bind(&rows.references)
    .bind(&rows.hashes)
    .bind(&rows.max_attempts)
    .bind(&rows.skip_reasons)
    .bind(&rows.submit)
    .bind(&rows.fixed_fields)
    .bind(feeds.worker())
    .fetch_all(&mut *tx)
    .await?;
    let mut into_feed = IntoFeed::new();
    for (tenant_id, job_id, board, postings) in counted {
        into_feed
            .entry((tenant_id, job_id))
            .or_default()
            .insert(board, postings as u64);
    }
    Ok(into_feed)
}

/// What [`insert_postings`] put into feeds: by (tenant, job), postings by board.
type IntoFeed = HashMap<(String, String), BTreeMap<String, u64>>;

impl IntakeOutcome {
    /// This outcome with what its job's postings put into feeds, taken out of `into_feed`.
    fn with_into_feed(mut self, into_feed: &mut IntoFeed, submission: &Submission) -> Self {
        if let IntakeOutcome::Accepted {
            into_feed: mine, ..
        } = &mut self
            && let Some(counts) =
                into_feed.remove(&(submission.tenant_id.clone(), submission.job_id.clone()))
        {
            *mine = counts;
        }
        self
    }
}

async fn withdraw(
    tx: &mut sqlx::PgConnection,
    submission: &Submission,
) -> Result<IntakeOutcome, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT board, locale FROM postings
           WHERE tenant_id = $1 AND job_id = $2 AND wanted = 'live'"#,
        submission.tenant_id,
        submission.job_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut withdrawn = DroppedRows::default();
    for row in rows {
        let targeted = match &submission.targets {
            Targets::All => true,
            Targets::Boards(targets) => targets.iter().any(|t| t.board == row.board),
        };
        if targeted {
            withdrawn.push(
                &submission.tenant_id,
                &submission.job_id,
                row.board,
                row.locale,
            );
        }
    }
    withdraw_rows(tx, &withdrawn).await?;
    if matches!(submission.targets, Targets::All) {
        sqlx::query!(
            "UPDATE jobs SET withdrawn = true, updated_at = now() WHERE tenant_id = $1 AND job_id = $2",
            submission.tenant_id,
            submission.job_id,
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(IntakeOutcome::Accepted {
        postings: withdrawn.boards.len(),
        boards: withdrawn.boards.into_iter().collect(),
        into_feed: BTreeMap::new(),
    })
}

/// Marks postings to come down. One that never reached its board (no board
/// id, no send that may have landed) is withdrawn at once; the others are
/// queued so their board is told.
async fn withdraw_rows(tx: &mut sqlx::PgConnection, rows: &DroppedRows) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"UPDATE postings AS p SET
             wanted = 'withdrawn',
             status = CASE
               WHEN p.status = 'in_flight' THEN p.status
               WHEN p.status = 'skipped' THEN p.status
               WHEN p.external_id IS NULL AND NOT p.may_exist AND p.board_task IS NULL
                 THEN 'withdrawn'
               ELSE 'queued' END::posting_status,
             attempts = CASE WHEN p.status = 'in_flight' THEN p.attempts ELSE 0 END,
             next_attempt_at = CASE WHEN p.status = 'in_flight' THEN p.next_attempt_at ELSE now() END,
             last_error = CASE WHEN p.status = 'in_flight' THEN p.last_error ELSE NULL END,
             updated_at = now()
           FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])
                AS u(tenant_id, job_id, board, locale)
           WHERE p.tenant_id = u.tenant_id AND p.job_id = u.job_id
             AND p.board = u.board AND p.locale = u.locale"#,
    )
    .bind(&rows.tenants)
    .bind(&rows.jobs)
    .bind(&rows.boards)
    .bind(&rows.locales)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
