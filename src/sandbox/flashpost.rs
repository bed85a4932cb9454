//! FlashPost's twin: listings under `/listings` with the API key in
//! `X-API-Key`, the per-target rules of FlashPost's job-board pages (its own
//! table, read from the docs, not the adapter's), 422 with FlashPost's field
//! errors in the pages' words ("length must be between 1 and 50", "cannot be
//! used for this job board", "cannot be updated"), 409 for a second open
//! listing of one providerReferenceId, and per-target statuses that go from
//! `PENDING` to `PUBLISHED` (or `REJECTED`) on the first read of the listing,
//! so tests need no sleeps. The inferred parts follow `boards::flashpost`'s
//! module doc.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

/// One field FlashPost refused, for one target or for all [inferred shape].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct FieldError {
    field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_board_id: Option<u32>,
    message: String,
}

#[derive(Serialize)]
struct ErrorBody {
    status: u16,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

/// One target's state of a listing [inferred].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobBoardStatus {
    job_board_id: u32,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// A listing as the twin answers it [inferred].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listing {
    id: u64,
    provider_reference_id: String,
    status: String,
    job_boards: Vec<JobBoardStatus>,
}

#[derive(Serialize)]
struct ListingPage {
    listings: Vec<Listing>,
}

pub const BOARD: &str = "flashpost";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["api_key"],
    routes,
};

/// One target board's page, as the twin enforces it.
struct Page {
    id: u64,
    name: &'static str,
    /// Public ad URLs end with the listing id [I].
    url: &'static str,
    /// `None`: any ISO 639-1 code.
    languages: Option<&'static [&'static str]>,
    /// JSON pointer, min, max characters.
    lengths: &'static [(&'static str, usize, usize)],
    required: &'static [&'static str],
    forbidden: &'static [&'static str],
    not_updatable: &'static [&'static str],
    /// Fields a listing could carry that the page does not list: refused
    /// [inferred: FlashPost validates each target against its page].
    unlisted: &'static [&'static str],
    /// Cadremploi: "If the job location is in France, the job listing
    /// content should be written in French" (checked when it publishes).
    french_in_france: bool,
}

const PAGES: [Page; 4] = [
    Page {
        id: 101,
        name: "Cadremploi",
        url: "https://www.cadremploi.fr/emploi/detail_offre?offreId=",
        languages: None,
        lengths: &[
            ("/providerReferenceId", 1, 40),
            ("/jobDetails/title", 1, 50),
            ("/companyDetails/contactAddress/city", 1, 100),
            ("/companyDetails/contactAddress/postcode", 4, 30),
        ],
        required: &[
            "/companyDetails/contactAddress/city",
            "/companyDetails/contactAddress/postcode",
            "/jobDetails/categories/contractType",
            "/jobDetails/categories/experience",
            "/jobDetails/language",
        ],
        forbidden: &["/anonymous", "/templateId"],
        not_updatable: &[
            "/jobDetails/title",
            "/jobDetails/categories/contractType",
            "/jobDetails/categories/experience",
        ],
        unlisted: &[
            "/jobDetails/jobLocationType",
            "/jobDetails/numberOfVacancies",
            "/jobDetails/keywords",
            "/jobDetails/salaryDescription",
            "/companyDetails/companyWebsiteUrl",
        ],
        french_in_france: true,
    },
    Page {
        id: 131,
        name: "FigaroEmploi",
        url: "https://emploi.lefigaro.fr/offres-emploi/",
        languages: None,
        lengths: &[("/jobDetails/title", 1, 80)],
        required: &[],
        forbidden: &[],
        not_updatable: &[],
        unlisted: &["/companyDetails/companyWebsiteUrl"],
        french_in_france: false,
    },
    Page {
        id: 22,
        name: "StepStone DE",
        url: "https://www.stepstone.de/stellenangebote--",
        languages: Some(&["en", "de"]),
        lengths: &[
            ("/jobDetails/title", 1, 150),
            ("/companyDetails/companyWebsiteUrl", 1, 100),
        ],
        required: &["/jobDetails/jobAddress", "/jobDetails/language"],
        forbidden: &["/anonymous"],
        not_updatable: &[],
        unlisted: &[],
        french_in_france: false,
    },
    Page {
        id: 440,
        name: "Infojobs.it",
        url: "https://www.infojobs.it/offerta/",
        languages: None,
        lengths: &[
            ("/jobDetails/title", 1, 255),
            ("/jobDetails/salaryDescription", 1, 50),
        ],
        required: &[
            "/jobDetails/salary",
            "/jobDetails/jobAddress",
            "/jobDetails/language",
        ],
        forbidden: &["/anonymous"],
        not_updatable: &["/jobDetails/title"],
        unlisted: &["/companyDetails/companyWebsiteUrl"],
        french_in_france: false,
    },
];

const JOB_LOCATION_TYPES: [&str; 3] = ["ON_SITE", "REMOTE_ONLY", "REMOTE_POSSIBLE"];
const SALARY_PERIODS: [&str; 5] = ["HOUR", "DAY", "WEEK", "MONTH", "YEAR"];
/// The sandbox account's taxonomy [inferred ids: FlashPost's taxonomy is
/// per account and not public]: contract types and experience levels.
const CONTRACT_TYPES: std::ops::RangeInclusive<u64> = 1..=5;
const EXPERIENCE_LEVELS: std::ops::RangeInclusive<u64> = 1..=6;
const HTML_TAGS: [&str; 9] = ["p", "br", "ul", "ol", "li", "strong", "b", "em", "i"];
const FRENCH_IN_FRANCE: &str =
    "If the job location is in France, the job listing content should be written in French.";

fn page(id: u64) -> Option<&'static Page> {
    PAGES.iter().find(|p| p.id == id)
}

/// Per-target statuses of each listing, by listing id.
#[derive(Debug, Default)]
pub struct TwinState {
    listings: BTreeMap<u64, Vec<JobBoardStatus>>,
}

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/listings", get(search).post(create))
        .route("/listings/{id}", get(read).put(replace).delete(close))
        .with_state(sandbox)
}

fn error(status: StatusCode, message: impl Into<String>, errors: Vec<FieldError>) -> Response {
    let body = ErrorBody {
        status: status.as_u16(),
        message: message.into(),
        errors,
    };
    (status, Json(body)).into_response()
}

fn gate(sandbox: &Sandbox, headers: &HeaderMap) -> Result<(std::time::Duration, bool), Response> {
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    if key != Some(sandbox.credential(BOARD, "api_key")) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "missing or invalid API key",
            Vec::new(),
        ));
    }
    match sandbox.gate(BOARD) {
        Gate::Refuse(response) => Err(response),
        Gate::Proceed { latency, hang } => Ok((latency, hang)),
    }
}

/// `/jobDetails/title` → `jobDetails.title`.
fn field_name(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// Present and not null, not an empty string.
fn present(body: &Value, pointer: &str) -> bool {
    match body.pointer(pointer) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

fn text<'a>(body: &'a Value, pointer: &str) -> Option<&'a str> {
    body.pointer(pointer).and_then(Value::as_str)
}

/// Tags outside FlashPost's HTML subset.
fn foreign_tags(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for piece in html.split('<').skip(1) {
        let name: String = piece
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !HTML_TAGS.contains(&name.as_str()) && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: &str, job_board_id: Option<u64>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            job_board_id: job_board_id.and_then(|id| u32::try_from(id).ok()),
            message: message.into(),
        });
    }
}

/// FlashPost's rules for a create (`create == true`) or an update body.
fn validate(body: &Value, create: bool) -> Vec<FieldError> {
    let mut errors = Errors(Vec::new());
    if !body.is_object() {
        errors.add("", None, "must be an object");
        return errors.0;
    }
    if create {
        match body.get("customerId").and_then(Value::as_u64) {
            Some(id) if id >= 1 => {}
            _ => errors.add("customerId", None, "is required (ID number)"),
        }
        match text(body, "/providerReferenceId") {
            Some(r) if (1..=255).contains(&r.chars().count()) => {}
            Some(_) => errors.add(
                "providerReferenceId",
                None,
                "length must be between 1 and 255",
            ),
            None => errors.add("providerReferenceId", None, "is required"),
        }
    }
    let boards: Vec<u64> = match body.get("jobBoardIds").and_then(Value::as_array) {
        Some(ids) if !ids.is_empty() => {
            let mut known = Vec::new();
            for id in ids {
                match id.as_u64() {
                    Some(id) if page(id).is_some() => known.push(id),
                    _ => errors.add("jobBoardIds", None, format!("unknown job board {id}")),
                }
            }
            known
        }
        _ => {
            errors.add("jobBoardIds", None, "is required");
            Vec::new()
        }
    };
    validate_job_details(body, &mut errors);
    for id in boards {
        let Some(page) = page(id) else { continue };
        for pointer in page.forbidden {
            if present(body, pointer) {
                errors.add(
                    &field_name(pointer),
                    Some(id),
                    "cannot be used for this job board",
                );
            }
        }
        for pointer in page.required {
            if !present(body, pointer) {
                errors.add(&field_name(pointer), Some(id), "is required");
            }
        }
        for pointer in page.unlisted {
            if present(body, pointer) {
                errors.add(
                    &field_name(pointer),
                    Some(id),
                    "is not a field of this job board",
                );
            }
        }
        for (pointer, min, max) in page.lengths {
            if let Some(value) = text(body, pointer) {
                let length = value.chars().count();
                if length < *min || length > *max {
                    errors.add(
                        &field_name(pointer),
                        Some(id),
                        format!("length must be between {min} and {max}"),
                    );
                }
            }
        }
        if let (Some(languages), Some(language)) =
            (page.languages, text(body, "/jobDetails/language"))
            && !languages.contains(&language)
        {
            let quoted: Vec<String> = languages.iter().map(|l| format!("\"{l}\"")).collect();
            errors.add(
                "jobDetails.language",
                Some(id),
                format!("must be one of {}", quoted.join(", ")),
            );
        }
    }
    errors.0
}

fn validate_job_details(body: &Value, errors: &mut Errors) {
    if !body.get("jobDetails").is_some_and(Value::is_object) {
        errors.add("jobDetails", None, "is required");
        return;
    }
    if !present(body, "/jobDetails/title") {
        errors.add("jobDetails.title", None, "is required");
    }
    match body
        .pointer("/jobDetails/description/structuredDescription")
        .and_then(Value::as_object)
    {
        Some(sections)
            if sections
                .values()
                .any(|v| v.as_str().is_some_and(|s| !s.is_empty())) =>
        {
            for (name, html) in sections {
                let foreign = foreign_tags(html.as_str().unwrap_or_default());
                if !foreign.is_empty() {
                    errors.add(
                        &format!("jobDetails.description.structuredDescription.{name}"),
                        None,
                        format!("HTML tags not allowed: {}", foreign.join(", ")),
                    );
                }
            }
        }
        _ => errors.add(
            "jobDetails.description.structuredDescription",
            None,
            "is required",
        ),
    }
    let url = text(body, "/jobDetails/applicationMethod/applicationUrl");
    let email = text(body, "/jobDetails/applicationMethod/email");
    if url.is_none() && email.is_none() {
        errors.add(
            "jobDetails.applicationMethod",
            None,
            "must contain at least one of the following: applicationUrl, email",
        );
    }
    if let Some(url) = url {
        let valid = url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !valid {
            errors.add(
                "jobDetails.applicationMethod.applicationUrl",
                None,
                "must have a valid URL format (i.e. https://example.org/page)",
            );
        }
        if url.chars().count() > 2083 {
            errors.add(
                "jobDetails.applicationMethod.applicationUrl",
                None,
                "length must be between 1 and 2083",
            );
        }
    }
    if let Some(email) = email {
        let valid = email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !valid {
            errors.add(
                "jobDetails.applicationMethod.email",
                None,
                "must have a valid email format",
            );
        }
        if email.chars().count() > 255 {
            errors.add(
                "jobDetails.applicationMethod.email",
                None,
                "length must be between 1 and 255",
            );
        }
    }
    if !body
        .pointer("/jobDetails/categories")
        .is_some_and(Value::is_object)
    {
        errors.add("jobDetails.categories", None, "is required");
    }
    if let Some(kind) = body.pointer("/jobDetails/categories/contractType")
        && !kind.as_u64().is_some_and(|k| CONTRACT_TYPES.contains(&k))
    {
        errors.add(
            "jobDetails.categories.contractType",
            None,
            "is not a known contract type",
        );
    }
    if let Some(level) = body.pointer("/jobDetails/categories/experience")
        && !level
            .as_u64()
            .is_some_and(|l| EXPERIENCE_LEVELS.contains(&l))
    {
        errors.add(
            "jobDetails.categories.experience",
            None,
            "is not a known experience level",
        );
    }
    if body
        .pointer("/jobDetails/jobAddress")
        .is_some_and(|a| !a.is_null())
    {
        if !present(body, "/jobDetails/jobAddress/city") {
            errors.add("jobDetails.jobAddress.city", None, "is required");
        }
        let country = text(body, "/jobDetails/jobAddress/country").unwrap_or_default();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.add(
                "jobDetails.jobAddress.country",
                None,
                "ISO 3166 alpha-2 country code.",
            );
        }
    }
    if let Some(kind) = body.pointer("/jobDetails/jobLocationType")
        && !kind
            .as_str()
            .is_some_and(|k| JOB_LOCATION_TYPES.contains(&k))
    {
        errors.add(
            "jobDetails.jobLocationType",
            None,
            "one of \"ON_SITE\", \"REMOTE_ONLY\", \"REMOTE_POSSIBLE\"",
        );
    }
    if let Some(language) = body.pointer("/jobDetails/language")
        && !language
            .as_str()
            .is_some_and(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()))
    {
        errors.add("jobDetails.language", None, "ISO 639 alpha-2 language code");
    }
    if let Some(salary) = body.pointer("/jobDetails/salary").filter(|s| !s.is_null()) {
        let currency = salary
            .get("currency")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.add("jobDetails.salary.currency", None, "ISO 4217 currency code");
        }
        let min = salary.get("min").and_then(Value::as_f64);
        let max = salary.get("max").and_then(Value::as_f64);
        match (min, max) {
            (Some(min), Some(max)) if min > max => {
                errors.add("jobDetails.salary.min", None, "cannot be higher than max")
            }
            (Some(_), Some(_)) => {}
            _ => errors.add(
                "jobDetails.salary",
                None,
                "min and max are required numbers",
            ),
        }
        if !salary
            .get("period")
            .and_then(Value::as_str)
            .is_some_and(|p| SALARY_PERIODS.contains(&p))
        {
            errors.add(
                "jobDetails.salary.period",
                None,
                "one of: \"HOUR\", \"DAY\", \"WEEK\", \"MONTH\", \"YEAR\"",
            );
        }
    }
    if let Some(count) = body.pointer("/jobDetails/numberOfVacancies")
        && count.as_u64().is_none_or(|c| c < 1)
    {
        errors.add(
            "jobDetails.numberOfVacancies",
            None,
            "cannot be lower than 1",
        );
    }
}

/// The body as JSON, checked; or FlashPost's 400 / 422.
fn parse(body: &str, create: bool) -> Result<Value, Response> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
            Vec::new(),
        )
    })?;
    let errors = validate(&value, create);
    if !errors.is_empty() {
        return Err(unprocessable(errors));
    }
    Ok(value)
}

/// 422, the message naming the target boards whose rules were broken.
fn unprocessable(errors: Vec<FieldError>) -> Response {
    let mut names: Vec<&str> = Vec::new();
    for page in errors
        .iter()
        .filter_map(|e| e.job_board_id.and_then(|id| page(id.into())))
    {
        if !names.contains(&page.name) {
            names.push(page.name);
        }
    }
    let message = if names.is_empty() {
        "Validation failed".to_owned()
    } else {
        format!("Validation failed for {}", names.join(", "))
    };
    error(StatusCode::UNPROCESSABLE_ENTITY, message, errors)
}

fn board_ids(body: &Value) -> Vec<u64> {
    body.get("jobBoardIds")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn pending(ids: &[u64]) -> Vec<JobBoardStatus> {
    ids.iter()
        .map(|id| JobBoardStatus {
            job_board_id: u32::try_from(*id).unwrap_or_default(),
            status: "PENDING".to_owned(),
            url: None,
            reason: None,
        })
        .collect()
}

fn listing(sandbox: &Sandbox, posting: &HeldPosting) -> Listing {
    let id: u64 = posting.external_id.parse().unwrap_or_default();
    let job_boards = sandbox.with_extra(BOARD, |state: &mut TwinState| {
        state.listings.get(&id).cloned().unwrap_or_default()
    });
    Listing {
        id,
        provider_reference_id: posting.reference.clone(),
        status: if posting.live { "OPEN" } else { "CLOSED" }.to_owned(),
        job_boards,
    }
}

/// The targets act on a listing the first time anyone reads it: each pending
/// one publishes, or refuses what it checks only then.
fn settle(sandbox: &Sandbox, posting: &HeldPosting) {
    let Ok(id) = posting.external_id.parse::<u64>() else {
        return;
    };
    let content = &posting.content;
    let in_france = text(content, "/jobDetails/jobAddress/country") == Some("FR");
    let french = text(content, "/jobDetails/language") == Some("fr");
    sandbox.with_extra(BOARD, |state: &mut TwinState| {
        for status in state.listings.get_mut(&id).into_iter().flatten() {
            if status.status != "PENDING" {
                continue;
            }
            let Some(page) = page(status.job_board_id.into()) else {
                continue;
            };
            if page.french_in_france && in_france && !french {
                status.status = "REJECTED".to_owned();
                status.reason = Some(FRENCH_IN_FRANCE.to_owned());
            } else {
                status.status = "PUBLISHED".to_owned();
                status.url = Some(format!("{}{id}", page.url));
            }
        }
    });
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no listing {id}"),
        Vec::new(),
    )
}

async fn create(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let body = match parse(&body, true) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let reference = text(&body, "/providerReferenceId")
        .unwrap_or_default()
        .to_owned();
    let open = sandbox.with_postings(BOARD, |held| {
        held.values()
            .find(|p| p.reference == reference && p.live)
            .map(|p| p.external_id.clone())
    });
    if let Some(open) = open {
        return error(
            StatusCode::CONFLICT,
            format!("listing {open} is open with providerReferenceId {reference}"),
            vec![FieldError {
                field: "providerReferenceId".to_owned(),
                job_board_id: None,
                message: format!("already used by open listing {open}"),
            }],
        );
    }
    let id = 70_000 + sandbox.next_id(BOARD);
    let ids = board_ids(&body);
    let url = ids
        .first()
        .and_then(|first| page(*first))
        .map(|p| format!("{}{id}", p.url))
        .unwrap_or_default();
    let posting = HeldPosting {
        board: BOARD.to_owned(),
        reference,
        external_id: id.to_string(),
        url,
        live: true,
        title: text(&body, "/jobDetails/title")
            .unwrap_or_default()
            .to_owned(),
        language: text(&body, "/jobDetails/language")
            .unwrap_or_default()
            .to_owned(),
        creates: 1,
        updates: 0,
        withdrawals: 0,
        content: body,
    };
    sandbox.with_extra(BOARD, |state: &mut TwinState| {
        state.listings.insert(id, pending(&ids));
    });
    sandbox.with_postings(BOARD, |held| {
        held.insert(id.to_string(), posting.clone());
    });
    let body = listing(&sandbox, &posting);
    answer(timing, (StatusCode::CREATED, Json(body)).into_response()).await
}

/// The fields a target of the listing cannot update, changed by `body`.
fn changed_fixed_fields(held: &Value, body: &Value) -> Vec<FieldError> {
    let before = board_ids(held);
    let mut errors = Errors(Vec::new());
    for id in board_ids(body).into_iter().filter(|id| before.contains(id)) {
        let Some(page) = page(id) else { continue };
        for pointer in page.not_updatable {
            if held.pointer(pointer) != body.pointer(pointer) {
                errors.add(&field_name(pointer), Some(id), "cannot be updated");
            }
        }
    }
    errors.0
}

async fn replace(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let body = match parse(&body, false) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let Some(held) = sandbox.with_postings(BOARD, |held| held.get(&id).cloned()) else {
        return not_found(&id);
    };
    let fixed = changed_fixed_fields(&held.content, &body);
    if !fixed.is_empty() {
        return unprocessable(fixed);
    }
    let updated = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&id)?;
        let content = posting.content.as_object_mut()?;
        for key in ["jobBoardIds", "jobDetails", "companyDetails", "templateId"] {
            match body.get(key) {
                Some(value) => content.insert(key.to_owned(), value.clone()),
                None => content.remove(key),
            };
        }
        posting.title = text(&body, "/jobDetails/title")
            .unwrap_or_default()
            .to_owned();
        posting.language = text(&body, "/jobDetails/language")
            .unwrap_or_default()
            .to_owned();
        posting.updates += 1;
        // A PUT reopens a closed listing [I].
        posting.live = true;
        Some(posting.clone())
    });
    let Some(posting) = updated else {
        return not_found(&id);
    };
    let ids = board_ids(&body);
    if let Ok(number) = id.parse::<u64>() {
        // Every target reviews the new revision.
        sandbox.with_extra(BOARD, |state: &mut TwinState| {
            state.listings.insert(number, pending(&ids));
        });
    }
    let body = listing(&sandbox, &posting);
    answer(timing, Json(body).into_response()).await
}

async fn close(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let closed = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&id)?;
        if posting.live {
            posting.withdrawals += 1;
        }
        posting.live = false;
        Some(posting.clone())
    });
    let Some(posting) = closed else {
        return not_found(&id);
    };
    if let Ok(number) = id.parse::<u64>() {
        sandbox.with_extra(BOARD, |state: &mut TwinState| {
            for status in state.listings.get_mut(&number).into_iter().flatten() {
                status.status = "CLOSED".to_owned();
            }
        });
    }
    let body = listing(&sandbox, &posting);
    answer(timing, Json(body).into_response()).await
}

async fn read(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let Some(posting) = sandbox.with_postings(BOARD, |held| held.get(&id).cloned()) else {
        return not_found(&id);
    };
    settle(&sandbox, &posting);
    let body = listing(&sandbox, &posting);
    answer(timing, Json(body).into_response()).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchQuery {
    provider_reference_id: String,
}

async fn search(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let found: Vec<HeldPosting> = sandbox.with_postings(BOARD, |held| {
        held.values()
            .filter(|p| p.reference == query.provider_reference_id)
            .cloned()
            .collect()
    });
    let listings = found
        .iter()
        .map(|posting| {
            settle(&sandbox, posting);
            listing(&sandbox, posting)
        })
        .collect();
    answer(timing, Json(ListingPage { listings }).into_response()).await
}
