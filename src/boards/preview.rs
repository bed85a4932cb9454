//! Preview mode of the shared send paths: the adapters render and check as
//! they always do, and the requests they would send are captured here instead
//! of going out.
//!
//! Preview is a task-local [`Capture`] (see [`crate::preview`]). While one is
//! in scope:
//! - [`super::http::send`] (and Bundesagentur's and Kariera's own sends) build
//!   the request, record its method, URL, content type and body (decoded by
//!   its charset), and never touch the network. Headers are never recorded,
//!   so no `Authorization` header or signature reaches a preview;
//! - a board that works in several steps gets each step answered by its
//!   sandbox twin ([`crate::sandbox`]), in-process, so the adapter goes on to
//!   its next request; the first step the twin does not answer with a 2xx
//!   ends the steps with [`not_sent`];
//! - [`broken`] records a broken rule and lets the adapter go on checking, so
//!   a preview lists every rule a posting breaks (outside preview it fails
//!   the send at the first, as always);
//! - the OAuth token fetches answer [`REDACTED`] without calling the token endpoint;
//! - [`super::BoardConfig::credential`] answers [`REDACTED`] for every
//!   credential: preview never reads a real one, so it cannot show one, and
//!   runs where no credential is configured (`boardcast preview` on a laptop).

use std::sync::{Arc, Mutex};

use serde::Serialize;
use tower::ServiceExt;

use super::http::Reply;
use super::{BoardError, ErrorClass, REDACTED};
use crate::config::Settings;
use crate::sandbox::{Sandbox, TWINS};

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
    /// The body as text, decoded by the charset of its content type
    /// (Monster's Windows-1252, say); UTF-8 when it names none.
    pub body: Option<String>,
}

/// What the adapters of one preview sent (or rather, did not).
#[derive(Default)]
pub struct Capture {
    requests: Mutex<Vec<CapturedRequest>>,
    rules: Mutex<Vec<String>>,
    twins: Option<Twins>,
}

/// The boards' sandbox twins, answering a preview's steps in-process.
struct Twins {
    router: axum::Router,
    /// Each board's configured `base_url` and id, longest URL first.
    bases: Vec<(String, String)>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("requests", &self.requests)
            .field("rules", &self.rules)
            .field("twins", &self.twins.is_some())
            .finish()
    }
}

impl Capture {
    /// A capture whose steps the boards' twins answer: fresh twins that
    /// take the preview's placeholder credentials and hold nothing yet.
    pub fn answered_by_twins(settings: &Settings) -> Self {
        let credentials = TWINS
            .iter()
            .map(|twin| {
                let names = twin
                    .credentials
                    .iter()
                    .map(|name| ((*name).to_owned(), REDACTED.to_owned()))
                    .collect();
                (twin.board.to_owned(), names)
            })
            .collect();
        let mut bases: Vec<(String, String)> = settings
            .board_ids()
            .into_iter()
            .filter_map(|id| {
                let base = settings
                    .board(&id)?
                    .base_url
                    .trim_end_matches('/')
                    .to_owned();
                (!base.is_empty()).then_some((base, id))
            })
            .collect();
        bases.sort_by_key(|(base, _)| std::cmp::Reverse(base.len()));
        Self {
            twins: Some(Twins {
                router: Sandbox::with_credentials(credentials).router(),
                bases,
            }),
            ..Self::default()
        }
    }

    /// The rules recorded by [`broken`] so far, in order, leaving none behind.
    pub fn take_rules(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .rules
                .lock()
                .expect("the capture lock is never poisoned"),
        )
    }

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

/// Records `request` when in preview mode and answers it as the board's
/// twin would, or [`not_sent`] where the twin cannot; `None` outside preview,
/// where the caller sends as usual.
pub async fn intercept(request: &reqwest::RequestBuilder) -> Option<Result<Reply, BoardError>> {
    let capture = CAPTURE.try_with(Arc::clone).ok()?;
    let built = request.try_clone().map(|builder| builder.build());
    let Some(Ok(request)) = built else {
        // A streamed body cannot be cloned; no adapter streams today.
        record(CapturedRequest {
            method: "?".to_owned(),
            url: "(a request that could not be built for preview)".to_owned(),
            content_type: None,
            body: None,
        });
        return Some(Err(not_sent()));
    };
    record(CapturedRequest {
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
            .map(|bytes| super::http::decode(request.headers(), bytes)),
    });
    let answer = match &capture.twins {
        Some(twins) => twins.answer(request).await,
        None => None,
    };
    Some(answer.ok_or_else(not_sent))
}

impl Twins {
    /// The twin's answer to `request` when it is a success; `None` when no
    /// twin plays the URL or the twin refuses (the steps end there).
    async fn answer(&self, request: reqwest::Request) -> Option<Reply> {
        let url = request.url().as_str();
        let (base, board) = self
            .bases
            .iter()
            .find(|(base, _)| url.starts_with(base.as_str()))?;
        let path = format!("/{board}{}", &url[base.len()..]);
        let mut twin_request = axum::http::Request::builder()
            .method(request.method().clone())
            .uri(path);
        for (name, value) in request.headers() {
            twin_request = twin_request.header(name, value);
        }
        let body = request
            .body()
            .and_then(|body| body.as_bytes())
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let twin_request = twin_request.body(axum::body::Body::from(body)).ok()?;
        let response = self.router.clone().oneshot(twin_request).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, super::http::max_answer_bytes())
            .await
            .ok()?;
        Some(Reply {
            status: parts.status.as_u16(),
            body: super::http::decode(&parts.headers, &bytes),
            headers: parts.headers,
        })
    }
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

/// A broken rule of the board (`message` in the board's words): outside
/// preview the send fails with it, as [`BoardError::rule`]; in preview it is
/// recorded and the adapter goes on, so every broken rule is listed.
pub fn broken(message: impl Into<String>) -> Result<(), BoardError> {
    let message = message.into();
    match CAPTURE.try_with(|capture| {
        capture
            .rules
            .lock()
            .expect("the capture lock is never poisoned")
            .push(message.clone());
    }) {
        Ok(()) => Ok(()),
        Err(_) => Err(BoardError::rule(message)),
    }
}

/// The stand-in for every credential in preview mode.
pub fn placeholder() -> secrecy::SecretString {
    secrecy::SecretString::from(REDACTED)
}
