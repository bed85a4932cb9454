//! Preview mode of the shared send paths: the adapters render and check as
//! they always do, and the request they would send is captured here instead
//! of going out.
//!
//! Preview is a task-local [`Capture`] (see [`crate::preview`]). While one is
//! in scope:
//! - [`super::http::send`] (and Bundesagentur's and Kariera's own sends) build
//!   the request, record its method, URL, content type and body, and return
//!   [`not_sent`] instead of touching the network. Headers are never recorded,
//!   so no `Authorization` header or signature reaches a preview;
//! - the OAuth token fetches answer [`REDACTED`] without calling the token endpoint;
//! - [`super::BoardConfig::credential`] answers [`REDACTED`] for every
//!   credential: preview never reads a real one, so it cannot show one, and
//!   runs where no credential is configured (`boardcast preview` on a laptop).
//!
//! Only the first request is captured: the adapter stops at the "not sent"
//! error, so a board that works in several steps shows its first step.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{BoardError, ErrorClass, REDACTED};

tokio::task_local! {
    static CAPTURE: Arc<Capture>;
}

/// A request as it would have gone to the board, credentials left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapturedRequest {
    /// `POST`, `PUT`...; `SMTP` for a board that takes ads by e-mail.
    pub method: String,
    pub url: String,
    pub content_type: Option<String>,
    /// The body as text (lossy for non-UTF-8 bodies such as Monster's Windows-1252).
    pub body: Option<String>,
}

/// What the adapters of one preview sent (or rather, did not).
#[derive(Debug, Default)]
pub struct Capture {
    requests: Mutex<Vec<CapturedRequest>>,
}

impl Capture {
    /// The requests captured so far, in order, leaving none behind.
    pub fn take(&self) -> Vec<CapturedRequest> {
        std::mem::take(
            &mut *self
                .requests
                .lock()
                .expect("the capture lock is never poisoned"),
        )
    }
}

/// Runs `future` in preview mode, its requests captured in `capture`.
pub async fn scope<F: Future>(capture: Arc<Capture>, future: F) -> F::Output {
    CAPTURE.scope(capture, future).await
}

/// Runs synchronous `build` in preview mode (building adapters without credentials).
pub fn sync_scope<R>(capture: Arc<Capture>, build: impl FnOnce() -> R) -> R {
    CAPTURE.sync_scope(capture, build)
}

/// Whether the current task is a preview.
pub fn active() -> bool {
    CAPTURE.try_with(|_| ()).is_ok()
}

/// The message of the error a send answers in preview mode.
pub const NOT_SENT: &str = "not sent: preview";

/// What a send answers in preview mode: never retried (preview has no
/// dispatcher), and a board that reads it stops before any further step.
pub fn not_sent() -> BoardError {
    BoardError::new(ErrorClass::Rejected, None, NOT_SENT)
}

/// Records `request` when in preview mode and answers [`not_sent`]; `None`
/// outside preview, where the caller sends as usual.
pub fn intercept(request: &reqwest::RequestBuilder) -> Option<BoardError> {
    if !active() {
        return None;
    }
    let captured = match request.try_clone().map(|builder| builder.build()) {
        Some(Ok(request)) => CapturedRequest {
            method: request.method().to_string(),
            url: request.url().to_string(),
            content_type: request
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            body: request
                .body()
                .and_then(|body| body.as_bytes())
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned()),
        },
        // A streamed body cannot be cloned; no adapter streams today.
        _ => CapturedRequest {
            method: "?".to_owned(),
            url: "(a request that could not be built for preview)".to_owned(),
            content_type: None,
            body: None,
        },
    };
    record(captured);
    Some(not_sent())
}

/// Records a request a board sends without reqwest (Kariera's mail).
pub fn record(request: CapturedRequest) {
    let _ = CAPTURE.try_with(|capture| {
        capture
            .requests
            .lock()
            .expect("the capture lock is never poisoned")
            .push(request);
    });
}

/// The stand-in for every credential in preview mode.
pub fn placeholder() -> secrecy::SecretString {
    secrecy::SecretString::from(REDACTED)
}
