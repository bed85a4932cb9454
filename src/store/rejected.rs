//! Messages turned away by intake, kept with their bytes and the reason.
//!
//! Bounded (issue 12): at most `max_message_bytes` of a message is stored,
//! with its full size and SHA-256, so a huge message cannot fill the table
//! and ops can still tell which message it was. Every text column gets the
//! publisher's values escaped and cut short: they may hold what PostgreSQL
//! refuses (NUL) or what forges a log line.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use time::OffsetDateTime;

use crate::intake::message::{InvalidMessage, identify};

/// How much of a message the list answers with; the stored copy is whole
/// up to `max_message_bytes` (see [`raw`]).
pub const PREVIEW_BYTES: usize = 4_096;

/// Longest id or routing key kept (they are the publisher's text).
const FIELD_CHARS: usize = 200;
/// Longest detail kept.
const DETAIL_CHARS: usize = 2_000;

/// `text` without control characters (escaped as `\u{..}`), at most `max` characters.
pub fn clean(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push('…');
            break;
        }
        if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Files a rejection. Committed before the delivery is dead-lettered.
pub async fn record<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    raw: &[u8],
    max_bytes: usize,
    routing_key: &str,
    redelivered: bool,
    why: &InvalidMessage,
) -> Result<i64, sqlx::Error> {
    let (message_id, tenant_id, job_id) = identify(&raw[..raw.len().min(max_bytes)]);
    let field = |value: Option<String>| value.map(|v| clean(&v, FIELD_CHARS));
    let kept = &raw[..raw.len().min(max_bytes)];
    sqlx::query_scalar(
        r#"INSERT INTO rejected_messages (message_id, tenant_id, job_id, reason, detail, raw,
                                          raw_size, raw_sha256, routing_key, redelivered)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           RETURNING id"#,
    )
    .bind(field(message_id))
    .bind(field(tenant_id))
    .bind(field(job_id))
    .bind(why.reason.as_str())
    .bind(clean(&why.detail, DETAIL_CHARS))
    .bind(kept)
    .bind(raw.len() as i64)
    .bind(hex::encode(Sha256::digest(raw)))
    .bind(clean(routing_key, FIELD_CHARS))
    .bind(redelivered)
    .fetch_one(executor)
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
    /// The first [`PREVIEW_BYTES`] of the message (lossy UTF-8 where it was not UTF-8).
    pub raw: String,
    /// The message's full size as it arrived.
    pub raw_bytes: usize,
    /// SHA-256 of the whole message, hex.
    pub raw_sha256: String,
    /// True when `raw` is not the whole message.
    pub raw_truncated: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// The newest rejections, each answering at most [`PREVIEW_BYTES`] of its message.
pub async fn list(pool: &PgPool, limit: i64) -> Result<Vec<RejectedView>, sqlx::Error> {
    let rows = sqlx::query(
        r#"SELECT id, message_id, tenant_id, job_id, reason, detail,
                  substring(raw FROM 1 FOR $2) AS preview, raw_size, raw_sha256, received_at
           FROM rejected_messages ORDER BY id DESC LIMIT $1"#,
    )
    .bind(limit)
    .bind(PREVIEW_BYTES as i32)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let preview: Vec<u8> = row.try_get("preview")?;
            let size: i64 = row.try_get("raw_size")?;
            Ok(RejectedView {
                id: row.try_get("id")?,
                message_id: row.try_get("message_id")?,
                tenant_id: row.try_get("tenant_id")?,
                job_id: row.try_get("job_id")?,
                reason: row.try_get("reason")?,
                detail: row.try_get("detail")?,
                raw_truncated: (preview.len() as i64) < size,
                raw: String::from_utf8_lossy(&preview).into_owned(),
                raw_bytes: usize::try_from(size).unwrap_or(usize::MAX),
                raw_sha256: row.try_get("raw_sha256")?,
                received_at: row.try_get("received_at")?,
            })
        })
        .collect()
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
