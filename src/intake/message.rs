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
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn invalid(reason: RejectReason, detail: impl Into<String>) -> InvalidMessage {
    InvalidMessage {
        reason,
        detail: detail.into(),
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
}

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
    let targets = parse_targets(envelope.targets, limits.boards)?;

    let (job_id, command) = match envelope.action {
        Action::Publish | Action::Update => {
            let job: Job = from_value_at(envelope.job, "job")?;
            check_job(&job)?;
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

    Ok(Submission {
        message_id: envelope.message_id,
        tenant_id: envelope.tenant_id,
        job_id,
        command,
        targets,
    })
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
) -> Result<Targets, InvalidMessage> {
    let targets = match value {
        serde_json::Value::String(all) if all == "all" => return Ok(Targets::All),
        serde_json::Value::Array(_) => from_value_at::<Vec<Target>>(value, "targets")?,
        other => {
            return Err(invalid(
                RejectReason::BadTarget,
                format!("targets must be \"all\" or a list of {{\"board\": ...}}; got {other}"),
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
            return Err(invalid(
                RejectReason::UnknownBoard,
                format!(
                    "unknown board \"{}\"; known boards: {}",
                    target.board,
                    known.join(", ")
                ),
            ));
        }
        if !seen.insert(target.board.as_str()) {
            return Err(invalid(
                RejectReason::BadTarget,
                format!("board \"{}\" is targeted twice", target.board),
            ));
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
                        "target {} asks for locale \"{locale}\" but job.ads has no \"{locale}\" ad",
                        target.board
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

fn check_job(job: &Job) -> Result<(), InvalidMessage> {
    check_revision(job.revision)?;
    if job.company.name.trim().is_empty() {
        return Err(invalid(
            RejectReason::Malformed,
            "job.company.name is empty",
        ));
    }
    for (field, url) in [
        ("job.company.url", &job.company.url),
        ("job.company.logo_url", &job.company.logo_url),
        ("job.apply.url", &job.apply.url),
    ] {
        if let Some(url) = url {
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
                format!("job.apply.email \"{email}\" is not an email address"),
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
    for (index, location) in job.locations.iter().enumerate() {
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
                    "job.locations[{index}].country \"{}\" is not an ISO 3166-1 alpha-2 code",
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
                    "job.salary.currency \"{}\" is not an ISO 4217 code",
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
    for (locale, ad) in &job.ads {
        if !is_language_tag(locale) {
            return Err(invalid(
                RejectReason::BadLanguage,
                format!(
                    "job.ads key \"{locale}\" is not a language tag (ISO 639-1 language, optional region: \"pt\", \"pt-BR\")"
                ),
            ));
        }
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
    }
    Ok(())
}

fn check_url(field: &str, value: &str) -> Result<(), InvalidMessage> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        _ => Err(invalid(
            RejectReason::BadUrl,
            format!("{field} \"{value}\" is not an http(s) URL"),
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

/// The BCP 47 subset boards understand: an ISO 639-1 language, then an
/// optional script ("Latn") and an optional region ("BR", "419").
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    if language.len() != 2
        || !language.bytes().all(|b| b.is_ascii_lowercase())
        || isolang::Language::from_639_1(language).is_none()
    {
        return false;
    }
    let mut rest: Vec<&str> = parts.collect();
    if let Some(script) = rest.first()
        && script.len() == 4
    {
        let mut chars = script.chars();
        let title_case = chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_lowercase());
        if !title_case {
            return false;
        }
        rest.remove(0);
    }
    match rest.as_slice() {
        [] => true,
        [region] if region.len() == 3 => region.bytes().all(|b| b.is_ascii_digit()),
        [region] => is_country_code(region),
        _ => false,
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
