//! OAuth2 client credentials, as LinkedIn and Indeed use them: one token
//! shared by every call of the board, fetched when first needed, refreshed a
//! minute before it expires, and refreshed once more if the board answers
//! 401 anyway. A board that still refuses gets [`ErrorClass::Auth`], which
//! opens its circuit instead of burning every posting's attempts. Tokens and
//! secrets never reach a log line or an error message.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::http::{self, Reply};
use super::{BoardConfig, BoardError, BuildError, CallLog, ErrorClass};

/// Refresh a token this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// The token endpoint's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
}

struct Token {
    value: SecretString,
    refresh_at: Instant,
}

pub struct ClientCredentials {
    /// The board's name in messages ("LinkedIn").
    board: &'static str,
    http: reqwest::Client,
    token_url: url::Url,
    client_id: SecretString,
    client_secret: SecretString,
    /// Extra form fields of the token request (Indeed's `scope`).
    extra: Vec<(&'static str, &'static str)>,
    timeout: Duration,
    token: Mutex<Option<Token>>,
}

impl ClientCredentials {
    /// Reads `client_id` and `client_secret` from the board's credentials.
    pub fn new(
        board: &'static str,
        config: &BoardConfig<'_>,
        token_url: url::Url,
        extra: Vec<(&'static str, &'static str)>,
    ) -> Result<Self, BuildError> {
        Ok(Self {
            board,
            http: config.http.clone(),
            token_url,
            client_id: config.credential("client_id")?,
            client_secret: config.credential("client_secret")?,
            extra,
            timeout: config.request_timeout,
            token: Mutex::new(None),
        })
    }

    /// The current token, fetching a new one when needed.
    pub async fn token(&self, log: &mut CallLog) -> Result<SecretString, BoardError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.expose_secret()),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        form.extend(self.extra.iter().copied());
        let request = self
            .http
            .post(self.token_url.clone())
            .form(&form)
            .timeout(self.timeout);
        let reply = http::send(self.board, request, None, log).await?;
        if reply.status == 400 || reply.status == 401 {
            return Err(BoardError::new(
                ErrorClass::Auth,
                Some(reply.status),
                format!(
                    "{} refused our client credentials ({})",
                    self.board, reply.status
                ),
            ));
        }
        if !reply.is_success() {
            return Err(reply.error(self.board));
        }
        let token: TokenResponse = reply.json(self.board)?;
        let lifetime = Duration::from_secs(token.expires_in).saturating_sub(TOKEN_MARGIN);
        let value = SecretString::from(token.access_token);
        *cached = Some(Token {
            value: value.clone(),
            refresh_at: Instant::now() + lifetime,
        });
        Ok(value)
    }

    /// Sends the request `build` makes with a token; on 401 the token is
    /// refreshed once and the request sent again.
    pub async fn send(
        &self,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
        body: Option<&[u8]>,
        log: &mut CallLog,
    ) -> Result<Reply, BoardError> {
        for first_try in [true, false] {
            let token = self.token(log).await?;
            let request = build(token.expose_secret()).timeout(self.timeout);
            let reply = http::send(self.board, request, body, log).await?;
            if reply.status == 401 && first_try {
                self.token.lock().await.take();
                continue;
            }
            if reply.status == 401 {
                return Err(BoardError::new(
                    ErrorClass::Auth,
                    Some(401),
                    format!(
                        "{} refused a fresh token: {}",
                        self.board,
                        http::excerpt(&reply.body)
                    ),
                ));
            }
            return Ok(reply);
        }
        unreachable!("the loop returns on its second pass")
    }
}
