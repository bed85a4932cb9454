//! The dashboard: server-rendered HTML on the ops port, no front-end build.
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

use axum::Form;
use axum::extract::{Extension, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::http::{
    ApiError, Operator, OpsState, Sessions, cancel_posting, operator_for, retry_posting, session_in,
};
use super::session::{self, Session};
use crate::boards::render::escape_html as e;
use crate::store::ops as actions;
use crate::store::postings;

/// The cookie holding the signed-in operator's session.
pub const COOKIE: &str = "boardcast_ops";
/// A submitted posting unconfirmed for this long is shown as stuck.
const SUBMITTED_STUCK_MINUTES: i64 = 15;
/// Feed boards crawl every 12–24 hours: two days unfetched is worth a look.
const UNFETCHED_STUCK_MINUTES: i64 = 48 * 60;

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}\
th{background:#f3f3f3}.failed{color:#b00}.posted{color:#070}.why{color:#555;font-size:12px}\
form{display:inline}button{margin-right:4px}";

/// The only style or script the pages may use: the stylesheet above, by its
/// digest; no scripts, no framing, forms only to this origin.
static CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let style = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{style}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
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

fn document(title: &str, header: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{} · boardcast</title><style>{STYLE}</style></head>\
         <body><div><a href=\"/\">boardcast</a>{header}</div><h1>{}</h1>{body}</body></html>",
        e(title),
        e(title)
    ))
}

/// A page for a signed-in operator, with the sign-out button.
fn page(title: &str, body: &str) -> Html<String> {
    document(
        title,
        " <form method=\"post\" action=\"/logout\"><button id=\"sign-out\">Sign out</button></form>",
        body,
    )
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

pub async fn login_form() -> Html<String> {
    document(
        "Sign in",
        "",
        "<form method=\"post\" action=\"/login\"><label>API token <input type=\"password\" name=\"token\" id=\"token\"></label> \
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form>",
    )
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
            document("Sign in", "", "<p class=\"failed\">Unknown token.</p>"),
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
    let mut html =
        String::from("<h2>Postings by board and state</h2><table id=\"counts\"><tr><th>board</th>");
    for status in &statuses {
        html.push_str(&format!("<th>{}</th>", e(status)));
    }
    html.push_str("</tr>");
    for (board, row) in &by_board {
        html.push_str(&format!("<tr><td>{}</td>", e(board)));
        for status in &statuses {
            html.push_str(&format!(
                "<td>{}</td>",
                row.get(status).copied().unwrap_or(0)
            ));
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");

    let health = actions::board_health(&state.pool).await?;
    html.push_str(
        "<h2>Boards</h2><table id=\"boards\"><tr><th>board</th><th>due now</th><th>in flight</th>\
         <th>attempts (1 h)</th><th>accepted (1 h)</th><th>rescued (24 h)</th></tr>",
    );
    for row in &health {
        html.push_str(&format!(
            "<tr id=\"board-{board}\"><td>{board}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"rescued\">{}</td></tr>",
            row.due,
            row.in_flight,
            row.attempts_last_hour,
            row.successes_last_hour,
            row.rescued_last_day,
            board = e(&row.board),
        ));
    }
    html.push_str("</table><p class=\"why\">Rescued: a worker stopped mid-attempt (crash, kill, lost lease) and another took the posting over, looking it up at the board before sending again.</p>");

    html.push_str(&format!("<h2>Needs attention ({})</h2>", attention.len()));
    if attention.is_empty() {
        html.push_str("<p>Nothing failed or stuck.</p>");
    } else {
        html.push_str("<table id=\"attention\"><tr><th>job</th><th>board</th><th>language</th><th>state</th><th>attempts</th><th>the board said</th><th></th></tr>");
        for row in &attention {
            html.push_str(&format!(
                "<tr id=\"posting-{id}\"><td><a href=\"/jobs/{tenant_url}/{job_url}\">{tenant} / {job}</a></td><td>{board}</td><td>{locale}</td>\
                 <td class=\"{status}\">{status}<div class=\"why\">{why}</div></td><td>{attempts}</td><td>{error}</td><td>{buttons}</td></tr>",
                id = row.id,
                tenant_url = url_part(&row.tenant_id),
                job_url = url_part(&row.job_id),
                tenant = e(&row.tenant_id),
                job = e(&row.job_id),
                board = e(&row.board),
                locale = e(&row.locale),
                status = e(&row.status),
                why = if row.why == row.status { String::new() } else { e(&row.why) },
                attempts = row.attempts,
                error = e(row.last_error.as_deref().unwrap_or("")),
                buttons = buttons(row.id),
            ));
        }
        html.push_str("</table>");
    }
    Ok(page("Postings", &html).into_response())
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
    let mut html = String::from(
        "<table id=\"job\"><tr><th>board</th><th>language</th><th>revision</th><th>state</th><th>attempts</th><th>at the board</th><th>the board said</th><th></th></tr>",
    );
    for row in &rows {
        let link = match (&row.external_url, &row.external_id) {
            (Some(url), Some(id)) => board_link(url, id),
            (Some(url), None) => board_link(url, url),
            (None, Some(id)) => e(id),
            (None, None) => String::new(),
        };
        html.push_str(&format!(
            "<tr id=\"posting-{id}\"><td>{board}</td><td>{locale}</td><td>{revision}</td><td class=\"{status}\">{status}</td><td>{attempts}</td><td>{link}</td><td>{error}</td><td>{buttons}</td></tr>",
            id = row.id,
            board = e(&row.board),
            locale = e(&row.locale),
            revision = row.revision,
            status = e(&row.status),
            attempts = row.attempts,
            error = e(row.last_error.as_deref().unwrap_or("")),
            buttons = if matches!(row.status.as_str(), "failed" | "cancelled" | "retry_scheduled" | "verifying" | "queued" | "submitted") {
                buttons(row.id)
            } else {
                String::new()
            },
        ));
    }
    html.push_str("</table>");
    Ok(page(&format!("{tenant} / {job}"), &html).into_response())
}

fn buttons(id: i64) -> String {
    format!(
        "<form method=\"post\" action=\"/dashboard/postings/{id}/retry\"><button id=\"retry-{id}\">Retry</button></form>\
         <form method=\"post\" action=\"/dashboard/postings/{id}/cancel\"><button id=\"cancel-{id}\">Cancel</button></form>"
    )
}

/// A board's URL for its copy of the ad: a link only if it is http(s). A
/// `javascript:` (or `data:`) URL from a board would run on this origin with
/// the operator's session, so anything else is shown as text.
fn board_link(url: &str, label: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
            e(parsed.as_str()),
            e(label)
        ),
        _ if label == url => e(url),
        _ => format!("{} <span class=\"why\">{}</span>", e(label), e(url)),
    }
}

fn url_part(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
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

    #[test]
    fn only_http_links_are_links() {
        assert!(
            board_link("https://board.example/j/1", "1")
                .starts_with("<a href=\"https://board.example/j/1\"")
        );
        for hostile in [
            "javascript:alert(document.cookie)",
            " javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
        ] {
            let html = board_link(hostile, "1");
            assert!(!html.contains("<a"), "{hostile}: {html}");
            assert!(!html.contains("<script"), "{hostile}: {html}");
        }
    }
}
