//! The worker's two HTTP servers.
//!
//! The public one ([`public_router`], `ops.public_listen`) serves only what
//! boards and crawlers fetch: `/feeds/*`, `/jobs/<reference>`, `/sitemap.xml`
//! and `/healthz`. The private ops one ([`router`], `ops.listen`) serves the
//! API, the dashboard, `/metrics`, `/readyz` and `/healthz`; `/readyz` and
//! `/metrics` are open (probes and scrapers), everything under `/api/v1`
//! needs `Authorization: Bearer <token>` (or a dashboard session), where the
//! token is one of `ops.tokens` (configured like credentials, never in the
//! repository). The token's name is recorded as the actor of every action.
//! `/openapi.json` documents the routes; a test keeps it in step.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{Extension, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use tracing::{error, info};

use crate::config::Settings;
use crate::dispatch::Wakers;
use crate::intake::amqp::Publisher;
use crate::store::activity::{self, Window};
use crate::store::ops::{self as actions, ActionResult, Selection};
use crate::store::{postings, rejected};

use super::metrics::Metrics;
use super::session::{self, Session, SessionKey};
use super::{console, dashboard};

/// The OpenAPI document of this server.
pub const OPENAPI: &str = include_str!("openapi.json");

#[derive(Clone)]
pub struct OpsState {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub wakers: Arc<Wakers>,
    pub metrics: Arc<Metrics>,
    /// Set once the intake consumer is attached to RabbitMQ.
    pub consuming: Arc<AtomicBool>,
    /// The feed boards' documents, served at `/feeds/<file>`.
    pub feeds: crate::feeds::Feeds,
}

/// The key dashboard sessions are signed with, a request extension of the ops router.
#[derive(Clone)]
pub struct Sessions(pub Arc<SessionKey>);

/// The private ops server's routes: API, dashboard, metrics, readiness.
pub fn router(state: OpsState) -> Router {
    let sessions = Sessions(Arc::new(SessionKey::from_settings(&state.settings.ops)));
    let api = Router::new()
        .route("/postings", get(list_postings))
        .route("/postings/{id}", get(posting))
        .route("/postings/{id}/retry", post(retry_one))
        .route("/postings/{id}/cancel", post(cancel_one))
        .route("/jobs/{tenant}/{job}", get(job))
        .route("/jobs/{tenant}/{job}/retry", post(retry_job))
        .route("/jobs/{tenant}/{job}/cancel", post(cancel_job))
        .route("/retry", post(retry_many))
        .route("/cancel", post(cancel_many))
        .route("/boards", get(boards))
        .route("/boards/{board}/pause", post(pause_board))
        .route("/boards/{board}/resume", post(resume_board))
        .route("/activity", get(activity))
        .route("/rejected", get(list_rejected))
        .route("/rejected/{id}/replay", post(replay))
        .route("/preview", post(preview));
    Router::new()
        .route("/", get(dashboard::overview))
        .route("/login", get(dashboard::login_form).post(dashboard::login))
        .route("/logout", post(dashboard::logout))
        .route("/jobs/{tenant}/{job}", get(dashboard::job))
        .route("/postings", get(console::postings_page))
        .route(
            "/postings/bulk",
            get(console::bulk_preview).post(console::bulk_act),
        )
        .route("/postings/{id}", get(console::posting_page))
        .route("/boards", get(console::boards_page))
        .route("/rejected", get(console::rejected_page))
        .route("/rejected/{id}/replay", post(console::replay))
        .route("/operator-log", get(console::operator_log_page))
        .route("/boards/{board}/pause", post(console::pause))
        .route("/boards/{board}/resume", post(console::resume))
        .route(
            "/preview",
            get(super::preview_page::form).post(super::preview_page::submit),
        )
        .route("/dashboard/postings/{id}/retry", post(dashboard::retry))
        .route("/dashboard/postings/{id}/cancel", post(dashboard::cancel))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .nest("/api/v1", api)
        .layer(Extension(sessions))
        .layer(middleware::map_response(dashboard::security_headers))
        .with_state(state)
}

/// The public server's routes: what boards and crawlers fetch, nothing else.
pub fn public_router(state: OpsState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/feeds/{file}", get(crate::feeds::serve))
        .route("/jobs/{reference}", get(crate::feeds::job_pages::page))
        .route("/sitemap.xml", get(crate::feeds::job_pages::sitemap))
        .with_state(state)
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    routes: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, routes)
        .with_graceful_shutdown(shutdown)
        .await
}

/// An API error: a status and a message for the caller; internals go to the log only.
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        error!(message = "Ops request failed on the database.", %error);
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is unavailable".to_owned(),
        )
    }
}

/// The caller, named by the token it presented.
pub struct Operator(pub String);

impl FromRequestParts<OpsState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &OpsState) -> Result<Self, ApiError> {
        operator_for(state, parts)
            .await?
            .map(Operator)
            .ok_or_else(|| {
                ApiError(
                    StatusCode::UNAUTHORIZED,
                    "a valid bearer token (or dashboard session) is required".to_owned(),
                )
            })
    }
}

/// Who is asking: the name of the `Authorization: Bearer` token if it is one
/// of `ops.tokens`, else the operator of a live dashboard session.
pub async fn operator_for(state: &OpsState, parts: &Parts) -> Result<Option<String>, ApiError> {
    let tokens = &state.settings.ops.tokens;
    if let Some(bearer) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Ok(session::token_name(tokens, bearer));
    }
    let Some(session) = parts
        .extensions
        .get::<Sessions>()
        .and_then(|sessions| session_in(sessions, &parts.headers))
    else {
        return Ok(None);
    };
    // Removing a token ends its sessions; a logout ends one.
    if !tokens.contains_key(&session.operator) || session::is_ended(&state.pool, session.id).await?
    {
        return Ok(None);
    }
    Ok(Some(session.operator))
}

/// The signed session in the dashboard's cookie, if intact and unexpired.
pub fn session_in(sessions: &Sessions, headers: &HeaderMap) -> Option<Session> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            pair.trim()
                .strip_prefix(dashboard::COOKIE)?
                .strip_prefix('=')
        })
        .find_map(|value| {
            sessions
                .0
                .verify(value, time::OffsetDateTime::now_utc())
                .ok()
        })
}

async fn ready(State(state): State<OpsState>) -> Response {
    let database = sqlx::query_scalar!(
        r#"SELECT max(version) AS "version" FROM _sqlx_migrations WHERE success"#
    )
    .fetch_one(&state.pool)
    .await;
    let expected = crate::store::MIGRATOR.iter().map(|m| m.version).max();
    let (database_ok, migrations_ok) = match database {
        Ok(applied) => (true, applied == expected),
        Err(_) => (false, false),
    };
    let consuming = state.consuming.load(Ordering::Relaxed);
    let ok = database_ok && migrations_ok && consuming;
    let body = json!({
        "ready": ok,
        "postgres": database_ok,
        "migrations_current": migrations_ok,
        "rabbitmq_consuming": consuming,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<OpsState>) -> Result<Response, ApiError> {
    let text = state.metrics.render(&state.pool).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn list_postings(
    _: Operator,
    State(state): State<OpsState>,
    Query(mut filter): Query<postings::PostingFilter>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if let Some(minutes) = filter.older_than_minutes
        && !(0..=MAX_OLDER_THAN_MINUTES).contains(&minutes)
    {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "older_than_minutes must be between 0 and {MAX_OLDER_THAN_MINUTES} (ten years), not {minutes}"
            ),
        ));
    }
    let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
    filter.limit = Some(limit);
    let rows = postings::list(&state.pool, &filter).await?;
    let next_before_id = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(Json(
        json!({ "postings": rows, "next_before_id": next_before_id }),
    ))
}

async fn posting(
    _: Operator,
    State(state): State<OpsState>,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(posting) = postings::get(&state.pool, id).await? else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no posting {id}")));
    };
    let attempts = postings::attempts(&state.pool, id).await?;
    Ok(Json(json!({ "posting": posting, "attempts": attempts })))
}

async fn job(
    _: Operator,
    State(state): State<OpsState>,
    Path((tenant, job)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let filter = postings::PostingFilter {
        tenant: Some(tenant.clone()),
        job: Some(job.clone()),
        ..postings::PostingFilter::default()
    };
    let mut rows = postings::list(&state.pool, &filter).await?;
    if rows.is_empty() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no postings for job {job} of tenant {tenant}"),
        ));
    }
    rows.sort_by(|a, b| (&a.board, &a.locale).cmp(&(&b.board, &b.locale)));
    Ok(Json(
        json!({ "tenant_id": tenant, "job_id": job, "postings": rows }),
    ))
}

/// Ten years: older is no posting of ours, and PostgreSQL's interval
/// arithmetic overflows long before `i64::MAX` minutes.
pub const MAX_OLDER_THAN_MINUTES: i64 = 10 * 365 * 24 * 60;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionRequest {
    #[serde(default, flatten)]
    selection: Selection,
    #[serde(default)]
    dry_run: bool,
    /// Bulk actions on everything must say so: `{}` selects nothing.
    #[serde(default)]
    all: bool,
}

impl ActionRequest {
    /// The selection of a bulk action, if it is explicit: ids, a tenant, a
    /// job or a board, or `"all": true` (with `status` or not), as the CLI's
    /// `--all`. A status, language, age or search alone needs `all` too.
    fn explicit_selection(self) -> Result<(Selection, bool), ApiError> {
        // Destructured so that a new filter field must be considered here.
        let Selection {
            ids,
            tenant,
            job,
            board,
            status: _,
            // Like status, these narrow within a named set or `all`.
            locale: _,
            older_than_minutes,
            search: _,
        } = &self.selection;
        if older_than_minutes.is_some_and(|m| !(0..=MAX_OLDER_THAN_MINUTES).contains(&m)) {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("older_than_minutes: from 0 to {MAX_OLDER_THAN_MINUTES}"),
            ));
        }
        let narrowed = ids.is_some() || tenant.is_some() || job.is_some() || board.is_some();
        if !narrowed && !self.all {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                "the request selects no postings: give ids, tenant, job or board, or \"all\": true (with status or not) to act on every posting".to_owned(),
            ));
        }
        Ok((self.selection, self.dry_run))
    }
}

/// What an ops action does to the postings it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Retry,
    Cancel,
}

/// Runs an action for `operator`, logs it and wakes the boards with new work.
pub async fn act(
    state: &OpsState,
    operator: &Operator,
    action: Action,
    selection: Selection,
    dry_run: bool,
) -> Result<ActionResult, ApiError> {
    let result = match action {
        Action::Retry => actions::retry(&state.pool, &selection, dry_run, &operator.0).await?,
        Action::Cancel => actions::cancel(&state.pool, &selection, dry_run, &operator.0).await?,
    };
    info!(message = "Ops action.", actor = %operator.0, action = result.action, dry_run, affected = result.affected);
    for board in &result.boards {
        state.wakers.wake(board);
    }
    Ok(result)
}

fn one(id: i64) -> Selection {
    Selection {
        ids: Some(vec![id]),
        ..Selection::default()
    }
}

/// Retries one posting, whatever state it is waiting or stopped in.
pub async fn retry_posting(
    state: &OpsState,
    operator: &Operator,
    id: i64,
) -> Result<ActionResult, ApiError> {
    let Some(current) = postings::get(&state.pool, id).await? else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no posting {id}")));
    };
    let selection = Selection {
        status: Some(current.status),
        ..one(id)
    };
    act(state, operator, Action::Retry, selection, false).await
}

pub async fn cancel_posting(
    state: &OpsState,
    operator: &Operator,
    id: i64,
) -> Result<ActionResult, ApiError> {
    act(state, operator, Action::Cancel, one(id), false).await
}

async fn retry_one(
    operator: Operator,
    State(state): State<OpsState>,
    Path(id): Path<i64>,
) -> Result<Json<ActionResult>, ApiError> {
    retry_posting(&state, &operator, id).await.map(Json)
}

async fn cancel_one(
    operator: Operator,
    State(state): State<OpsState>,
    Path(id): Path<i64>,
) -> Result<Json<ActionResult>, ApiError> {
    cancel_posting(&state, &operator, id).await.map(Json)
}

fn job_selection(
    tenant: String,
    job: String,
    request: Option<Json<ActionRequest>>,
) -> (Selection, bool) {
    let request = request.map(|Json(r)| r).unwrap_or_default();
    let selection = Selection {
        tenant: Some(tenant),
        job: Some(job),
        ..request.selection
    };
    (selection, request.dry_run)
}

async fn retry_job(
    operator: Operator,
    State(state): State<OpsState>,
    Path((tenant, job)): Path<(String, String)>,
    request: Option<Json<ActionRequest>>,
) -> Result<Json<ActionResult>, ApiError> {
    let (selection, dry_run) = job_selection(tenant, job, request);
    act(&state, &operator, Action::Retry, selection, dry_run)
        .await
        .map(Json)
}

async fn cancel_job(
    operator: Operator,
    State(state): State<OpsState>,
    Path((tenant, job)): Path<(String, String)>,
    request: Option<Json<ActionRequest>>,
) -> Result<Json<ActionResult>, ApiError> {
    let (selection, dry_run) = job_selection(tenant, job, request);
    act(&state, &operator, Action::Cancel, selection, dry_run)
        .await
        .map(Json)
}

async fn retry_many(
    operator: Operator,
    State(state): State<OpsState>,
    Json(request): Json<ActionRequest>,
) -> Result<Json<ActionResult>, ApiError> {
    let (selection, dry_run) = request.explicit_selection()?;
    act(&state, &operator, Action::Retry, selection, dry_run)
        .await
        .map(Json)
}

async fn cancel_many(
    operator: Operator,
    State(state): State<OpsState>,
    Json(request): Json<ActionRequest>,
) -> Result<Json<ActionResult>, ApiError> {
    let (selection, dry_run) = request.explicit_selection()?;
    act(&state, &operator, Action::Cancel, selection, dry_run)
        .await
        .map(Json)
}

/// Every configured board with its recent health.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseRequest {
    reason: String,
}

/// Pauses a board for every replica: its postings wait, using no attempts,
/// until it is resumed. The operator log records who and why.
async fn pause_board(
    operator: Operator,
    State(state): State<OpsState>,
    Path(board): Path<String>,
    request: Option<Json<PauseRequest>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    known_board(&state, &board)?;
    let reason = request.map(|Json(r)| r.reason).unwrap_or_default();
    check_pause_reason(&reason)?;
    let changed = crate::store::boards::pause(&state.pool, &board, &operator.0, &reason).await?;
    info!(message = "Board paused.", actor = %operator.0, board = %board, changed);
    Ok(Json(
        json!({ "board": board, "paused": true, "changed": changed }),
    ))
}

/// A pause must say why, briefly: the on-call after you reads it.
pub fn check_pause_reason(reason: &str) -> Result<(), ApiError> {
    if reason.trim().is_empty()
        || reason.chars().count() > 500
        || reason.chars().any(char::is_control)
    {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "say why in \"reason\" (1 to 500 characters, no control characters): the on-call after you will read it".into(),
        ));
    }
    Ok(())
}

async fn resume_board(
    operator: Operator,
    State(state): State<OpsState>,
    Path(board): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    known_board(&state, &board)?;
    let changed = crate::store::boards::resume(&state.pool, &board, &operator.0).await?;
    info!(message = "Board resumed.", actor = %operator.0, board = %board, changed);
    state.wakers.wake(&board);
    Ok(Json(
        json!({ "board": board, "paused": false, "changed": changed }),
    ))
}

pub fn known_board(state: &OpsState, board: &str) -> Result<(), ApiError> {
    if state.settings.board(board).is_none() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no board {board:?}"),
        ));
    }
    Ok(())
}

async fn boards(
    _: Operator,
    State(state): State<OpsState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let health = actions::board_health(&state.pool).await?;
    let pauses = crate::store::boards::pauses(&state.pool).await?;
    let boards: Vec<serde_json::Value> = state
        .settings
        .boards
        .iter()
        .map(|(key, board)| {
            let id = crate::config::board_id(key);
            let label = Metrics::board(&id);
            let row = health.iter().find(|h| h.board == id);
            json!({
                "board": id,
                "enabled": board.enabled,
                "mechanism": crate::boards::mechanism(&id),
                "languages": board.languages,
                "countries": board.countries,
                "due": row.map_or(0, |h| h.due),
                "in_flight": row.map_or(0, |h| h.in_flight),
                "posted": row.map_or(0, |h| h.posted),
                "failed": row.map_or(0, |h| h.failed),
                "attempts_last_hour": row.map_or(0, |h| h.attempts_last_hour),
                "successes_last_hour": row.map_or(0, |h| h.successes_last_hour),
                "circuit_open": state.metrics.circuit_open.get_or_create(&label).get() == 1,
                "rescued_last_day": row.map_or(0, |h| h.rescued_last_day),
                "feed_url": state.feeds.file_of(&id).map(|file| state.settings.feed_url(file)),
                "rescued_by_this_replica": state.metrics.rescued.get_or_create(&label).get(),
                "paused": pauses.iter().find(|p| p.board == id),
            })
        })
        .collect();
    Ok(Json(json!({ "boards": boards })))
}

#[derive(Deserialize)]
struct ActivityQuery {
    window: Option<String>,
    board: Option<String>,
}

/// Attempts, posted and failed per board per bucket of the last hour or day:
/// the numbers behind the console's charts.
async fn activity(
    _: Operator,
    State(state): State<OpsState>,
    Query(query): Query<ActivityQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let window = match query.window.as_deref() {
        None => Window::Hour,
        Some(text) => Window::parse(text).ok_or_else(|| {
            ApiError(
                StatusCode::BAD_REQUEST,
                "window must be \"hour\" or \"day\"".to_owned(),
            )
        })?,
    };
    let boards: Vec<String> = match query.board {
        Some(board) if state.settings.board(&board).is_some() => vec![board],
        Some(board) => {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!("no board {board:?} is configured"),
            ));
        }
        None => state.settings.board_ids().into_iter().collect(),
    };
    let boards = activity::recent(&state.pool, &boards, window).await?;
    Ok(Json(json!({
        "window": window,
        "bucket_seconds": window.bucket_seconds(),
        "boards": boards,
    })))
}

#[derive(Deserialize)]
struct RejectedQuery {
    limit: Option<i64>,
}

async fn list_rejected(
    _: Operator,
    State(state): State<OpsState>,
    Query(query): Query<RejectedQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = rejected::list(&state.pool, query.limit.unwrap_or(100).clamp(1, 1000)).await?;
    Ok(Json(json!({ "rejected": rows })))
}

/// Publishes a rejected message to the intake again: as it was (after the
/// cause was fixed, e.g. a board configured) or corrected (the request body).
async fn replay(
    operator: Operator,
    State(state): State<OpsState>,
    Path(id): Path<i64>,
    corrected: Option<Json<serde_json::Value>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let corrected = corrected.map(|Json(message)| message.to_string().into_bytes());
    let message_id = replay_rejected(&state, &operator, id, corrected).await?;
    Ok(Json(json!({ "replayed": id, "message_id": message_id })))
}

/// Publishes rejected message `id` to the intake again (`corrected` in its
/// place if given) and logs who did; answers the message id it went out with.
pub async fn replay_rejected(
    state: &OpsState,
    operator: &Operator,
    id: i64,
    corrected: Option<Vec<u8>>,
) -> Result<String, ApiError> {
    let Some(raw) = rejected::raw(&state.pool, id).await? else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no rejected message {id}"),
        ));
    };
    let body = corrected.unwrap_or(raw);
    let message_id = crate::intake::message::identify(&body)
        .0
        .unwrap_or_else(|| format!("replay-{id}"));
    let publisher = Publisher::connect(&state.settings.amqp)
        .await
        .map_err(|error| {
            error!(message = "Replay could not reach RabbitMQ.", %error);
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                "RabbitMQ is unavailable".to_owned(),
            )
        })?;
    let published = publisher.publish(&body, &message_id).await;
    publisher.close().await;
    published.map_err(|error| ApiError(StatusCode::SERVICE_UNAVAILABLE, error.to_string()))?;
    rejected::record_replay(&state.pool, id, &operator.0).await?;
    info!(message = "Rejected message replayed.", actor = %operator.0, rejected = id, message_id = %message_id);
    Ok(message_id)
}

/// What a post-job message would send to each board, sending nothing
/// ([`crate::preview`]). An invalid message answers 422 with intake's own
/// reason and detail (which names the field).
async fn preview(
    _operator: Operator,
    State(state): State<OpsState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    match crate::preview::preview(&state.settings, &body).await {
        Ok(answer) => Ok(Json(answer).into_response()),
        Err(crate::preview::PreviewError::Invalid(invalid)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "error": invalid.to_string(),
                "reason": invalid.reason,
                "detail": invalid.detail,
            })),
        )
            .into_response()),
        Err(error @ crate::preview::PreviewError::NothingToPreview) => Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            error.to_string(),
        )),
    }
}
