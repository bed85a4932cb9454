//! Message contract v1: the "post job" message an ATS publishes.
//!
//! Parsing is "parse, don't validate": [`parse`] turns raw AMQP bytes into a
//! [`Submission`] whose every field has been checked, or into an
//! [`InvalidMessage`] that names the rule broken. The JSON Schema in
//! `post-job.v1.schema.json` states the same contract for publishers; a test
//! keeps the two in agreement.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The JSON Schema of contract v1, as published to ATS integrators.
pub const SCHEMA_V1: &str = include_str!("post-job.v1.schema.json");

/// The only `schema_version` this worker reads.
pub const SCHEMA_VERSION: u64 = 1;

/// Why a message was turned away. The code is stable (ops filter on it);
/// the detail says exactly what was wrong with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct InvalidMessage {
    pub reason: RejectReason,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    Oversized,
    NotUtf8,
    NotJson,
    UnsupportedSchemaVersion,
    Malformed,
    UnknownAction,
    UnknownBoard,
    BadTarget,
    NoAds,
    MissingTitle,
    SalaryRange,
    BadLanguage,
    BadCountry,
    BadCurrency,
    BadUrl,
    NoApplyMethod,
    StaleRevision,
    UnknownJob,
    /// A control character (or a character XML forbids) in a field.
    ControlCharacter,
    /// A field longer than its intake cap.
    TooLong,
    /// More items (ads, locations, list entries) than intake takes.
    TooMany,
    /// A date outside the years intake takes.
    BadDate,
    /// The database refused the content (SQLSTATE class 22, 23 or 54): a data
    /// error, not an outage, so the message is rejected rather than retried.
    RefusedByDatabase,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oversized => "oversized",
            Self::NotUtf8 => "not_utf8",
            Self::NotJson => "not_json",
            Self::UnsupportedSchemaVersion => "unsupported_schema_version",
            Self::Malformed => "malformed",
            Self::UnknownAction => "unknown_action",
            Self::UnknownBoard => "unknown_board",
            Self::BadTarget => "bad_target",
            Self::NoAds => "no_ads",
            Self::MissingTitle => "missing_title",
            Self::SalaryRange => "salary_range",
            Self::BadLanguage => "bad_language",
            Self::BadCountry => "bad_country",
            Self::BadCurrency => "bad_currency",
            Self::BadUrl => "bad_url",
            Self::NoApplyMethod => "no_apply_method",
            Self::StaleRevision => "stale_revision",
            Self::UnknownJob => "unknown_job",
            Self::ControlCharacter => "control_character",
            Self::TooLong => "too_long",
            Self::TooMany => "too_many",
            Self::BadDate => "bad_date",
            Self::RefusedByDatabase => "refused_by_database",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest detail kept: serde's messages may quote a whole hostile value.
const MAX_DETAIL_CHARS: usize = 1_000;

fn invalid(reason: RejectReason, detail: impl Into<String>) -> InvalidMessage {
    let detail = detail.into();
    InvalidMessage {
        reason,
        detail: if detail.chars().count() > MAX_DETAIL_CHARS {
            quoted_prefix(&detail, MAX_DETAIL_CHARS)
        } else {
            detail
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Publish,
    Update,
    Withdraw,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Update => "update",
            Self::Withdraw => "withdraw",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentType {
    FullTime,
    PartTime,
    Contract,
    Temporary,
    Internship,
    Volunteer,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workplace {
    OnSite,
    Hybrid,
    Remote,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayPeriod {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Company {
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    pub country: String,
    #[serde(default)]
    pub postal_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Salary {
    pub currency: String,
    pub min: f64,
    pub max: f64,
    pub period: PayPeriod,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apply {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// Who posts the job: the recruiter boards show or hold responsible.
/// LinkedIn requires the poster's e-mail for every job (API `posterEmail`,
/// Limited Listings feed `posterEmail`); a tenant may set a default in
/// configuration (`[tenants.<id>] poster_email`, `poster_name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poster {
    #[serde(default)]
    pub name: Option<String>,
    pub email: String,
}

/// One language variant of the ad. Text is plain: boards get it rendered
/// into their own markup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalizedAd {
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub responsibilities: Vec<String>,
    #[serde(default)]
    pub requirements: Vec<String>,
    #[serde(default)]
    pub benefits: Vec<String>,
}

/// The job as the ATS describes it (`publish` and `update`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub id: String,
    pub revision: i64,
    pub company: Company,
    pub employment_type: EmploymentType,
    pub workplace: Workplace,
    pub locations: Vec<Location>,
    #[serde(default)]
    pub salary: Option<Salary>,
    #[serde(default)]
    pub category: Option<String>,
    pub apply: Apply,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub valid_through: Option<OffsetDateTime>,
    /// Optional; left out when absent, so stored jobs keep their content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster: Option<Poster>,
    /// Language tag (BCP 47) -> the ad in that language.
    pub ads: BTreeMap<String, LocalizedAd>,
}

/// `withdraw` names the job only.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobRef {
    id: String,
    #[serde(default)]
    revision: Option<i64>,
}

/// Which boards, and optionally which of the ad's languages, get the job.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Every board enabled for the tenant.
    All,
    Boards(Vec<Target>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub board: String,
    #[serde(default)]
    pub locales: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Publish(Job),
    Update(Job),
    Withdraw { revision: Option<i64> },
}

/// A message that passed every check of contract v1.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub message_id: Uuid,
    pub tenant_id: String,
    pub job_id: String,
    pub command: Command,
    pub targets: Targets,
}

impl Submission {
    pub fn action(&self) -> Action {
        match self.command {
            Command::Publish(_) => Action::Publish,
            Command::Update(_) => Action::Update,
            Command::Withdraw { .. } => Action::Withdraw,
        }
    }

    pub fn revision(&self) -> Option<i64> {
        match &self.command {
            Command::Publish(job) | Command::Update(job) => Some(job.revision),
            Command::Withdraw { revision } => *revision,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[allow(dead_code)]
    schema_version: u64,
    message_id: Uuid,
    action: Action,
    tenant_id: String,
    job: serde_json::Value,
    targets: serde_json::Value,
}

/// What the worker needs to know to judge a message beyond its shape.
pub struct Limits<'a> {
    pub max_bytes: usize,
    /// Board ids this deployment knows.
    pub boards: &'a BTreeSet<String>,
    /// Language variants (ads) one message may carry: each becomes a paid
    /// posting on every board, so one message must not fan out unbounded.
    pub max_ads: usize,
}

impl<'a> Limits<'a> {
    /// Limits with the default caps ([`DEFAULT_MAX_ADS`]).
    pub fn new(max_bytes: usize, boards: &'a BTreeSet<String>) -> Self {
        Self {
            max_bytes,
            boards,
            max_ads: DEFAULT_MAX_ADS,
        }
    }
}

/// Intake caps. The JSON Schema states the same numbers (a test checks it).
/// Lengths are in characters (JSON Schema's `maxLength` counts code points);
/// [inferred] where no board documents a limit: generous for real ads, small
/// enough that no field can blow up a row, an index, a log line or a feed.
pub mod caps {
    /// tenant_id and job.id: both sit in the (tenant_id, job_id, board,
    /// locale) b-tree indexes, whose entries PostgreSQL caps at 2704 bytes
    /// ("index row size exceeds btree version 4 maximum 2704"); 128 characters
    /// of up to 4 bytes each keep any pair well under it.
    pub const ID_CHARS: usize = 128;
    /// A job title. Boards document 50 to 255 (BOARDS.md, findings item 9),
    /// and each adapter enforces its own; intake only bounds the outliers.
    pub const TITLE_CHARS: usize = 300;
    pub const SUMMARY_CHARS: usize = 20_000;
    /// One entry of responsibilities, requirements or benefits.
    pub const ITEM_CHARS: usize = 1_000;
    /// Entries in each of responsibilities, requirements and benefits.
    pub const ITEMS: usize = 50;
    pub const NAME_CHARS: usize = 200;
    /// city, region, category.
    pub const PLACE_CHARS: usize = 100;
    pub const POSTAL_CODE_CHARS: usize = 20;
    pub const LOCATIONS: usize = 50;
    /// RFC 7230 recommends supporting at least 8000 octets; sitemaps cap URLs
    /// at 2048 characters (sitemaps.org protocol, `<loc>`), the tighter bound.
    pub const URL_CHARS: usize = 2_048;
    /// RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address 254.
    pub const EMAIL_CHARS: usize = 254;
    /// Years a `valid_through` may name. [inferred]: renderers turn dates into
    /// UTC; year 9999 with a negative offset overflows `time`'s range.
    pub const FIRST_YEAR: i32 = 2000;
    pub const LAST_YEAR: i32 = 2100;
}

/// Ads per message unless configured otherwise (`amqp.max_ads_per_message`).
pub const DEFAULT_MAX_ADS: usize = 30;

/// Reads the few identifying fields of a message that may be invalid, so a
/// rejection can still be filed under its message, tenant and job.
pub fn identify(raw: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(raw) else {
        return (None, None, None);
    };
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    (
        text(value.get("message_id")),
        text(value.get("tenant_id")),
        text(value.get("job").and_then(|job| job.get("id"))),
    )
}

/// Parses and checks one message against contract v1.
pub fn parse(raw: &[u8], limits: &Limits<'_>) -> Result<Submission, InvalidMessage> {
    if raw.len() > limits.max_bytes {
        return Err(invalid(
            RejectReason::Oversized,
            format!(
                "message is {} bytes; the limit is {} bytes",
                raw.len(),
                limits.max_bytes
            ),
        ));
    }
    let text = std::str::from_utf8(raw).map_err(|error| {
        invalid(
            RejectReason::NotUtf8,
            format!(
                "message is not valid UTF-8 (invalid byte at offset {})",
                error.valid_up_to()
            ),
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|error| {
        invalid(
            RejectReason::NotJson,
            format!("message is not JSON: {error}"),
        )
    })?;
    if !value.is_object() {
        return Err(invalid(
            RejectReason::Malformed,
            "message must be a JSON object",
        ));
    }
    check_characters(&value, &mut Vec::new())?;
    match value.get("schema_version") {
        Some(version) if version.as_u64() == Some(SCHEMA_VERSION) => {}
        Some(other) => {
            return Err(invalid(
                RejectReason::UnsupportedSchemaVersion,
                format!(
                    "schema_version {other} is not supported; this worker reads {SCHEMA_VERSION}"
                ),
            ));
        }
        None => {
            return Err(invalid(
                RejectReason::Malformed,
                "missing field `schema_version`",
            ));
        }
    }

    let envelope: Envelope = from_value(value)?;
    if envelope.tenant_id.trim().is_empty() {
        return Err(invalid(RejectReason::Malformed, "tenant_id is empty"));
    }
    check_length("tenant_id", &envelope.tenant_id, caps::ID_CHARS)?;
    let targets = parse_targets(envelope.targets, limits.boards, limits.max_ads)?;

    let (job_id, command) = match envelope.action {
        Action::Publish | Action::Update => {
            let job: Job = from_value_at(envelope.job, "job")?;
            check_job(&job, limits)?;
            check_target_locales(&targets, &job)?;
            let id = job.id.clone();
            let command = if envelope.action == Action::Publish {
                Command::Publish(job)
            } else {
                Command::Update(job)
            };
            (id, command)
        }
        Action::Withdraw => {
            let job: JobRef = from_value_at(envelope.job, "job")?;
            if let Some(revision) = job.revision {
                check_revision(revision)?;
            }
            (
                job.id,
                Command::Withdraw {
                    revision: job.revision,
                },
            )
        }
    };
    if job_id.trim().is_empty() {
        return Err(invalid(RejectReason::Malformed, "job.id is empty"));
    }
    check_length("job.id", &job_id, caps::ID_CHARS)?;

    Ok(Submission {
        message_id: envelope.message_id,
        tenant_id: envelope.tenant_id,
        job_id,
        command,
        targets,
    })
}

/// Free-text fields, where tabs and line breaks belong; every other string
/// (ids, names, titles, codes, keys) is one line.
fn is_multiline(path: &[String]) -> bool {
    matches!(
        path,
        [job, ads, _, field, ..]
            if job == "job"
                && ads == "ads"
                && matches!(field.as_str(), "summary" | "responsibilities" | "requirements" | "benefits")
    )
}

/// A character no field may hold: control characters (C0, DEL, C1), which
/// PostgreSQL refuses (NUL), XML 1.0 forbids (most of C0: the `Char`
/// production, XML 1.0 §2.2) or that forge log lines and ids; and U+FFFE and
/// U+FFFF, also outside XML's `Char`. Free text keeps tab, LF and CR.
fn is_forbidden(c: char, multiline: bool) -> bool {
    if multiline && matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// The path of a field for a rejection detail: `job.ads."en".title`, with
/// keys escaped (they are the publisher's text, and may be hostile).
fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for (index, segment) in path.iter().enumerate() {
        if segment.starts_with('[') {
            out.push_str(segment);
            continue;
        }
        if index > 0 {
            out.push('.');
        }
        if !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            out.push_str(segment);
        } else {
            out.push_str(&format!("{:?}", quoted_prefix(segment, 64)));
        }
    }
    out
}

/// At most `max` characters of a publisher's value, for a detail or a log line.
fn quoted_prefix(value: &str, max: usize) -> String {
    let mut chars = value.chars();
    let prefix: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{prefix}…")
    } else {
        prefix
    }
}

/// Refuses forbidden characters in every string and key of the message,
/// before any field is read: nothing with them reaches SQL, a log or a feed.
fn check_characters(
    value: &serde_json::Value,
    path: &mut Vec<String>,
) -> Result<(), InvalidMessage> {
    match value {
        serde_json::Value::String(text) => {
            let multiline = is_multiline(path);
            check_text(text, multiline, || display_path(path))
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(format!("[{index}]"));
                check_characters(item, path)?;
                path.pop();
            }
            Ok(())
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                check_text(key, false, || {
                    let key = format!("key {:?}", quoted_prefix(key, 64));
                    if path.is_empty() {
                        key
                    } else {
                        format!("{} {key}", display_path(path))
                    }
                })?;
                path.push(key.clone());
                check_characters(item, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_text(
    text: &str,
    multiline: bool,
    field: impl FnOnce() -> String,
) -> Result<(), InvalidMessage> {
    let Some((at, c)) = text
        .char_indices()
        .find(|(_, c)| is_forbidden(*c, multiline))
    else {
        return Ok(());
    };
    let rule = if multiline {
        "free text takes tab, line feed and carriage return, and no other control character"
    } else {
        "this field is one line of text, without control characters"
    };
    Err(invalid(
        RejectReason::ControlCharacter,
        format!(
            "{} holds the control character U+{:04X} at byte {at}; {rule}",
            field(),
            c as u32
        ),
    ))
}

fn check_length(field: &str, value: &str, max_chars: usize) -> Result<(), InvalidMessage> {
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(invalid(
            RejectReason::TooLong,
            format!("{field} is {chars} characters long; intake takes at most {max_chars}"),
        ));
    }
    Ok(())
}

fn check_count(field: &str, count: usize, max: usize) -> Result<(), InvalidMessage> {
    if count > max {
        return Err(invalid(
            RejectReason::TooMany,
            format!("{field} has {count} entries; intake takes at most {max}"),
        ));
    }
    Ok(())
}

fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, InvalidMessage> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        if path == "action" {
            invalid(RejectReason::UnknownAction, format!("action: {inner}"))
        } else {
            invalid(RejectReason::Malformed, format!("{path}: {inner}"))
        }
    })
}

fn from_value_at<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, InvalidMessage> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        let at = if path == "." {
            prefix.to_owned()
        } else {
            format!("{prefix}.{path}")
        };
        invalid(RejectReason::Malformed, format!("{at}: {inner}"))
    })
}

fn parse_targets(
    value: serde_json::Value,
    boards: &BTreeSet<String>,
    max_locales: usize,
) -> Result<Targets, InvalidMessage> {
    let targets = match value {
        serde_json::Value::String(all) if all == "all" => return Ok(Targets::All),
        serde_json::Value::Array(_) => from_value_at::<Vec<Target>>(value, "targets")?,
        other => {
            return Err(invalid(
                RejectReason::BadTarget,
                format!(
                    "targets must be \"all\" or a list of {{\"board\": ...}}; got {}",
                    quoted_prefix(&other.to_string(), 64)
                ),
            ));
        }
    };
    if targets.is_empty() {
        return Err(invalid(RejectReason::BadTarget, "targets is an empty list"));
    }
    let mut seen = BTreeSet::new();
    for target in &targets {
        if !boards.contains(&target.board) {
            let known: Vec<&str> = boards.iter().map(String::as_str).collect();
            // Escaped and cut short: the name is the publisher's text.
            return Err(invalid(
                RejectReason::UnknownBoard,
                format!(
                    "unknown board {:?}; known boards: {}",
                    quoted_prefix(&target.board, 64),
                    known.join(", ")
                ),
            ));
        }
        if !seen.insert(target.board.as_str()) {
            return Err(invalid(
                RejectReason::BadTarget,
                format!("board {:?} is targeted twice", target.board),
            ));
        }
        if let Some(locales) = &target.locales {
            check_count(
                &format!("targets[board={}].locales", target.board),
                locales.len(),
                max_locales,
            )?;
        }
    }
    Ok(Targets::Boards(targets))
}

fn check_target_locales(targets: &Targets, job: &Job) -> Result<(), InvalidMessage> {
    let Targets::Boards(targets) = targets else {
        return Ok(());
    };
    for target in targets {
        for locale in target.locales.iter().flatten() {
            if !job.ads.contains_key(locale) {
                return Err(invalid(
                    RejectReason::BadTarget,
                    format!(
                        "target {} asks for locale {:?} but job.ads has no such ad",
                        target.board,
                        quoted_prefix(locale, 64)
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_revision(revision: i64) -> Result<(), InvalidMessage> {
    if revision < 1 {
        return Err(invalid(
            RejectReason::Malformed,
            format!("job.revision must be 1 or more; got {revision}"),
        ));
    }
    Ok(())
}

fn check_job(job: &Job, limits: &Limits<'_>) -> Result<(), InvalidMessage> {
    check_revision(job.revision)?;
    if job.company.name.trim().is_empty() {
        return Err(invalid(
            RejectReason::Malformed,
            "job.company.name is empty",
        ));
    }
    check_length("job.company.name", &job.company.name, caps::NAME_CHARS)?;
    if let Some(category) = &job.category {
        check_length("job.category", category, caps::PLACE_CHARS)?;
    }
    if let Some(email) = &job.apply.email {
        check_length("job.apply.email", email, caps::EMAIL_CHARS)?;
    }
    if let Some(valid_through) = job.valid_through {
        check_year("job.valid_through", valid_through)?;
    }
    for (field, url) in [
        ("job.company.url", &job.company.url),
        ("job.company.logo_url", &job.company.logo_url),
        ("job.apply.url", &job.apply.url),
    ] {
        if let Some(url) = url {
            check_length(field, url, caps::URL_CHARS)?;
            check_url(field, url)?;
        }
    }
    match (&job.apply.url, &job.apply.email) {
        (None, None) => {
            return Err(invalid(
                RejectReason::NoApplyMethod,
                "job.apply needs a url or an email",
            ));
        }
        (_, Some(email)) if !looks_like_email(email) => {
            return Err(invalid(
                RejectReason::Malformed,
                format!("job.apply.email {email:?} is not an email address"),
            ));
        }
        _ => {}
    }
    if let Some(poster) = &job.poster
        && !looks_like_email(&poster.email)
    {
        return Err(invalid(
            RejectReason::Malformed,
            format!(
                "job.poster.email \"{}\" is not an email address",
                poster.email
            ),
        ));
    }
    if job.locations.is_empty() {
        return Err(invalid(
            RejectReason::Malformed,
            "job.locations is empty; a remote job names its hiring location",
        ));
    }
    check_count("job.locations", job.locations.len(), caps::LOCATIONS)?;
    for (index, location) in job.locations.iter().enumerate() {
        let field = |name: &str| format!("job.locations[{index}].{name}");
        check_length(&field("city"), &location.city, caps::PLACE_CHARS)?;
        if let Some(region) = &location.region {
            check_length(&field("region"), region, caps::PLACE_CHARS)?;
        }
        if let Some(postal_code) = &location.postal_code {
            check_length(&field("postal_code"), postal_code, caps::POSTAL_CODE_CHARS)?;
        }
        if location.city.trim().is_empty() {
            return Err(invalid(
                RejectReason::Malformed,
                format!("job.locations[{index}].city is empty"),
            ));
        }
        if !is_country_code(&location.country) {
            return Err(invalid(
                RejectReason::BadCountry,
                format!(
                    "job.locations[{index}].country {:?} is not an ISO 3166-1 alpha-2 code",
                    location.country
                ),
            ));
        }
    }
    if let Some(salary) = &job.salary {
        if !is_currency_code(&salary.currency) {
            return Err(invalid(
                RejectReason::BadCurrency,
                format!(
                    "job.salary.currency {:?} is not an ISO 4217 code",
                    salary.currency
                ),
            ));
        }
        if salary.min < 0.0 || salary.max < 0.0 {
            return Err(invalid(
                RejectReason::SalaryRange,
                "job.salary.min and max must not be negative",
            ));
        }
        if salary.min > salary.max {
            return Err(invalid(
                RejectReason::SalaryRange,
                format!(
                    "job.salary.min ({}) is greater than job.salary.max ({})",
                    salary.min, salary.max
                ),
            ));
        }
    }
    if job.ads.is_empty() {
        return Err(invalid(RejectReason::NoAds, "job.ads has no ad"));
    }
    // Each ad is a posting (often paid) on every board: bound the fan-out.
    check_count("job.ads", job.ads.len(), limits.max_ads)?;
    for (locale, ad) in &job.ads {
        check_language_tag(
            &format!("job.ads key {:?}", quoted_prefix(locale, 64)),
            locale,
        )?;
        if ad.title.trim().is_empty() {
            return Err(invalid(
                RejectReason::MissingTitle,
                format!("job.ads.{locale}.title is empty"),
            ));
        }
        if ad.summary.trim().is_empty() {
            return Err(invalid(
                RejectReason::Malformed,
                format!("job.ads.{locale}.summary is empty"),
            ));
        }
        let field = |name: &str| format!("job.ads.{locale}.{name}");
        check_length(&field("title"), &ad.title, caps::TITLE_CHARS)?;
        check_length(&field("summary"), &ad.summary, caps::SUMMARY_CHARS)?;
        for (name, items) in [
            ("responsibilities", &ad.responsibilities),
            ("requirements", &ad.requirements),
            ("benefits", &ad.benefits),
        ] {
            check_count(&field(name), items.len(), caps::ITEMS)?;
            for (index, item) in items.iter().enumerate() {
                check_length(&field(&format!("{name}[{index}]")), item, caps::ITEM_CHARS)?;
            }
        }
    }
    Ok(())
}

fn check_year(field: &str, date: OffsetDateTime) -> Result<(), InvalidMessage> {
    let year = date.year();
    if !(caps::FIRST_YEAR..=caps::LAST_YEAR).contains(&year) {
        return Err(invalid(
            RejectReason::BadDate,
            format!(
                "{field} is in the year {year}; intake takes years {} to {}",
                caps::FIRST_YEAR,
                caps::LAST_YEAR
            ),
        ));
    }
    Ok(())
}

/// Names which rule of a language tag failed, for the rejection.
fn check_language_tag(field: &str, tag: &str) -> Result<(), InvalidMessage> {
    match language_tag_error(tag) {
        None => Ok(()),
        Some(rule) => Err(invalid(
            RejectReason::BadLanguage,
            format!("{field} is not a language tag we take: {rule}"),
        )),
    }
}

fn check_url(field: &str, value: &str) -> Result<(), InvalidMessage> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        _ => Err(invalid(
            RejectReason::BadUrl,
            format!("{field} {value:?} is not an http(s) URL"),
        )),
    }
}

/// One `@`, something before it, a dot after it, no whitespace: the
/// schema's `^[^@\s]+@[^@\s]+\.[^@\s]+$`.
pub fn looks_like_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain
                    .char_indices()
                    .any(|(at, c)| c == '.' && at > 0 && at + 1 < domain.len())
                && !value.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// ISO 3166-1 alpha-2, upper case ("ES", "GR").
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && celes::Country::from_alpha2(code).is_ok()
}

/// An ISO 4217 alphabetic code ("EUR").
fn is_currency_code(code: &str) -> bool {
    iso_currency::Currency::from_code(code).is_some()
}

/// ISO 15924 script codes for writing systems, sorted: the registration
/// authority's list (https://www.unicode.org/iso15924/iso15924.txt, as
/// mirrored in github.com/wooorm/iso-15924 `index.js`), without the private
/// use range `Qaaa`..`Qabx` and the special codes `Zinh`, `Zmth`, `Zsye`,
/// `Zsym`, `Zxxx`, `Zyyy`, `Zzzz` [inferred: no job ad is written in them].
const ISO_15924_SCRIPTS: &[&str] = &[
    "Adlm", "Afak", "Aghb", "Ahom", "Arab", "Aran", "Armi", "Armn", "Avst", "Bali", "Bamu", "Bass",
    "Batk", "Beng", "Bhks", "Blis", "Bopo", "Brah", "Brai", "Bugi", "Buhd", "Cakm", "Cans", "Cari",
    "Cham", "Cher", "Chis", "Chrs", "Cirt", "Copt", "Cpmn", "Cprt", "Cyrl", "Cyrs", "Deva", "Diak",
    "Dogr", "Dsrt", "Dupl", "Egyd", "Egyh", "Egyp", "Elba", "Elym", "Ethi", "Gara", "Geok", "Geor",
    "Glag", "Gong", "Gonm", "Goth", "Gran", "Grek", "Gujr", "Gukh", "Guru", "Hanb", "Hang", "Hani",
    "Hano", "Hans", "Hant", "Hatr", "Hebr", "Hira", "Hluw", "Hmng", "Hmnp", "Hrkt", "Hung", "Inds",
    "Ital", "Jamo", "Java", "Jpan", "Jurc", "Kali", "Kana", "Kawi", "Khar", "Khmr", "Khoj", "Kitl",
    "Kits", "Knda", "Kore", "Kpel", "Krai", "Kthi", "Lana", "Laoo", "Latf", "Latg", "Latn", "Leke",
    "Lepc", "Limb", "Lina", "Linb", "Lisu", "Loma", "Lyci", "Lydi", "Mahj", "Maka", "Mand", "Mani",
    "Marc", "Maya", "Medf", "Mend", "Merc", "Mero", "Mlym", "Modi", "Mong", "Moon", "Mroo", "Mtei",
    "Mult", "Mymr", "Nagm", "Nand", "Narb", "Nbat", "Newa", "Nkdb", "Nkgb", "Nkoo", "Nshu", "Ogam",
    "Olck", "Onao", "Orkh", "Orya", "Osge", "Osma", "Ougr", "Palm", "Pauc", "Pcun", "Pelm", "Perm",
    "Phag", "Phli", "Phlp", "Phlv", "Phnx", "Piqd", "Plrd", "Prti", "Psin", "Ranj", "Rjng", "Rohg",
    "Roro", "Runr", "Samr", "Sara", "Sarb", "Saur", "Sgnw", "Shaw", "Shrd", "Shui", "Sidd", "Sidt",
    "Sind", "Sinh", "Sogd", "Sogo", "Sora", "Soyo", "Sund", "Sunu", "Sylo", "Syrc", "Syre", "Syrj",
    "Syrn", "Tagb", "Takr", "Tale", "Talu", "Taml", "Tang", "Tavt", "Tayo", "Telu", "Teng", "Tfng",
    "Tglg", "Thaa", "Thai", "Tibt", "Tirh", "Tnsa", "Todr", "Tols", "Toto", "Tutg", "Ugar", "Vaii",
    "Visp", "Vith", "Wara", "Wcho", "Wole", "Xpeo", "Xsux", "Yezi", "Yiii", "Zanb",
];

/// The BCP 47 subset boards understand: an ISO 639-1 language, then an
/// optional ISO 15924 script ("Latn") and an optional region ("BR", "419").
pub fn is_language_tag(tag: &str) -> bool {
    language_tag_error(tag).is_none()
}

/// Which rule `tag` breaks, if any.
fn language_tag_error(tag: &str) -> Option<&'static str> {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    if language.len() != 2
        || !language.bytes().all(|b| b.is_ascii_lowercase())
        || isolang::Language::from_639_1(language).is_none()
    {
        return Some("the language must be an ISO 639-1 code in lower case (\"pt\")");
    }
    let mut rest: Vec<&str> = parts.collect();
    if let Some(script) = rest.first()
        && script.len() == 4
    {
        if ISO_15924_SCRIPTS.binary_search(script).is_err() {
            return Some(
                "a script subtag must be an ISO 15924 code for a writing system, in title case (\"Latn\"); private-use and special codes are refused",
            );
        }
        rest.remove(0);
    }
    match rest.as_slice() {
        [] => None,
        [region] if region.len() == 3 && region.bytes().all(|b| b.is_ascii_digit()) => None,
        [region] if is_country_code(region) => None,
        [_] => Some(
            "a region must be an ISO 3166-1 alpha-2 code in upper case (\"BR\") or a UN M.49 area of three digits (\"419\")",
        ),
        _ => Some("only language, script and region subtags are taken (\"sr-Latn-RS\")"),
    }
}

/// The language part of a tag: "pt-BR" -> "pt".
pub fn primary_language(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        for good in ["en", "pt", "pt-BR", "es-419", "zh-Hant", "sr-Latn-RS", "el"] {
            assert!(is_language_tag(good), "{good}");
        }
        for bad in ["", "english", "xx", "EN", "pt-br", "pt-XX", "en-US-x", "e1"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    /// Issue 12, finding 9: `en-Qaax`, `en-Qabx`... made one paid posting each.
    #[test]
    fn script_subtags_must_be_iso_15924_writing_systems() {
        for good in ["zh-Hans", "zh-Hant-TW", "sr-Cyrl", "uz-Latn-UZ", "ja-Jpan"] {
            assert!(is_language_tag(good), "{good}");
        }
        for bad in [
            "en-Qaax", "en-Qabx", "en-Zzzz", "en-Abcd", "en-Latx", "en-LATN",
        ] {
            assert!(!is_language_tag(bad), "{bad}");
        }
        assert!(ISO_15924_SCRIPTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn country_codes() {
        assert!(is_country_code("GR"));
        assert!(!is_country_code("gr"));
        assert!(!is_country_code("XK1"));
        assert!(!is_country_code("QQ"));
    }

    #[test]
    fn primary_language_strips_region() {
        assert_eq!(primary_language("pt-BR"), "pt");
        assert_eq!(primary_language("el"), "el");
    }
}
