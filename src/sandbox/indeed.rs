//! Indeed Job Sync's twin: client-credentials tokens that expire, one
//! `/graphql` endpoint telling its two mutations apart by operation, the
//! documented rules with rejections inside a 200 (`jobPosting: null` plus
//! GraphQL `errors`), and postings upserted by (`jobPostingId`, `sourceName`).
//!
//! Rate limiting [V IND-RL]: every operation has a cost and a client's
//! rolling-60-second total above its budget is refused; the costs and the
//! budget are not published, so [I]: an upsert costs [`UPSERT_COST`] per job,
//! an expire nothing ("expire exempt"), the budget is [`DEFAULT_COST_BUDGET`]
//! (settable with [`set_cost_budget`]), and a refusal is a 429 whose
//! `Retry-After` says when enough cost has left the window.
//! Requests are read with the twin's own types, written from Indeed's
//! GraphQL reference (`SourcedJobPostingBodyInput`,
//! `SourcedJobPostingJobSourceInput`, docs-plus.indeed.com/api/job/objects),
//! never the adapter's: an input field Indeed does not define is refused, as
//! GraphQL validation refuses it. Sources: docs/boards/indeed.md.
//!
//! Inferred, as in the adapter: 429 with `Retry-After` (the fault knobs),
//! `extensions.code` values, `NOT_FOUND` for an unknown `sourcedPostingId`,
//! and tolerance of `&amp;`, `&lt;` and `&gt;`, the entities markup needs.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::oauth::TokenStatus;
use super::{Gate, HeldPosting, Sandbox, Twin, answer};

/// A GraphQL request over HTTP POST: `{query, operationName, variables}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphQlRequest {
    query: String,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVariables {
    input: CreateSourcedJobPostingsInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateSourcedJobPostingsInput {
    job_postings: Vec<JobPostingInput>,
}

/// `CreateSourcedJobPostingInput`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JobPostingInput {
    body: BodyInput,
    metadata: MetadataInput,
    #[serde(default)]
    apply_method: Option<Value>,
}

/// `SourcedJobPostingBodyInput`: the fields we model.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BodyInput {
    title: String,
    #[serde(default)]
    subtitle: Option<String>,
    description: String,
    /// `TEXT` (the default) or `RICH_FORMATTING`.
    #[serde(default)]
    description_formatting: Option<String>,
    #[serde(default)]
    salary: Option<SalaryInput>,
    location: LocationInput,
    benefits: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SalaryInput {
    currency: String,
    minimum_minor: i64,
    #[serde(default)]
    maximum_minor: Option<i64>,
    period: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LocationInput {
    country: String,
    #[serde(default)]
    city_region_postal: Option<String>,
    #[serde(default)]
    street_address: Option<String>,
}

/// `SourcedJobPostingMetadataInput`: the fields we model.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MetadataInput {
    job_source: JobSourceInput,
    job_posting_id: String,
    #[serde(default)]
    job_requisition_id: Option<String>,
    date_published: String,
    url: String,
}

/// `SourcedJobPostingJobSourceInput`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JobSourceInput {
    company_name: String,
    #[serde(default)]
    company_website: Option<String>,
    source_name: String,
    source_type: String,
    #[serde(default)]
    employer_ids: Option<Value>,
    #[serde(default)]
    is_placement: Option<bool>,
    #[serde(default)]
    origin_feed_system_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpireVariables {
    input: ExpireInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpireInput {
    jobs: Vec<ExpireJob>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExpireJob {
    sourced_posting_id: String,
}

const SALARY_PERIODS: [&str; 8] = [
    "DAY", "HOUR", "MILE", "MONTH", "WEEK", "YEAR", "TASK", "SHIFT",
];
const FORMATTINGS: [&str; 2] = ["TEXT", "RICH_FORMATTING"];

pub const BOARD: &str = "indeed";
/// Indeed's tokens live an hour.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
const MAX_DESCRIPTION_BYTES: usize = 65_000;
/// Tags Indeed's formatting guidelines allow.
const ALLOWED_TAGS: [&str; 18] = [
    "b", "strong", "em", "br", "p", "ul", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
    "thead", "tbody", "tr", "td",
];
const SOURCE_TYPES: [&str; 3] = ["Employer", "Job Board", "Staffing Agency"];

/// What one job in a `createSourcedJobPostings` costs [I].
pub const UPSERT_COST: u32 = 10;
/// The client's budget over a rolling 60 s [I]: 4,000 upserts a minute.
pub const DEFAULT_COST_BUDGET: u32 = 40_000;
const COST_WINDOW: Duration = Duration::from_secs(60);

/// Costs spent in the last minute.
#[derive(Default)]
struct CostLedger {
    budget: Option<u32>,
    spent: std::collections::VecDeque<(std::time::Instant, u32)>,
}

/// Sets the client's cost budget per rolling 60 s (tests use a small one).
pub fn set_cost_budget(sandbox: &Sandbox, budget: u32) {
    sandbox.with_extra::<CostLedger, _>(&ledger_key(), |ledger| ledger.budget = Some(budget));
}

fn ledger_key() -> String {
    format!("{BOARD}#cost")
}

/// Spends `cost` if the rolling window has room; otherwise how long until it has.
fn spend(sandbox: &Sandbox, cost: u32) -> Result<(), Duration> {
    sandbox.with_extra::<CostLedger, _>(&ledger_key(), |ledger| {
        let now = std::time::Instant::now();
        while ledger
            .spent
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) >= COST_WINDOW)
        {
            ledger.spent.pop_front();
        }
        let budget = ledger.budget.unwrap_or(DEFAULT_COST_BUDGET);
        let used: u32 = ledger.spent.iter().map(|(_, c)| c).sum();
        if used + cost <= budget {
            ledger.spent.push_back((now, cost));
            return Ok(());
        }
        // Wait until enough of the oldest spending leaves the window.
        let mut freed = 0;
        for (at, spent) in &ledger.spent {
            freed += spent;
            if used - freed + cost <= budget {
                return Err(COST_WINDOW.saturating_sub(now.duration_since(*at)));
            }
        }
        Err(COST_WINDOW)
    })
}

/// The twin's token endpoint.
pub const TOKEN_PATH: &str = "/oauth/v2/tokens";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["client_id", "client_secret"],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route("/graphql", post(graphql))
        .with_state(sandbox)
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: String,
    client_secret: String,
    #[serde(default)]
    scope: String,
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
    if !form
        .scope
        .split(' ')
        .any(|scope| scope == "employer_access")
    {
        let body = json!({"error": "invalid_scope", "error_description": "scope employer_access is required"});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    Json(sandbox.issue_token(BOARD, TOKEN_LIFETIME)).into_response()
}

fn authorised(sandbox: &Sandbox, headers: &HeaderMap) -> Result<(), Response> {
    let message = match sandbox.token_status(BOARD, headers) {
        TokenStatus::Valid => return Ok(()),
        TokenStatus::Expired => "The access token expired",
        TokenStatus::Unknown => "Invalid access token",
    };
    let body = json!({"error": "invalid_token", "error_description": message});
    Err((StatusCode::UNAUTHORIZED, Json(body)).into_response())
}

/// A GraphQL error with Indeed's `extensions.code`.
fn error(message: impl Into<String>, path: Vec<Value>, code: &str) -> Value {
    json!({"message": message.into(), "path": path, "extensions": {"code": code}})
}

/// A request-level failure: errors and no data, still inside a 200.
fn request_error(message: impl Into<String>) -> Response {
    Json(json!({"errors": [error(message, vec![], "GRAPHQL_VALIDATION_FAILED")]})).into_response()
}

fn variables<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Response> {
    // "The call will fail if fields are missing."
    serde_json::from_value(value)
        .map_err(|error| request_error(format!("Variable \"$input\" got invalid value: {error}")))
}

async fn graphql(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    if let Err(response) = authorised(&sandbox, &headers) {
        return response;
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    let request: GraphQlRequest = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(error) => {
            let body = json!({"errors": [{"message": format!("the body must be {{query, operationName, variables}}: {error}")}]});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    if let Some(name) = &request.operation_name
        && !request.query.contains(&format!("mutation {name}"))
    {
        return request_error(format!("Unknown operation named \"{name}\"."));
    }
    let response = if request.query.contains("createSourcedJobPostings") {
        let raw = request.variables.clone();
        match variables::<CreateVariables>(request.variables) {
            Ok(variables) => {
                let cost = UPSERT_COST * variables.input.job_postings.len() as u32;
                if let Err(wait) = spend(&sandbox, cost) {
                    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
                    let body = json!({"errors": [{"message": format!("cost budget of the rolling 60 s window exceeded; retry in {seconds} s"), "extensions": {"code": "RATE_LIMITED"}}]});
                    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
                    response.headers_mut().insert(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from(seconds),
                    );
                    return response;
                }
                create(&sandbox, variables, &raw)
            }
            Err(response) => return response,
        }
    } else if request
        .query
        .contains("expireSourcedJobsBySourcedPostingId")
    {
        match variables::<ExpireVariables>(request.variables) {
            Ok(variables) => expire(&sandbox, variables),
            Err(response) => return response,
        }
    } else {
        return request_error(
            "the sandbox plays createSourcedJobPostings and expireSourcedJobsBySourcedPostingId only",
        );
    };
    answer(timing, response).await
}

/// The field the rule is about, then the rule.
fn validate(posting: &JobPostingInput) -> Option<(&'static str, String)> {
    let body = &posting.body;
    let metadata = &posting.metadata;
    let source = &metadata.job_source;
    // Read for their shape only: Indeed states no rule on these we check.
    let _ = (
        &posting.apply_method,
        &body.subtitle,
        &body.location.street_address,
    );
    let _ = (
        &body.location.city_region_postal,
        &metadata.job_requisition_id,
    );
    let _ = (&source.company_website, &source.employer_ids);
    let _ = (&source.is_placement, &source.origin_feed_system_name);
    if body
        .benefits
        .iter()
        .any(|benefit| benefit.trim().is_empty())
    {
        return Some(("body.benefits", "must not hold an empty benefit".to_owned()));
    }
    for (field, value) in [
        ("body.title", &body.title),
        ("body.description", &body.description),
        ("metadata.jobPostingId", &metadata.job_posting_id),
        ("metadata.jobSource.companyName", &source.company_name),
        ("metadata.jobSource.sourceName", &source.source_name),
    ] {
        if value.trim().is_empty() {
            return Some((field, "must not be empty".to_owned()));
        }
    }
    let bytes = body.description.len();
    if bytes > MAX_DESCRIPTION_BYTES {
        return Some((
            "body.description",
            format!("is {bytes} bytes; the maximum is {MAX_DESCRIPTION_BYTES} bytes"),
        ));
    }
    if let Some(entity) = forbidden_entity(&body.description) {
        return Some((
            "body.description",
            format!("HTML entities are not supported ({entity}); use literal characters"),
        ));
    }
    let formatting = body.description_formatting.as_deref().unwrap_or("TEXT");
    if !FORMATTINGS.contains(&formatting) {
        return Some((
            "body.descriptionFormatting",
            format!("must be one of {}", FORMATTINGS.join(", ")),
        ));
    }
    if formatting == "RICH_FORMATTING"
        && let Some(tag) = unsupported_tag(&body.description)
    {
        return Some(("body.description", format!("<{tag}> is not supported HTML")));
    }
    if !crate::intake::message::is_country_code(&body.location.country) {
        return Some((
            "body.location.country",
            format!(
                "\"{}\" is not an ISO 3166-1 alpha-2 code",
                body.location.country
            ),
        ));
    }
    if let Some(salary) = &body.salary {
        if iso_currency::Currency::from_code(&salary.currency).is_none() {
            return Some((
                "body.salary.currency",
                format!("\"{}\" is not a CurrencyCode", salary.currency),
            ));
        }
        if salary.minimum_minor <= 0 {
            return Some(("body.salary.minimumMinor", "must be above 0".to_owned()));
        }
        if !SALARY_PERIODS.contains(&salary.period.as_str()) {
            return Some((
                "body.salary.period",
                format!("must be one of {}", SALARY_PERIODS.join(", ")),
            ));
        }
        if salary
            .maximum_minor
            .is_some_and(|max| max < salary.minimum_minor)
        {
            return Some((
                "body.salary.maximumMinor",
                "must not be below minimumMinor".to_owned(),
            ));
        }
    }
    if !SOURCE_TYPES.contains(&source.source_type.as_str()) {
        return Some((
            "metadata.jobSource.sourceType",
            format!("must be one of {}", SOURCE_TYPES.join(", ")),
        ));
    }
    if !metadata.url.starts_with("http") {
        return Some(("metadata.url", "is not a valid URL".to_owned()));
    }
    let published = &metadata.date_published;
    if time::OffsetDateTime::parse(published, &time::format_description::well_known::Rfc3339)
        .is_err()
    {
        return Some((
            "metadata.datePublished",
            format!("\"{published}\" is not an ISO 8601 date-time"),
        ));
    }
    None
}

/// The first entity other than the three markup needs (Indeed takes
/// literal characters, in Job Sync and in its XML feed alike).
pub(crate) fn forbidden_entity(html: &str) -> Option<String> {
    html.match_indices('&').find_map(|(at, _)| {
        let rest = &html[at..];
        let end = rest.find(';').filter(|&end| {
            end > 1
                && rest[1..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '#')
        })?;
        let entity = &rest[..=end];
        (!matches!(entity, "&amp;" | "&lt;" | "&gt;")).then(|| entity.to_owned())
    })
}

fn unsupported_tag(html: &str) -> Option<String> {
    html.match_indices('<').find_map(|(at, _)| {
        let rest = html[at + 1..].trim_start_matches('/');
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        (!ALLOWED_TAGS.contains(&name.as_str())).then_some(name)
    })
}

fn key(posting: &JobPostingInput) -> String {
    format!(
        "{}\n{}",
        posting.metadata.job_source.source_name, posting.metadata.job_posting_id
    )
}

/// One posting as read, with the JSON it came as (kept as the board's copy).
struct Received {
    parsed: JobPostingInput,
    raw: Value,
}

fn create(sandbox: &Sandbox, variables: CreateVariables, raw: &Value) -> Response {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (index, parsed) in variables.input.job_postings.into_iter().enumerate() {
        let posting = Received {
            parsed,
            raw: raw["input"]["jobPostings"][index].clone(),
        };
        let path = vec![
            json!("jobsIngest"),
            json!("createSourcedJobPostings"),
            json!("results"),
            json!(index),
            json!("jobPosting"),
        ];
        if let Some((field, rule)) = validate(&posting.parsed) {
            errors.push(error(format!("{field} {rule}"), path, "BAD_USER_INPUT"));
            results.push(json!({"jobPosting": null}));
            continue;
        }
        let id = upsert(sandbox, posting);
        results.push(json!({"jobPosting": {"sourcedPostingId": id}}));
    }
    let mut answer =
        json!({"data": {"jobsIngest": {"createSourcedJobPostings": {"results": results}}}});
    if !errors.is_empty() {
        answer["errors"] = Value::Array(errors);
    }
    Json(answer).into_response()
}

/// Stores the posting; a known (`sourceName`, `jobPostingId`) is an update
/// (or a reactivation) keeping its `sourcedPostingId`.
fn upsert(sandbox: &Sandbox, posting: Received) -> String {
    let Received {
        parsed: posting,
        raw: content,
    } = posting;
    let key = key(&posting);
    let title = posting.body.title.clone();
    let known = sandbox.with_postings(BOARD, |held| {
        let existing = held.get_mut(&key)?;
        existing.updates += 1;
        existing.live = true;
        existing.title = title.clone();
        existing.content = content.clone();
        Some(existing.external_id.clone())
    });
    if let Some(id) = known {
        return id;
    }
    let id = format!("00000000-0000-4000-8000-{:012x}", sandbox.next_id(BOARD));
    let held = HeldPosting {
        board: BOARD.to_owned(),
        reference: posting.metadata.job_posting_id.clone(),
        external_id: id.clone(),
        url: String::new(),
        live: true,
        title,
        language: String::new(),
        creates: 1,
        updates: 0,
        withdrawals: 0,
        content,
    };
    sandbox.with_postings(BOARD, |postings| postings.insert(key, held));
    id
}

fn expire(sandbox: &Sandbox, variables: ExpireVariables) -> Response {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (index, job) in variables.input.jobs.into_iter().enumerate() {
        let id = job.sourced_posting_id;
        let found = sandbox.with_postings(BOARD, |held| {
            let posting = held.values_mut().find(|p| p.external_id == id)?;
            if posting.live {
                posting.withdrawals += 1;
            }
            posting.live = false;
            Some(())
        });
        if found.is_some() {
            results.push(json!({"trackingKey": format!("expire-{id}")}));
        } else {
            let path = vec![
                json!("jobsIngest"),
                json!("expireSourcedJobsBySourcedPostingId"),
                json!("results"),
                json!(index),
            ];
            errors.push(error(
                format!("no job posting with sourcedPostingId {id}"),
                path,
                "NOT_FOUND",
            ));
            results.push(Value::Null);
        }
    }
    let mut answer = json!({"data": {"jobsIngest": {"expireSourcedJobsBySourcedPostingId": {"results": results}}}});
    if !errors.is_empty() {
        answer["errors"] = Value::Array(errors);
    }
    Json(answer).into_response()
}
