//! Set-based intake of a batch (issue 9): the publishes and updates of one
//! batch cost a handful of statements together instead of about seven each.
//!
//! Only messages that cannot interact go this way: publishes and updates
//! whose message_id and job are each unique in the batch (the caller picks
//! them, see [`crate::intake::process_batch`]). Each then ends exactly as it
//! would one at a time: a message_id seen before is a duplicate, a stale or
//! unknown revision is refused (its submission row removed, as its
//! savepoint's rollback would), and the others' jobs and postings are
//! written with one statement per table.
//!
//! Everything runs in one savepoint. If any statement fails, the savepoint
//! is rolled back whole and the caller applies the same messages one at a
//! time, where a data error (a NUL byte, a value too large for its index)
//! rejects just the message that carries it; an outage fails there again and
//! holds the batch.

use std::collections::{HashMap, HashSet};

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use super::{
    DroppedRows, IntakeOutcome, PostingRows, StoredPostings, check_revision, insert_postings,
    plan_job,
};
use crate::boards::feed::FeedChecks;
use crate::config::Settings;
use crate::intake::message::{Job, Submission};

/// Applies `batch`, publishes and updates with their jobs (each message_id
/// and each job at most once), in one savepoint; the outcomes come back in
/// their order. An `Err` leaves nothing of them behind in the caller's
/// transaction.
pub async fn apply_set(
    conn: &mut PgConnection,
    settings: &Settings,
    feeds: &FeedChecks,
    batch: &[(&Submission, &Job)],
) -> Result<Vec<IntakeOutcome>, sqlx::Error> {
    let (submissions, jobs): (Vec<&Submission>, Vec<&Job>) = batch.iter().copied().unzip();
    let mut tx = conn.begin().await?;

    let fresh: HashSet<Uuid> = sqlx::query_scalar(
        r#"INSERT INTO submissions (message_id, tenant_id, job_id, action, revision)
           SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[])
           ON CONFLICT (message_id) DO NOTHING
           RETURNING message_id"#,
    )
    .bind(submissions.iter().map(|s| s.message_id).collect::<Vec<_>>())
    .bind(
        submissions
            .iter()
            .map(|s| s.tenant_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        submissions
            .iter()
            .map(|s| s.job_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        submissions
            .iter()
            .map(|s| s.action().as_str())
            .collect::<Vec<_>>(),
    )
    .bind(jobs.iter().map(|job| job.revision).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();

    let (fresh_tenants, fresh_jobs): (Vec<&str>, Vec<&str>) = submissions
        .iter()
        .filter(|s| fresh.contains(&s.message_id))
        .map(|s| (s.tenant_id.as_str(), s.job_id.as_str()))
        .unzip();
    // The row locks order concurrent messages for the same job; taken in one
    // order so two workers' batches cannot wait on each other crosswise.
    let stored: HashMap<(String, String), i64> = sqlx::query_as::<_, (String, String, i64)>(
        r#"SELECT j.tenant_id, j.job_id, j.revision
           FROM jobs j
           JOIN UNNEST($1::text[], $2::text[]) AS u(tenant_id, job_id)
             ON j.tenant_id = u.tenant_id AND j.job_id = u.job_id
           ORDER BY j.tenant_id, j.job_id
           FOR UPDATE OF j"#,
    )
    .bind(&fresh_tenants)
    .bind(&fresh_jobs)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(tenant, job, revision)| ((tenant, job), revision))
    .collect();

    let mut outcomes: Vec<Option<IntakeOutcome>> = Vec::with_capacity(submissions.len());
    let mut refused: Vec<Uuid> = Vec::new();
    let mut accepted: Vec<usize> = Vec::new();
    for (index, (submission, job)) in submissions.iter().zip(&jobs).enumerate() {
        if !fresh.contains(&submission.message_id) {
            outcomes.push(Some(IntakeOutcome::Duplicate));
            continue;
        }
        let key = (submission.tenant_id.clone(), submission.job_id.clone());
        match check_revision(submission, job, stored.get(&key).copied()) {
            Some(refusal) => {
                refused.push(submission.message_id);
                outcomes.push(Some(IntakeOutcome::Refused(refusal)));
            }
            None => {
                accepted.push(index);
                outcomes.push(None);
            }
        }
    }
    if !refused.is_empty() {
        // One at a time, the refusal rolls back its savepoint and with it this row.
        sqlx::query("DELETE FROM submissions WHERE message_id = ANY($1)")
            .bind(&refused)
            .execute(&mut *tx)
            .await?;
    }

    if !accepted.is_empty() {
        let (tenants, job_ids): (Vec<&str>, Vec<&str>) = accepted
            .iter()
            .map(|&i| {
                (
                    submissions[i].tenant_id.as_str(),
                    submissions[i].job_id.as_str(),
                )
            })
            .unzip();
        let contents: Vec<serde_json::Value> = accepted
            .iter()
            .map(|&i| serde_json::to_value(jobs[i]).expect("a parsed job serialises"))
            .collect();
        sqlx::query(
            r#"INSERT INTO jobs (tenant_id, job_id, revision, content)
               SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::jsonb[])
               ON CONFLICT (tenant_id, job_id) DO UPDATE
               SET revision = EXCLUDED.revision, content = EXCLUDED.content,
                   withdrawn = false, updated_at = now()"#,
        )
        .bind(&tenants)
        .bind(&job_ids)
        .bind(
            accepted
                .iter()
                .map(|&i| jobs[i].revision)
                .collect::<Vec<_>>(),
        )
        .bind(&contents)
        .execute(&mut *tx)
        .await?;

        let mut existing: HashMap<(String, String), StoredPostings> = HashMap::new();
        let rows = sqlx::query_as::<_, (String, String, String, String, bool)>(
            r#"SELECT p.tenant_id, p.job_id, p.board, p.locale,
                      p.wanted = 'live' AND p.status NOT IN ('skipped', 'cancelled', 'withdrawn')
               FROM postings p
               JOIN UNNEST($1::text[], $2::text[]) AS u(tenant_id, job_id)
                 ON p.tenant_id = u.tenant_id AND p.job_id = u.job_id"#,
        )
        .bind(&tenants)
        .bind(&job_ids)
        .fetch_all(&mut *tx)
        .await?;
        for (tenant, job, board, locale, live) in rows {
            existing
                .entry((tenant, job))
                .or_default()
                .push(board, locale, live);
        }

        let mut postings = PostingRows::default();
        let mut dropped = DroppedRows::default();
        for &i in &accepted {
            let submission = submissions[i];
            let key = (submission.tenant_id.clone(), submission.job_id.clone());
            let stored = existing.remove(&key).unwrap_or_default();
            outcomes[i] = Some(plan_job(
                settings,
                feeds,
                submission,
                jobs[i],
                stored,
                &mut postings,
                &mut dropped,
            ));
        }
        let mut into_feed = insert_postings(&mut tx, feeds, &postings).await?;
        if !dropped.is_empty() {
            super::withdraw_rows(&mut tx, &dropped).await?;
        }
        for &i in &accepted {
            outcomes[i] = outcomes[i]
                .take()
                .map(|outcome| outcome.with_into_feed(&mut into_feed, submissions[i]));
        }
    }
    tx.commit().await?;
    Ok(outcomes
        .into_iter()
        .map(|outcome| outcome.expect("every submission has an outcome"))
        .collect())
}
