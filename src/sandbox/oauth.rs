//! OAuth2 client credentials as the twins of LinkedIn and Indeed serve them:
//! tokens with a lifetime, a count of tokens issued (tests check that the
//! adapters share and reuse one), and a way to expire them all at once. Each
//! twin keeps its own endpoint and error bodies.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};

use serde::Serialize;

use super::Sandbox;

/// A token endpoint's answer as RFC 6749 §5.1 writes it (the twin's own
/// type, not the adapters'): `access_token`, `expires_in` seconds, and
/// `token_type`.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
    pub token_type: &'static str,
}

#[derive(Debug, Default)]
struct Tokens {
    expiry: BTreeMap<String, Instant>,
    issued: u64,
}

/// What a presented bearer token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Valid,
    Expired,
    Unknown,
}

fn key(board: &str) -> String {
    format!("{board}#oauth")
}

impl Sandbox {
    /// True when the form carries this board's client id and secret.
    pub fn client_credentials_valid(
        &self,
        board: &str,
        grant_type: &str,
        id: &str,
        secret: &str,
    ) -> bool {
        grant_type == "client_credentials"
            && id == self.credential(board, "client_id")
            && secret == self.credential(board, "client_secret")
    }

    /// A fresh token that lives `lifetime`.
    pub fn issue_token(&self, board: &str, lifetime: Duration) -> IssuedToken {
        let value = uuid::Uuid::new_v4().simple().to_string();
        self.with_extra(&key(board), |tokens: &mut Tokens| {
            tokens
                .expiry
                .insert(value.clone(), Instant::now() + lifetime);
            tokens.issued += 1;
        });
        IssuedToken {
            access_token: value,
            expires_in: lifetime.as_secs(),
            token_type: "Bearer",
        }
    }

    /// The `Authorization: Bearer` token of a request, judged.
    pub fn token_status(&self, board: &str, headers: &HeaderMap) -> TokenStatus {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let expiry = self.with_extra(&key(board), |tokens: &mut Tokens| {
            tokens.expiry.get(given).copied()
        });
        match expiry {
            Some(expiry) if expiry > Instant::now() => TokenStatus::Valid,
            Some(_) => TokenStatus::Expired,
            None => TokenStatus::Unknown,
        }
    }

    /// Expires every token of the board now, as if its lifetime had passed.
    pub fn expire_tokens(&self, board: &str) {
        self.with_extra(&key(board), |tokens: &mut Tokens| {
            for expiry in tokens.expiry.values_mut() {
                *expiry = Instant::now();
            }
        });
    }

    /// Tokens the board has issued so far.
    pub fn tokens_issued(&self, board: &str) -> u64 {
        self.with_extra(&key(board), |tokens: &mut Tokens| tokens.issued)
    }
}
