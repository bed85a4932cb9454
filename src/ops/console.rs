//! The console's pages beyond sign-in: askama templates under
//! `templates/console/` (checked at compile time, every value HTML-escaped
//! unless marked `|safe`), one base layout with the navigation.
//!
//! `/postings` filters and pages through postings; `/postings/{id}` shows one
//! with every attempt and what happens next; `/postings/bulk` retries or
//! cancels every posting of the current filter, after a dry run's count.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use super::charts::Series;
use super::dashboard::SignedIn;
use super::http::{Action, ApiError, Operator, OpsState, act};
use crate::store::activity::{self, Window};
use crate::store::ops::Selection;
use crate::store::postings::{self, AttemptView, PostingFilter, PostingView};
use crate::store::{PostingStatus, boards};

/// The one stylesheet of every page, allowed by its digest in the CSP.
pub const STYLE: &str = ":root{--fg:#1d2330;--muted:#5b6475;--line:#dde1e8;--bg:#f5f6f8;--accent:#2457c5}\
*{box-sizing:border-box}body{font:14px/1.45 system-ui,sans-serif;margin:0;color:var(--fg);background:var(--bg)}\
header{background:#1d2330;padding:0 1.5em;display:flex;align-items:center;gap:1.5em;min-height:48px}\
header a{color:#cfd8ea;text-decoration:none;margin-right:1em}header a:hover{color:#fff}.brand{font-weight:700;color:#fff}\
header form{margin-left:auto}main{padding:.5em 1.5em 2em}h1{font-size:22px}h2{font-size:16px;margin-top:1.5em}\
a{color:var(--accent)}table{border-collapse:collapse;margin:.5em 0 1em;background:#fff;border:1px solid var(--line)}\
td,th{border-bottom:1px solid var(--line);padding:5px 10px;text-align:left;vertical-align:top}\
th{background:#eef1f5;font-weight:600;font-size:12px;color:var(--muted)}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.facts th{width:10em}.said{max-width:32em;overflow-wrap:anywhere;font-size:13px}\
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;background:#e4e7ec;white-space:nowrap}\
.badge.posted,.badge.accepted,.badge.live{background:#dcf3e3;color:#116329}\
.badge.failed,.badge.rejected,.badge.error{background:#fde2e1;color:#a1120a}\
.badge.retry_scheduled,.badge.verifying,.badge.paused{background:#fff1cc;color:#7a5200}\
.badge.in_flight,.badge.submitted,.badge.queued{background:#dde8fb;color:#1d4597}\
.failed{color:#b00}.posted{color:#070}.why{color:var(--muted);font-size:12px}\
.card{background:#fff;border:1px solid var(--line);padding:.8em 1em;margin:.5em 0 1em}\
.filters{display:flex;flex-wrap:wrap;gap:.8em;align-items:flex-end}\
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}\
input,select{font:inherit;padding:3px 6px;border:1px solid #b8bfcc;border-radius:4px}\
form{display:inline}button{font:inherit;margin-right:4px;padding:3px 10px;border-radius:4px;border:1px solid var(--accent);\
background:var(--accent);color:#fff;cursor:pointer}button.secondary{background:#fff;color:var(--accent)}";

/// Live updates of the overview and boards pages, without a front-end
/// build: every 5 s the page is fetched again and each `data-live` table is
/// swapped for its new version, unless the operator is typing (a pause
/// reason would be lost). Allowed by its digest in the CSP.
pub const LIVE_SCRIPT: &str = "setInterval(async()=>{const a=document.activeElement;\
if(a&&(a.tagName==='INPUT'||a.tagName==='SELECT'))return;\
const r=await fetch(location.href,{credentials:'same-origin',cache:'no-store'});\
if(!r.ok||r.redirected)return;\
const d=new DOMParser().parseFromString(await r.text(),'text/html');\
for(const t of document.querySelectorAll('[data-live]')){const n=d.getElementById(t.id);if(n)t.replaceWith(n);}\
},5000);";

/// Postings a page of `/postings` shows.
pub const PAGE: i64 = 50;

/// A time as the console shows it (UTC, to the second).
pub fn when(at: &OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.to_string())
}

/// Renders a page; a template error is the server's fault, shown without detail.
pub fn page(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(message = "A console page failed to render.", %error);
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render".to_owned(),
            )
            .into_response()
        }
    }
}

/// A board's copy of the ad: a link only if its URL is http(s). A
/// `javascript:` (or `data:`) URL from a board would run on this origin with
/// the operator's session, so anything else is shown as text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BoardLink {
    pub href: Option<String>,
    pub label: String,
    /// A URL that is not a link, shown beside the board's id.
    pub note: Option<String>,
}

impl BoardLink {
    pub fn of(posting: &PostingView) -> Self {
        match (&posting.external_url, &posting.external_id) {
            (Some(url), Some(id)) => Self::new(url, id),
            (Some(url), None) => Self::new(url, url),
            (None, Some(id)) => BoardLink {
                label: id.clone(),
                ..BoardLink::default()
            },
            (None, None) => BoardLink::default(),
        }
    }

    pub fn new(url: &str, label: &str) -> Self {
        match url::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => BoardLink {
                href: Some(parsed.to_string()),
                label: label.to_owned(),
                note: None,
            },
            _ => BoardLink {
                href: None,
                label: label.to_owned(),
                note: (label != url).then(|| url.to_owned()),
            },
        }
    }
}

/// Whether Retry and Cancel apply to a posting in this state.
pub fn actionable(status: &str) -> bool {
    matches!(
        status,
        "failed" | "cancelled" | "retry_scheduled" | "verifying" | "queued" | "submitted"
    )
}

/// The postings filter as the form sends it: an empty field filters nothing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListFilter {
    #[serde(default)]
    pub tenant: String,
    #[serde(default)]
    pub job: String,
    #[serde(default)]
    pub board: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub locale: String,
    #[serde(default)]
    pub older_than_minutes: String,
    /// Text in the job id or the ad's title.
    #[serde(default)]
    pub q: String,
}

fn given(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

impl ListFilter {
    /// The fields that filter, as form or query pairs.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("tenant", self.tenant.as_str()),
            ("job", &self.job),
            ("board", &self.board),
            ("status", &self.status),
            ("locale", &self.locale),
            ("older_than_minutes", &self.older_than_minutes),
            ("q", &self.q),
        ]
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs().is_empty()
    }

    /// The filter as a query string, with `extra` pairs after it.
    pub fn query(&self, extra: &[(&str, &str)]) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.pairs())
            .extend_pairs(extra)
            .finish()
    }

    /// The filter in words, for the confirmation of a bulk action.
    pub fn words(&self) -> String {
        let pairs = self.pairs();
        if pairs.is_empty() {
            return "every posting".to_owned();
        }
        pairs
            .iter()
            .map(|(name, value)| match *name {
                "q" => format!("matching {value:?}"),
                name => format!("{} {value}", name.replace('_', " ")),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn status(&self) -> Result<Option<PostingStatus>, String> {
        let Some(wanted) = given(&self.status) else {
            return Ok(None);
        };
        wanted.parse::<PostingStatus>().map(Some)
    }

    /// The store's filter, or why the form's values are not one.
    pub fn posting_filter(&self, before_id: Option<i64>) -> Result<PostingFilter, String> {
        let older_than_minutes = match given(&self.older_than_minutes) {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(minutes) if (0..=super::http::MAX_OLDER_THAN_MINUTES).contains(&minutes) => {
                    Some(minutes)
                }
                _ => {
                    return Err(format!(
                        "unchanged for: a number of minutes from 0 to {}, not {text:?}",
                        super::http::MAX_OLDER_THAN_MINUTES
                    ));
                }
            },
        };
        Ok(PostingFilter {
            tenant: given(&self.tenant),
            job: given(&self.job),
            board: given(&self.board),
            status: self.status()?,
            locale: given(&self.locale),
            older_than_minutes,
            before_id,
            limit: Some(PAGE),
            search: given(&self.q),
        })
    }

    /// Exactly the list's filter (less paging), so the dry run counts and
    /// the action changes the postings the operator sees.
    fn selection(&self) -> Result<Selection, String> {
        let filter = self.posting_filter(None)?;
        Ok(Selection {
            ids: None,
            tenant: filter.tenant,
            job: filter.job,
            board: filter.board,
            status: filter.status.map(|s| s.as_str().to_owned()),
            locale: filter.locale,
            older_than_minutes: filter.older_than_minutes,
            search: filter.search,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PostingsQuery {
    #[serde(flatten)]
    filter: ListFilter,
    /// Paging: only postings with a smaller id (a string: flattened forms carry strings).
    #[serde(default)]
    before_id: String,
}

#[derive(Template)]
#[template(path = "console/postings.html")]
struct PostingsPage {
    title: String,
    filter: ListFilter,
    boards: Vec<String>,
    statuses: Vec<&'static str>,
    rows: Vec<PostingView>,
    error: Option<String>,
    next_page: Option<String>,
}

pub async fn postings_page(
    _: SignedIn,
    State(state): State<OpsState>,
    Query(query): Query<PostingsQuery>,
) -> Result<Response, ApiError> {
    let filter = query.filter;
    let before_id = given(&query.before_id).and_then(|id| id.parse::<i64>().ok());
    let (rows, error) = match filter.posting_filter(before_id) {
        Ok(store_filter) => (postings::list(&state.pool, &store_filter).await?, None),
        Err(error) => (Vec::new(), Some(error)),
    };
    let next_page = (rows.len() as i64 == PAGE)
        .then(|| rows.last())
        .flatten()
        .map(|last| filter.query(&[("before_id", &last.id.to_string())]));
    let boards = state
        .settings
        .boards
        .keys()
        .map(|key| crate::config::board_id(key))
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let html = page(&PostingsPage {
        title: "Postings".to_owned(),
        filter,
        boards,
        statuses: PostingStatus::ALL.iter().map(|s| s.as_str()).collect(),
        rows,
        error,
        next_page,
    });
    Ok((status, html).into_response())
}

#[derive(Template)]
#[template(path = "console/posting.html")]
struct PostingPage {
    title: String,
    link: BoardLink,
    actionable: bool,
    next_at: Option<String>,
    next_why: String,
    posting: PostingView,
    attempts: Vec<AttemptView>,
}

pub async fn posting_page(
    _: SignedIn,
    State(state): State<OpsState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let Some(posting) = postings::get(&state.pool, id).await? else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no posting {id}")));
    };
    let attempts = postings::attempts(&state.pool, id).await?;
    let pause = boards::pauses(&state.pool)
        .await?
        .into_iter()
        .find(|p| p.board == posting.board);
    let label = super::metrics::Metrics::board(&posting.board);
    let circuit_open = state.metrics.circuit_open.get_or_create(&label).get() == 1;
    let (next_at, next_why) = next_step(&posting, pause.as_ref(), circuit_open);
    Ok(page(&PostingPage {
        title: format!("Posting {id}"),
        link: BoardLink::of(&posting),
        actionable: actionable(&posting.status),
        next_at: next_at.as_ref().map(when),
        next_why,
        posting,
        attempts,
    }))
}

/// What happens to a posting next, and why: when (if scheduled) and the reason.
/// `circuit_open` is this replica's view of the board's circuit.
pub fn next_step(
    posting: &PostingView,
    pause: Option<&boards::Pause>,
    circuit_open: bool,
) -> (Option<OffsetDateTime>, String) {
    let at = posting.next_attempt_at;
    let waiting = matches!(
        posting.status.as_str(),
        "queued" | "retry_scheduled" | "verifying" | "submitted"
    );
    if waiting && let Some(pause) = pause {
        return (
            None,
            format!(
                "waits, using no attempts: the board was paused by {} at {}: {}",
                pause.paused_by,
                when(&pause.paused_at),
                pause.reason
            ),
        );
    }
    if waiting && circuit_open {
        return (
            at,
            "waits: the board's circuit is open on this replica after repeated failures".to_owned(),
        );
    }
    let error = posting.last_error.as_deref().unwrap_or("no detail");
    let why = match posting.status.as_str() {
        "queued" => "first send to the board".to_owned(),
        "retry_scheduled" => format!("retry after: {error}"),
        "verifying" => "looks the posting up at the board before sending again (an earlier attempt may have reached it)".to_owned(),
        "submitted" => "the board accepted it: a confirmation poll, or its crawler fetching our feed".to_owned(),
        "in_flight" => "a worker is sending it now".to_owned(),
        "failed" => format!("nothing: failed after {} attempts ({error}); Retry sends it again", posting.attempts),
        "cancelled" => "nothing: cancelled; Retry sends it again".to_owned(),
        settled => format!("nothing: {settled}"),
    };
    (if waiting { at } else { None }, why)
}

#[derive(Debug, Deserialize)]
pub struct BulkRequest {
    #[serde(flatten)]
    filter: ListFilter,
    #[serde(default)]
    action: String,
    /// `true` when the filter is empty and every posting is meant.
    #[serde(default)]
    all: String,
    /// The dry run's count the operator confirmed.
    #[serde(default)]
    expected: String,
}

impl BulkRequest {
    fn action(&self) -> Result<Action, String> {
        match self.action.as_str() {
            "retry" => Ok(Action::Retry),
            "cancel" => Ok(Action::Cancel),
            other => Err(format!("no bulk action {other:?}: retry or cancel")),
        }
    }

    /// The selection, refusing an empty filter unless `all` says so.
    fn selection(&self) -> Result<(Action, Selection, bool), String> {
        let action = self.action()?;
        let all = self.all == "true";
        if self.filter.is_empty() && !all {
            return Err(
                "the filter selects every posting: tick \"every posting\" to act on all of them"
                    .to_owned(),
            );
        }
        Ok((action, self.filter.selection()?, all))
    }
}

#[derive(Template)]
#[template(path = "console/bulk.html")]
struct BulkPage {
    title: String,
    note: Option<String>,
    action: &'static str,
    count: i64,
    filter: ListFilter,
    all: bool,
    back: String,
}

#[derive(Template)]
#[template(path = "console/done.html")]
struct DonePage {
    title: String,
    message: String,
    next: String,
}

fn bad_request(message: String) -> Response {
    ApiError(StatusCode::BAD_REQUEST, message).into_response()
}

/// The dry run: how many postings the filter's action would change.
pub async fn bulk_preview(
    operator: Operator,
    State(state): State<OpsState>,
    Query(request): Query<BulkRequest>,
) -> Result<Response, ApiError> {
    let (action, selection, all) = match request.selection() {
        Ok(chosen) => chosen,
        Err(message) => return Ok(bad_request(message)),
    };
    let dry = act(&state, &operator, action, selection, true).await?;
    Ok(confirmation(
        request.filter,
        dry.action,
        dry.affected,
        all,
        None,
    ))
}

fn confirmation(
    filter: ListFilter,
    action: &'static str,
    count: i64,
    all: bool,
    note: Option<String>,
) -> Response {
    page(&BulkPage {
        title: format!("Bulk {action}"),
        note,
        action,
        count,
        back: filter.query(&[]),
        filter,
        all,
    })
}

/// Acts on the filter once the operator confirmed the dry run's count. If
/// the count changed meanwhile, the new count is shown for confirmation
/// instead: the operator agreed to a number, not to whatever matches now.
pub async fn bulk_act(
    operator: Operator,
    State(state): State<OpsState>,
    Form(request): Form<BulkRequest>,
) -> Result<Response, ApiError> {
    let (action, selection, all) = match request.selection() {
        Ok(chosen) => chosen,
        Err(message) => return Ok(bad_request(message)),
    };
    let Ok(expected) = request.expected.parse::<i64>() else {
        return Ok(bad_request(
            "confirm the dry run's count (expected) first".to_owned(),
        ));
    };
    let dry = act(&state, &operator, action, selection.clone(), true).await?;
    if dry.affected != expected {
        return Ok(confirmation(
            request.filter,
            dry.action,
            dry.affected,
            all,
            Some(format!(
                "The count changed from {expected} to {} since the dry run: confirm again.",
                dry.affected
            )),
        ));
    }
    let done = act(&state, &operator, action, selection, false).await?;
    let verb = match action {
        Action::Retry => "Retried",
        Action::Cancel => "Cancelled",
    };
    Ok(page(&DonePage {
        title: format!("Bulk {}", done.action),
        message: format!(
            "{verb} {} posting(s): {}. Recorded in the operator log.",
            done.affected,
            request.filter.words()
        ),
        next: format!("/postings?{}", request.filter.query(&[])),
    }))
}

/// Attempts over a window, in words: count, share accepted, p95 duration.
fn rate(attempts: i64, successes: i64, p95_ms: Option<f64>) -> String {
    if attempts == 0 {
        return "no attempts".to_owned();
    }
    let share = 100.0 * successes as f64 / attempts as f64;
    match p95_ms {
        Some(ms) => format!("{attempts} · {share:.0} % · {ms:.0} ms"),
        None => format!("{attempts} · {share:.0} %"),
    }
}

/// One board as the boards page shows it.
struct BoardCard {
    id: String,
    mechanism: &'static str,
    enabled: bool,
    due: i64,
    in_flight: i64,
    posted: i64,
    failed: i64,
    hour: String,
    day: String,
    circuit_open: bool,
    /// Requests claimed by every replica, and each configured budget's use.
    budgets: Vec<String>,
    feed_url: Option<String>,
    last_fetch: Option<String>,
    pause: Option<boards::Pause>,
    /// Two pre-rendered SVG charts (last hour, last day) of the board's
    /// attempts, posted and failed, inserted as is (`|safe`): `ops::charts`
    /// escapes every text it writes.
    chart: Option<String>,
}

#[derive(Template)]
#[template(path = "console/boards.html")]
struct BoardsPage {
    title: &'static str,
    boards: Vec<BoardCard>,
}

pub async fn boards_page(_: SignedIn, State(state): State<OpsState>) -> Result<Response, ApiError> {
    let health = crate::store::ops::board_health(&state.pool).await?;
    let timings = crate::store::ops::board_timings(&state.pool).await?;
    let pauses = boards::pauses(&state.pool).await?;
    let now = OffsetDateTime::now_utc();
    let ids: Vec<String> = state
        .settings
        .boards
        .keys()
        .map(|key| crate::config::board_id(key))
        .collect();
    // One query per window for every board, not one per board.
    let hour = activity::recent(&state.pool, &ids, Window::Hour).await?;
    let day = activity::recent(&state.pool, &ids, Window::Day).await?;
    let mut cards = Vec::new();
    for (key, settings) in &state.settings.boards {
        let id = crate::config::board_id(key);
        let chart = [
            (Window::Hour, &hour, "last hour, per minute"),
            (Window::Day, &day, "last day, per 30 min"),
        ]
        .into_iter()
        .filter_map(|(window, all, span)| {
            let board = all.iter().find(|a| a.board == id)?;
            Some(super::charts::time_chart(
                &format!("{id}: {span}"),
                &[
                    Series {
                        name: "attempts",
                        colour: super::charts::BLUE,
                        values: &board.attempts,
                    },
                    Series {
                        name: "posted",
                        colour: super::charts::GREEN,
                        values: &board.posted,
                    },
                    Series {
                        name: "failed",
                        colour: super::charts::VERMILION,
                        values: &board.failed,
                    },
                ],
                &window.ticks(),
            ))
        })
        .collect::<String>();
        let row = health.iter().find(|h| h.board == id);
        let timing = timings.iter().find(|t| t.board == id);
        let label = super::metrics::Metrics::board(&id);
        let mut budgets = vec![format!(
            "{} requests in the last hour",
            boards::requests_since(&state.pool, &id, now - time::Duration::HOUR, false).await?
        )];
        for budget in &settings.budgets {
            let period = time::Duration::milliseconds(budget.period_ms as i64);
            let used = boards::requests_since(&state.pool, &id, now - period, false).await?;
            budgets.push(format!(
                "budget: {used} of {} per {} min",
                budget.requests,
                period.whole_minutes()
            ));
        }
        let feed_url = state
            .feeds
            .file_of(&id)
            .map(|file| state.settings.feed_url(file));
        let last_fetch = match feed_url {
            Some(_) => crate::store::feeds::status(&state.pool, &id)
                .await?
                .last_fetched_at
                .as_ref()
                .map(when),
            None => None,
        };
        cards.push(BoardCard {
            mechanism: crate::boards::mechanism(&id).unwrap_or("unknown"),
            enabled: settings.enabled,
            due: row.map_or(0, |h| h.due),
            in_flight: row.map_or(0, |h| h.in_flight),
            posted: row.map_or(0, |h| h.posted),
            failed: row.map_or(0, |h| h.failed),
            hour: timing.map_or_else(
                || rate(0, 0, None),
                |t| {
                    rate(
                        t.attempts_last_hour,
                        t.successes_last_hour,
                        t.p95_ms_last_hour,
                    )
                },
            ),
            day: timing.map_or_else(
                || rate(0, 0, None),
                |t| rate(t.attempts_last_day, t.successes_last_day, t.p95_ms_last_day),
            ),
            circuit_open: state.metrics.circuit_open.get_or_create(&label).get() == 1,
            budgets,
            feed_url,
            last_fetch,
            pause: pauses.iter().find(|p| p.board == id).cloned(),
            chart: (!chart.is_empty()).then_some(chart),
            id,
        });
    }
    Ok(page(&BoardsPage {
        title: "Boards",
        boards: cards,
    }))
}

#[derive(Debug, Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    reason: String,
}

/// Pauses a board for every replica, with who and why (the operator log records it).
pub async fn pause(
    operator: Operator,
    State(state): State<OpsState>,
    Path(board): Path<String>,
    Form(form): Form<PauseForm>,
) -> Result<Response, ApiError> {
    super::http::known_board(&state, &board)?;
    super::http::check_pause_reason(&form.reason)?;
    boards::pause(&state.pool, &board, &operator.0, form.reason.trim()).await?;
    tracing::info!(message = "Board paused.", actor = %operator.0, board = %board);
    Ok(Redirect::to("/boards").into_response())
}

pub async fn resume(
    operator: Operator,
    State(state): State<OpsState>,
    Path(board): Path<String>,
) -> Result<Response, ApiError> {
    super::http::known_board(&state, &board)?;
    boards::resume(&state.pool, &board, &operator.0).await?;
    tracing::info!(message = "Board resumed.", actor = %operator.0, board = %board);
    state.wakers.wake(&board);
    Ok(Redirect::to("/boards").into_response())
}

#[derive(Template)]
#[template(path = "console/rejected.html")]
struct RejectedPage {
    title: &'static str,
    message: Option<String>,
    rows: Vec<crate::store::rejected::RejectedView>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RejectedQuery {
    /// The rejection just replayed, to confirm it.
    replayed: Option<i64>,
}

pub async fn rejected_page(
    _: SignedIn,
    State(state): State<OpsState>,
    Query(query): Query<RejectedQuery>,
) -> Result<Response, ApiError> {
    let rows = crate::store::rejected::list(&state.pool, 100).await?;
    Ok(page(&RejectedPage {
        title: "Rejected messages",
        message: query
            .replayed
            .map(|id| format!("Rejected message {id} was published to the intake again.")),
        rows,
    }))
}

pub async fn replay(
    operator: Operator,
    State(state): State<OpsState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    super::http::replay_rejected(&state, &operator, id, None).await?;
    Ok(Redirect::to(&format!("/rejected?replayed={id}")).into_response())
}

/// What an operator action selected, in words: its non-empty fields
/// (`everything: true` for an action on every posting).
pub fn selected(filter: &serde_json::Value) -> String {
    let Some(fields) = filter.as_object() else {
        return filter.to_string();
    };
    let words: Vec<String> = fields
        .iter()
        .filter(|(_, value)| {
            !(value.is_null() || *value == false || value.as_str().is_some_and(str::is_empty))
        })
        .map(|(name, value)| match value.as_str() {
            Some(text) => format!("{name} {text}"),
            None => format!("{name} {value}"),
        })
        .collect();
    words.join(", ")
}

#[derive(Template)]
#[template(path = "console/operator_log.html")]
struct OperatorLogPage {
    title: &'static str,
    rows: Vec<crate::store::ops::OperatorAction>,
    next_page: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    before_id: Option<i64>,
}

pub async fn operator_log_page(
    _: SignedIn,
    State(state): State<OpsState>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let rows = crate::store::ops::operator_log(&state.pool, query.before_id, PAGE).await?;
    let next_page = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(page(&OperatorLogPage {
        title: "Operator log",
        rows,
        next_page,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_are_links() {
        assert_eq!(
            BoardLink::new("https://board.example/j/1", "1")
                .href
                .as_deref(),
            Some("https://board.example/j/1")
        );
        for hostile in [
            "javascript:alert(document.cookie)",
            " javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
        ] {
            let link = BoardLink::new(hostile, "1");
            assert_eq!(link.href, None, "{hostile}");
            assert_eq!(link.note.as_deref(), Some(hostile));
        }
    }

    #[test]
    fn an_operator_action_says_what_it_selected() {
        let filter = serde_json::json!({
            "board": "stepstone", "everything": false, "ids": null, "status": "failed", "reason": ""
        });
        assert_eq!(selected(&filter), "board stepstone, status failed");
        assert_eq!(
            selected(&serde_json::json!({ "everything": true })),
            "everything true"
        );
    }

    #[test]
    fn an_empty_filter_needs_all_for_a_bulk_action() {
        let request = |all: &str| BulkRequest {
            filter: ListFilter::default(),
            action: "retry".to_owned(),
            all: all.to_owned(),
            expected: String::new(),
        };
        assert!(request("").selection().is_err());
        let (_, selection, all) = request("true").selection().unwrap();
        assert!(all);
        assert_eq!(selection, Selection::default());
    }

    #[test]
    fn a_language_age_or_search_filter_is_never_widened_by_a_bulk_action() {
        let filter = ListFilter {
            board: "stepstone".to_owned(),
            locale: "de".to_owned(),
            older_than_minutes: "30".to_owned(),
            q: "sales".to_owned(),
            ..ListFilter::default()
        };
        assert_eq!(
            filter.selection().unwrap(),
            Selection {
                board: Some("stepstone".to_owned()),
                locale: Some("de".to_owned()),
                older_than_minutes: Some(30),
                search: Some("sales".to_owned()),
                ..Selection::default()
            }
        );
        let filter = ListFilter {
            board: "stepstone".to_owned(),
            status: "failed".to_owned(),
            ..ListFilter::default()
        };
        assert_eq!(
            filter.selection().unwrap(),
            Selection {
                board: Some("stepstone".to_owned()),
                status: Some("failed".to_owned()),
                ..Selection::default()
            }
        );
        assert_eq!(filter.words(), "board stepstone, status failed");
    }
}
