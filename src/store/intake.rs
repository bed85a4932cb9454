//! The intake transaction: one accepted message becomes its submission row,
//! the job's new revision and every posting it plans, all in one commit.
//! The AMQP delivery is acked only after that commit.

use std::collections::BTreeSet;

use sqlx::{Connection, PgConnection, PgPool};

use crate::config::Settings;
use crate::intake::message::{Command, InvalidMessage, Job, RejectReason, Submission, Targets};
use crate::plan::{self, PlannedPosting};

#[derive(Debug, PartialEq)]
pub enum IntakeOutcome {
    /// Committed; these boards have new work.
    Accepted {
        boards: BTreeSet<String>,
        postings: usize,
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
    submission: &Submission,
) -> Result<IntakeOutcome, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    apply_on(&mut conn, settings, submission).await
}

/// [`apply`] on a connection. Inside an open transaction this is a
/// savepoint: a refusal or an error rolls back this message only, and the
/// caller's commit makes it durable.
pub async fn apply_on(
    conn: &mut PgConnection,
    settings: &Settings,
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
            plan_postings(&mut tx, settings, submission, job).await?
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
    submission: &Submission,
    job: &Job,
) -> Result<IntakeOutcome, sqlx::Error> {
    let existing = sqlx::query!(
        r#"SELECT board, locale FROM postings
           WHERE tenant_id = $1 AND job_id = $2 AND wanted = 'live'
             AND status NOT IN ('skipped', 'cancelled', 'withdrawn')"#,
        submission.tenant_id,
        submission.job_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    // Boards that carry the job get the new content whatever the targets say.
    let carrying: BTreeSet<String> = existing.iter().map(|row| row.board.clone()).collect();
    let planned = plan::plan(
        settings,
        &submission.tenant_id,
        job,
        &submission.targets,
        &carrying,
    );

    let mut boards = Vec::with_capacity(planned.len());
    let mut locales = Vec::with_capacity(planned.len());
    let mut references = Vec::with_capacity(planned.len());
    let mut hashes = Vec::with_capacity(planned.len());
    let mut skip_reasons = Vec::with_capacity(planned.len());
    let mut max_attempts = Vec::with_capacity(planned.len());
    let mut hash_by_locale: std::collections::HashMap<&str, String> = Default::default();
    for PlannedPosting {
        board,
        locale,
        skip_reason,
    } in &planned
    {
        references.push(plan::posting_reference(
            &submission.tenant_id,
            &submission.job_id,
            locale,
        ));
        // One hash per language, not per posting: each clones and prints the job.
        let hash = hash_by_locale
            .entry(locale.as_str())
            .or_insert_with(|| plan::content_hash(job, locale));
        hashes.push(hash.clone());
        max_attempts.push(settings.retry_policy(board).max_attempts as i32);
        boards.push(board.clone());
        locales.push(locale.clone());
        skip_reasons.push(skip_reason.clone());
    }

    // A posting is re-sent when its content changed or it is not live; one
    // that is in flight is left to its worker, whose completion sees the new
    // content and queues it again.
    sqlx::query!(
        r#"INSERT INTO postings AS p (tenant_id, job_id, board, locale, reference, revision, wanted,
                              status, content_hash, max_attempts, next_attempt_at, last_error)
           SELECT $1, $2, u.board, u.locale, u.reference, $3, 'live',
                  CASE WHEN u.skip_reason IS NULL THEN 'queued' ELSE 'skipped' END::posting_status,
                  u.hash, u.max_attempts, now(), u.skip_reason
           FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[])
                AS u(board, locale, reference, hash, max_attempts, skip_reason)
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
             updated_at = now()"#,
        submission.tenant_id,
        submission.job_id,
        job.revision,
        &boards,
        &locales,
        &references,
        &hashes,
        &max_attempts,
        &skip_reasons as &[Option<String>],
    )
    .execute(&mut *tx)
    .await?;

    // Variants dropped from the ad come down from the boards that carry them.
    let dropped: Vec<(String, String)> = existing
        .into_iter()
        .map(|row| (row.board, row.locale))
        .filter(|(board, locale)| {
            !planned
                .iter()
                .any(|p| &p.board == board && &p.locale == locale)
        })
        .collect();
    if !dropped.is_empty() {
        let (boards, locales): (Vec<String>, Vec<String>) = dropped.into_iter().unzip();
        withdraw_rows(
            tx,
            &submission.tenant_id,
            &submission.job_id,
            &boards,
            &locales,
        )
        .await?;
    }

    let active: BTreeSet<String> = planned
        .iter()
        .filter(|p| p.skip_reason.is_none())
        .map(|p| p.board.clone())
        .collect();
    Ok(IntakeOutcome::Accepted {
        boards: active,
        postings: planned.len(),
    })
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
    let (boards, locales): (Vec<String>, Vec<String>) = rows
        .into_iter()
        .map(|row| (row.board, row.locale))
        .filter(|(board, _)| match &submission.targets {
            Targets::All => true,
            Targets::Boards(targets) => targets.iter().any(|t| &t.board == board),
        })
        .unzip();
    withdraw_rows(
        tx,
        &submission.tenant_id,
        &submission.job_id,
        &boards,
        &locales,
    )
    .await?;
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
        postings: boards.len(),
        boards: boards.into_iter().collect(),
    })
}

/// Marks postings to come down. One that never reached its board (no board
/// id, no send that may have landed) is withdrawn at once; the others are
/// queued so their board is told.
async fn withdraw_rows(
    tx: &mut sqlx::PgConnection,
    tenant: &str,
    job: &str,
    boards: &[String],
    locales: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
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
           FROM UNNEST($3::text[], $4::text[]) AS u(board, locale)
           WHERE p.tenant_id = $1 AND p.job_id = $2 AND p.board = u.board AND p.locale = u.locale"#,
        tenant,
        job,
        boards,
        locales,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
