//! Monster's twin: the Business Gateway's `POST /bgwBroker`, SOAP 1.1 with
//! a WS-Security UsernameToken, one `<Job>` per request, `addOrUpdate` /
//! `add` / `delete` keyed by `jobRefCode`.
//!
//! It checks on its own, from the rules in `boards::monster`'s module doc
//! (documented and inferred alike), never by calling the adapter's checks:
//! the body is Windows-1252 (bytes Windows-1252 leaves undefined are
//! refused) or UTF-8 limited to the Windows-1252 repertoire, as declared in
//! the XML declaration and the Content-Type charset, and no text, character
//! references included, leaves that repertoire; the envelope is SOAP 1.1 and
//! the job in Monster's namespace; the credentials; `jobRefCode` ≤ 50,
//! `JobTitle` 1–100, the required elements and their lookup ids, `JobBody` ≥ 25
//! characters with only the tags Monster keeps.
//!
//! Answers (written as text, not with the adapter's types): a `JobResponse`
//! with the `postingId` and the job's public page;
//! faults with HTTP 500, `SOAP-ENV:Client` for what the job gets wrong,
//! `SOAP-ENV:Client.JobNotFound` for deleting what it does not hold,
//! `wsse:FailedAuthentication` for credentials, `SOAP-ENV:VersionMismatch`
//! for a non-SOAP-1.1 envelope.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use encoding_rs::WINDOWS_1252;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use serde::{Deserialize, Serialize};

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

pub const BOARD: &str = "monster";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["username", "password"],
    routes,
};

const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const WSSE: &str = "http://schemas.xmlsoap.org/ws/2002/04/secext";
const MONSTER: &str = "http://schemas.monster.com/Monster";
const HEADER: &str = "http://schemas.monster.com/MonsterHeader";

const MAX_JOB_REF_CODE: usize = 50;
const MAX_JOB_TITLE: usize = 100;
const MIN_JOB_BODY: usize = 25;
/// Bytes Windows-1252 leaves undefined.
const UNDEFINED_BYTES: [u8; 5] = [0x81, 0x8d, 0x8f, 0x90, 0x9d];
const JOB_ACTIONS: [&str; 3] = ["addOrUpdate", "add", "delete"];
const INVENTORY_TYPES: [&str; 4] = [
    "transactional",
    "areaWideTransactional",
    "areaWideSlotted",
    "slotted",
];
const JOB_LEVELS: [u32; 7] = [10, 11, 12, 13, 14, 15, 16];
const JOB_TYPES: [u32; 5] = [1, 2, 3, 20, 75];
const JOB_STATUSES: [u32; 3] = [4, 5, 26];
/// Monster's currency list runs from 1 (USD) to 68 (SIT).
const CURRENCY_IDS: std::ops::RangeInclusive<u32> = 1..=68;
const COMPENSATION_TYPES: std::ops::RangeInclusive<u32> = 1..=9;
const BODY_TAGS: [&str; 10] = ["p", "br", "ul", "ol", "li", "b", "strong", "i", "em", "u"];
/// Monster's core channels and their languages.
const CHANNELS: [(u32, &str); 29] = [
    (2681, "cs"),
    (1426, "da"),
    (128, "nl"),
    (257, "nl"),
    (13, "en"),
    (58, "en"),
    (200, "en"),
    (209, "en"),
    (431, "en"),
    (481, "en"),
    (615, "en"),
    (1430, "fi"),
    (14, "fr"),
    (120, "fr"),
    (256, "fr"),
    (621, "fr"),
    (916, "fr"),
    (419, "de"),
    (620, "de"),
    (800, "de"),
    (3252, "de"),
    (3710, "hu"),
    (442, "it"),
    (1425, "no"),
    (3709, "pl"),
    (5324, "sk"),
    (437, "es"),
    (4171, "es"),
    (1631, "sv"),
];

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/bgwBroker", post(broker))
        .with_state(sandbox)
}

// ---------------------------------------------------------------------------
// What arrives, read leniently so that a missing element is the twin's own
// finding (and fault), not a parse error.

#[derive(Debug, Default, Deserialize)]
struct InEnvelope {
    #[serde(rename = "Header", default)]
    header: Option<InHeader>,
    #[serde(rename = "Body", default)]
    body: Option<InBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InHeader {
    #[serde(default)]
    monster_header: Option<InMonsterHeader>,
    #[serde(default)]
    security: Option<InSecurity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InMonsterHeader {
    #[serde(default)]
    message_data: Option<InMessageData>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InMessageData {
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InSecurity {
    #[serde(default)]
    username_token: Option<InToken>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InToken {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

impl std::fmt::Debug for InToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InToken").finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Deserialize)]
struct InBody {
    #[serde(rename = "Job", default)]
    jobs: Vec<InJob>,
    /// The batch (FTP) wrapper, which real time posting does not take.
    #[serde(rename = "Jobs", default)]
    batch: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InJob {
    #[serde(rename = "@jobRefCode", default)]
    job_ref_code: Option<String>,
    #[serde(rename = "@jobAction", default)]
    job_action: Option<String>,
    #[serde(rename = "@inventoryType", default)]
    inventory_type: Option<String>,
    #[serde(rename = "@jobComplete", default)]
    job_complete: Option<String>,
    #[serde(default)]
    recruiter_reference: Option<InRecruiter>,
    #[serde(default)]
    channel: Option<InId>,
    #[serde(default)]
    job_information: Option<InJobInformation>,
    #[serde(default)]
    job_postings: Option<InJobPostings>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InRecruiter {
    #[serde(default)]
    user_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct InId {
    #[serde(rename = "@monsterId", default)]
    monster_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InJobInformation {
    #[serde(default)]
    job_title: Option<String>,
    #[serde(default)]
    job_level: Option<InId>,
    #[serde(default)]
    job_type: Option<InId>,
    #[serde(default)]
    job_status: Option<InId>,
    #[serde(default)]
    salary: Option<InSalary>,
    #[serde(default)]
    contact: Option<InContact>,
    #[serde(default)]
    physical_address: Option<InAddress>,
    #[serde(rename = "CustomApplyOnlineURL", default)]
    custom_apply_online_url: Option<String>,
    #[serde(default)]
    job_body: Option<String>,
}

/// `Contact` as RTP clients send it (Odoo's integration, a PHP client).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InContact {
    #[serde(default)]
    company_name: Option<String>,
    #[serde(rename = "E-mail", default)]
    email: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InSalary {
    #[serde(default)]
    currency: Option<InId>,
    #[serde(default)]
    salary_min: Option<String>,
    #[serde(default)]
    salary_max: Option<String>,
    #[serde(default)]
    compensation_type: Option<InId>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InAddress {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct InJobPostings {
    #[serde(rename = "JobPosting", default)]
    job_posting: Vec<InJobPosting>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InJobPosting {
    #[serde(default)]
    location: Option<InAddress>,
    #[serde(default)]
    job_category: Option<InId>,
    #[serde(default)]
    job_occupations: Option<InOccupations>,
    #[serde(default)]
    board_name: Option<InId>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct InOccupations {
    #[serde(rename = "JobOccupation", default)]
    job_occupation: Vec<InId>,
}

// ---------------------------------------------------------------------------
// Answers.

// Written as text from the answer shape recorded in docs/boards/monster.md,
// never with the adapter's types.

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml(status: StatusCode, envelope: String) -> Response {
    let body = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{envelope}\n");
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/xml; charset=utf-8".parse().expect("static header"),
    );
    response
}

/// A SOAP 1.1 fault: always HTTP 500.
fn fault(faultcode: &str, faultstring: impl Into<String>) -> Response {
    let wsse = if faultcode.starts_with("wsse:") {
        format!(" xmlns:wsse=\"{WSSE}\"")
    } else {
        String::new()
    };
    let envelope = format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV}\"><SOAP-ENV:Body><SOAP-ENV:Fault{wsse}><faultcode>{}</faultcode><faultstring>{}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>",
        escape(faultcode),
        escape(&faultstring.into())
    );
    xml(StatusCode::INTERNAL_SERVER_ERROR, envelope)
}

fn client_fault(reason: impl Into<String>) -> Response {
    fault("SOAP-ENV:Client", reason)
}

fn done(
    message_id: &str,
    job_ref_code: &str,
    description: &str,
    posted: Option<&HeldPosting>,
) -> Response {
    let posting = posted
        .map(|posting| {
            format!(
                "<JobPostingResponse><JobPosting postingId=\"{}\"><JobViewURL>{}</JobViewURL></JobPosting></JobPostingResponse>",
                escape(&posting.external_id),
                escape(&posting.url)
            )
        })
        .unwrap_or_default();
    let envelope = format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV}\"><SOAP-ENV:Header><mh:MonsterHeader xmlns:mh=\"{HEADER}\"><mh:MessageData><mh:MessageId>{}</mh:MessageId><mh:Timestamp>{}</mh:Timestamp></mh:MessageData></mh:MonsterHeader></SOAP-ENV:Header><SOAP-ENV:Body><JobResponse jobRefCode=\"{}\" xmlns=\"{MONSTER}\"><Status><ReturnCode returnCodeType=\"success\">0</ReturnCode><Descriptions><Description>{}</Description></Descriptions></Status>{posting}</JobResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>",
        escape(message_id),
        timestamp(),
        escape(job_ref_code),
        escape(description)
    );
    xml(StatusCode::OK, envelope)
}

fn timestamp() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .expect("a UTC time formats")
}

// ---------------------------------------------------------------------------
// Character set.

/// Whether Windows-1252 XML carries `c` (the twin's own reading of the rule).
fn in_windows_1252(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return true;
    }
    if c.is_control() {
        return false;
    }
    let mut buffer = [0; 4];
    let (bytes, _, unmappable) = WINDOWS_1252.encode(c.encode_utf8(&mut buffer));
    !unmappable && bytes.len() == 1
}

fn shown(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

/// The `encoding` of the XML declaration, lower-cased; UTF-8 without one.
fn declared_encoding(body: &[u8]) -> Result<String, String> {
    if !body.starts_with(b"<?xml") {
        return Ok("utf-8".to_owned());
    }
    let end = body
        .windows(2)
        .position(|w| w == b"?>")
        .ok_or("the XML declaration is not closed")?;
    let declaration = String::from_utf8_lossy(&body[..end]);
    let Some(at) = declaration.find("encoding") else {
        return Ok("utf-8".to_owned());
    };
    let rest = declaration[at + "encoding".len()..].trim_start();
    let rest = rest
        .strip_prefix('=')
        .ok_or("a malformed XML declaration")?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().ok_or("a malformed XML declaration")?;
    let value = rest[1..]
        .split(quote)
        .next()
        .ok_or("a malformed XML declaration")?;
    Ok(value.to_ascii_lowercase())
}

fn same_charset(a: &str, b: &str) -> bool {
    let canonical = |name: &str| match name.trim().trim_matches('"').to_ascii_lowercase().as_str() {
        "windows-1252" | "cp1252" => "windows-1252".to_owned(),
        "utf-8" | "utf8" => "utf-8".to_owned(),
        other => other.to_owned(),
    };
    canonical(a) == canonical(b)
}

/// The request as text, by the rules of its declared encoding.
fn decode(headers: &HeaderMap, body: &[u8]) -> Result<String, String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if media != "text/xml" {
        return Err(format!(
            "SOAP 1.1 requests are text/xml; this one is \"{content_type}\""
        ));
    }
    let charset = parts.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("charset")).then(|| value.trim().to_owned())
    });
    let declared = declared_encoding(body)?;
    if let Some(charset) = &charset
        && !same_charset(charset, &declared)
    {
        return Err(format!(
            "the Content-Type says charset {charset} but the XML declaration says {declared}"
        ));
    }
    if same_charset(&declared, "windows-1252") {
        if let Some(at) = body.iter().position(|b| UNDEFINED_BYTES.contains(b)) {
            return Err(format!(
                "byte 0x{:02X} at offset {at} is not a Windows-1252 character",
                body[at]
            ));
        }
        let (text, _) = WINDOWS_1252.decode_without_bom_handling(body);
        return Ok(text.into_owned());
    }
    if same_charset(&declared, "utf-8") {
        let text = std::str::from_utf8(body).map_err(|e| {
            format!(
                "the request is not valid UTF-8 (offset {})",
                e.valid_up_to()
            )
        })?;
        if let Some(c) = text.chars().find(|c| !in_windows_1252(*c)) {
            return Err(format!(
                "UTF-8 requests are limited to the Windows-1252 characters; {} is not one",
                shown(c)
            ));
        }
        return Ok(text.to_owned());
    }
    Err(format!(
        "encoding {declared} is not accepted; send Windows-1252 (or UTF-8 limited to it)"
    ))
}

/// Every text in `value` (the job as JSON) Windows-1252 carries, or the
/// first element that holds one it does not (a character reference, say).
fn first_uncarried(path: &str, value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.chars().find(|c| !in_windows_1252(*c)).map(|c| {
            format!(
                "{path} contains {}, which is not a Windows-1252 character",
                shown(c)
            )
        }),
        serde_json::Value::Array(items) => items.iter().find_map(|v| first_uncarried(path, v)),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(name, v)| {
            let name = name.trim_start_matches('@');
            first_uncarried(name, v)
        }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Structure.

/// SOAP 1.1's envelope namespace, the job in Monster's, the credentials in WS-Security's.
fn namespaces(text: &str) -> Result<(), Response> {
    let mut reader = quick_xml::reader::NsReader::from_str(text);
    let mut root = true;
    loop {
        let (namespace, local) = match reader.read_resolved_event() {
            Ok((resolved, Event::Start(element) | Event::Empty(element))) => {
                let namespace = match resolved {
                    ResolveResult::Bound(ns) => ns.0.to_owned(),
                    _ => String::new(),
                };
                let local = AsRef::<str>::as_ref(&element.local_name()).to_owned();
                (namespace, local)
            }
            Ok((_, Event::Eof)) => return Ok(()),
            Ok(_) => continue,
            Err(error) => {
                return Err(client_fault(format!("the request is not XML: {error}")));
            }
        };
        if root {
            root = false;
            if local != "Envelope" || namespace != SOAP_ENV {
                return Err(fault(
                    "SOAP-ENV:VersionMismatch",
                    format!(
                        "the root must be a SOAP 1.1 Envelope in {SOAP_ENV}; it is {local} in \"{namespace}\""
                    ),
                ));
            }
        }
        let expected = match local.as_str() {
            "Job" => MONSTER,
            "Security" => WSSE,
            "MonsterHeader" => HEADER,
            _ => continue,
        };
        if namespace != expected {
            return Err(client_fault(format!(
                "{local} must be in the namespace {expected}; it is in \"{namespace}\""
            )));
        }
    }
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn monster_id(field: &str, value: &Option<InId>, allowed: impl Fn(u32) -> bool) -> Option<String> {
    let Some(raw) = value.as_ref().and_then(|v| text(&v.monster_id)) else {
        return Some(format!("{field}@monsterId is required"));
    };
    match raw.parse::<u32>() {
        Ok(id) if allowed(id) => None,
        _ => Some(format!("{field}@monsterId {raw} is not a valid {field}")),
    }
}

/// Tags in `html` outside [`BODY_TAGS`], or with attributes.
fn body_markup(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = rest[..end]
            .trim()
            .trim_start_matches('/')
            .trim_end_matches('/');
        let mut words = tag.split_whitespace();
        let name = words.next().unwrap_or("").to_ascii_lowercase();
        if !BODY_TAGS.contains(&name.as_str()) {
            return Some(format!(
                "JobBody may hold only the tags {}; it holds <{name}>",
                BODY_TAGS.join(", ")
            ));
        }
        if words.next().is_some() {
            return Some(format!("JobBody tags take no attributes; <{tag}> has some"));
        }
        rest = &rest[end..];
    }
    None
}

fn validate_address(field: &str, address: &Option<InAddress>, problems: &mut Vec<String>) {
    let Some(address) = address else {
        problems.push(format!("{field} is required"));
        return;
    };
    if text(&address.city).is_none() {
        problems.push(format!("{field}/City is required"));
    }
    match text(&address.country_code) {
        Some(code) if code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()) => {}
        Some(code) => problems.push(format!(
            "{field}/CountryCode {code} is not an ISO 3166 alpha-2 code"
        )),
        None => problems.push(format!("{field}/CountryCode is required")),
    }
}

/// The job's content rules for `add` and `addOrUpdate`.
fn validate_content(job: &InJob, problems: &mut Vec<String>) {
    if let Some(channel) = &job.channel
        && let Some(problem) = monster_id("Channel", &Some(channel.clone()), |id| {
            CHANNELS.iter().any(|(c, _)| *c == id)
        })
    {
        problems.push(problem);
    }
    let Some(information) = &job.job_information else {
        problems.push("JobInformation is required".to_owned());
        return;
    };
    match text(&information.job_title) {
        None => problems.push("JobTitle is required".to_owned()),
        Some(_) => {
            let length = information
                .job_title
                .as_deref()
                .unwrap_or_default()
                .chars()
                .count();
            if length > MAX_JOB_TITLE {
                problems.push(format!(
                    "JobTitle is {length} characters; the limit is {MAX_JOB_TITLE}"
                ));
            }
        }
    }
    problems.extend(monster_id("JobLevel", &information.job_level, |id| {
        JOB_LEVELS.contains(&id)
    }));
    problems.extend(monster_id("JobType", &information.job_type, |id| {
        JOB_TYPES.contains(&id)
    }));
    problems.extend(monster_id("JobStatus", &information.job_status, |id| {
        JOB_STATUSES.contains(&id)
    }));
    if let Some(salary) = &information.salary {
        problems.extend(monster_id("Currency", &salary.currency, |id| {
            CURRENCY_IDS.contains(&id)
        }));
        problems.extend(monster_id(
            "CompensationType",
            &salary.compensation_type,
            |id| COMPENSATION_TYPES.contains(&id),
        ));
        let number = |field: &str, value: &Option<String>, problems: &mut Vec<String>| {
            let raw = text(value)?;
            match raw.parse::<f64>() {
                Ok(n) if n.is_finite() && n >= 0.0 => Some(n),
                _ => {
                    problems.push(format!("{field} {raw} is not an amount"));
                    None
                }
            }
        };
        let min = number("SalaryMin", &salary.salary_min, problems);
        let max = number("SalaryMax", &salary.salary_max, problems);
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            problems.push("SalaryMin is greater than SalaryMax".to_owned());
        }
    }
    if information.physical_address.is_some() {
        validate_address("PhysicalAddress", &information.physical_address, problems);
    }
    problems.extend(apply_routing(information));
    match information.job_body.as_deref() {
        None => problems.push("JobBody is required".to_owned()),
        Some(body) => {
            let length = body.trim().chars().count();
            if length < MIN_JOB_BODY {
                problems.push(format!(
                    "JobBody is {length} characters; at least {MIN_JOB_BODY} are required"
                ));
            }
            problems.extend(body_markup(body));
        }
    }
    let postings = job
        .job_postings
        .as_ref()
        .map(|p| p.job_posting.as_slice())
        .unwrap_or_default();
    if postings.is_empty() {
        problems.push("JobPostings/JobPosting is required".to_owned());
    }
    for posting in postings {
        validate_address("JobPosting/Location", &posting.location, problems);
        problems.extend(monster_id("JobCategory", &posting.job_category, |_| true));
        let occupations = posting
            .job_occupations
            .as_ref()
            .map(|o| o.job_occupation.as_slice())
            .unwrap_or_default();
        if occupations.is_empty() {
            problems.push("JobOccupations/JobOccupation is required".to_owned());
        }
        for occupation in occupations {
            problems.extend(monster_id(
                "JobOccupation",
                &Some(occupation.clone()),
                |_| true,
            ));
        }
        problems.extend(monster_id("BoardName", &posting.board_name, |_| true));
    }
}

/// How candidates reach the employer: an apply page (`CustomApplyOnlineURL`,
/// an absolute http(s) URL) or an e-mail (`Contact/E-mail`); a job with
/// neither cannot be applied to.
fn apply_routing(information: &InJobInformation) -> Vec<String> {
    let mut problems = Vec::new();
    let url = text(&information.custom_apply_online_url);
    let email = information.contact.as_ref().and_then(|c| text(&c.email));
    if url.is_none() && email.is_none() {
        problems.push(
            "the job has no apply routing: CustomApplyOnlineURL or Contact/E-mail is required"
                .to_owned(),
        );
    }
    if let Some(url) = url
        && !((url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > "https://".len()
            && !url.contains(char::is_whitespace))
    {
        problems.push(format!(
            "CustomApplyOnlineURL {url} is not an absolute http(s) URL"
        ));
    }
    if let Some(email) = email {
        let valid = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        }) && !email.contains(char::is_whitespace);
        if !valid {
            problems.push(format!("Contact/E-mail {email} is not an e-mail address"));
        }
    }
    problems
}

/// The job's rules; the action to take if it passes.
fn validate(job: &InJob) -> Result<String, String> {
    let mut problems = Vec::new();
    match text(&job.job_ref_code) {
        None => problems.push("jobRefCode is required".to_owned()),
        Some(code) => {
            let length = code.chars().count();
            if length > MAX_JOB_REF_CODE {
                problems.push(format!(
                    "jobRefCode is {length} characters; the limit is {MAX_JOB_REF_CODE}"
                ));
            }
        }
    }
    let action = text(&job.job_action).unwrap_or("addOrUpdate").to_owned();
    if !JOB_ACTIONS.contains(&action.as_str()) {
        problems.push(format!(
            "jobAction {action} is not one of {}",
            JOB_ACTIONS.join(", ")
        ));
    }
    if let Some(kind) = text(&job.inventory_type)
        && !INVENTORY_TYPES.contains(&kind)
    {
        problems.push(format!(
            "inventoryType {kind} is not one of {}",
            INVENTORY_TYPES.join(", ")
        ));
    }
    if let Some(flag) = text(&job.job_complete)
        && !matches!(flag, "true" | "false")
    {
        problems.push(format!("jobComplete must be true or false, not {flag}"));
    }
    if job
        .recruiter_reference
        .as_ref()
        .and_then(|r| text(&r.user_name))
        .is_none()
    {
        problems.push("RecruiterReference/UserName is required".to_owned());
    }
    if action != "delete" {
        validate_content(job, &mut problems);
    }
    let content = serde_json::to_value(job).expect("serialisable");
    problems.extend(first_uncarried("Job", &content));
    if problems.is_empty() {
        Ok(action)
    } else {
        Err(problems.join("; "))
    }
}

// ---------------------------------------------------------------------------
// The endpoint.

fn authenticated(sandbox: &Sandbox, envelope: &InEnvelope) -> bool {
    let token = envelope
        .header
        .as_ref()
        .and_then(|h| h.security.as_ref())
        .and_then(|s| s.username_token.as_ref());
    let Some(token) = token else {
        return false;
    };
    token.username.as_deref() == Some(sandbox.credential(BOARD, "username"))
        && token.password.as_deref() == Some(sandbox.credential(BOARD, "password"))
}

async fn broker(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let document = match decode(&headers, &body) {
        Ok(document) => document,
        Err(reason) => return client_fault(reason),
    };
    // A strict XML 1.0 parser first, as the real gateway would be: a control
    // character or a broken tag is refused before anything else is read.
    if let Err(error) = roxmltree::Document::parse(&document) {
        return client_fault(format!("the request is not well-formed XML 1.0: {error}"));
    }
    if let Err(response) = namespaces(&document) {
        return response;
    }
    let envelope: InEnvelope = match quick_xml::de::from_str(&document) {
        Ok(envelope) => envelope,
        Err(error) => {
            return client_fault(format!("the request is not a SOAP envelope: {error}"));
        }
    };
    if !authenticated(&sandbox, &envelope) {
        return fault(
            "wsse:FailedAuthentication",
            "The security token could not be authenticated or authorized",
        );
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    let message = envelope
        .header
        .as_ref()
        .and_then(|h| h.monster_header.as_ref())
        .and_then(|m| m.message_data.as_ref());
    let message_id = message.and_then(|m| text(&m.message_id));
    let Some(message_id) = message_id.map(str::to_owned) else {
        return client_fault("MonsterHeader/MessageData/MessageId is required");
    };
    let stamp = message.and_then(|m| text(&m.timestamp));
    if stamp.is_none_or(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_err()
    }) {
        return client_fault("MonsterHeader/MessageData/Timestamp must be an ISO 8601 UTC time");
    }
    let Some(body) = envelope.body else {
        return client_fault("the envelope has no Body");
    };
    if body.batch.is_some() || body.jobs.len() != 1 {
        return client_fault(format!(
            "real time posting takes one Job per request; this one has {}",
            if body.batch.is_some() {
                "a Jobs batch".to_owned()
            } else {
                body.jobs.len().to_string()
            }
        ));
    }
    let job = body.jobs.into_iter().next().expect("one job");
    let action = match validate(&job) {
        Ok(action) => action,
        Err(problems) => return client_fault(problems),
    };
    let reference = text(&job.job_ref_code).unwrap_or_default().to_owned();
    let response = match action.as_str() {
        "delete" => delete(&sandbox, &message_id, &reference),
        add => post_job(&sandbox, &message_id, &reference, job, add == "add"),
    };
    answer(timing, response).await
}

fn post_job(
    sandbox: &Sandbox,
    message_id: &str,
    reference: &str,
    job: InJob,
    add_only: bool,
) -> Response {
    let title = job
        .job_information
        .as_ref()
        .and_then(|i| i.job_title.clone())
        .unwrap_or_default();
    let language = job
        .channel
        .as_ref()
        .and_then(|c| text(&c.monster_id))
        .and_then(|id| id.parse::<u32>().ok())
        .and_then(|id| CHANNELS.iter().find(|(c, _)| *c == id))
        .map(|(_, language)| (*language).to_owned())
        .unwrap_or_default();
    let content = serde_json::to_value(&job).expect("serialisable");
    let next_id = sandbox.next_id(BOARD);
    let outcome = sandbox.with_postings(BOARD, |held| {
        if let Some(posting) = held.get_mut(reference) {
            if add_only && posting.live {
                return Err(format!(
                    "job {reference} is active; add posts new jobs only (use addOrUpdate)"
                ));
            }
            posting.updates += 1;
            posting.live = true;
            posting.title = title;
            posting.language = language;
            posting.content = content;
            return Ok(("Job updated", posting.clone()));
        }
        let posting_id = (300_000_000 + next_id).to_string();
        let posting = HeldPosting {
            board: BOARD.to_owned(),
            reference: reference.to_owned(),
            url: format!("https://jobview.monster.com/getjob.aspx?jobid={posting_id}"),
            external_id: posting_id,
            live: true,
            title,
            language,
            creates: 1,
            updates: 0,
            withdrawals: 0,
            content,
        };
        held.insert(reference.to_owned(), posting.clone());
        Ok(("Job added", posting))
    });
    match outcome {
        Ok((description, posting)) => done(message_id, reference, description, Some(&posting)),
        Err(reason) => client_fault(reason),
    }
}

fn delete(sandbox: &Sandbox, message_id: &str, reference: &str) -> Response {
    let deleted = sandbox.with_postings(BOARD, |held| match held.get_mut(reference) {
        Some(posting) if posting.live => {
            posting.live = false;
            posting.withdrawals += 1;
            true
        }
        _ => false,
    });
    if deleted {
        done(message_id, reference, "Job deleted", None)
    } else {
        fault(
            "SOAP-ENV:Client.JobNotFound",
            format!("no active job with jobRefCode {reference}"),
        )
    }
}
