//! The console's preview page (`/preview`): paste a post-job message and see
//! what each board and language would get, as `POST /api/v1/preview` answers
//! ([`crate::preview`]). Rendered with askama, which escapes every value
//! (payloads are board documents: HTML, XML, mail). The template extends the
//! console's base layout (navigation, the stylesheet allowed by the CSP).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use serde::Deserialize;

use super::dashboard::SignedIn;
use super::http::{ApiError, OpsState};
use crate::preview::{Outcome, Preview, PreviewError};

const TITLE: &str = "Preview a post-job message";

#[derive(Template)]
#[template(path = "console/preview.html")]
struct PreviewPage {
    title: &'static str,
    message: String,
    error: Option<String>,
    rows: Vec<Row>,
}

/// One posting, as the table shows it.
struct Row {
    board: String,
    locale: String,
    outcome: &'static str,
    /// Why it would be skipped or could not be built.
    reason: Option<String>,
    /// Every broken rule, one item each.
    rules: Vec<String>,
    /// Each request in order (or the feed item); most boards have one.
    steps: Vec<PayloadView>,
}

struct PayloadView {
    /// `POST https://...`, or the feed's URL for a feed item.
    summary: String,
    body: String,
}

#[derive(Deserialize)]
pub struct PreviewForm {
    message: String,
}

/// The empty form.
pub async fn form(_: SignedIn) -> Result<Html<String>, ApiError> {
    render(PreviewPage {
        title: TITLE,
        message: String::new(),
        error: None,
        rows: Vec::new(),
    })
}

/// The form again, with the pasted message and what it would do.
pub async fn submit(
    _: SignedIn,
    State(state): State<OpsState>,
    Form(form): Form<PreviewForm>,
) -> Result<Html<String>, ApiError> {
    let (rows, error) =
        match crate::preview::preview(&state.settings, form.message.as_bytes()).await {
            Ok(preview) => (rows(preview), None),
            Err(error @ (PreviewError::Invalid(_) | PreviewError::NothingToPreview)) => {
                (Vec::new(), Some(error.to_string()))
            }
        };
    render(PreviewPage {
        title: TITLE,
        message: form.message,
        error,
        rows,
    })
}

fn rows(preview: Preview) -> Vec<Row> {
    preview
        .postings
        .into_iter()
        .map(|posting| Row {
            board: posting.board,
            locale: posting.locale,
            outcome: match posting.outcome {
                Outcome::WouldSend => "would_send",
                Outcome::WouldSkip => "would_skip",
                Outcome::RuleFailed => "rule_failed",
                Outcome::Unavailable => "unavailable",
            },
            reason: posting.reason,
            rules: posting.rules,
            steps: posting
                .steps
                .into_iter()
                .map(|payload| PayloadView {
                    summary: match payload.method {
                        Some(method) => format!("{method} {}", payload.url),
                        None => format!("item of {}", payload.url),
                    },
                    body: payload.body.unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

fn render(page: PreviewPage) -> Result<Html<String>, ApiError> {
    page.render().map(Html).map_err(|error| {
        tracing::error!(message = "The preview page did not render.", %error);
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page did not render".to_owned(),
        )
    })
}
