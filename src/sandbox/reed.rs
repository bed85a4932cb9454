//! Reed's twin, written from Reed's Recruiter API page and public clients
//! (`docs/boards/reed.md` lists them), not from the adapter's types:
//! `POST /recruiter/api/1.0/jobs` creates, `PUT …/jobs/update/{jobId}`
//! edits a live job, `PUT …/jobs/end/{jobId}` ends one and
//! `PUT …/jobs/relist/{jobId}` relists an ended one. Every request's
//! HMAC-SHA1 signature is recomputed from the method, User-Agent, full URL,
//! `www.reed.co.uk` and `X-TimeStamp` (401 when it is wrong, missing, or the
//! timestamp is more than 5 minutes off), the client's posting key checked
//! (403), and the documented field rules checked again here, with this
//! twin's own scanners: 400 with ASP.NET's `{message, modelState}`. Answers:
//! `{JobId, ResponseMessage}`, as public clients read them.
//!
//! Inferred, as in the conformance record: the lookup
//! `GET …/jobs?ownerRef=…` and its `{JobId, OwnerRef, Status}` list, 404
//! for an id the account does not have, 400 for editing or ending a job
//! that is not live, drafts (`isDemo`) held but not live, and what counts
//! as an e-mail, URL or phone number. A town is a UK postcode or one of the
//! UK towns this twin knows (a short gazetteer).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha1::Sha1;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

/// Header names, as Reed's page and public clients spell them.
const CLIENT_ID_HEADER: &str = "X-ApiClientId";
const SIGNATURE_HEADER: &str = "X-ApiSignature";
const TIMESTAMP_HEADER: &str = "X-TimeStamp";
/// `salaryType`: 1 per hour, 2 per day, 5 per annum (public clients).
const SALARY_TYPES: [u64; 3] = [1, 2, 5];
/// `currency`: 1 GBP, 2 EUR, 3 AUD, 8 USD, 21 CAD (public clients).
const CURRENCIES: [u64; 5] = [1, 2, 3, 8, 21];

/// ASP.NET Web API's error body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    message: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    model_state: BTreeMap<String, Vec<String>>,
}

/// What a create, edit, end or relist answers.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JobAnswer {
    job_id: u64,
    response_message: String,
}

/// One job of the lookup [inferred].
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JobRecord {
    job_id: u64,
    owner_ref: Option<String>,
    status: &'static str,
}

pub const BOARD: &str = "reed";
/// "Host (always set to www.reed.co.uk)".
const HOST: &str = "www.reed.co.uk";
/// How far a request's timestamp may be from the twin's clock.
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
const FIRST_JOB_ID: u64 = 50_000_000;

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["client_id", "api_key", "posting_key"],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/recruiter/api/1.0/jobs", get(list).post(create))
        .route("/recruiter/api/1.0/jobs/update/{job_id}", put(edit))
        .route("/recruiter/api/1.0/jobs/end/{job_id}", put(end))
        .route("/recruiter/api/1.0/jobs/relist/{job_id}", put(relist))
        .with_state(sandbox)
}

/// Jobs posted with `isDemo`: drafts, held but never live.
#[derive(Default)]
struct Drafts(BTreeSet<String>);

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        message: message.into(),
        model_state: BTreeMap::new(),
    };
    (status, Json(body)).into_response()
}

fn invalid(model_state: BTreeMap<String, Vec<String>>) -> Response {
    let body = ErrorBody {
        message: "The request is invalid.".to_owned(),
        model_state,
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn denied(detail: &str) -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        format!("Authorization has been denied for this request. {detail}"),
    )
}

/// Recomputes the signature of this very request.
fn verify(
    sandbox: &Sandbox,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Result<(), Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(client_id), Some(signature), Some(timestamp)) = (
        header(CLIENT_ID_HEADER),
        header(SIGNATURE_HEADER),
        header(TIMESTAMP_HEADER),
    ) else {
        return Err(denied(&format!(
            "{CLIENT_ID_HEADER}, {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required."
        )));
    };
    if client_id != sandbox.credential(BOARD, "client_id") {
        return Err(denied("Unknown client id."));
    }
    let Ok(at) = OffsetDateTime::parse(timestamp, &Rfc3339) else {
        return Err(denied("X-Timestamp is not a UTC date and time."));
    };
    let skew = (OffsetDateTime::now_utc() - at).unsigned_abs();
    if skew > CLOCK_SKEW {
        return Err(denied(
            "X-Timestamp is more than 5 minutes from the server's time.",
        ));
    }
    let url = format!("http://{}{uri}", header("host").unwrap_or_default());
    let user_agent = header("user-agent").unwrap_or_default();
    let mut mac = Hmac::<Sha1>::new_from_slice(sandbox.credential(BOARD, "api_key").as_bytes())
        .expect("any key length");
    mac.update(method.as_str().as_bytes());
    mac.update(user_agent.as_bytes());
    mac.update(url.as_bytes());
    mac.update(HOST.as_bytes());
    mac.update(timestamp.as_bytes());
    let given = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .unwrap_or_default();
    mac.verify_slice(&given)
        .map_err(|_| denied("The signature does not match."))
}

/// A GUID compared the way .NET parses one: braces, hyphens and case aside.
fn guid(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The client's posting key must be the one of the account posted for.
fn account(sandbox: &Sandbox, posting_key: Option<&str>) -> Result<(), Response> {
    match posting_key {
        None => Err(error(
            StatusCode::FORBIDDEN,
            "A postingKey is required to post on behalf of a client account.",
        )),
        Some(key) if guid(key) == guid(sandbox.credential(BOARD, "posting_key")) => Ok(()),
        Some(_) => Err(error(
            StatusCode::FORBIDDEN,
            "The postingKey does not belong to this username.",
        )),
    }
}

/// Authentication, then the fault knobs.
fn gate(
    sandbox: &Sandbox,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Result<(Duration, bool), Response> {
    verify(sandbox, method, uri, headers)?;
    match sandbox.gate(BOARD) {
        Gate::Refuse(response) => Err(response),
        Gate::Proceed { latency, hang } => Ok((latency, hang)),
    }
}

// ---------------------------------------------------------------------------
// The board's rules.

fn is_email(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().any(|(at, &c)| {
        if c != '@' {
            return false;
        }
        let local = chars[..at]
            .iter()
            .rev()
            .take_while(|c| c.is_alphanumeric() || "._%+-".contains(**c))
            .count();
        let domain: String = chars[at + 1..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || "-.".contains(**c))
            .collect();
        let domain = domain.trim_end_matches('.');
        let labels: Vec<&str> = domain.split('.').collect();
        local > 0
            && labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic))
    })
}

fn has_url(text: &str) -> bool {
    let lower = text.to_lowercase();
    if ["http://", "https://", "ftp://", "www."]
        .iter()
        .any(|s| lower.contains(s))
    {
        return true;
    }
    [".com", ".co.uk", ".org.uk", ".org"].iter().any(|tld| {
        lower.match_indices(tld).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + tld.len()..].chars().next();
            before.is_some_and(|c| c.is_ascii_alphanumeric())
                && after.is_none_or(|c| !c.is_alphanumeric())
        })
    })
}

fn has_phone(text: &str) -> bool {
    let mut digits = 0;
    // A sentinel ends the last run.
    for c in text.chars().chain(['\n']) {
        if c.is_ascii_digit() {
            digits += 1;
        } else if !" +-().".contains(c) {
            if (10..=15).contains(&digits) {
                return true;
            }
            digits = 0;
        }
    }
    false
}

fn has_html(text: &str) -> bool {
    text.split('<').skip(1).any(|rest| {
        rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/') && rest.contains('>')
    })
}

/// `WC2B 5LX`, `M1 1AE`, or the outward code alone (`WC2B`).
fn is_uk_postcode(text: &str) -> bool {
    let compact: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let n = compact.len();
    let full = n >= 5
        && compact[n - 3].is_ascii_digit()
        && compact[n - 2].is_ascii_alphabetic()
        && compact[n - 1].is_ascii_alphabetic();
    let outward = if full {
        &compact[..n - 3]
    } else {
        &compact[..]
    };
    let letters = outward
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let rest = &outward[letters.min(outward.len())..];
    (1..=2).contains(&letters)
        && match rest {
            [d] => d.is_ascii_digit(),
            [d, x] => d.is_ascii_digit() && x.is_ascii_alphanumeric(),
            _ => false,
        }
}

/// Towns and cities this twin knows; a real board has the full gazetteer.
const UK_TOWNS: &[&str] = &[
    "aberdeen",
    "bath",
    "belfast",
    "birmingham",
    "blackpool",
    "bolton",
    "bournemouth",
    "bradford",
    "brighton",
    "bristol",
    "cambridge",
    "canterbury",
    "cardiff",
    "carlisle",
    "chelmsford",
    "chester",
    "colchester",
    "coventry",
    "covent garden",
    "croydon",
    "derby",
    "dundee",
    "durham",
    "edinburgh",
    "exeter",
    "glasgow",
    "gloucester",
    "guildford",
    "hull",
    "inverness",
    "ipswich",
    "leeds",
    "leicester",
    "lincoln",
    "liverpool",
    "london",
    "luton",
    "manchester",
    "middlesbrough",
    "milton keynes",
    "newcastle upon tyne",
    "newport",
    "northampton",
    "norwich",
    "nottingham",
    "oxford",
    "peterborough",
    "plymouth",
    "portsmouth",
    "preston",
    "reading",
    "salford",
    "sheffield",
    "slough",
    "southampton",
    "stirling",
    "stoke-on-trent",
    "sunderland",
    "swansea",
    "swindon",
    "watford",
    "winchester",
    "wolverhampton",
    "worcester",
    "york",
];

fn is_uk_place(text: &str) -> bool {
    let name = text.trim().to_lowercase();
    is_uk_postcode(&name) || UK_TOWNS.contains(&name.as_str())
}

/// The fields Reed refuses, each with its reasons.
fn validate(body: &Value, creating: bool) -> BTreeMap<String, Vec<String>> {
    let mut state: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |field: &str, message: &str| {
        state
            .entry(field.to_owned())
            .or_default()
            .push(message.to_owned())
    };
    let text = |field: &str| body.get(field).and_then(Value::as_str);
    let int = |field: &str| body.get(field).and_then(Value::as_u64);

    match text("username") {
        None => add("username", "The username field is required."),
        Some(name) if !is_email(name) => add(
            "username",
            "The username must be the e-mail address of a reed.co.uk recruiter account.",
        ),
        Some(_) => {}
    }
    if !int("jobType").is_some_and(|t| [1, 2, 4].contains(&t)) {
        add("jobType", "The jobType must be 1, 2 or 4.");
    }
    if !int("workingHours").is_some_and(|h| (1..=3).contains(&h)) {
        add("workingHours", "The workingHours must be 1, 2 or 3.");
    }
    let contact = |value: &str| {
        let mut found = Vec::new();
        if is_email(value) {
            found.push("email addresses");
        }
        if has_url(value) {
            found.push("URLs");
        }
        if has_phone(value) {
            found.push("phone numbers");
        }
        found
    };
    match text("description") {
        None => add("description", "The description field is required."),
        Some(description) => {
            let n = description.chars().count();
            if !(150..=6_500).contains(&n) {
                add(
                    "description",
                    &format!(
                        "The job description must be between 150 and 6,500 characters; it is {n}."
                    ),
                );
            }
            for kind in contact(description) {
                add(
                    "description",
                    &format!("The job description cannot contain {kind}."),
                );
            }
        }
    }
    for field in ["title", "townName"] {
        let Some(value) = text(field) else {
            add(field, &format!("The {field} field is required."));
            continue;
        };
        if value.trim().is_empty() {
            add(field, &format!("The {field} field is required."));
        }
        if value.chars().count() > 255 {
            add(
                field,
                &format!("The {field} must be no more than 255 characters."),
            );
        }
        if has_html(value) {
            add(field, &format!("The {field} cannot contain html."));
        }
        for kind in contact(value) {
            add(field, &format!("The {field} cannot contain {kind}."));
        }
    }
    if let Some(town) = text("townName")
        && !town.trim().is_empty()
        && !is_uk_place(town)
    {
        add(
            "townName",
            "The townName can only accept postcodes and names of towns within the UK.",
        );
    }
    if body.get("productId").is_some()
        && !int("productId").is_some_and(|p| [1, 2, 3, 4, 81].contains(&p))
    {
        add("productId", "The productId must be 1, 2, 3, 4 or 81.");
    }
    if body.get("expiryInDays").is_some()
        && !int("expiryInDays").is_some_and(|d| (1..=42).contains(&d))
    {
        add("expiryInDays", "The expiryInDays must be between 1 and 42.");
    }
    if creating && body.get("isDemo").is_some_and(|d| !d.is_boolean()) {
        add("isDemo", "The isDemo must be true or false.");
    }
    if body.get("postingKey").is_some_and(|k| !k.is_string()) {
        add("postingKey", "The postingKey must be a Guid.");
    }
    if body.get("ownerRef").is_some_and(|r| !r.is_string()) {
        add("ownerRef", "The ownerRef must be a string.");
    }
    let salary = |field: &str| body.get(field).map(|v| v.as_f64().filter(|s| *s >= 0.0));
    let (minimum, maximum) = (salary("minSalary"), salary("maxSalary"));
    for (field, value) in [("minSalary", minimum), ("maxSalary", maximum)] {
        if value == Some(None) {
            add(field, &format!("The {field} must be a positive number."));
        }
    }
    if let (Some(Some(min)), Some(Some(max))) = (minimum, maximum)
        && min > max
    {
        add(
            "minSalary",
            "The minSalary cannot be more than the maxSalary.",
        );
    }
    // salaryType defaults to per annum; only the codes Reed lists are taken.
    if let Some(t) = body.get("salaryType")
        && !t.as_u64().is_some_and(|t| SALARY_TYPES.contains(&t))
    {
        add(
            "salaryType",
            "The salaryType must be 1 (per hour), 2 (per day) or 5 (per annum).",
        );
    }
    if let Some(c) = body.get("currency")
        && !c.as_u64().is_some_and(|c| CURRENCIES.contains(&c))
    {
        add("currency", "The currency must be 1, 2, 3, 8 or 21.");
    }
    state
}

/// Parses and checks a create or edit body; the posting key is checked first.
fn parse(sandbox: &Sandbox, body: &str, creating: bool) -> Result<Value, Response> {
    let Ok(mut value) = serde_json::from_str::<Value>(body) else {
        let mut state = BTreeMap::new();
        state.insert(
            "job".to_owned(),
            vec!["The request body is not a JSON job.".to_owned()],
        );
        return Err(invalid(state));
    };
    if !value.is_object() {
        let mut state = BTreeMap::new();
        state.insert(
            "job".to_owned(),
            vec!["The request body must be a JSON object.".to_owned()],
        );
        return Err(invalid(state));
    }
    account(sandbox, value.get("postingKey").and_then(Value::as_str))?;
    let state = validate(&value, creating);
    if !state.is_empty() {
        return Err(invalid(state));
    }
    // Held without the secret.
    if let Some(object) = value.as_object_mut() {
        object.remove("postingKey");
    }
    Ok(value)
}

fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.to_lowercase().chars() {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn status(posting: &HeldPosting, draft: bool) -> &'static str {
    if posting.live {
        "Live"
    } else if draft {
        "Draft"
    } else {
        "Ended"
    }
}

fn is_draft(sandbox: &Sandbox, job_id: &str) -> bool {
    sandbox.with_extra(BOARD, |drafts: &mut Drafts| drafts.0.contains(job_id))
}

fn record(sandbox: &Sandbox, posting: &HeldPosting) -> JobRecord {
    JobRecord {
        job_id: posting.external_id.parse().unwrap_or_default(),
        owner_ref: Some(posting.reference.clone()).filter(|r| !r.is_empty()),
        status: status(posting, is_draft(sandbox, &posting.external_id)),
    }
}

fn done(job_id: &str, message: &str) -> Json<JobAnswer> {
    Json(JobAnswer {
        job_id: job_id.parse().unwrap_or_default(),
        response_message: message.to_owned(),
    })
}

fn not_found(job_id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("No job {job_id} on this account."),
    )
}

fn not_live(job_id: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format!("Job {job_id} is not live."),
    )
}

fn field(body: &Value, name: &str) -> String {
    body.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

async fn create(
    State(sandbox): State<Sandbox>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let timing = match gate(&sandbox, &method, &uri, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let job = match parse(&sandbox, &body, true) {
        Ok(job) => job,
        Err(response) => return response,
    };
    let draft = job.get("isDemo").and_then(Value::as_bool) == Some(true);
    let job_id = (FIRST_JOB_ID + sandbox.next_id(BOARD)).to_string();
    let title = field(&job, "title");
    let posting = HeldPosting {
        board: BOARD.to_owned(),
        reference: field(&job, "ownerRef"),
        external_id: job_id.clone(),
        url: format!("https://www.reed.co.uk/jobs/{}/{job_id}", slug(&title)),
        live: !draft,
        title,
        language: "en".to_owned(),
        creates: 1,
        updates: 0,
        withdrawals: 0,
        content: job,
    };
    if draft {
        sandbox.with_extra(BOARD, |drafts: &mut Drafts| drafts.0.insert(job_id.clone()));
    }
    sandbox.with_postings(BOARD, |held| held.insert(job_id.clone(), posting));
    let reply = done(&job_id, "Job posted successfully");
    answer(timing, (StatusCode::CREATED, reply).into_response()).await
}

/// Edits a live job (or a draft); an ended one must be relisted first.
async fn edit(
    State(sandbox): State<Sandbox>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(job_id): Path<String>,
    body: String,
) -> Response {
    let timing = match gate(&sandbox, &method, &uri, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let job = match parse(&sandbox, &body, false) {
        Ok(job) => job,
        Err(response) => return response,
    };
    let draft = is_draft(&sandbox, &job_id);
    let edited = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&job_id)?;
        if !posting.live && !draft {
            return Some(false);
        }
        posting.title = field(&job, "title");
        posting.updates += 1;
        posting.content = job;
        Some(true)
    });
    match edited {
        Some(true) => answer(timing, done(&job_id, "Job updated").into_response()).await,
        Some(false) => not_live(&job_id),
        None => not_found(&job_id),
    }
}

/// The body of an end or a relist: the account.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountBody {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    posting_key: Option<String>,
}

fn body_account(sandbox: &Sandbox, body: &str) -> Result<(), Response> {
    let Ok(account) = serde_json::from_str::<AccountBody>(body) else {
        let mut state = BTreeMap::new();
        state.insert(
            "username".to_owned(),
            vec!["The username field is required.".to_owned()],
        );
        return Err(invalid(state));
    };
    check_account(
        sandbox,
        account.username.as_deref(),
        account.posting_key.as_deref(),
    )
}

fn check_account(
    sandbox: &Sandbox,
    username: Option<&str>,
    posting_key: Option<&str>,
) -> Result<(), Response> {
    if !username.is_some_and(is_email) {
        let mut state = BTreeMap::new();
        state.insert(
            "username".to_owned(),
            vec!["The username field is required.".to_owned()],
        );
        return Err(invalid(state));
    }
    account(sandbox, posting_key)
}

/// Ends a live job (a draft is discarded).
async fn end(
    State(sandbox): State<Sandbox>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(job_id): Path<String>,
    body: String,
) -> Response {
    let timing = match gate(&sandbox, &method, &uri, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    if let Err(response) = body_account(&sandbox, &body) {
        return response;
    }
    let draft = sandbox.with_extra(BOARD, |drafts: &mut Drafts| drafts.0.remove(&job_id));
    let ended = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&job_id)?;
        if !posting.live && !draft {
            return Some(false);
        }
        posting.live = false;
        posting.withdrawals += 1;
        Some(true)
    });
    match ended {
        Some(true) => answer(timing, done(&job_id, "Job ended").into_response()).await,
        Some(false) => not_live(&job_id),
        None => not_found(&job_id),
    }
}

/// Puts an ended job back online.
async fn relist(
    State(sandbox): State<Sandbox>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(job_id): Path<String>,
    body: String,
) -> Response {
    let timing = match gate(&sandbox, &method, &uri, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    if let Err(response) = body_account(&sandbox, &body) {
        return response;
    }
    let draft = is_draft(&sandbox, &job_id);
    let relisted = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&job_id)?;
        if posting.live || draft {
            return Some(false);
        }
        posting.live = true;
        Some(true)
    });
    match relisted {
        Some(true) => answer(timing, done(&job_id, "Job relisted").into_response()).await,
        Some(false) => error(
            StatusCode::BAD_REQUEST,
            format!("Job {job_id} is not ended; only an ended job can be relisted."),
        ),
        None => not_found(&job_id),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupQuery {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    posting_key: Option<String>,
    #[serde(default)]
    owner_ref: Option<String>,
}

/// The account's jobs, by `ownerRef` when given [inferred].
async fn list(
    State(sandbox): State<Sandbox>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(query): Query<LookupQuery>,
) -> Response {
    let timing = match gate(&sandbox, &method, &uri, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    if let Err(response) = check_account(
        &sandbox,
        query.username.as_deref(),
        query.posting_key.as_deref(),
    ) {
        return response;
    }
    let postings = sandbox.with_postings(BOARD, |held| {
        held.values()
            .filter(|p| query.owner_ref.as_deref().is_none_or(|r| r == p.reference))
            .cloned()
            .collect::<Vec<_>>()
    });
    let records: Vec<JobRecord> = postings.iter().map(|p| record(&sandbox, p)).collect();
    answer(timing, Json(records).into_response()).await
}
