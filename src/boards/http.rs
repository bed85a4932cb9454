//! The HTTP driver every board shares: send a request, read the answer, and
//! classify the usual signals (Vector's `HttpRetryLogic` plus DESIGN.md's
//! ambiguous class). A board overrides only where its signals differ.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use sha2::{Digest, Sha256};

use super::{BoardError, CallLog, ErrorClass};

/// The longest stretch of a board's answer kept in an error (ops read it).
const MAX_DETAIL_CHARS: usize = 600;

/// A board's answer, read in full.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, board: &str) -> Result<T, BoardError> {
        serde_json::from_str(&self.body).map_err(|error| {
            BoardError::new(
                ErrorClass::Ambiguous,
                Some(self.status),
                format!(
                    "{board} answered {} with a body we could not read ({error}): {}",
                    self.status,
                    excerpt(&self.body)
                ),
            )
        })
    }

    /// The board's answer, classified by status code alone.
    pub fn error(&self, board: &str) -> BoardError {
        classify(
            self.status,
            &self.headers,
            &format!("{board} answered {}: {}", self.status, excerpt(&self.body)),
        )
    }
}

/// Sends `request` (whose body is `body`, for the attempt's hash) and reads the answer.
/// Transport failures are classified here: nothing sent is transient, a lost
/// answer is ambiguous.
pub async fn send(
    board: &str,
    request: reqwest::RequestBuilder,
    body: Option<&[u8]>,
    log: &mut CallLog,
) -> Result<Reply, BoardError> {
    if let Some(body) = body {
        log.request_hash = Some(hash(body));
    }
    let response = request
        .send()
        .await
        .map_err(|error| transport_error(board, &error))?;
    let status = response.status().as_u16();
    log.http_status = Some(status);
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .map_err(|error| transport_error(board, &error))?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn transport_error(board: &str, error: &reqwest::Error) -> BoardError {
    // reqwest's message names the URL, never credentials (they travel in headers or bodies).
    let cause = std::error::Error::source(error)
        .map(|source| format!(": {source}"))
        .unwrap_or_default();
    if error.is_connect() {
        BoardError::new(
            ErrorClass::Transient,
            None,
            format!("could not connect to {board}{cause}"),
        )
    } else if error.is_timeout() {
        BoardError::new(
            ErrorClass::Ambiguous,
            None,
            format!("{board} did not answer in time; it may have acted on the request"),
        )
    } else {
        BoardError::new(
            ErrorClass::Ambiguous,
            None,
            format!("the connection to {board} failed mid-request{cause}"),
        )
    }
}

/// DESIGN.md's classes by status code.
pub fn classify(status: u16, headers: &HeaderMap, message: &str) -> BoardError {
    let class = match status {
        429 => ErrorClass::Throttled,
        408 | 503 => ErrorClass::Transient,
        401 => ErrorClass::Auth,
        500..=599 => ErrorClass::Ambiguous,
        _ => ErrorClass::Rejected,
    };
    BoardError::new(class, Some(status), message).with_retry_after(retry_after(headers))
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// A board's words, cut to a length ops can read.
pub fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Short SHA-256 of a request body, kept with each attempt.
pub fn hash(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn status_classes() {
        let none = HeaderMap::new();
        assert_eq!(classify(429, &none, "").class, ErrorClass::Throttled);
        assert_eq!(classify(503, &none, "").class, ErrorClass::Transient);
        assert_eq!(classify(408, &none, "").class, ErrorClass::Transient);
        assert_eq!(classify(500, &none, "").class, ErrorClass::Ambiguous);
        assert_eq!(classify(502, &none, "").class, ErrorClass::Ambiguous);
        assert_eq!(classify(401, &none, "").class, ErrorClass::Auth);
        for permanent in [400, 403, 404, 409, 413, 422] {
            assert_eq!(classify(permanent, &none, "").class, ErrorClass::Rejected);
        }
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));

        let later = SystemTime::now() + Duration::from_secs(3600);
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let parsed = retry_after(&headers).unwrap();
        assert!(parsed > Duration::from_secs(3590) && parsed <= Duration::from_secs(3600));

        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn excerpts_are_cut_on_character_boundaries() {
        let greek = "Στέλεχος ".repeat(200);
        let cut = excerpt(&greek);
        assert_eq!(cut.chars().count(), MAX_DETAIL_CHARS + 1);
    }
}
