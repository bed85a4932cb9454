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
/// The longest we keep a token, whatever `expires_in` says: a lifetime near
/// `u64::MAX` seconds would overflow an `Instant`, and a daily refresh costs
/// nothing [inferred].
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

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
        // Preview never asks the token endpoint (it holds no real credentials).
        if super::preview::active() {
            return Ok(super::preview::placeholder());
        }
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        let form = token_form(
            self.client_id.expose_secret(),
            self.client_secret.expose_secret(),
            &self.extra,
        );
        let request = self
            .http
            .post(self.token_url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
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
        let (value, expires_in) = read_token_answer(self.board, reply.status, &reply.body)?;
        *cached = Some(Token {
            value: value.clone(),
            refresh_at: refresh_at(Instant::now(), expires_in),
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

/// The token request's body (RFC 6749 §4.4.2, credentials in the body as
/// §2.3.1 allows): `grant_type=client_credentials`, the client's id and
/// secret, then the board's extra fields. Holds a secret: never logged.
pub fn token_form(client_id: &str, client_secret: &str, extra: &[(&str, &str)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client_id)
        .append_pair("client_secret", client_secret);
    for (name, value) in extra {
        form.append_pair(name, value);
    }
    form.finish()
}

/// Reads a token endpoint's 2xx answer: the token and its `expires_in`
/// seconds (RFC 6749 §5.1). The body holds a secret, so an error names the
/// field that is wrong and never quotes the body, the token or serde's
/// message (which can quote a value).
pub fn read_token_answer(
    board: &str,
    status: u16,
    body: &str,
) -> Result<(SecretString, u64), BoardError> {
    let refuse = |what: &str| {
        BoardError::new(
            ErrorClass::Ambiguous,
            Some(status),
            format!("{board}'s token endpoint answered {status} with {what}"),
        )
    };
    let Ok(serde_json::Value::Object(answer)) = serde_json::from_str::<serde_json::Value>(body)
    else {
        return Err(refuse(&format!(
            "a body that is not a JSON object ({} bytes, not shown: it may hold a token)",
            body.len()
        )));
    };
    let token = match answer.get("access_token") {
        Some(serde_json::Value::String(token)) if !token.is_empty() => token,
        Some(_) => return Err(refuse("an access_token that is not a non-empty string")),
        None => return Err(refuse("no access_token")),
    };
    let expires_in = match answer.get("expires_in") {
        Some(value) => value
            .as_u64()
            .ok_or_else(|| refuse("an expires_in that is not a whole number of seconds"))?,
        None => return Err(refuse("no expires_in")),
    };
    Ok((SecretString::from(token.clone()), expires_in))
}

/// When a token that lives `expires_in` seconds from `now` is refreshed: a
/// minute early, and never later than [`MAX_TOKEN_LIFETIME`] from now.
pub fn refresh_at(now: Instant, expires_in: u64) -> Instant {
    let lifetime = Duration::from_secs(expires_in).min(MAX_TOKEN_LIFETIME);
    now + lifetime.saturating_sub(TOKEN_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "AQXs3cr3t-token-value";

    #[test]
    fn an_answer_without_expires_in_is_refused_without_quoting_the_token() {
        let body = format!(r#"{{"access_token":"{SECRET}","token_type":"Bearer"}}"#);
        let error = read_token_answer("LinkedIn", 200, &body).unwrap_err();
        assert_eq!(error.class, ErrorClass::Ambiguous);
        assert!(error.message.contains("no expires_in"), "{}", error.message);
        assert!(!error.message.contains(SECRET), "{}", error.message);
    }

    #[test]
    fn unreadable_answers_never_quote_the_body() {
        for body in [
            format!(r#"{{"access_token":"{SECRET}","expires_in":"soon"}}"#),
            format!(r#"{{"access_token":"{SECRET}","expires_in":-5}}"#),
            format!(r#"{{"access_token":"{SECRET}","expires_in":3600"#),
            format!("access_token={SECRET}&expires_in=3600"),
            format!(r#"{{"access_token":["{SECRET}"],"expires_in":3600}}"#),
        ] {
            let error = read_token_answer("Indeed", 200, &body).unwrap_err();
            assert!(!error.message.contains(SECRET), "{body}: {}", error.message);
            assert!(!error.message.contains("soon"), "{body}: {}", error.message);
        }
    }

    proptest::proptest! {
        /// Whatever follows the token in a broken answer, the error never
        /// carries the token.
        #[test]
        fn no_broken_answer_ever_quotes_its_token(
            token in "[A-Za-z0-9_-]{12,40}",
            tail in "\\PC{0,40}",
        ) {
            let body = format!(r#"{{"access_token":"{token}"{tail}"#);
            if let Err(error) = read_token_answer("LinkedIn", 200, &body) {
                proptest::prop_assert!(!error.message.contains(&token), "{}", error.message);
            }
        }
    }

    #[test]
    fn a_good_answer_gives_the_token_and_its_lifetime() {
        let body = format!(r#"{{"access_token":"{SECRET}","expires_in":1800}}"#);
        let (token, expires_in) = read_token_answer("LinkedIn", 200, &body).unwrap();
        assert_eq!(token.expose_secret(), SECRET);
        assert_eq!(expires_in, 1800);
    }

    #[test]
    fn a_huge_expires_in_is_clamped_not_overflowed() {
        let now = Instant::now();
        let at = refresh_at(now, u64::MAX);
        assert_eq!(at, now + MAX_TOKEN_LIFETIME - TOKEN_MARGIN);
        assert_eq!(refresh_at(now, 1800), now + Duration::from_secs(1740));
        assert_eq!(
            refresh_at(now, 10),
            now,
            "a short token is refreshed at once"
        );
    }
}
