//! Welcome to the Jungle's twin: `/api/v1/external/jobs` with a Bearer key,
//! the documented required fields and limits, 422 with a field error map.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{Gate, HeldPosting, Sandbox, Twin, answer};
use crate::boards::welcome_to_the_jungle::{JobList, JobRecord, JobRequest, StatusChange};

pub const BOARD: &str = "welcome-to-the-jungle";

const CONTRACT_TYPES: [&str; 7] = [
    "FULL_TIME",
    "PART_TIME",
    "FREELANCE",
    "TEMPORARY",
    "INTERNSHIP",
    "VOLUNTEER",
    "OTHER",
];
const LANGUAGES: [&str; 5] = ["fr", "en", "es", "de", "cs"];

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["api_key"],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/api/v1/external/jobs", get(find).post(create))
        .route("/api/v1/external/jobs/{reference}", put(update))
        .route(
            "/api/v1/external/jobs/{reference}/status",
            put(change_status),
        )
        .with_state(sandbox)
}

fn authorised(sandbox: &Sandbox, headers: &HeaderMap) -> Result<(), Response> {
    let expected = format!("Bearer {}", sandbox.credential(BOARD, "api_key"));
    match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(given) if given == expected => Ok(()),
        _ => Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_token"})),
        )
            .into_response()),
    }
}

fn gate(sandbox: &Sandbox, headers: &HeaderMap) -> Result<(std::time::Duration, bool), Response> {
    authorised(sandbox, headers)?;
    match sandbox.gate(BOARD) {
        Gate::Refuse(response) => Err(response),
        Gate::Proceed { latency, hang } => Ok((latency, hang)),
    }
}

/// The documented rules, as a field -> messages map like the board's 422.
fn validate(job: &JobRequest) -> BTreeMap<&'static str, Vec<String>> {
    let mut errors: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut add = |field, message: &str| errors.entry(field).or_default().push(message.to_owned());
    for (field, value) in [
        ("organization_reference", &job.organization_reference),
        ("name", &job.name),
        ("description", &job.description),
        ("profile", &job.profile),
    ] {
        if value.trim().is_empty() {
            add(field, "can't be blank");
        }
    }
    if job.name.chars().count() > 200 {
        add("name", "is too long (maximum is 200 characters)");
    }
    if job.description.chars().count() > 10_000 {
        add("description", "is too long (maximum is 10000 characters)");
    }
    if !CONTRACT_TYPES.contains(&job.contract_type.as_str()) {
        add("contract_type", "is not included in the list");
    }
    if !LANGUAGES.contains(&job.language.as_str()) {
        add("language", "is not included in the list");
    }
    if job.offices.is_empty() {
        add("offices", "at least one office is required");
    }
    if job
        .offices
        .iter()
        .any(|o| o.city.trim().is_empty() || o.country_code.len() != 2)
    {
        add("offices", "each office needs a city and a country_code");
    }
    errors
}

fn parse(body: &str) -> Result<JobRequest, Response> {
    let job: JobRequest = serde_json::from_str(body).map_err(|error| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "bad_request", "message": error.to_string()})),
        )
            .into_response()
    })?;
    let errors = validate(&job);
    if !errors.is_empty() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"errors": errors})),
        )
            .into_response());
    }
    Ok(job)
}

fn record(posting: &HeldPosting) -> JobRecord {
    JobRecord {
        reference: posting.external_id.clone(),
        external_reference: posting.reference.clone(),
        status: if posting.live {
            "published"
        } else {
            "archived"
        }
        .to_owned(),
        public_url: posting.url.clone(),
    }
}

async fn create(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let job = match parse(&body) {
        Ok(job) => job,
        Err(response) => return response,
    };
    let taken = sandbox.with_postings(BOARD, |held| held.contains_key(&job.external_reference));
    if taken {
        let errors = json!({"errors": {"external_reference": ["has already been taken"]}});
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(errors)).into_response();
    }
    let reference = format!("WTTJ-{:06}", sandbox.next_id(BOARD));
    let slug = job
        .name
        .to_lowercase()
        .replace(|c: char| !c.is_alphanumeric(), "-");
    let posting = HeldPosting {
        board: BOARD.to_owned(),
        reference: job.external_reference.clone(),
        url: format!(
            "https://www.welcometothejungle.com/{}/companies/{}/jobs/{slug}_{}",
            job.language,
            job.organization_reference.to_lowercase(),
            reference.to_lowercase()
        ),
        external_id: reference,
        live: job.status == "published",
        title: job.name.clone(),
        language: job.language.clone(),
        creates: 1,
        updates: 0,
        withdrawals: 0,
        content: serde_json::to_value(&job).expect("serialisable"),
    };
    let body = record(&posting);
    sandbox.with_postings(BOARD, |held| {
        held.insert(posting.reference.clone(), posting)
    });
    answer(timing, (StatusCode::CREATED, Json(body)).into_response()).await
}

#[derive(Deserialize)]
struct FindQuery {
    external_reference: String,
}

async fn find(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<FindQuery>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let jobs = sandbox.with_postings(BOARD, |held| {
        held.get(&query.external_reference)
            .map(record)
            .into_iter()
            .collect()
    });
    answer(timing, Json(JobList { jobs }).into_response()).await
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": "not_found"}))).into_response()
}

async fn update(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    body: String,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let job = match parse(&body) {
        Ok(job) => job,
        Err(response) => return response,
    };
    let updated = sandbox.with_postings(BOARD, |held| {
        let posting = held.values_mut().find(|p| p.external_id == reference)?;
        posting.title = job.name.clone();
        posting.language = job.language.clone();
        posting.updates += 1;
        posting.content = serde_json::to_value(&job).expect("serialisable");
        Some(record(posting))
    });
    match updated {
        Some(body) => answer(timing, Json(body).into_response()).await,
        None => not_found(),
    }
}

async fn change_status(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Json(change): Json<StatusChange>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let live = match change.status.as_str() {
        "published" => true,
        "archived" | "unpublished" => false,
        other => {
            let errors = json!({"errors": {"status": [format!("{other} is not a status")]}});
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(errors)).into_response();
        }
    };
    let changed = sandbox.with_postings(BOARD, |held| {
        let posting = held.values_mut().find(|p| p.external_id == reference)?;
        if posting.live && !live {
            posting.withdrawals += 1;
        }
        posting.live = live;
        Some(record(posting))
    });
    match changed {
        Some(body) => answer(timing, Json(body).into_response()).await,
        None => not_found(),
    }
}
