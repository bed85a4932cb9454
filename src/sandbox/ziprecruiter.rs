//! ZipRecruiter's twin: `/partner/v0/job/{job_id}` with HTTP Basic (the API
//! key as user name), POST / PUT / DELETE / GET on our id, the rules in
//! `boards::ziprecruiter`'s module doc (documented and inferred alike), 422
//! with a field error list, 409 for a POST of an id it holds.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

// The twin's own reading of the Job API (docs/boards/ziprecruiter.md), not
// the adapter's types.

/// "The current API supports U.S., Canadian, and Australian job country codes."
const COUNTRIES: [&str; 3] = ["US", "CA", "AU"];
/// [inferred], as in the record.
const MAX_TITLE: usize = 100;

/// A create or update body, as the twin reads it [inferred field list].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JobRequest {
    title: String,
    company: String,
    description: String,
    city: String,
    #[serde(default)]
    state: Option<String>,
    country: String,
    #[serde(default)]
    postal_code: Option<String>,
    job_type: String,
    #[serde(default)]
    remote_type: Option<String>,
    #[serde(default)]
    category: Option<String>,
    requisition_id: String,
    #[serde(default)]
    apply_url: Option<String>,
    #[serde(default)]
    apply_email: Option<String>,
    #[serde(default)]
    salary_min: Option<f64>,
    #[serde(default)]
    salary_max: Option<f64>,
    #[serde(default)]
    salary_currency: Option<String>,
    #[serde(default)]
    salary_period: Option<String>,
    #[serde(default)]
    expiration_date: Option<String>,
}

/// What the twin answers about a job.
#[derive(Debug, Clone, Serialize)]
struct JobRecord {
    job_id: String,
    status: String,
    url: String,
}

#[derive(Debug, Clone, Serialize)]
struct FieldError {
    field: String,
    message: String,
}

#[derive(Debug, Clone, Serialize)]
struct ErrorBody {
    error: String,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

pub const BOARD: &str = "ziprecruiter";

const JOB_TYPES: [&str; 7] = [
    "full_time",
    "part_time",
    "contract",
    "temporary",
    "internship",
    "volunteer",
    "other",
];
const REMOTE_TYPES: [&str; 2] = ["Fully remote", "Hybrid remote"];
const SALARY_PERIODS: [&str; 5] = ["hourly", "daily", "weekly", "monthly", "yearly"];

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["api_key"],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route(
            "/partner/v0/job/{job_id}",
            get(read).post(create).put(update).delete(close),
        )
        .with_state(sandbox)
}

fn error(status: StatusCode, code: &str, message: String, errors: Vec<FieldError>) -> Response {
    let body = ErrorBody {
        error: code.to_owned(),
        message,
        errors,
    };
    (status, Json(body)).into_response()
}

/// Basic auth with the API key as the user name (any password).
fn authorised(sandbox: &Sandbox, headers: &HeaderMap) -> Result<(), Response> {
    let user = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
        })
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .map(|pair| pair.split(':').next().unwrap_or_default().to_owned());
    if user.as_deref() == Some(sandbox.credential(BOARD, "api_key")) {
        return Ok(());
    }
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "invalid API key".to_owned(),
        Vec::new(),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"ZipRecruiter\""),
    );
    Err(response)
}

fn gate(sandbox: &Sandbox, headers: &HeaderMap) -> Result<(std::time::Duration, bool), Response> {
    authorised(sandbox, headers)?;
    match sandbox.gate(BOARD) {
        Gate::Refuse(response) => Err(response),
        Gate::Proceed { latency, hang } => Ok((latency, hang)),
    }
}

/// The board's rules, as the list of fields it refuses.
fn validate(job: &JobRequest) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut add = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        })
    };
    for (field, value) in [
        ("title", &job.title),
        ("company", &job.company),
        ("description", &job.description),
        ("city", &job.city),
        ("requisition_id", &job.requisition_id),
    ] {
        if value.trim().is_empty() {
            add(field, "is required");
        }
    }
    if job.title.chars().count() > MAX_TITLE {
        add(
            "title",
            &format!("is too long (maximum is {MAX_TITLE} characters)"),
        );
    }
    if !COUNTRIES.contains(&job.country.as_str()) {
        add(
            "country",
            &format!("must be one of {}", COUNTRIES.join(", ")),
        );
    }
    // Jobs are placed by city and state in the US and Canada.
    if matches!(job.country.as_str(), "US" | "CA")
        && job.state.as_deref().is_none_or(|s| s.trim().is_empty())
    {
        add("state", "is required for jobs in US and CA");
    }
    if !JOB_TYPES.contains(&job.job_type.as_str()) {
        add("job_type", "is not one of the accepted values");
    }
    if job
        .remote_type
        .as_deref()
        .is_some_and(|r| !REMOTE_TYPES.contains(&r))
    {
        add(
            "remote_type",
            "must be \"Fully remote\" or \"Hybrid remote\"",
        );
    }
    if job.apply_url.is_none() && job.apply_email.is_none() {
        add("apply_url", "an apply_url or an apply_email is required");
    }
    let salary = [
        job.salary_min.is_some(),
        job.salary_max.is_some(),
        job.salary_currency.is_some(),
        job.salary_period.is_some(),
    ];
    if salary.contains(&true) && salary.contains(&false) {
        add(
            "salary",
            "salary_min, salary_max, salary_currency and salary_period go together",
        );
    }
    if let (Some(min), Some(max)) = (job.salary_min, job.salary_max)
        && min > max
    {
        add("salary_min", "must not be greater than salary_max");
    }
    if job
        .salary_period
        .as_deref()
        .is_some_and(|p| !SALARY_PERIODS.contains(&p))
    {
        add("salary_period", "is not one of the accepted values");
    }
    errors
}

fn parse(body: &str) -> Result<JobRequest, Response> {
    let job: JobRequest = serde_json::from_str(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the body is not a job: {e}"),
            Vec::new(),
        )
    })?;
    let errors = validate(&job);
    if !errors.is_empty() {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let message = format!("invalid fields: {}", fields.join(", "));
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
            errors,
        ));
    }
    Ok(job)
}

fn record(posting: &HeldPosting) -> JobRecord {
    JobRecord {
        job_id: posting.external_id.clone(),
        status: if posting.live { "open" } else { "closed" }.to_owned(),
        url: posting.url.clone(),
    }
}

fn not_found(job_id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no job with job_id {job_id}"),
        Vec::new(),
    )
}

async fn create(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(job_id): Path<String>,
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
    let created = sandbox.with_postings(BOARD, |held| {
        if held.contains_key(&job_id) {
            return None;
        }
        let posting = HeldPosting {
            board: BOARD.to_owned(),
            reference: job_id.clone(),
            external_id: job_id.clone(),
            url: format!("https://www.ziprecruiter.com/jobs/{job_id}"),
            live: true,
            title: job.title.clone(),
            language: "en".to_owned(),
            creates: 1,
            updates: 0,
            withdrawals: 0,
            content: serde_json::to_value(&job).expect("serialisable"),
        };
        let body = record(&posting);
        held.insert(job_id.clone(), posting);
        Some(body)
    });
    match created {
        Some(body) => answer(timing, (StatusCode::CREATED, Json(body)).into_response()).await,
        None => error(
            StatusCode::CONFLICT,
            "job_exists",
            format!("job_id {job_id} already exists; use PUT to update it"),
            Vec::new(),
        ),
    }
}

async fn update(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(job_id): Path<String>,
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
        let posting = held.get_mut(&job_id)?;
        posting.title = job.title.clone();
        posting.updates += 1;
        // A PUT reopens a closed job.
        posting.live = true;
        posting.content = serde_json::to_value(&job).expect("serialisable");
        Some(record(posting))
    });
    match updated {
        Some(body) => answer(timing, Json(body).into_response()).await,
        None => not_found(&job_id),
    }
}

async fn close(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(job_id): Path<String>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let closed = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&job_id)?;
        if posting.live {
            posting.withdrawals += 1;
        }
        posting.live = false;
        Some(record(posting))
    });
    match closed {
        Some(body) => answer(timing, Json(body).into_response()).await,
        None => not_found(&job_id),
    }
}

async fn read(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(job_id): Path<String>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    match sandbox.with_postings(BOARD, |held| held.get(&job_id).map(record)) {
        Some(body) => answer(timing, Json(body).into_response()).await,
        None => not_found(&job_id),
    }
}
