//! Welcome to the Jungle's twin, written from Welcome Kit's API docs
//! (github.com/WTTJ/wk-api-docs `source/includes/_jobs.md`; the record is
//! `docs/boards/welcome-to-the-jungle.md`), not from the adapter's types:
//! `/api/v1/external/jobs` with a Bearer key; create, update, list, retrieve
//! and `…/:reference/update_status`; the documented required fields,
//! dependency values and limits; 422 with a field error map. A job is
//! created as a draft unless `status` says `published`, and a published job
//! shows on the sites of its `cms_sites_references`: with none it is live
//! nowhere.
//!
//! Inferred: the error bodies, 404 for an unknown reference, `language`,
//! `offices` and `remote` (from BOARDS.md, the newer docs).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

pub const BOARD: &str = "welcome-to-the-jungle";

/// The dependencies endpoint's `contract_types` (the docs' examples).
const CONTRACT_TYPES: [&str; 6] = [
    "FULL_TIME",
    "PART_TIME",
    "TEMPORARY",
    "FREELANCE",
    "INTERNSHIP",
    "APPRENTICESHIP",
];
const SALARY_PERIODS: [&str; 4] = ["yearly", "monthly", "daily", "none"];
const SALARY_CURRENCIES: [&str; 2] = ["EUR", "USD"];
const CMS_SITES: [&str; 3] = ["wttj_fr", "smgo_fr", "btbw_fr"];
const STATUSES: [&str; 3] = ["draft", "published", "archived"];
const LANGUAGES: [&str; 5] = ["fr", "en", "es", "de", "cs"];

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["api_key"],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/api/v1/external/jobs", get(list).post(create))
        .route(
            "/api/v1/external/jobs/{reference}",
            get(retrieve).put(update),
        )
        .route(
            "/api/v1/external/jobs/{reference}/update_status",
            put(update_status),
        )
        .with_state(sandbox)
}

/// A create or update body as the docs list its parameters; every field
/// optional here so the twin, not serde, says what is missing.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct JobBody {
    organization_reference: Option<String>,
    profession_reference: Option<String>,
    name: Option<String>,
    company_description: Option<String>,
    description: Option<String>,
    profile: Option<String>,
    recruitment_process: Option<String>,
    contract_type: Option<String>,
    status: Option<String>,
    salary_min: Option<Value>,
    salary_max: Option<Value>,
    salary_currency: Option<String>,
    salary_period: Option<String>,
    is_remote: Option<Value>,
    remote: Option<String>,
    contract_duration_min: Option<Value>,
    contract_duration_max: Option<Value>,
    office_id: Option<Value>,
    office_address: Option<String>,
    office_zip_code: Option<String>,
    office_city: Option<String>,
    office_country_code: Option<String>,
    offices: Option<Vec<Value>>,
    education_level: Option<String>,
    experience_level: Option<String>,
    apply_url: Option<String>,
    start_date: Option<String>,
    external_reference: Option<String>,
    cms_sites_references: Option<String>,
    language: Option<String>,
}

/// The job object every endpoint answers (the fields the docs show).
#[derive(Serialize)]
struct JobObject {
    reference: String,
    external_reference: String,
    organization_reference: String,
    name: String,
    status: String,
    cms_sites_references: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    websites: Option<Vec<WebsiteObject>>,
}

#[derive(Serialize)]
struct WebsiteObject {
    reference: String,
    name: &'static str,
    url: String,
}

/// What the twin keeps beside the held posting: status and sites.
#[derive(Default)]
struct Jobs(BTreeMap<String, (String, String)>);

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

fn blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// The documented rules, as a field -> messages map like the board's 422.
fn validate(job: &JobBody, creating: bool) -> BTreeMap<&'static str, Vec<String>> {
    let mut errors: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut add = |field, message: &str| errors.entry(field).or_default().push(message.to_owned());
    let mut required = vec![("company_description", &job.company_description)];
    if creating {
        required.extend([
            ("organization_reference", &job.organization_reference),
            ("profession_reference", &job.profession_reference),
            ("name", &job.name),
            ("description", &job.description),
            ("profile", &job.profile),
            ("contract_type", &job.contract_type),
        ]);
    }
    for (field, value) in required {
        if blank(value) {
            add(field, "can't be blank");
        }
    }
    if job.name.as_deref().is_some_and(|n| n.chars().count() > 200) {
        add("name", "is too long (maximum is 200 characters)");
    }
    if job
        .description
        .as_deref()
        .is_some_and(|d| d.chars().count() > 10_000)
    {
        add("description", "is too long (maximum is 10000 characters)");
    }
    if let Some(kind) = &job.contract_type
        && !CONTRACT_TYPES.contains(&kind.as_str())
    {
        add("contract_type", "is not included in the list");
    }
    if let Some(status) = &job.status
        && !STATUSES.contains(&status.as_str())
    {
        add("status", "is not included in the list");
    }
    if let Some(language) = &job.language
        && !LANGUAGES.contains(&language.as_str())
    {
        add("language", "is not included in the list");
    }
    for (field, value) in [
        ("salary_min", &job.salary_min),
        ("salary_max", &job.salary_max),
    ] {
        if value.as_ref().is_some_and(|v| !v.is_i64() && !v.is_u64()) {
            add(field, "must be an integer");
        }
    }
    let salaried = job.salary_min.is_some() || job.salary_max.is_some();
    match &job.salary_period {
        Some(period) if !SALARY_PERIODS.contains(&period.as_str()) => {
            add("salary_period", "is not included in the list")
        }
        None if salaried => add("salary_period", "can't be blank"),
        _ => {}
    }
    match &job.salary_currency {
        Some(currency) if !SALARY_CURRENCIES.contains(&currency.as_str()) => {
            add("salary_currency", "is not included in the list")
        }
        None if salaried => add("salary_currency", "can't be blank"),
        _ => {}
    }
    if let Some(sites) = &job.cms_sites_references
        && sites
            .split(',')
            .map(str::trim)
            .any(|s| !s.is_empty() && !CMS_SITES.contains(&s))
    {
        add("cms_sites_references", "is not included in the list");
    }
    // "AT LEAST ONE" office attribute; city and country to create one.
    let office = job.office_id.is_some()
        || !blank(&job.office_address)
        || !blank(&job.office_zip_code)
        || !blank(&job.office_city)
        || !blank(&job.office_country_code);
    if creating && (blank(&job.office_city) || blank(&job.office_country_code)) {
        add(
            "office_city",
            "office_city and office_country_code are mandatory for creation",
        );
    } else if !office && creating {
        add("office_id", "at least one office attribute is required");
    }
    if job
        .office_country_code
        .as_deref()
        .is_some_and(|c| c.len() != 2)
    {
        add("office_country_code", "is not a country code");
    }
    errors
}

fn parse(body: &str, creating: bool) -> Result<JobBody, Response> {
    let job: JobBody = serde_json::from_str(body).map_err(|error| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "bad_request", "message": error.to_string()})),
        )
            .into_response()
    })?;
    let errors = validate(&job, creating);
    if !errors.is_empty() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"errors": errors})),
        )
            .into_response());
    }
    Ok(job)
}

/// Live on a site: published, with at least one site to show on.
fn shows(status: &str, sites: &str) -> bool {
    status == "published" && !sites.trim().is_empty()
}

fn object(sandbox: &Sandbox, posting: &HeldPosting, websites: bool) -> JobObject {
    let (status, sites) = sandbox.with_extra(BOARD, |jobs: &mut Jobs| {
        jobs.0
            .get(&posting.external_id)
            .cloned()
            .unwrap_or_default()
    });
    let field = |name: &str| {
        posting.content[name]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    JobObject {
        reference: posting.external_id.clone(),
        external_reference: posting.reference.clone(),
        organization_reference: field("organization_reference"),
        name: posting.title.clone(),
        cms_sites_references: sites.clone(),
        websites: websites.then(|| {
            sites
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|site| WebsiteObject {
                    reference: site.to_owned(),
                    name: "Welcome to the Jungle",
                    url: posting.url.clone(),
                })
                .collect()
        }),
        status,
    }
}

/// Sets a job's status and sites, and whether it shows anywhere.
fn set_state(sandbox: &Sandbox, reference: &str, status: &str, sites: &str) -> Option<()> {
    sandbox.with_extra(BOARD, |jobs: &mut Jobs| {
        jobs.0
            .insert(reference.to_owned(), (status.to_owned(), sites.to_owned()))
    });
    let live = shows(status, sites);
    sandbox.with_postings(BOARD, |held| {
        let posting = held.values_mut().find(|p| p.external_id == reference)?;
        if posting.live && !live {
            posting.withdrawals += 1;
        }
        posting.live = live;
        Some(())
    })
}

fn state(sandbox: &Sandbox, reference: &str) -> (String, String) {
    sandbox.with_extra(BOARD, |jobs: &mut Jobs| {
        jobs.0.get(reference).cloned().unwrap_or_default()
    })
}

async fn create(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let job = match parse(&body, true) {
        Ok(job) => job,
        Err(response) => return response,
    };
    let external = job.external_reference.clone().unwrap_or_default();
    // "external_reference … (unique constraint)".
    let taken =
        !external.is_empty() && sandbox.with_postings(BOARD, |held| held.contains_key(&external));
    if taken {
        let errors = json!({"errors": {"external_reference": ["has already been taken"]}});
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(errors)).into_response();
    }
    let reference = format!("WTTJ_{:07}", sandbox.next_id(BOARD));
    let name = job.name.clone().unwrap_or_default();
    let slug = name
        .to_lowercase()
        .replace(|c: char| !c.is_alphanumeric(), "-");
    let organization = job.organization_reference.clone().unwrap_or_default();
    let language = job.language.clone().unwrap_or_else(|| "fr".to_owned());
    let posting = HeldPosting {
        board: BOARD.to_owned(),
        reference: external.clone(),
        url: format!(
            "https://www.welcometothejungle.com/{language}/companies/{}/jobs/{slug}",
            organization.to_lowercase()
        ),
        external_id: reference.clone(),
        live: false,
        title: name,
        language,
        creates: 1,
        updates: 0,
        withdrawals: 0,
        content: serde_json::to_value(&job).expect("serialisable"),
    };
    let key = if external.is_empty() {
        reference.clone()
    } else {
        external
    };
    sandbox.with_postings(BOARD, |held| held.insert(key, posting));
    // "The default status for a job offer is draft."
    let status = job.status.clone().unwrap_or_else(|| "draft".to_owned());
    let sites = job.cms_sites_references.clone().unwrap_or_default();
    set_state(&sandbox, &reference, &status, &sites);
    let posting = sandbox
        .with_postings(BOARD, |held| {
            held.values().find(|p| p.external_id == reference).cloned()
        })
        .expect("just held");
    let body = object(&sandbox, &posting, false);
    answer(timing, (StatusCode::CREATED, Json(body)).into_response()).await
}

#[derive(Deserialize)]
struct ListQuery {
    organization_reference: Option<String>,
    page: Option<usize>,
    per_page: Option<usize>,
    status: Option<String>,
}

/// The organisation's jobs, a page at a time (no filter by external reference).
async fn list(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let Some(organization) = query.organization_reference else {
        let errors = json!({"errors": {"organization_reference": ["can't be blank"]}});
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(errors)).into_response();
    };
    let per_page = query.per_page.unwrap_or(100).clamp(1, 100);
    let page = query.page.unwrap_or(1).max(1);
    let postings = sandbox.with_postings(BOARD, |held| held.values().cloned().collect::<Vec<_>>());
    let jobs: Vec<JobObject> = postings
        .iter()
        .map(|p| object(&sandbox, p, false))
        .filter(|j| j.organization_reference == organization)
        .filter(|j| query.status.as_deref().is_none_or(|s| s == j.status))
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    answer(timing, Json(jobs).into_response()).await
}

#[derive(Deserialize)]
struct RetrieveQuery {
    websites: Option<bool>,
}

async fn retrieve(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Query(query): Query<RetrieveQuery>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let found = sandbox.with_postings(BOARD, |held| {
        held.values().find(|p| p.external_id == reference).cloned()
    });
    match found {
        Some(posting) => {
            let body = object(&sandbox, &posting, query.websites == Some(true));
            answer(timing, Json(body).into_response()).await
        }
        None => not_found(),
    }
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
    let job = match parse(&body, false) {
        Ok(job) => job,
        Err(response) => return response,
    };
    let updated = sandbox.with_postings(BOARD, |held| {
        let posting = held.values_mut().find(|p| p.external_id == reference)?;
        if let Some(name) = &job.name {
            posting.title = name.clone();
        }
        if let Some(language) = &job.language {
            posting.language = language.clone();
        }
        posting.updates += 1;
        posting.content = serde_json::to_value(&job).expect("serialisable");
        Some(())
    });
    if updated.is_none() {
        return not_found();
    }
    // An update keeps the status; it may change the sites.
    let (status, sites) = state(&sandbox, &reference);
    let sites = job.cms_sites_references.clone().unwrap_or(sites);
    set_state(&sandbox, &reference, &status, &sites);
    let posting = sandbox
        .with_postings(BOARD, |held| {
            held.values().find(|p| p.external_id == reference).cloned()
        })
        .expect("just updated");
    answer(
        timing,
        Json(object(&sandbox, &posting, false)).into_response(),
    )
    .await
}

#[derive(Deserialize)]
struct StatusBody {
    status: Option<String>,
}

async fn update_status(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    body: String,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let status = serde_json::from_str::<StatusBody>(&body)
        .ok()
        .and_then(|b| b.status)
        .unwrap_or_default();
    if !STATUSES.contains(&status.as_str()) {
        let errors = json!({"errors": {"status": ["is not included in the list"]}});
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(errors)).into_response();
    }
    let exists = sandbox.with_postings(BOARD, |held| {
        held.values().any(|p| p.external_id == reference)
    });
    if !exists {
        return not_found();
    }
    let (_, sites) = state(&sandbox, &reference);
    set_state(&sandbox, &reference, &status, &sites);
    let posting = sandbox
        .with_postings(BOARD, |held| {
            held.values().find(|p| p.external_id == reference).cloned()
        })
        .expect("exists");
    answer(
        timing,
        Json(object(&sandbox, &posting, false)).into_response(),
    )
    .await
}
