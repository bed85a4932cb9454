//! The dashboard: server-rendered HTML on the ops port, no front-end build.
//!
//! `/` shows counts by board and state, then what needs attention (failed
//! postings with the board's reason, stuck ones) with Retry and Cancel
//! buttons; `/jobs/{tenant}/{job}` shows one job across all boards. Sign-in
//! is the API token, kept in an HttpOnly, SameSite=Strict cookie (which also
//! keeps other sites from submitting the buttons' forms).

use std::collections::{BTreeMap, BTreeSet};

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::http::{ApiError, Operator, OpsState, cancel_posting, operator_for, retry_posting};
use crate::boards::render::escape_html as e;
use crate::store::ops as actions;
use crate::store::postings;

/// The cookie holding the signed-in operator's token.
pub const COOKIE: &str = "boardcast_ops";
/// A submitted posting unconfirmed for this long is shown as stuck.
const SUBMITTED_STUCK_MINUTES: i64 = 15;
/// Feed boards crawl every 12–24 hours: two days unfetched is worth a look.
const UNFETCHED_STUCK_MINUTES: i64 = 48 * 60;

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}\
th{background:#f3f3f3}.failed{color:#b00}.posted{color:#070}.why{color:#555;font-size:12px}\
form{display:inline}button{margin-right:4px}";

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{} · boardcast</title><style>{STYLE}</style></head>\
         <body><p><a href=\"/\">boardcast</a></p><h1>{}</h1>{body}</body></html>",
        e(title),
        e(title)
    ))
}

/// The dashboard's pages send people without a token to sign in.
fn sign_in_first(state: &OpsState, headers: &HeaderMap) -> Option<Response> {
    operator_for(state, headers)
        .is_none()
        .then(|| Redirect::to("/login").into_response())
}

pub async fn login_form() -> Html<String> {
    page(
        "Sign in",
        "<form method=\"post\" action=\"/login\"><label>API token <input type=\"password\" name=\"token\" id=\"token\"></label> \
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form>",
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

pub async fn login(State(state): State<OpsState>, Form(form): Form<LoginForm>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        format!("Bearer {}", form.token)
            .parse()
            .unwrap_or(header::HeaderValue::from_static("")),
    );
    if operator_for(&state, &headers).is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            page("Sign in", "<p class=\"failed\">Unknown token.</p>"),
        )
            .into_response();
    }
    let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", form.token);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

pub async fn overview(
    State(state): State<OpsState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(login) = sign_in_first(&state, &headers) {
        return Ok(login);
    }
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
    State(state): State<OpsState>,
    headers: HeaderMap,
    Path((tenant, job)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if let Some(login) = sign_in_first(&state, &headers) {
        return Ok(login);
    }
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
            (Some(url), Some(id)) => format!("<a href=\"{}\">{}</a>", e(url), e(id)),
            (None, Some(id)) => e(id),
            _ => String::new(),
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

/// Back to the page the button was on (same origin only).
fn back(headers: &HeaderMap) -> Response {
    let to = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    Redirect::to(&to).into_response()
}
