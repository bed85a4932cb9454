//! Messages turned away by intake, kept with their raw bytes and the reason.

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::intake::message::{InvalidMessage, identify};

/// Files a rejection. Committed before the delivery is dead-lettered.
pub async fn record(
    pool: &PgPool,
    raw: &[u8],
    routing_key: &str,
    redelivered: bool,
    why: &InvalidMessage,
) -> Result<i64, sqlx::Error> {
    let (message_id, tenant_id, job_id) = identify(raw);
    sqlx::query_scalar!(
        r#"INSERT INTO rejected_messages (message_id, tenant_id, job_id, reason, detail, raw, routing_key, redelivered)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id"#,
        message_id,
        tenant_id,
        job_id,
        why.reason.as_str(),
        why.detail,
        raw,
        routing_key,
        redelivered,
    )
    .fetch_one(pool)
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectedView {
    pub id: i64,
    pub message_id: Option<String>,
    pub tenant_id: Option<String>,
    pub job_id: Option<String>,
    pub reason: String,
    pub detail: String,
    /// The message as it arrived (lossy UTF-8 where it was not UTF-8).
    pub raw: String,
    pub raw_bytes: usize,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

pub async fn list(pool: &PgPool, limit: i64) -> Result<Vec<RejectedView>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, message_id, tenant_id, job_id, reason, detail, raw, received_at
           FROM rejected_messages ORDER BY id DESC LIMIT $1"#,
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| RejectedView {
            id: row.id,
            message_id: row.message_id,
            tenant_id: row.tenant_id,
            job_id: row.job_id,
            reason: row.reason,
            detail: row.detail,
            raw_bytes: row.raw.len(),
            raw: String::from_utf8_lossy(&row.raw).into_owned(),
            received_at: row.received_at,
        })
        .collect())
}

/// The raw bytes of one rejected message.
pub async fn raw(pool: &PgPool, id: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT raw FROM rejected_messages WHERE id = $1", id)
        .fetch_optional(pool)
        .await
}

/// Records that ops sent a rejected message to the intake again.
pub async fn record_replay(pool: &PgPool, id: i64, actor: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO operator_actions (actor, action, filter, affected)
           VALUES ($1, 'replay', jsonb_build_object('rejected_id', $2::bigint), 1)"#,
        actor,
        id,
    )
    .execute(pool)
    .await?;
    Ok(())
}
