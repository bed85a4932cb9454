//! The dashboard: server-rendered HTML on the ops port (askama templates,
//! see [`super::console`]), no front-end build.
//!
//! `/` shows counts by board and state, then what needs attention (failed
//! postings with the board's reason, stuck ones) with Retry and Cancel
//! buttons; `/jobs/{tenant}/{job}` shows one job across all boards. Sign-in
//! takes an API token and gives a signed, expiring session (never the token)
//! in an HttpOnly, SameSite=Strict cookie (which also keeps other sites from
//! submitting the buttons' forms), `Secure` over https; `/logout` ends it.
//! Every page goes out with a CSP and anti-framing headers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use askama::Template;

use axum::Form;
use axum::extract::{Extension, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::console::{self, BoardLink, LIVE_SCRIPT, STYLE, page};
use super::http::{
    ApiError, Operator, OpsState, Sessions, cancel_posting, operator_for, retry_posting, session_in,
};
use super::session::{self, Session};
use crate::store::ops::{self as actions, Attention, BoardHealth};
use crate::store::postings::{self, PostingView};

/// The cookie holding the signed-in operator's session.
pub const COOKIE: &str = "boardcast_ops";
/// A submitted posting unconfirmed for this long is shown as stuck.
const SUBMITTED_STUCK_MINUTES: i64 = 15;
/// Feed boards crawl every 12–24 hours: two days unfetched is worth a look.
const UNFETCHED_STUCK_MINUTES: i64 = 48 * 60;

/// The only style and script the pages may use, each by its digest: the
/// console's stylesheet and its live-update script (which may fetch this
/// origin only); no framing, forms only to this origin.
static CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let digest =
        |text: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text));
    let (style, script) = (digest(STYLE), digest(LIVE_SCRIPT));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{style}'; script-src 'sha256-{script}'; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ))
    .expect("a valid header value")
});

/// Headers on every answer of the ops listener. `same-origin` referrers
/// still tell a button where to send the operator back.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY.clone(),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Operators' pages and answers stay out of shared and browser caches.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// An operator signed in (token or session); others are sent to sign in.
pub struct SignedIn(pub String);

impl FromRequestParts<OpsState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &OpsState) -> Result<Self, Response> {
        match operator_for(state, parts).await {
            Ok(Some(operator)) => Ok(SignedIn(operator)),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(error) => Err(error.into_response()),
        }
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    title: &'static str,
    unknown_token: bool,
}

pub async fn login_form() -> Response {
    page(&LoginPage {
        title: "Sign in",
        unknown_token: false,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

pub async fn login(
    State(state): State<OpsState>,
    Extension(sessions): Extension<Sessions>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let Some(operator) = session::token_name(&state.settings.ops.tokens, &form.token) else {
        return (
            StatusCode::UNAUTHORIZED,
            page(&LoginPage {
                title: "Sign in",
                unknown_token: true,
            }),
        )
            .into_response();
    };
    let lifetime = time::Duration::minutes(i64::from(state.settings.ops.session_minutes));
    let session = Session {
        id: uuid::Uuid::new_v4(),
        operator,
        expires_at: OffsetDateTime::now_utc() + lifetime,
    };
    let cookie = format!(
        "{COOKIE}={}; Max-Age={}; Path=/; HttpOnly; SameSite=Strict{}",
        sessions.0.sign(&session),
        lifetime.whole_seconds(),
        if secure(&state, &headers) {
            "; Secure"
        } else {
            ""
        },
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

/// Whether the cookie must travel over https only: `ops.secure_cookie`, or
/// when unset, whether the TLS-terminating proxy says the request was https.
fn secure(state: &OpsState, headers: &HeaderMap) -> bool {
    state.settings.ops.secure_cookie.unwrap_or_else(|| {
        headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    })
}

/// Ends the session (for every replica) and clears the cookie.
pub async fn logout(
    State(state): State<OpsState>,
    Extension(sessions): Extension<Sessions>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(session) = session_in(&sessions, &headers) {
        session::end(&state.pool, &session).await?;
    }
    let cookie = format!(
        "{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict{}",
        if secure(&state, &headers) {
            "; Secure"
        } else {
            ""
        },
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

/// One row of the overview's board table.
struct BoardRow {
    health: BoardHealth,
    /// Slot for the charts work: a pre-rendered SVG sparkline of the board's
    /// attempts over the last day, inserted as is (`|safe`).
    sparkline: Option<String>,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    title: &'static str,
    statuses: Vec<String>,
    counts: Vec<(String, Vec<i64>)>,
    boards: Vec<BoardRow>,
    attention: Vec<Attention>,
}

pub async fn overview(_: SignedIn, State(state): State<OpsState>) -> Result<Response, ApiError> {
    let counts = actions::counts(&state.pool).await?;
    let attention = actions::attention(
        &state.pool,
        SUBMITTED_STUCK_MINUTES,
        UNFETCHED_STUCK_MINUTES,
        200,
    )
    .await?;

    let statuses: BTreeSet<&str> = counts.iter().map(|(_, s, _)| s.as_str()).collect();
    let mut by_board: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
    for (board, status, count) in &counts {
        by_board.entry(board).or_default().insert(status, *count);
    }
    let table = by_board
        .iter()
        .map(|(board, row)| {
            let cells = statuses
                .iter()
                .map(|status| row.get(status).copied().unwrap_or(0))
                .collect();
            ((*board).to_owned(), cells)
        })
        .collect();
    let health = actions::board_health(&state.pool).await?;
    let ids: Vec<String> = health.iter().map(|h| h.board.clone()).collect();
    let activity =
        crate::store::activity::recent(&state.pool, &ids, crate::store::activity::Window::Day)
            .await?;
    let boards = health
        .into_iter()
        .zip(activity)
        .map(|(health, day)| BoardRow {
            sparkline: Some(super::charts::sparkline(
                &format!("{}: attempts over the last day", health.board),
                &day.attempts,
                super::charts::BLUE,
            )),
            health,
        })
        .collect();
    Ok(page(&OverviewPage {
        title: "Overview",
        statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
        counts: table,
        boards,
        attention,
    }))
}

/// One posting of a job, with its link at the board.
struct JobRow {
    posting: PostingView,
    link: BoardLink,
    actionable: bool,
}

#[derive(Template)]
#[template(path = "console/job.html")]
struct JobPage {
    title: String,
    rows: Vec<JobRow>,
}

pub async fn job(
    _: SignedIn,
    State(state): State<OpsState>,
    Path((tenant, job)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let filter = postings::PostingFilter {
        tenant: Some(tenant.clone()),
        job: Some(job.clone()),
        ..postings::PostingFilter::default()
    };
    let mut rows = postings::list(&state.pool, &filter).await?;
    rows.sort_by(|a, b| (&a.board, &a.locale).cmp(&(&b.board, &b.locale)));
    let rows = rows
        .into_iter()
        .map(|posting| JobRow {
            link: BoardLink::of(&posting),
            actionable: console::actionable(&posting.status),
            posting,
        })
        .collect();
    Ok(page(&JobPage {
        title: format!("{tenant} / {job}"),
        rows,
    }))
}

pub async fn retry(
    operator: Operator,
    State(state): State<OpsState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    retry_posting(&state, &operator, id).await?;
    Ok(back(&headers))
}

pub async fn cancel(
    operator: Operator,
    State(state): State<OpsState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    cancel_posting(&state, &operator, id).await?;
    Ok(back(&headers))
}

/// Back to the page the button was on: its path on this server only.
fn back(headers: &HeaderMap) -> Response {
    let to = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| u.path().to_owned())
        .filter(|path| is_local_path(path))
        .unwrap_or_else(|| "/".to_owned());
    Redirect::to(&to).into_response()
}

/// A path browsers resolve on this server: `//host/…` and `/\host/…` are
/// read as another host (a Referer of `http://us//evil.example` has the
/// path `//evil.example`).
fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn back_from(referer: &str) -> String {
        let mut headers = HeaderMap::new();
        headers.insert(header::REFERER, referer.parse().unwrap());
        back(&headers).headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn buttons_send_back_only_to_local_paths() {
        assert_eq!(back_from("http://127.0.0.1:8640/jobs/a/b"), "/jobs/a/b");
        assert_eq!(back_from("http://127.0.0.1:8640//evil.example/x"), "/");
        assert_eq!(
            back_from("http://127.0.0.1:8640/%2F%2Fevil.example"),
            "/%2F%2Fevil.example"
        );
        assert_eq!(back_from("not a url"), "/");
        assert!(!is_local_path("/\\evil.example"));
    }
}
