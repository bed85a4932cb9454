//! XING's twin: the E-Recruiting API under `/vendor/jobs/postings`, signed
//! with OAuth 1.0a PLAINTEXT in the `Authorization` header (every part
//! checked: consumer key, token, method, signature, version, timestamp no
//! older than 24 hours, a nonce never seen before). Postings are created
//! inactive, activated by a second call and become visible after a number of
//! posting-state reads once their order passes the contract check; an unknown
//! or exhausted order shows as `visible_errors`. Field rules are checked here
//! on the raw JSON, independently of the adapter; descriptions keep only
//! XING's tags (others, attributes and inline CSS are stripped, as XING
//! documents), never refused for them. Documented and inferred facts are
//! listed in `boards::xing`'s module doc.
//!
//! Test knobs beyond [`super::Faults`]: [`set_reads_before_visible`],
//! [`set_order_capacity`] and [`fail_activations`].

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

// The twin's own reading of XING's answers (docs/boards/xing.md), not the
// adapter's types: a misread field fails a test instead of agreeing with it.

/// The create answer: `{posting_id, permalink}`.
#[derive(Debug, Clone, Serialize)]
struct Created {
    posting_id: u64,
    permalink: String,
}

/// One page of a list: `{total, current_page, total_pages, collection}`.
#[derive(Debug, Clone, Serialize)]
struct Page<T> {
    total: u64,
    current_page: u64,
    total_pages: u64,
    collection: Vec<T>,
}

/// One posting of `GET /vendor/jobs/postings`.
#[derive(Debug, Clone, Serialize)]
struct PostingSummary {
    id: u64,
    state: String,
    job_code: Option<String>,
    function: String,
    order_id: Option<u64>,
    organization_id: Option<u64>,
}

/// One entry of `GET /vendor/jobs/postings/status`.
#[derive(Debug, Clone, Serialize)]
struct PostingState {
    id: u64,
    state: String,
    visible: bool,
    visible_errors: Vec<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    activated_at: Option<String>,
    active_until: Option<String>,
}

/// The error body [inferred: the shape of XING's other REST APIs].
#[derive(Debug, Clone, Serialize)]
struct ErrorBody {
    error_name: String,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize)]
struct FieldError {
    field: String,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// A posting's public page [inferred].
fn public_url(posting_id: &str) -> String {
    format!("https://www.xing.com/jobs/{posting_id}")
}

pub const BOARD: &str = "xing";

/// XING's documented test orders (order id, organisation id).
const TEST_ORDERS: [(u64, u64); 6] = [
    (1_042_042, 5160), // Campus
    (1_087_615, 5160), // Basic
    (1_087_614, 5160), // Basic+
    (968_181, 5160),   // Standard
    (968_182, 5160),   // Professional
    (1_022_232, 5160), // Professional+
];
/// Postings each order may activate unless a test says otherwise [I].
const ORDER_CAPACITY: u32 = 1000;
/// Posting-state reads that answer "still checking" after an activation.
const READS_BEFORE_VISIBLE: u32 = 1;
const PAGE_SIZE: usize = 50;
const OAUTH_MAX_AGE_SECS: i64 = 24 * 3600;

const TAGS_KEPT: [&str; 15] = [
    "h2", "h3", "h4", "h5", "hr", "a", "br", "li", "ol", "ul", "p", "em", "i", "b", "strong",
];
const REPLY_SETTINGS: [&str; 4] = ["xing_messaging", "email", "url", "xing_apply"];
const JOB_TYPES: [&str; 6] = [
    "FULL_TIME",
    "PART_TIME",
    "INTERNSHIP",
    "FREELANCE",
    "TEMPORARY",
    "TRAINING",
];
const SALARY_INTERVALS: [&str; 5] = ["HOUR", "DAY", "WEEK", "MONTH", "YEAR"];
const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "CHF"];

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[
        "consumer_key",
        "consumer_secret",
        "access_token",
        "token_secret",
    ],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/vendor/jobs/postings", get(list).post(create))
        .route("/vendor/jobs/postings.json", get(list).post(create))
        .route("/vendor/jobs/postings/status", get(states))
        .route("/vendor/jobs/postings/status.json", get(states))
        .route("/vendor/jobs/postings/{id}", put(replace))
        .route("/vendor/jobs/postings/{id}/{action}", put(transition))
        .with_state(sandbox)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    Created,
    Active,
    Deactivated,
    Archived,
}

impl Lifecycle {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Active => "active",
            Self::Deactivated => "deactivated",
            Self::Archived => "archived",
        }
    }
}

/// What XING knows about a posting beyond its content.
#[derive(Debug, Clone)]
struct Record {
    order_id: u64,
    organization_id: u64,
    state: Lifecycle,
    visible: bool,
    /// The contract check of the last activation has run.
    checked: bool,
    reads_left: u32,
    errors: Vec<String>,
    /// The posting has used a slot of its order.
    counted: bool,
    created_at: String,
    updated_at: String,
    activated_at: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Order {
    organization_id: u64,
    capacity: u32,
    used: u32,
}

#[derive(Debug, Default)]
pub struct TwinState {
    records: BTreeMap<u64, Record>,
    nonces: BTreeSet<String>,
    orders: Option<BTreeMap<u64, Order>>,
    reads_before_visible: Option<u32>,
    failing_activations: u32,
    activation_status: u16,
}

impl TwinState {
    fn orders(&mut self) -> &mut BTreeMap<u64, Order> {
        self.orders.get_or_insert_with(|| {
            TEST_ORDERS
                .iter()
                .map(|&(order, organization_id)| {
                    (
                        order,
                        Order {
                            organization_id,
                            capacity: ORDER_CAPACITY,
                            used: 0,
                        },
                    )
                })
                .collect()
        })
    }

    /// The contract check: the order exists for the organisation and has a slot left.
    fn check(&mut self, id: u64) {
        let Some(record) = self.records.get(&id).cloned() else {
            return;
        };
        let verdict = match self.orders().get_mut(&record.order_id) {
            Some(order) if order.organization_id != record.organization_id => {
                Err("order_not_found")
            }
            None => Err("order_not_found"),
            Some(_) if record.counted => Ok(()),
            Some(order) if order.used >= order.capacity => Err("order_exhausted"),
            Some(order) => {
                order.used += 1;
                Ok(())
            }
        };
        let record = self.records.get_mut(&id).expect("present");
        record.checked = true;
        match verdict {
            Ok(()) => {
                record.visible = true;
                record.counted = true;
                record.errors.clear();
            }
            Err(reason) => {
                record.visible = false;
                record.errors = vec![reason.to_owned()];
            }
        }
    }
}

/// After an activation, the posting-state reads that answer "still checking"
/// before the contract check runs (0: it runs at activation).
pub fn set_reads_before_visible(sandbox: &Sandbox, reads: u32) {
    sandbox.with_extra(BOARD, |state: &mut TwinState| {
        state.reads_before_visible = Some(reads);
    });
}

/// How many postings an order may activate (an unknown order is added for
/// organisation 5160).
pub fn set_order_capacity(sandbox: &Sandbox, order_id: u64, capacity: u32) {
    sandbox.with_extra(BOARD, |state: &mut TwinState| {
        let order = state.orders().entry(order_id).or_insert(Order {
            organization_id: 5160,
            capacity,
            used: 0,
        });
        order.capacity = capacity;
    });
}

/// Answers the next `times` activations with `status`, changing nothing
/// (the create before them still lands).
pub fn fail_activations(sandbox: &Sandbox, times: u32, status: u16) {
    sandbox.with_extra(BOARD, |state: &mut TwinState| {
        state.failing_activations = times;
        state.activation_status = status;
    });
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn error(status: StatusCode, name: &str, message: &str, errors: Vec<FieldError>) -> Response {
    let body = ErrorBody {
        error_name: name.to_owned(),
        message: message.to_owned(),
        errors,
    };
    (status, Json(body)).into_response()
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        &format!("Posting {id} not found"),
        Vec::new(),
    )
}

// ---------------------------------------------------------------------------
// OAuth 1.0a, PLAINTEXT.

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The secrets as RFC 5849 §3.6 encodes them: unreserved characters stay.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `OAuth k="v", …` parameters, decoded.
fn oauth_parameters(headers: &HeaderMap) -> Option<BTreeMap<String, String>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("OAuth") {
        return None;
    }
    let mut parameters = BTreeMap::new();
    for part in rest.split(',') {
        let (name, quoted) = part.trim().split_once('=')?;
        let raw = quoted.strip_prefix('"')?.strip_suffix('"')?;
        parameters.insert(percent_decode(name)?, percent_decode(raw)?);
    }
    Some(parameters)
}

fn unauthorised(name: &str, message: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, name, message, Vec::new());
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("OAuth realm=\"api.xing.com\""),
    );
    response
}

fn authorised(sandbox: &Sandbox, headers: &HeaderMap) -> Result<(), Response> {
    let Some(oauth) = oauth_parameters(headers) else {
        return Err(unauthorised(
            "MISSING_OAUTH_PARAMETERS",
            "An OAuth Authorization header is required",
        ));
    };
    let given = |name: &str| oauth.get(name).map(String::as_str).unwrap_or_default();
    let credential = |name: &str| sandbox.credential(BOARD, name);
    if given("oauth_consumer_key") != credential("consumer_key") {
        return Err(unauthorised(
            "INVALID_OAUTH_CONSUMER",
            "Invalid consumer key",
        ));
    }
    if given("oauth_token") != credential("access_token") {
        return Err(unauthorised("INVALID_OAUTH_TOKEN", "Invalid OAuth token"));
    }
    if given("oauth_signature_method") != "PLAINTEXT" {
        return Err(unauthorised(
            "UNSUPPORTED_OAUTH_SIGNATURE_METHOD",
            "The sandbox accepts the PLAINTEXT signature method only",
        ));
    }
    let expected = format!(
        "{}&{}",
        encoded(credential("consumer_secret")),
        encoded(credential("token_secret"))
    );
    if given("oauth_signature") != expected {
        return Err(unauthorised(
            "INVALID_OAUTH_SIGNATURE",
            "Invalid OAuth signature",
        ));
    }
    if given("oauth_version") != "1.0" {
        return Err(unauthorised(
            "INVALID_OAUTH_VERSION",
            "oauth_version must be 1.0",
        ));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match given("oauth_timestamp").parse::<i64>() {
        Ok(stamp) if stamp > 0 && now - stamp <= OAUTH_MAX_AGE_SECS => {}
        _ => {
            return Err(unauthorised(
                "INVALID_OAUTH_TIMESTAMP",
                "oauth_timestamp must be a UNIX timestamp no older than 24 hours",
            ));
        }
    }
    let nonce = given("oauth_nonce").to_owned();
    let fresh = !nonce.is_empty()
        && sandbox.with_extra(BOARD, |state: &mut TwinState| state.nonces.insert(nonce));
    if !fresh {
        return Err(unauthorised(
            "INVALID_OAUTH_NONCE",
            "oauth_nonce is missing or was used before",
        ));
    }
    Ok(())
}

fn gate(sandbox: &Sandbox, headers: &HeaderMap) -> Result<(std::time::Duration, bool), Response> {
    authorised(sandbox, headers)?;
    match sandbox.gate(BOARD) {
        Gate::Refuse(response) => Err(response),
        Gate::Proceed { latency, hang } => Ok((latency, hang)),
    }
}

// ---------------------------------------------------------------------------
// The posting body, as XING checks it.

/// Strips what XING does not keep: tags outside the list (their text stays),
/// `<script>` and `<style>` with their content, comments, and every attribute
/// except a link's `href`.
fn strip_html(html: &str) -> String {
    let mut out = String::new();
    let lower = html.to_ascii_lowercase();
    let mut skip_until: Option<usize> = None;
    for (at, c) in html.char_indices() {
        if skip_until.is_some_and(|end| at < end) {
            continue;
        }
        skip_until = None;
        if c != '<' {
            out.push(c);
            continue;
        }
        if lower[at..].starts_with("<!--") {
            skip_until = Some(lower[at..].find("-->").map_or(html.len(), |e| at + e + 3));
            continue;
        }
        let Some(len) = html[at..].find('>') else {
            out.push_str("&lt;");
            continue;
        };
        let tag = &html[at + 1..at + len];
        let end = at + len + 1;
        let (closing, body) = match tag.strip_prefix('/') {
            Some(body) => (true, body),
            None => (false, tag),
        };
        let name_len = body
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(body.len());
        let name = body[..name_len].to_ascii_lowercase();
        skip_until = Some(end);
        if !closing && matches!(name.as_str(), "script" | "style") {
            let close = format!("</{name}");
            skip_until = Some(match lower[end..].find(&close) {
                Some(c) => lower[end + c..]
                    .find('>')
                    .map_or(html.len(), |g| end + c + g + 1),
                None => html.len(),
            });
            continue;
        }
        if !TAGS_KEPT.contains(&name.as_str()) {
            continue;
        }
        if closing {
            out.push_str(&format!("</{name}>"));
            continue;
        }
        let link = (name == "a")
            .then(|| attribute(&body[name_len..], "href"))
            .flatten();
        match link {
            Some(href) => out.push_str(&format!("<a href=\"{href}\">")),
            None => out.push_str(&format!("<{name}>")),
        }
    }
    out
}

/// One attribute's raw value from a tag's attribute text.
fn attribute(attributes: &str, wanted: &str) -> Option<String> {
    let mut rest = attributes;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace() || c == '/')
            .unwrap_or(rest.len());
        if name_end == 0 {
            // A stray '=': skip it.
            rest = &rest[1..];
            continue;
        }
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        // An attribute without a value.
        let Some(after) = rest.strip_prefix('=') else {
            continue;
        };
        let after = after.trim_start();
        let (value, next) = match after.chars().next()? {
            q @ ('"' | '\'') => {
                let close = after[1..].find(q)? + 1;
                (&after[1..close], &after[close + 1..])
            }
            _ => {
                let stop = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..stop], &after[stop..])
            }
        };
        if name == wanted {
            return Some(value.replace('"', "&quot;"));
        }
        rest = next;
    }
}

fn field(errors: &mut Vec<FieldError>, name: &str, reason: &str, message: String) {
    errors.push(FieldError {
        field: name.to_owned(),
        reason: reason.to_owned(),
        message: Some(message),
    });
}

/// An integer as XING reads one: a JSON integer or a string of digits.
fn integer(value: Option<&Value>) -> Result<u64, &'static str> {
    match value {
        None | Some(Value::Null) => Err("MISSING"),
        Some(Value::Number(n)) => n.as_u64().ok_or("NOT_AN_INTEGER"),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| "NOT_AN_INTEGER"),
        Some(_) => Err("NOT_AN_INTEGER"),
    }
}

/// An amount: a JSON number or a numeric string.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The static check of `organization_id` and `order_id` (the only one XING
/// documents for them): 400 when missing or not an integer.
fn contract_ids(body: &Map<String, Value>) -> Result<(u64, u64), Response> {
    let organization = integer(body.get("organization_id"));
    let order = integer(body.get("order_id"));
    let mut errors = Vec::new();
    for (name, result) in [("organization_id", &organization), ("order_id", &order)] {
        if let Err(reason) = result {
            let message = if *reason == "MISSING" {
                "is required".to_owned()
            } else {
                "must be an integer".to_owned()
            };
            field(&mut errors, name, reason, message);
        }
    }
    match (organization, order) {
        (Ok(organization), Ok(order)) => Ok((organization, order)),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETERS",
            "Invalid parameters",
            errors,
        )),
    }
}

/// Every other documented field rule, on the raw JSON.
fn field_errors(body: &Map<String, Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    let chars = |s: &str| s.chars().count();
    for (name, max) in [("function", 255), ("company_name", 255)] {
        match text(name) {
            None => field(&mut errors, name, "MISSING", "is required".to_owned()),
            Some(s) if s.trim().is_empty() => {
                field(&mut errors, name, "MISSING", "is required".to_owned())
            }
            Some(s) if chars(s) > max => field(
                &mut errors,
                name,
                "TOO_LONG",
                format!("is {} characters; at most {max} are allowed", chars(s)),
            ),
            Some(_) => {}
        }
    }
    match (text("description"), body.get("description_template")) {
        (Some(_), Some(_)) => field(
            &mut errors,
            "description",
            "CONFLICT",
            "use either description or description_template".to_owned(),
        ),
        (None, None) => field(
            &mut errors,
            "description",
            "MISSING",
            "description or description_template is required".to_owned(),
        ),
        (Some(d), None) if chars(d) > 10_000 => field(
            &mut errors,
            "description",
            "TOO_LONG",
            format!("is {} characters; at most 10000 are allowed", chars(d)),
        ),
        (None, Some(t)) if !t.is_object() => field(
            &mut errors,
            "description_template",
            "INVALID",
            "must be an object".to_owned(),
        ),
        _ => {}
    }
    if text("city").is_none_or(|c| c.trim().is_empty()) {
        field(&mut errors, "city", "MISSING", "is required".to_owned());
    }
    match text("country") {
        Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) => {}
        Some(_) => field(
            &mut errors,
            "country",
            "INVALID",
            "must be an ISO 3166-1 alpha-2 code".to_owned(),
        ),
        None => field(&mut errors, "country", "MISSING", "is required".to_owned()),
    }
    if let Some(language) = body.get("language")
        && !language
            .as_str()
            .is_some_and(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()))
    {
        field(
            &mut errors,
            "language",
            "INVALID",
            "must be an ISO 639-1 code".to_owned(),
        );
    }
    match text("reply_setting") {
        None => field(
            &mut errors,
            "reply_setting",
            "MISSING",
            "is required".to_owned(),
        ),
        Some(r) if !REPLY_SETTINGS.contains(&r) => field(
            &mut errors,
            "reply_setting",
            "INVALID",
            format!("must be one of {}", REPLY_SETTINGS.join(", ")),
        ),
        Some("url")
            if !text("reply_url")
                .is_some_and(|u| u.starts_with("https://") || u.starts_with("http://")) =>
        {
            field(
                &mut errors,
                "reply_url",
                "INVALID",
                "an http(s) URL is required when reply_setting is url".to_owned(),
            )
        }
        Some("email") if !text("reply_email").is_some_and(|e| e.contains('@')) => field(
            &mut errors,
            "reply_email",
            "INVALID",
            "an email address is required when reply_setting is email".to_owned(),
        ),
        Some(_) => {}
    }
    for (name, max) in [("tags", 500), ("skills", 255), ("job_code", 100)] {
        match body.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if chars(s) > max => field(
                &mut errors,
                name,
                "TOO_LONG",
                format!("is {} characters; at most {max} are allowed", chars(s)),
            ),
            Some(Value::String(_)) => {}
            Some(_) => field(&mut errors, name, "INVALID", "must be a string".to_owned()),
        }
    }
    if let Some(kind) = body.get("job_type")
        && !kind.as_str().is_some_and(|k| JOB_TYPES.contains(&k))
    {
        field(
            &mut errors,
            "job_type",
            "INVALID",
            format!("must be one of {}", JOB_TYPES.join(", ")),
        );
    }
    salary_errors(body, &mut errors);
    errors
}

fn salary_errors(body: &Map<String, Value>, errors: &mut Vec<FieldError>) {
    let present = |name: &str| body.get(name).is_some_and(|v| !v.is_null());
    let amount = |name: &str| body.get(name).and_then(number);
    for name in ["salary", "salary_range_start", "salary_range_end"] {
        if present(name) && amount(name).is_none_or(|a| a < 0.0) {
            field(
                errors,
                name,
                "INVALID",
                "must be a non-negative number".to_owned(),
            );
        }
    }
    let fixed = present("salary");
    let range = present("salary_range_start") || present("salary_range_end");
    if fixed && range {
        field(
            errors,
            "salary",
            "CONFLICT",
            "send salary or salary_range_start/salary_range_end, not both".to_owned(),
        );
    }
    if range && !(present("salary_range_start") && present("salary_range_end")) {
        field(
            errors,
            "salary_range_end",
            "MISSING",
            "a range needs salary_range_start and salary_range_end".to_owned(),
        );
    }
    if let (Some(start), Some(end)) = (amount("salary_range_start"), amount("salary_range_end"))
        && start > end
    {
        field(
            errors,
            "salary_range_start",
            "INVALID",
            "must not be greater than salary_range_end".to_owned(),
        );
    }
    if fixed || range {
        match body.get("currency").and_then(Value::as_str) {
            Some(c) if CURRENCIES.contains(&c) => {}
            _ => field(
                errors,
                "currency",
                "INVALID",
                format!("must be one of {}", CURRENCIES.join(", ")),
            ),
        }
    }
    if let Some(interval) = body.get("salary_interval")
        && !interval
            .as_str()
            .is_some_and(|i| SALARY_INTERVALS.contains(&i))
    {
        field(
            errors,
            "salary_interval",
            "INVALID",
            format!("must be one of {}", SALARY_INTERVALS.join(", ")),
        );
    }
}

/// A valid posting body: the contract ids and the content as XING keeps it.
struct Accepted {
    organization_id: u64,
    order_id: u64,
    content: Map<String, Value>,
}

fn parse(body: &str) -> Result<Accepted, Response> {
    let Ok(Value::Object(mut content)) = serde_json::from_str::<Value>(body) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETERS",
            "The body must be a JSON object",
            Vec::new(),
        ));
    };
    let (organization_id, order_id) = contract_ids(&content)?;
    let errors = field_errors(&content);
    if !errors.is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETERS",
            "Invalid parameters",
            errors,
        ));
    }
    if let Some(Value::String(description)) = content.get_mut("description") {
        *description = strip_html(description);
    }
    Ok(Accepted {
        organization_id,
        order_id,
        content,
    })
}

fn posting_id(text: &str) -> Option<u64> {
    text.trim_end_matches(".json").parse().ok()
}

fn held_mut(held: &mut BTreeMap<String, HeldPosting>, id: u64) -> Option<&mut HeldPosting> {
    held.get_mut(&id.to_string())
}

// ---------------------------------------------------------------------------
// Handlers.

async fn create(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let posting = match parse(&body) {
        Ok(posting) => posting,
        Err(response) => return response,
    };
    let id = 30_000_000 + sandbox.next_id(BOARD);
    let key = id.to_string();
    let url = public_url(&key);
    let text = |name: &str| {
        posting
            .content
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let held = HeldPosting {
        board: BOARD.to_owned(),
        reference: text("job_code"),
        external_id: key.clone(),
        url: url.clone(),
        live: false,
        title: text("function"),
        language: text("language"),
        creates: 1,
        updates: 0,
        withdrawals: 0,
        content: Value::Object(posting.content.clone()),
    };
    sandbox.with_extra(BOARD, |state: &mut TwinState| {
        let stamp = now();
        state.records.insert(
            id,
            Record {
                order_id: posting.order_id,
                organization_id: posting.organization_id,
                state: Lifecycle::Created,
                visible: false,
                checked: false,
                reads_left: 0,
                errors: Vec::new(),
                counted: false,
                created_at: stamp.clone(),
                updated_at: stamp,
                activated_at: None,
            },
        );
        sandbox.with_postings(BOARD, |postings| postings.insert(key, held));
    });
    let body = Created {
        posting_id: id,
        permalink: url,
    };
    answer(timing, (StatusCode::CREATED, Json(body)).into_response()).await
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
    let Some(number) = posting_id(&id) else {
        return not_found(&id);
    };
    let posting = match parse(&body) {
        Ok(posting) => posting,
        Err(response) => return response,
    };
    let outcome = sandbox.with_extra(BOARD, |state: &mut TwinState| {
        let record = state
            .records
            .get_mut(&number)
            .ok_or_else(|| not_found(&id))?;
        let mut errors = Vec::new();
        if record.order_id != posting.order_id {
            field(
                &mut errors,
                "order_id",
                "IMMUTABLE",
                format!(
                    "the posting belongs to order {}; an order cannot be changed",
                    record.order_id
                ),
            );
        }
        if record.organization_id != posting.organization_id {
            field(
                &mut errors,
                "organization_id",
                "IMMUTABLE",
                format!(
                    "the posting belongs to organization {}",
                    record.organization_id
                ),
            );
        }
        if !errors.is_empty() {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "INVALID_PARAMETERS",
                "Invalid parameters",
                errors,
            ));
        }
        record.updated_at = now();
        // The whole posting is replaced: fields not sent are gone.
        sandbox.with_postings(BOARD, |held| {
            if let Some(held) = held_mut(held, number) {
                held.updates += 1;
                held.title = posting
                    .content
                    .get("function")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if let Some(code) = posting.content.get("job_code").and_then(Value::as_str) {
                    held.reference = code.to_owned();
                }
                held.content = Value::Object(posting.content.clone());
            }
        });
        Ok(())
    });
    match outcome {
        Ok(()) => answer(timing, StatusCode::NO_CONTENT.into_response()).await,
        Err(response) => response,
    }
}

async fn transition(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let Some(number) = posting_id(&id) else {
        return not_found(&id);
    };
    let action = action.trim_end_matches(".json").to_owned();
    if !matches!(action.as_str(), "activate" | "deactivate" | "archive") {
        return error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            &format!("No such action: {action}"),
            Vec::new(),
        );
    }
    let outcome = sandbox.with_extra(BOARD, |state: &mut TwinState| {
        if !state.records.contains_key(&number) {
            return Err(not_found(&id));
        }
        if action == "activate" && state.failing_activations > 0 {
            state.failing_activations -= 1;
            let status = StatusCode::from_u16(state.activation_status)
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return Err(error(
                status,
                "SERVICE_UNAVAILABLE",
                "sandbox: activation told to fail",
                Vec::new(),
            ));
        }
        let reads = state.reads_before_visible.unwrap_or(READS_BEFORE_VISIBLE);
        let record = state.records.get_mut(&number).expect("present");
        let was_live = record.state == Lifecycle::Active && record.visible;
        let stamp = now();
        match action.as_str() {
            "activate" if record.state == Lifecycle::Active => {}
            "activate" => {
                record.state = Lifecycle::Active;
                record.visible = false;
                record.checked = false;
                record.errors.clear();
                record.reads_left = reads;
                record.activated_at = Some(stamp.clone());
            }
            "deactivate" => {
                record.state = Lifecycle::Deactivated;
                record.visible = false;
            }
            _ => {
                record.state = Lifecycle::Archived;
                record.visible = false;
            }
        }
        record.updated_at = stamp;
        if action == "activate" && !record.checked && reads == 0 {
            state.check(number);
        }
        let live = state.records[&number].visible;
        sandbox.with_postings(BOARD, |held| {
            if let Some(held) = held_mut(held, number) {
                if was_live && !live {
                    held.withdrawals += 1;
                }
                held.live = live;
            }
        });
        Ok(())
    });
    match outcome {
        Ok(()) => answer(timing, StatusCode::NO_CONTENT.into_response()).await,
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct ListQuery {
    ids: Option<String>,
    job_code: Option<String>,
    page: Option<usize>,
}

fn wanted_ids(ids: Option<&str>) -> Option<BTreeSet<u64>> {
    ids.map(|ids| {
        ids.split(',')
            .filter_map(|i| i.trim().parse().ok())
            .collect()
    })
}

fn paginate<T>(items: Vec<T>, page: Option<usize>) -> Page<T> {
    let total = items.len();
    let total_pages = total.div_ceil(PAGE_SIZE).max(1);
    let current = page.unwrap_or(1).max(1);
    let collection = items
        .into_iter()
        .skip((current - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    Page {
        total: total as u64,
        current_page: current as u64,
        total_pages: total_pages as u64,
        collection,
    }
}

/// `GET /vendor/jobs/postings`: the postings this user created, filtered by
/// `ids` or by `job_code` [I].
async fn list(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let ids = wanted_ids(query.ids.as_deref());
    let records = sandbox.with_extra(BOARD, |state: &mut TwinState| state.records.clone());
    let held = sandbox.postings(Some(BOARD));
    let items: Vec<PostingSummary> = held
        .into_iter()
        .filter_map(|posting| {
            let id: u64 = posting.external_id.parse().ok()?;
            let record = records.get(&id)?;
            let job_code = posting.content.get("job_code").and_then(Value::as_str);
            let keep = ids.as_ref().is_none_or(|ids| ids.contains(&id))
                && query
                    .job_code
                    .as_deref()
                    .is_none_or(|code| job_code == Some(code));
            keep.then(|| PostingSummary {
                id,
                state: record.state.as_str().to_owned(),
                job_code: job_code.map(str::to_owned),
                function: posting.title.clone(),
                order_id: Some(record.order_id),
                organization_id: Some(record.organization_id),
            })
        })
        .collect();
    answer(timing, Json(paginate(items, query.page)).into_response()).await
}

/// `GET /vendor/jobs/postings/status`: each read of a posting whose contract
/// check is pending counts towards the check.
async fn states(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let timing = match gate(&sandbox, &headers) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let ids = wanted_ids(query.ids.as_deref());
    let items = sandbox.with_extra(BOARD, |state: &mut TwinState| {
        let selected: Vec<u64> = state
            .records
            .keys()
            .copied()
            .filter(|id| ids.as_ref().is_none_or(|ids| ids.contains(id)))
            .collect();
        let mut items = Vec::new();
        for id in selected {
            let record = state.records.get_mut(&id).expect("selected");
            if record.state == Lifecycle::Active && !record.checked {
                if record.reads_left > 0 {
                    record.reads_left -= 1;
                } else {
                    state.check(id);
                }
            }
            let record = &state.records[&id];
            let live = record.visible;
            sandbox.with_postings(BOARD, |held| {
                if let Some(held) = held_mut(held, id) {
                    held.live = live;
                }
            });
            items.push(PostingState {
                id,
                state: record.state.as_str().to_owned(),
                visible: record.visible,
                visible_errors: record.errors.clone(),
                created_at: Some(record.created_at.clone()),
                updated_at: Some(record.updated_at.clone()),
                activated_at: record.activated_at.clone(),
                active_until: None,
            });
        }
        items
    });
    answer(timing, Json(paginate(items, query.page)).into_response()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_only_xing_tags() {
        let sent = "<div style=\"color:red\"><p style='x' class=a>One <span>two</span></p>\
                    <script type=\"text/javascript\">bad()</script><style>p{}</style>\
                    <!-- c --><a target=_blank href='https://e.example/a?b=1'>go</a><br/><h6>h</h6></div>";
        assert_eq!(
            strip_html(sent),
            "<p>One two</p><a href=\"https://e.example/a?b=1\">go</a><br>h"
        );
    }

    #[test]
    fn oauth_header_values_are_decoded() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "OAuth oauth_signature=\"a%26b\", oauth_version=\"1.0\""
                .parse()
                .unwrap(),
        );
        let parameters = oauth_parameters(&headers).unwrap();
        assert_eq!(parameters["oauth_signature"], "a&b");
        assert_eq!(parameters["oauth_version"], "1.0");
    }
}
