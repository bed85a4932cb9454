//! LinkedIn's twin: client-credentials tokens that expire, `batch_create`
//! with per-element errors inside a 200, and tasks that finish after a poll.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::oauth::TokenStatus;
use super::{Gate, HeldPosting, Sandbox, Twin, answer};
use crate::boards::linkedin::{
    BatchRequest, BatchResponse, BatchResult, ElementError, JobElement, Operation, TaskResponse,
    TaskStatus, public_url,
};

pub const BOARD: &str = "linkedin";
/// LinkedIn's tokens live 30 minutes.
const TOKEN_LIFETIME: Duration = Duration::from_secs(1800);
/// Polls a task answers IN_PROGRESS before it is done.
const POLLS_BEFORE_DONE: u32 = 1;

#[derive(Debug, Default)]
pub struct TwinState {
    tasks: BTreeMap<String, Task>,
    next_task: u64,
}

#[derive(Debug, Clone)]
struct Task {
    polls_left: u32,
    result: TaskStatus,
}

/// The twin's token endpoint (LinkedIn's own is on www.linkedin.com, not the API host).
pub const TOKEN_PATH: &str = "/oauth/v2/accessToken";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["client_id", "client_secret"],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route("/v2/simpleJobPostings", post(batch))
        .route("/v2/simpleJobPostingTasks", get(tasks))
        .with_state(sandbox)
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: String,
    client_secret: String,
}

async fn token(State(sandbox): State<Sandbox>, Form(form): Form<TokenForm>) -> Response {
    if !sandbox.client_credentials_valid(
        BOARD,
        &form.grant_type,
        &form.client_id,
        &form.client_secret,
    ) {
        let body =
            json!({"error": "invalid_client", "error_description": "Client authentication failed"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    Json(sandbox.issue_token(BOARD, TOKEN_LIFETIME)).into_response()
}

/// 401 with LinkedIn's service error codes: 65600 invalid, 65602 expired.
fn authorised(sandbox: &Sandbox, headers: &HeaderMap) -> Result<(), Response> {
    let code = match sandbox.token_status(BOARD, headers) {
        TokenStatus::Valid => return Ok(()),
        TokenStatus::Expired => (65602, "The token used in the request has expired"),
        TokenStatus::Unknown => (65600, "Invalid access token"),
    };
    let body = json!({"serviceErrorCode": code.0, "message": code.1, "status": 401});
    Err((StatusCode::UNAUTHORIZED, Json(body)).into_response())
}

/// The OpenAPI's rules, in LinkedIn's "ERROR :: /field :: reason" style.
fn validate(element: &JobElement) -> Option<String> {
    let error = |field: &str, reason: &str| Some(format!("ERROR :: /{field} :: {reason}"));
    let id = &element.external_job_posting_id;
    if id.is_empty() || id.chars().count() > 200 {
        return error("externalJobPostingId", "must be 1 to 200 characters");
    }
    if element.job_posting_operation_type == Operation::Close {
        return None;
    }
    if element.title.trim().is_empty() {
        return error(
            "title",
            "field is required but not found and has no default value",
        );
    }
    if element.title.chars().count() > 200 {
        return error("title", "length exceeds 200 characters");
    }
    let description = element.description.chars().count();
    if !(100..=25_000).contains(&description) {
        return error(
            "description",
            "length must be between 100 and 25000 characters",
        );
    }
    if !element.company_apply_url.starts_with("http") {
        return error("companyApplyUrl", "is not a valid URL");
    }
    if element.location.trim().is_empty() {
        return error(
            "location",
            "field is required but not found and has no default value",
        );
    }
    let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    if element.listed_at > now_ms + 60_000 {
        return error("listedAt", "must not be in the future");
    }
    None
}

fn element_error(status: u16, message: String) -> BatchResult {
    BatchResult {
        id: None,
        status: None,
        error: Some(ElementError { message, status }),
    }
}

async fn batch(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    if let Err(response) = authorised(&sandbox, &headers) {
        return response;
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    if headers.get("x-restli-method").and_then(|v| v.to_str().ok()) != Some("batch_create") {
        let body = json!({"message": "x-restli-method: batch_create is required", "status": 400});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let request: BatchRequest = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(error) => {
            let body = json!({"message": format!("invalid request body: {error}"), "status": 400});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    if request.elements.len() > 100 {
        let body = json!({"message": "a batch holds at most 100 elements", "status": 400});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let elements = request
        .elements
        .into_iter()
        .map(|element| apply(&sandbox, element))
        .collect();
    answer(timing, Json(BatchResponse { elements }).into_response()).await
}

fn apply(sandbox: &Sandbox, element: JobElement) -> BatchResult {
    if let Some(message) = validate(&element) {
        return element_error(422, message);
    }
    let reference = element.external_job_posting_id.clone();
    let content = serde_json::to_value(&element).expect("serialisable");
    let outcome: Result<String, BatchResult> = sandbox.with_postings(BOARD, |held| {
        match (element.job_posting_operation_type, held.get_mut(&reference)) {
            (Operation::Create, Some(_)) => Err(element_error(
                409,
                format!("ERROR :: /externalJobPostingId :: a job posting with id {reference} already exists"),
            )),
            (Operation::Create, None) => Ok(None),
            (Operation::Update | Operation::Close, None) => Err(element_error(
                404,
                format!("ERROR :: /externalJobPostingId :: no job posting with id {reference}"),
            )),
            (Operation::Update, Some(posting)) => {
                posting.updates += 1;
                posting.live = true;
                posting.title = element.title.clone();
                posting.content = content.clone();
                Ok(Some(posting.external_id.clone()))
            }
            (Operation::Close, Some(posting)) => {
                if posting.live {
                    posting.withdrawals += 1;
                }
                posting.live = false;
                Ok(Some(posting.external_id.clone()))
            }
        }
        .map(|known: Option<String>| known.unwrap_or_default())
    });
    let job_urn = match outcome {
        Err(error) => return error,
        Ok(urn) if !urn.is_empty() => urn,
        Ok(_) => {
            let urn = format!(
                "urn:li:jobPosting:{}",
                3_900_000_000u64 + sandbox.next_id(BOARD)
            );
            let posting = HeldPosting {
                board: BOARD.to_owned(),
                reference: reference.clone(),
                external_id: urn.clone(),
                url: public_url(&urn).unwrap_or_default(),
                live: true,
                title: element.title.clone(),
                language: String::new(),
                creates: 1,
                updates: 0,
                withdrawals: 0,
                content,
            };
            sandbox.with_postings(BOARD, |held| held.insert(reference, posting));
            urn
        }
    };
    let task = sandbox.with_extra(BOARD, |state: &mut TwinState| {
        state.next_task += 1;
        let task = format!(
            "urn:li:simpleJobPostingTask:{:08x}-sandbox",
            state.next_task
        );
        state.tasks.insert(
            task.clone(),
            Task {
                polls_left: POLLS_BEFORE_DONE,
                result: TaskStatus {
                    status: "SUCCEEDED".to_owned(),
                    job_posting: Some(job_urn),
                    error_message: None,
                },
            },
        );
        task
    });
    BatchResult {
        id: Some(task),
        status: Some(202),
        error: None,
    }
}

#[derive(Deserialize)]
struct TaskQuery {
    ids: String,
}

async fn tasks(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<TaskQuery>,
) -> Response {
    if let Err(response) = authorised(&sandbox, &headers) {
        return response;
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    let results = sandbox.with_extra(BOARD, |state: &mut TwinState| {
        let mut results = BTreeMap::new();
        for id in query.ids.split(',') {
            if let Some(task) = state.tasks.get_mut(id) {
                let status = if task.polls_left > 0 {
                    task.polls_left -= 1;
                    TaskStatus {
                        status: "IN_PROGRESS".to_owned(),
                        job_posting: None,
                        error_message: None,
                    }
                } else {
                    task.result.clone()
                };
                results.insert(id.to_owned(), status);
            }
        }
        results
    });
    answer(timing, Json(TaskResponse { results }).into_response()).await
}
