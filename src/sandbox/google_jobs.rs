//! Google for Jobs' twin: the service-account token endpoint, the Indexing
//! API, and Googlebot reading the page it is told about.
//!
//! | route | what |
//! |---|---|
//! | `POST /google-jobs/token` | an RS256 JWT assertion (`grant_type` jwt-bearer) for an access token |
//! | `POST /google-jobs/v3/urlNotifications:publish` | `{"url", "type"}`: `URL_UPDATED` or `URL_DELETED` |
//!
//! - The token endpoint checks the assertion's signature with the public half
//!   of the service account's key (the sandbox generates the key pair; the
//!   worker gets the private PEM as credential `private_key_pem`), its `iss`
//!   (the sandbox's service account), `scope`, `aud` (this endpoint) and
//!   `exp` (at most an hour after `iat`); refusals are 400 `invalid_grant` /
//!   `invalid_scope`, as Google's OAuth server answers.
//! - The Indexing API wants a live bearer token (401 `UNAUTHENTICATED`),
//!   counts 200 publish calls a Pacific day (then 429 `RESOURCE_EXHAUSTED`
//!   naming the per-day limit), and applies the fault knobs.
//! - `URL_UPDATED`: Googlebot fetches the URL at once and judges its
//!   JobPosting JSON-LD by Google's rules, with code of its own: required
//!   `title`, `description` (HTML allowed, not the title), `datePosted`,
//!   `hiringOrganization.name`, and `jobLocation` (Place, PostalAddress,
//!   alpha-2 `addressCountry`) or `jobLocationType: TELECOMMUTE` with
//!   `applicantLocationRequirements`; `validThrough` not past; the
//!   `baseSalary` shape (MonetaryAmount, ISO currency, QuantitativeValue with
//!   `value` or `minValue`/`maxValue`, a `unitText` of Google's). A page that
//!   fails is 400 `INVALID_ARGUMENT` naming the property. A page that passes
//!   is held under the URL's last path segment (our reference), with the
//!   JSON-LD as content.
//! - `URL_DELETED`: the page must answer 404 or 410; the posting is then
//!   held as not live.
//!
//! Inferred [I], as in the adapter: the endpoint paths under the sandbox's
//! base, the error bodies' wording, and the synchronous fetch (Google crawls
//! later and reports in Search Console; the twin says it at once so a test
//! or the pipeline sees the verdict).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::oauth::TokenStatus;
use super::{Gate, HeldPosting, Sandbox, Twin, answer};
use crate::boards::google_jobs::pacific_day;

/// The claims Google's token endpoint reads from a service account's JWT
/// (developers.google.com/identity/protocols/oauth2/service-account,
/// "Forming the JWT claim set"): the twin's own reading, not the adapter's type.
#[derive(Debug, Deserialize)]
struct Claims {
    #[allow(dead_code)]
    iss: String,
    scope: String,
    #[allow(dead_code)]
    aud: String,
    iat: u64,
    exp: u64,
}

/// The Indexing API's notification types (developers.google.com/search/apis/indexing-api/v3/reference/indexing/rest/v3/UrlNotificationType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotificationType {
    UrlUpdated,
    UrlDeleted,
}

impl NotificationType {
    fn name(self) -> &'static str {
        match self {
            Self::UrlUpdated => "URL_UPDATED",
            Self::UrlDeleted => "URL_DELETED",
        }
    }
}

/// The URL Inspection API's request, as Search Console documents it
/// (developers.google.com/webmaster-tools/v1/urlInspection.index/inspect).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InspectRequest {
    inspection_url: String,
    site_url: String,
    #[serde(default)]
    #[allow(dead_code)]
    language_code: Option<String>,
}

pub const BOARD: &str = "google-jobs";
/// The sandbox's service account (`client_email` in config/default.toml).
pub const SERVICE_ACCOUNT: &str = "boardcast@boardcast-sandbox.iam.gserviceaccount.com";
const SCOPE: &str = "https://www.googleapis.com/auth/indexing";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google's access tokens live an hour.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Publish calls a day per project, updates and deletes together.
pub const DAILY_QUOTA: u32 = 200;
const UNIT_TEXTS: [&str; 5] = ["HOUR", "DAY", "WEEK", "MONTH", "YEAR"];
const EMPLOYMENT_TYPES: [&str; 8] = [
    "FULL_TIME",
    "PART_TIME",
    "CONTRACTOR",
    "TEMPORARY",
    "INTERN",
    "VOLUNTEER",
    "PER_DIEM",
    "OTHER",
];

/// The twin's token endpoint (Google's own is oauth2.googleapis.com, not the API host).
pub const TOKEN_PATH: &str = "/token";
/// Search Console's URL Inspection endpoint, under the twin.
pub const INSPECT_PATH: &str = "/v1/urlInspection/index:inspect";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["private_key_pem"],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route("/v3/urlNotifications:publish", post(publish))
        .route(INSPECT_PATH, post(inspect))
        .with_state(sandbox)
}

/// A fresh RSA-2048 private key, PKCS#8 PEM (as in a service account's JSON key file).
pub fn generate_private_key_pem() -> String {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .expect("aws-lc-rs generates RSA keys")
        .serialize_pem()
}

/// The credentials this twin makes for a new sandbox: a service account key.
pub fn service_account() -> BTreeMap<String, String> {
    BTreeMap::from([("private_key_pem".to_owned(), generate_private_key_pem())])
}

/// The public half of the sandbox's service account key.
fn public_key(sandbox: &Sandbox) -> Option<jsonwebtoken::DecodingKey> {
    let private = rcgen::KeyPair::from_pem(sandbox.credential(BOARD, "private_key_pem")).ok()?;
    jsonwebtoken::DecodingKey::from_rsa_pem(private.public_key_pem().as_bytes()).ok()
}

#[derive(Debug, Default)]
struct Quota {
    day: Option<Date>,
    used: u32,
}

/// Publish calls counted today (Pacific time).
pub fn quota_used(sandbox: &Sandbox) -> u32 {
    let today = pacific_day(OffsetDateTime::now_utc());
    sandbox.with_extra(BOARD, |quota: &mut Quota| {
        if quota.day == Some(today) {
            quota.used
        } else {
            0
        }
    })
}

/// Counts one publish call, or refuses it when today's are spent.
fn spend(sandbox: &Sandbox) -> bool {
    let today = pacific_day(OffsetDateTime::now_utc());
    sandbox.with_extra(BOARD, |quota: &mut Quota| {
        if quota.day != Some(today) {
            *quota = Quota {
                day: Some(today),
                used: 0,
            };
        }
        if quota.used >= DAILY_QUOTA {
            return false;
        }
        quota.used += 1;
        true
    })
}

fn oauth_error(error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Google's API error body.
fn api_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body =
        json!({"error": {"code": status.as_u16(), "message": message.into(), "status": code}});
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    assertion: String,
}

async fn token(
    State(sandbox): State<Sandbox>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    if form.grant_type != GRANT_TYPE {
        return oauth_error(
            "unsupported_grant_type",
            &format!("Invalid grant_type: {}", form.grant_type),
        );
    }
    let Some(key) = public_key(&sandbox) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "sandbox: the service account key is not an RSA key",
        )
            .into_response();
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let audience = format!("http://{host}{}", uri.path());
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&audience]);
    validation.set_issuer(&[SERVICE_ACCOUNT]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    validation.leeway = 0;
    let claims = match jsonwebtoken::decode::<Claims>(&form.assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(error) => {
            use jsonwebtoken::errors::ErrorKind;
            let description = match error.kind() {
                ErrorKind::InvalidSignature => "Invalid JWT Signature.".to_owned(),
                ErrorKind::InvalidIssuer => "Invalid grant: account not found".to_owned(),
                ErrorKind::InvalidAudience => {
                    format!("Invalid JWT: aud must be {audience}")
                }
                ErrorKind::ExpiredSignature => "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".to_owned(),
                _ => format!("Invalid JWT: {error}"),
            };
            return oauth_error("invalid_grant", &description);
        }
    };
    if claims.exp.saturating_sub(claims.iat) > 3600 {
        return oauth_error(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        );
    }
    if !claims.scope.split(' ').any(|scope| scope == SCOPE) {
        return oauth_error(
            "invalid_scope",
            &format!("Invalid OAuth scope; the Indexing API needs {SCOPE}"),
        );
    }
    let issued = sandbox.issue_token(BOARD, TOKEN_LIFETIME);
    Json(json!({
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "token_type": "Bearer",
    }))
    .into_response()
}

async fn publish(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    if sandbox.token_status(BOARD, &headers) != TokenStatus::Valid {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        );
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    if !spend(&sandbox) {
        return api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Publish requests' and limit 'Publish requests per day' of service 'indexing.googleapis.com'.",
        );
    }
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received.",
        );
    };
    let url = request["url"].as_str().unwrap_or_default().to_owned();
    let Ok(parsed) = url::Url::parse(&url) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Invalid value at 'url_notification.url': a URL is required",
        );
    };
    let reference = parsed
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or_default()
        .to_owned();
    let kind = match request["type"].as_str() {
        Some("URL_UPDATED") => NotificationType::UrlUpdated,
        Some("URL_DELETED") => NotificationType::UrlDeleted,
        other => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!(
                    "Invalid value at 'url_notification.type' ({}): URL_UPDATED or URL_DELETED",
                    other.unwrap_or("none")
                ),
            );
        }
    };
    let fetched = fetch(&url).await;
    let response = match kind {
        NotificationType::UrlUpdated => updated(&sandbox, &url, &reference, fetched),
        NotificationType::UrlDeleted => deleted(&sandbox, &url, &reference, fetched),
    };
    answer(timing, response).await
}

/// Googlebot's fetch: the status and the body.
async fn fetch(url: &str) -> Result<(u16, String), String> {
    let response = reqwest::Client::new()
        .get(url)
        .header(
            header::USER_AGENT,
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) boardcast-sandbox",
        )
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|error| error.to_string())?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|error| error.to_string())?;
    Ok((status, body))
}

fn metadata(url: &str, kind: NotificationType) -> Response {
    let info = json!({
        "url": url,
        "type": kind.name(),
        "notifyTime": OffsetDateTime::now_utc().format(&Rfc3339).expect("now formats"),
    });
    let latest = match kind {
        NotificationType::UrlUpdated => "latestUpdate",
        NotificationType::UrlDeleted => "latestRemove",
    };
    Json(json!({"urlNotificationMetadata": {"url": url, latest: info}})).into_response()
}

fn updated(
    sandbox: &Sandbox,
    url: &str,
    reference: &str,
    fetched: Result<(u16, String), String>,
) -> Response {
    let body = match fetched {
        Ok((200, body)) => body,
        Ok((status, _)) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!("Googlebot could not read {url}: it answered HTTP {status}"),
            );
        }
        Err(error) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!("Googlebot could not fetch {url}: {error}"),
            );
        }
    };
    let markup = match job_posting(&body)
        .and_then(|ld| check(&ld, OffsetDateTime::now_utc()).map(|()| ld))
    {
        Ok(markup) => markup,
        Err(problem) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!("The page {url} has invalid JobPosting structured data: {problem}"),
            );
        }
    };
    let title = markup["title"].as_str().unwrap_or_default().to_owned();
    let language = page_language(&body);
    sandbox.with_postings(BOARD, |postings| {
        let held = postings
            .entry(reference.to_owned())
            .or_insert_with(|| HeldPosting {
                board: BOARD.to_owned(),
                reference: reference.to_owned(),
                external_id: url.to_owned(),
                url: url.to_owned(),
                live: false,
                title: String::new(),
                language: String::new(),
                creates: 0,
                updates: 0,
                withdrawals: 0,
                content: Value::Null,
            });
        if held.creates == 0 {
            held.creates = 1;
        } else {
            held.updates += 1;
        }
        held.live = true;
        held.title = title;
        held.language = language;
        held.url = url.to_owned();
        held.external_id = url.to_owned();
        held.content = markup;
    });
    metadata(url, NotificationType::UrlUpdated)
}

fn deleted(
    sandbox: &Sandbox,
    url: &str,
    reference: &str,
    fetched: Result<(u16, String), String>,
) -> Response {
    match fetched {
        Ok((404 | 410, _)) => {}
        Ok((status, _)) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!(
                    "URL_DELETED for {url}, but the page answers HTTP {status}; remove it (404 or 410) first"
                ),
            );
        }
        Err(error) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!("Googlebot could not fetch {url}: {error}"),
            );
        }
    }
    sandbox.with_postings(BOARD, |postings| {
        if let Some(held) = postings.get_mut(reference)
            && held.live
        {
            held.live = false;
            held.withdrawals += 1;
        }
    });
    metadata(url, NotificationType::UrlDeleted)
}

/// `<html lang="…">` of a page.
fn page_language(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let Some(start) = lower.find("<html") else {
        return String::new();
    };
    let tag = &html[start..start + lower[start..].find('>').unwrap_or(0)];
    tag.split("lang=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// The page's JobPosting JSON-LD (in any `application/ld+json` script, alone,
/// in a list or in an `@graph`).
fn job_posting(html: &str) -> Result<Value, String> {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("<script") {
        let start = from + found;
        let Some(tag_end) = lower[start..].find('>').map(|i| start + i) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</script").map(|i| tag_end + i) else {
            break;
        };
        from = close;
        if !lower[start..tag_end].contains("application/ld+json") {
            continue;
        }
        let text = &html[tag_end + 1..close];
        let value: Value = serde_json::from_str(text)
            .map_err(|error| format!("the JSON-LD does not parse: {error}"))?;
        let candidates: Vec<Value> = match value {
            Value::Array(items) => items,
            Value::Object(ref object) if object.contains_key("@graph") => {
                object["@graph"].as_array().cloned().unwrap_or_default()
            }
            other => vec![other],
        };
        if let Some(posting) = candidates
            .into_iter()
            .find(|item| item["@type"] == "JobPosting")
        {
            return Ok(posting);
        }
    }
    Err("the page has no JobPosting markup".to_owned())
}

fn missing(field: &str) -> String {
    format!("Missing field \"{field}\"")
}

fn invalid(field: &str, why: &str) -> String {
    format!("Invalid value in field \"{field}\": {why}")
}

/// A non-empty string field.
fn text<'a>(object: &'a Value, field: &str, path: &str) -> Result<&'a str, String> {
    match &object[field] {
        Value::Null => Err(missing(path)),
        Value::String(text) if !text.trim().is_empty() => Ok(text),
        _ => Err(invalid(path, "a non-empty text is required")),
    }
}

/// ISO 8601: a date, or a date and time with an offset.
fn iso8601(text: &str) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, format)
        .ok()
        .map(|date| date.midnight().assume_utc())
}

/// Text without its tags, for comparing a description with a title.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One or many: schema.org lets most properties be a list.
fn each(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Google's JobPosting rules, judged as Googlebot would.
pub fn check(ld: &Value, now: OffsetDateTime) -> Result<(), String> {
    let context = ld["@context"].as_str().unwrap_or_default();
    if !context.contains("schema.org") {
        return Err(invalid("@context", "https://schema.org/ is required"));
    }
    let title = text(ld, "title", "title")?;
    let description = text(ld, "description", "description")?;
    let plain = strip_tags(description);
    if plain.is_empty() {
        return Err(invalid("description", "it has no text"));
    }
    if plain == title.trim() {
        return Err(invalid("description", "it must not be the same as title"));
    }
    let posted = text(ld, "datePosted", "datePosted")?;
    if iso8601(posted).is_none() {
        return Err(invalid("datePosted", "an ISO 8601 date is required"));
    }
    let organization = &ld["hiringOrganization"];
    match organization {
        Value::Null => return Err(missing("hiringOrganization")),
        Value::Object(_) => {
            text(organization, "name", "hiringOrganization.name")?;
        }
        Value::String(name) if !name.trim().is_empty() => {}
        _ => return Err(invalid("hiringOrganization", "an Organization is required")),
    }

    let remote = match &ld["jobLocationType"] {
        Value::Null => false,
        Value::String(kind) if kind == "TELECOMMUTE" => true,
        _ => return Err(invalid("jobLocationType", "only TELECOMMUTE is recognised")),
    };
    let places = each(&ld["jobLocation"]);
    for place in &places {
        let address = &place["address"];
        if address.is_null() {
            return Err(missing("jobLocation.address"));
        }
        if address.is_object() {
            let country = text(
                address,
                "addressCountry",
                "jobLocation.address.addressCountry",
            )?;
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(
                    "jobLocation.address.addressCountry",
                    "an ISO 3166-1 alpha-2 code is required",
                ));
            }
            if address["addressLocality"].is_null() && address["addressRegion"].is_null() {
                return Err(missing("jobLocation.address.addressLocality"));
            }
        }
    }
    let applicants = each(&ld["applicantLocationRequirements"]);
    for area in &applicants {
        text(area, "name", "applicantLocationRequirements.name")?;
    }
    if remote && applicants.is_empty() {
        return Err(missing("applicantLocationRequirements"));
    }
    if places.is_empty() && !remote {
        return Err(missing("jobLocation"));
    }

    if !ld["validThrough"].is_null() {
        let until = text(ld, "validThrough", "validThrough")?;
        match iso8601(until) {
            None => return Err(invalid("validThrough", "an ISO 8601 date is required")),
            Some(until) if until <= now => {
                return Err(invalid(
                    "validThrough",
                    "it is in the past: the job has expired",
                ));
            }
            Some(_) => {}
        }
    }
    for kind in each(&ld["employmentType"]) {
        if !kind.as_str().is_some_and(|k| EMPLOYMENT_TYPES.contains(&k)) {
            return Err(invalid(
                "employmentType",
                &format!("{kind} is not one of Google's"),
            ));
        }
    }
    let salary = &ld["baseSalary"];
    if !salary.is_null() {
        check_salary(salary)?;
    }
    Ok(())
}

fn check_salary(salary: &Value) -> Result<(), String> {
    if salary["@type"] != "MonetaryAmount" {
        return Err(invalid("baseSalary", "a MonetaryAmount is required"));
    }
    let currency = text(salary, "currency", "baseSalary.currency")?;
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            "baseSalary.currency",
            "an ISO 4217 code is required",
        ));
    }
    let value = &salary["value"];
    let amount = |field: &str| -> Result<Option<f64>, String> {
        match &value[field] {
            Value::Null => Ok(None),
            Value::Number(n) if n.as_f64().is_some_and(|x| x >= 0.0) => Ok(n.as_f64()),
            _ => Err(invalid(
                &format!("baseSalary.value.{field}"),
                "a number of 0 or more is required",
            )),
        }
    };
    match value {
        Value::Null => Err(missing("baseSalary.value")),
        Value::Number(_) => Ok(()),
        Value::Object(_) => {
            if value["@type"] != "QuantitativeValue" {
                return Err(invalid(
                    "baseSalary.value",
                    "a QuantitativeValue is required",
                ));
            }
            let unit = text(value, "unitText", "baseSalary.value.unitText")?;
            if !UNIT_TEXTS.contains(&unit) {
                return Err(invalid(
                    "baseSalary.value.unitText",
                    "HOUR, DAY, WEEK, MONTH or YEAR",
                ));
            }
            let single = amount("value")?;
            let (min, max) = (amount("minValue")?, amount("maxValue")?);
            if single.is_none() && min.is_none() && max.is_none() {
                return Err(missing("baseSalary.value.value"));
            }
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                return Err(invalid(
                    "baseSalary.value.minValue",
                    "it is greater than maxValue",
                ));
            }
            Ok(())
        }
        _ => Err(invalid(
            "baseSalary.value",
            "a QuantitativeValue is required",
        )),
    }
}

// ---------------------------------------------------------------------------
// Search Console's URL Inspection API.

/// How Google's index sees a URL, as the inspection reports it.
fn index_status(verdict: &str, coverage: &str, fetch: &str, url: &str) -> Value {
    json!({
        "verdict": verdict,
        "coverageState": coverage,
        "robotsTxtState": "ALLOWED",
        "indexingState": "INDEXING_ALLOWED",
        "pageFetchState": fetch,
        "googleCanonical": url,
        "userCanonical": url,
    })
}

/// `POST /v1/urlInspection/index:inspect`: Googlebot reads the page again
/// now (Google re-crawls after a notification) and reports the index
/// status and the job posting rich result. A URL Google was never told of
/// is unknown (NEUTRAL); a page that answers 404/410 is not found (FAIL);
/// a page whose JobPosting breaks a rule is indexed with a failing rich
/// result, naming the rule; a valid one passes both.
async fn inspect(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    if sandbox.token_status(BOARD, &headers) != TokenStatus::Valid {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        );
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    let request: InspectRequest = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(error) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!("Invalid JSON payload received: {error}"),
            );
        }
    };
    // A URL-prefix property holds the URLs under it; a domain property
    // (`sc-domain:host`) every URL of the host.
    let in_property = match request.site_url.strip_prefix("sc-domain:") {
        Some(domain) => url::Url::parse(&request.inspection_url)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| h == domain || h.ends_with(&format!(".{domain}")))
            })
            .unwrap_or(false),
        None => {
            request.site_url.ends_with('/') && request.inspection_url.starts_with(&request.site_url)
        }
    };
    if !in_property {
        return api_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!(
                "You do not own this site, or the inspected URL is not part of this property: {}",
                request.site_url
            ),
        );
    }
    let url = request.inspection_url;
    let reference = url::Url::parse(&url)
        .ok()
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_owned))
        })
        .unwrap_or_default();
    let known = sandbox.with_postings(BOARD, |postings| postings.contains_key(&reference));
    let result = if !known {
        json!({"indexStatusResult": index_status("NEUTRAL", "URL is unknown to Google", "PAGE_FETCH_STATE_UNSPECIFIED", &url)})
    } else {
        match fetch(&url).await {
            Ok((200, html)) => {
                let rich = match job_posting(&html)
                    .and_then(|ld| check(&ld, OffsetDateTime::now_utc()).map(|()| ld))
                {
                    Ok(ld) => {
                        let title = ld["title"].as_str().unwrap_or_default().to_owned();
                        json!({"verdict": "PASS", "detectedItems": [{"richResultType": "Job postings", "items": [{"name": title, "issues": []}]}]})
                    }
                    Err(problem) => {
                        json!({"verdict": "FAIL", "detectedItems": [{"richResultType": "Job postings", "items": [{"name": "Unnamed item", "issues": [{"issueMessage": problem, "severity": "ERROR"}]}]}]})
                    }
                };
                json!({
                    "indexStatusResult": index_status("PASS", "Submitted and indexed", "SUCCESSFUL", &url),
                    "richResultsResult": rich,
                })
            }
            Ok((404 | 410, _)) => {
                json!({"indexStatusResult": index_status("FAIL", "Not found (404)", "NOT_FOUND", &url)})
            }
            Ok(_) | Err(_) => {
                json!({"indexStatusResult": index_status("FAIL", "Server error (5xx)", "SERVER_ERROR", &url)})
            }
        }
    };
    let mut result = result;
    result["inspectionResultLink"] = json!(format!(
        "https://search.google.com/search-console/inspect?resource_id={}&id={}",
        request.site_url, reference
    ));
    answer(
        timing,
        Json(json!({"inspectionResult": result})).into_response(),
    )
    .await
}
