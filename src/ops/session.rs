//! Dashboard sessions and token checks.
//!
//! The dashboard's cookie holds a signed, expiring session (an id, the
//! operator's name and an expiry, HMAC-SHA256 under a key from the
//! environment or random per process), never the API token: a leaked cookie
//! stops working at its expiry or at logout, and the token stays secret.
//! Tokens and signatures are compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::OpsSettings;

type HmacSha256 = Hmac<Sha256>;

/// Domain separation: a MAC made for anything else never reads as a session.
const CONTEXT: &[u8] = b"boardcast dashboard session v1";

/// A signed-in operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    /// The name of the token that signed in (recorded as the actor).
    pub operator: String,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionError {
    #[error("the session cookie is malformed")]
    Malformed,
    #[error("the session cookie's signature does not match")]
    BadSignature,
    #[error("the session has expired")]
    Expired,
}

/// The key sessions are signed with.
pub struct SessionKey(SecretString);

impl SessionKey {
    /// `ops.session_key` when configured (every replica accepts the others'
    /// sessions), else a random key: sessions end with the process.
    pub fn from_settings(ops: &OpsSettings) -> Self {
        match &ops.session_key {
            Some(key) => SessionKey(key.clone()),
            None => {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                SessionKey(SecretString::from(hex::encode(bytes)))
            }
        }
    }

    fn mac(&self, id: &Uuid, expires: i64, operator: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.0.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(CONTEXT);
        mac.update(id.as_bytes());
        mac.update(&expires.to_be_bytes());
        mac.update(operator.as_bytes());
        mac
    }

    /// The cookie value: `<id>.<expiry>.<operator>.<signature>`, URL-safe.
    pub fn sign(&self, session: &Session) -> String {
        let expires = session.expires_at.unix_timestamp();
        let tag = self
            .mac(&session.id, expires, &session.operator)
            .finalize()
            .into_bytes();
        format!(
            "{}.{expires}.{}.{}",
            session.id.simple(),
            URL_SAFE_NO_PAD.encode(session.operator.as_bytes()),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The session in a cookie value, if it is ours, intact and not expired at `now`.
    pub fn verify(&self, value: &str, now: OffsetDateTime) -> Result<Session, SessionError> {
        let parts: Vec<&str> = value.split('.').collect();
        let [id, expires, operator, tag] = parts[..] else {
            return Err(SessionError::Malformed);
        };
        let id = Uuid::try_parse(id).map_err(|_| SessionError::Malformed)?;
        let expires: i64 = expires.parse().map_err(|_| SessionError::Malformed)?;
        let operator = URL_SAFE_NO_PAD
            .decode(operator)
            .ok()
            .and_then(|o| String::from_utf8(o).ok())
            .ok_or(SessionError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| SessionError::Malformed)?;
        // verify_slice compares in constant time.
        self.mac(&id, expires, &operator)
            .verify_slice(&tag)
            .map_err(|_| SessionError::BadSignature)?;
        let expires_at =
            OffsetDateTime::from_unix_timestamp(expires).map_err(|_| SessionError::Malformed)?;
        if expires_at <= now {
            return Err(SessionError::Expired);
        }
        Ok(Session {
            id,
            operator,
            expires_at,
        })
    }
}

/// Ends a session before its expiry (logout), for every replica; forgets
/// ended sessions that have expired anyway.
pub async fn end(pool: &PgPool, session: &Session) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ended_sessions (session_id, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(session.id)
    .bind(session.expires_at)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM ended_sessions WHERE expires_at < now()")
        .execute(pool)
        .await?;
    Ok(())
}

/// Whether a logout ended this session.
pub async fn is_ended(pool: &PgPool, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ended_sessions WHERE session_id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// The name of the token equal to `presented`, comparing every token in
/// constant time (digests first, so lengths do not show either).
pub fn token_name<'a>(
    tokens: impl IntoIterator<Item = (&'a String, &'a SecretString)>,
    presented: &str,
) -> Option<String> {
    if presented.is_empty() {
        return None;
    }
    let presented = Sha256::digest(presented.as_bytes());
    let mut found = None;
    for (name, token) in tokens {
        let token = Sha256::digest(token.expose_secret().as_bytes());
        if bool::from(token.ct_eq(&presented)) && found.is_none() {
            found = Some(name.clone());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use time::Duration;

    fn key(secret: &str) -> SessionKey {
        SessionKey(SecretString::from(secret.to_owned()))
    }

    fn session(minutes: i64) -> Session {
        Session {
            id: Uuid::new_v4(),
            operator: "alice.ops".to_owned(),
            expires_at: OffsetDateTime::from_unix_timestamp(
                (OffsetDateTime::now_utc() + Duration::minutes(minutes)).unix_timestamp(),
            )
            .unwrap(),
        }
    }

    #[test]
    fn a_signed_session_reads_back_until_it_expires() {
        let key = key("k".repeat(32).as_str());
        let live = session(10);
        let cookie = key.sign(&live);
        assert!(!cookie.contains("alice"), "the name is encoded: {cookie}");
        assert_eq!(key.verify(&cookie, OffsetDateTime::now_utc()), Ok(live));
        let old = key.sign(&session(-1));
        assert_eq!(
            key.verify(&old, OffsetDateTime::now_utc()),
            Err(SessionError::Expired)
        );
    }

    #[test]
    fn a_forged_or_foreign_session_is_refused() {
        let ours = key("k".repeat(32).as_str());
        let theirs = key("x".repeat(32).as_str());
        let live = session(10);
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            ours.verify(&theirs.sign(&live), now),
            Err(SessionError::BadSignature)
        );
        // A later expiry or another name under the same signature.
        let cookie = ours.sign(&live);
        let parts: Vec<&str> = cookie.split('.').collect();
        let later = format!("{}.{}.{}.{}", parts[0], i64::MAX, parts[2], parts[3]);
        assert_eq!(ours.verify(&later, now), Err(SessionError::BadSignature));
        let other = format!(
            "{}.{}.{}.{}",
            parts[0],
            parts[1],
            URL_SAFE_NO_PAD.encode("root"),
            parts[3]
        );
        assert_eq!(ours.verify(&other, now), Err(SessionError::BadSignature));
        for bad in ["", "a.b.c", "a.b.c.d.e", "test-token-7f3a"] {
            assert_eq!(ours.verify(bad, now), Err(SessionError::Malformed), "{bad}");
        }
    }

    #[test]
    fn tokens_match_only_exactly() {
        let mut tokens = BTreeMap::new();
        tokens.insert("a".to_owned(), SecretString::from("secret-one"));
        tokens.insert("b".to_owned(), SecretString::from("secret-two"));
        assert_eq!(token_name(&tokens, "secret-two"), Some("b".to_owned()));
        assert_eq!(token_name(&tokens, "secret-tw"), None);
        assert_eq!(token_name(&tokens, ""), None);
    }
}
