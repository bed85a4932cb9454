//! Google for Jobs: schema.org `JobPosting` JSON-LD on a job page we serve,
//! and Google's Indexing API told about it (BOARDS.md §2 row 5, §3.5, §4.1).
//!
//! Google does not take the ad; it crawls our page. So the board has two
//! halves:
//!
//! - **the page**: `GET /jobs/<reference>` on the ops listener
//!   ([`crate::feeds::job_pages`]) shows the ad with a
//!   `<script type="application/ld+json">` built by [`json_ld`], a pure
//!   function of the posting and the time it was first published; the live
//!   pages are listed in `/sitemap.xml`, and a withdrawn posting's page
//!   answers `410 Gone`, one of Google's documented removal signals;
//! - **the notification**: publish and update check [`json_ld`]'s rules
//!   (nothing is sent when one breaks), then `POST <base>/v3/urlNotifications:publish`
//!   with `{"url": <page>, "type": "URL_UPDATED"}`; withdraw sends
//!   `URL_DELETED`. A 200 means Google was *notified*, not that it indexed a
//!   valid page: the posting is [`Receipt::Accepted`] (`submitted`) with the
//!   page URL as its task;
//! - **the confirmation**: [`Board::confirm`] asks Search Console's URL
//!   Inspection API (`POST https://searchconsole.googleapis.com/v1/urlInspection/index:inspect`,
//!   body `{inspectionUrl, siteUrl, languageCode}`, same service account,
//!   scope `webmasters.readonly`) and reads
//!   `inspectionResult.indexStatusResult` (`verdict`, `coverageState`,
//!   `indexingState`, `pageFetchState`, `googleCanonical`) and
//!   `richResultsResult` (`verdict`, `detectedItems[].items[].issues[]`):
//!   indexed (`PASS`, or an alternate whose Google-chosen canonical is
//!   indexed) is [`Receipt::Live`]; blocked, unreadable, or a failing job
//!   posting rich result fails the posting with Google's words; anything
//!   else ("URL is unknown to Google", "Crawled - currently not indexed")
//!   is [`Receipt::Pending`]. The property (`siteUrl`) is option `site_url`
//!   (default: our public URL with a trailing `/`, a URL-prefix property);
//!   the endpoint is option `inspection_url` (absolute, or relative to
//!   `base_url` as the sandbox's configuration sets it).
//!
//! Documented [V] (§3.5, §4.1): required properties `title`, `description`
//! (HTML; must not equal the title), `datePosted` (ISO 8601),
//! `hiringOrganization`, and `jobLocation` (Place → PostalAddress, country
//! ISO 3166-1 alpha-2) — or, for a fully remote job, `jobLocationType:
//! TELECOMMUTE` with `applicantLocationRequirements`; recommended
//! `baseSalary` (MonetaryAmount with a QuantitativeValue `value` or
//! `minValue`/`maxValue` and `unitText` HOUR|DAY|WEEK|MONTH|YEAR),
//! `employmentType`, `identifier` (PropertyValue), `directApply` and
//! `validThrough` (a past `validThrough` is a removal signal). The feature
//! recognises `<p>`, `<ul>`, `<li>` in the description. The Indexing API:
//! `URL_UPDATED` / `URL_DELETED`, OAuth2 service account, 200 publish calls a
//! day per project (updates and deletes count; reset at midnight Pacific
//! time), 380 requests a minute over all endpoints.
//!
//! Our rules, which fail the posting by name before anything is sent:
//! every required property above; `validThrough` (the job's end, sent when
//! the job has one, as Google asks of a posting that expires) after
//! `datePosted`, so never already past; a positive `baseSalary`; and pay
//! transparency (§5): `baseSalary` is required for a job in Colorado,
//! California, Washington or New York, or a remote US job (Colorado's law
//! covers remote work that could be done there). EU Directive 2023/970 lets
//! the range come "in the vacancy notice or before the interview", so an EU
//! job without one is not refused.
//!
//! Inferred [I]: the token endpoint, grant and scope follow Google's
//! service-account flow (an RS256 JWT with `iss` = `client_email`, `scope`,
//! `aud` = the token endpoint, an hour at most) but sit at `<base>/token`
//! here, so the sandbox can play it; refused tokens are 400/401 there and
//! an expired access token 401 at the Indexing API; Google's error bodies
//! are `{"error": {code, message, status}}`, where 429 `RESOURCE_EXHAUSTED`
//! with "per day" in the message is the daily quota and any other 429 the
//! per-minute one; 403 `PERMISSION_DENIED` (the service account does not own
//! the site in Search Console) stops the board like refused credentials; the
//! description's section headings are `<p><strong>` (§6.2's downgrade for
//! Google); the remote job's countries go by ISO code in
//! `applicantLocationRequirements` and it carries no `jobLocation`;
//! `identifier.name` is the company. The daily quota is counted per replica
//! (this adapter) from the last Pacific midnight, US daylight-saving rules;
//! Google's own 429 catches what several replicas spend together.

use std::sync::Mutex as SyncMutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, UtcOffset};
use tokio::sync::Mutex;
use tracing::{debug, warn};

use super::http::{self, Reply};
use super::oauth::TokenResponse;
use super::render::escape_html;
use super::{
    Board, BoardConfig, BoardError, BoardLimits, BuildError, CallLog, ErrorClass, PostingContext,
    Receipt,
};
use crate::config::BoardSettings;
use crate::intake::message::{EmploymentType, Job, LocalizedAd, PayPeriod, Workplace};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "JSON-LD job pages we serve (/jobs/<ref>, /sitemap.xml) + Indexing API URL_UPDATED / URL_DELETED, OAuth2 service account (RS256 JWT)";
pub const ID: &str = "google-jobs";
/// Google's token endpoint, also the JWT `aud`; the Indexing API is on indexing.googleapis.com.
pub const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
const NAME: &str = "Google for Jobs";
/// The OAuth2 scope of the Indexing API.
pub const SCOPE: &str = "https://www.googleapis.com/auth/indexing";
/// The OAuth2 scope of Search Console's URL Inspection API (read only).
pub const INSPECTION_SCOPE: &str = "https://www.googleapis.com/auth/webmasters.readonly";
/// Search Console's URL Inspection endpoint.
pub const INSPECTION_URL: &str =
    "https://searchconsole.googleapis.com/v1/urlInspection/index:inspect";
/// RFC 7523's grant type: a signed JWT for an access token.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google's default quota of publish calls (updates and deletes) a day per project.
pub const DAILY_QUOTA: u32 = 200;
/// A service-account assertion may live an hour at most.
const ASSERTION_LIFETIME: u64 = 3600;
/// Refresh an access token this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// How long to wait out the per-minute quota when Google gives no Retry-After.
const PER_MINUTE_WAIT: Duration = Duration::from_secs(60);

/// The Indexing API's notification body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlNotification {
    pub url: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationType {
    UrlUpdated,
    UrlDeleted,
}

/// The Indexing API's answer to a notification it accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishResponse {
    pub url_notification_metadata: UrlNotificationMetadata,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlNotificationMetadata {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_update: Option<UrlNotificationInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_remove: Option<UrlNotificationInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlNotificationInfo {
    pub url: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub notify_time: String,
}

/// The URL Inspection API's request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectionRequest {
    pub inspection_url: String,
    /// The Search Console property: `https://example.com/` or `sc-domain:example.com`.
    pub site_url: String,
    pub language_code: String,
}

/// The URL Inspection API's answer (only what we read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InspectionResponse {
    pub inspection_result: UrlInspectionResult,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UrlInspectionResult {
    pub index_status_result: Option<IndexStatusResult>,
    pub rich_results_result: Option<RichResultsResult>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IndexStatusResult {
    /// PASS, PARTIAL, FAIL, NEUTRAL or VERDICT_UNSPECIFIED.
    pub verdict: String,
    pub coverage_state: String,
    pub indexing_state: String,
    pub page_fetch_state: String,
    pub google_canonical: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RichResultsResult {
    pub verdict: String,
    pub detected_items: Vec<DetectedItems>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DetectedItems {
    pub rich_result_type: String,
    pub items: Vec<RichResultItem>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RichResultItem {
    pub name: String,
    pub issues: Vec<RichResultIssue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RichResultIssue {
    pub issue_message: String,
    /// ERROR or WARNING.
    pub severity: String,
}

/// Page fetch states that mean Googlebot cannot read the page at all.
const UNREADABLE: [&str; 8] = [
    "SOFT_404",
    "BLOCKED_ROBOTS_TXT",
    "NOT_FOUND",
    "ACCESS_DENIED",
    "ACCESS_FORBIDDEN",
    "BLOCKED_4XX",
    "REDIRECT_ERROR",
    "INVALID_URL",
];

/// What an inspection of `url` says of the posting: live, still pending,
/// or refused with Google's words. Warnings of a valid rich result go to
/// `notes`.
pub fn read_inspection(
    url: &str,
    result: &UrlInspectionResult,
    notes: &mut Vec<String>,
) -> Result<Receipt, BoardError> {
    let Some(index) = &result.index_status_result else {
        return Ok(Receipt::Pending);
    };
    if index.indexing_state.starts_with("BLOCKED") {
        return Err(BoardError::rule(format!(
            "Google will not index {url}: {} ({})",
            index.indexing_state, index.coverage_state
        )));
    }
    if UNREADABLE.contains(&index.page_fetch_state.as_str()) {
        return Err(BoardError::rule(format!(
            "Googlebot could not read {url}: {} ({})",
            index.page_fetch_state, index.coverage_state
        )));
    }
    if let Some(rich) = &result.rich_results_result {
        let issues = |severity: &str| -> Vec<String> {
            rich.detected_items
                .iter()
                .flat_map(|detected| &detected.items)
                .flat_map(|item| &item.issues)
                .filter(|issue| issue.severity == severity)
                .map(|issue| issue.issue_message.clone())
                .collect()
        };
        if rich.verdict == "FAIL" {
            return Err(BoardError::rule(format!(
                "Google indexed {url} but its job posting markup is invalid: {}",
                issues("ERROR").join("; ")
            )));
        }
        let warnings = issues("WARNING");
        if !warnings.is_empty() {
            notes.push(format!(
                "Google's warnings on {url}: {}",
                warnings.join("; ")
            ));
        }
    }
    let live = |shown: &str| Receipt::Live {
        external_id: url.to_owned(),
        url: Some(shown.to_owned()),
    };
    match (index.verdict.as_str(), &index.google_canonical) {
        ("PASS", _) => Ok(live(url)),
        // A language variant: Google indexes the job's canonical page instead.
        ("NEUTRAL", Some(canonical)) if canonical != url => Ok(live(canonical)),
        _ => Ok(Receipt::Pending),
    }
}

/// Google's error body: `{"error": {"code", "message", "status"}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoogleErrorBody {
    pub error: GoogleError,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoogleError {
    pub code: u16,
    pub message: String,
    pub status: String,
}

/// The claims of the service account's token request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountClaims {
    /// The service account's e-mail address.
    pub iss: String,
    pub scope: String,
    /// The token endpoint.
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// The address of `reference`'s job page under our public URL (every
/// board's job page, served by [`crate::feeds::job_pages`]).
pub use crate::feeds::job_pages::page_url;

/// `at` as Google's ISO 8601 date-time: UTC, whole seconds. Panics for a
/// time past 9999-12-31 UTC: use [`checked_iso_datetime`] for input.
pub fn iso_datetime(at: OffsetDateTime) -> String {
    checked_iso_datetime(at).expect("a time within years 1-9999 UTC")
}

/// `at` as Google's ISO 8601 date-time, or `None` when it has no UTC form
/// within years 1-9999 (`9999-12-31T23:00:00-05:00` is year 10000 in UTC).
pub fn checked_iso_datetime(at: OffsetDateTime) -> Option<String> {
    at.replace_nanosecond(0)
        .ok()?
        .checked_to_offset(UtcOffset::UTC)?
        .format(&Rfc3339)
        .ok()
}

/// The ad as Google's HTML: the summary, then each section as a
/// `<p><strong>` heading and a list (Google recognises p, ul and li only).
pub fn description(ad: &LocalizedAd, locale: &str) -> String {
    let titles = super::render::headings(locale);
    let mut html = String::new();
    if !ad.summary.trim().is_empty() {
        html.push_str(&format!("<p>{}</p>", escape_html(&ad.summary)));
    }
    for (heading, items) in [
        (titles.responsibilities, &ad.responsibilities),
        (titles.requirements, &ad.requirements),
        (titles.benefits, &ad.benefits),
    ] {
        if items.is_empty() {
            continue;
        }
        html.push_str(&format!("<p><strong>{}</strong></p>", escape_html(heading)));
        html.push_str(&super::render::html_list(items));
    }
    html
}

/// Google's `employmentType` value.
pub fn employment_type(kind: EmploymentType) -> &'static str {
    match kind {
        EmploymentType::FullTime => "FULL_TIME",
        EmploymentType::PartTime => "PART_TIME",
        EmploymentType::Contract => "CONTRACTOR",
        EmploymentType::Temporary => "TEMPORARY",
        EmploymentType::Internship => "INTERN",
        EmploymentType::Volunteer => "VOLUNTEER",
        EmploymentType::Other => "OTHER",
    }
}

/// `baseSalary.value.unitText`.
pub fn unit_text(period: PayPeriod) -> &'static str {
    match period {
        PayPeriod::Hour => "HOUR",
        PayPeriod::Day => "DAY",
        PayPeriod::Week => "WEEK",
        PayPeriod::Month => "MONTH",
        PayPeriod::Year => "YEAR",
    }
}

/// A whole amount as a JSON integer (`48000`, not `48000.0`).
fn amount(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// US states whose pay-transparency law wants the range in every posting,
/// third-party postings included (BOARDS.md §5), by code and by name.
const PAY_TRANSPARENCY_STATES: [(&str, &str); 4] = [
    ("CO", "Colorado"),
    ("CA", "California"),
    ("WA", "Washington"),
    ("NY", "New York"),
];

/// Where the law wants a pay range in this job's posting, if anywhere.
fn pay_range_required(job: &Job) -> Option<String> {
    for location in &job.locations {
        if location.country != "US" {
            continue;
        }
        let region = location.region.as_deref().unwrap_or_default().trim();
        if let Some((code, name)) = PAY_TRANSPARENCY_STATES.iter().find(|(code, name)| {
            region.eq_ignore_ascii_case(code) || region.eq_ignore_ascii_case(name)
        }) {
            return Some(format!("the job is in {name} (US-{code})"));
        }
        if job.workplace == Workplace::Remote {
            return Some(
                "the job is remote in the US, where Colorado's law covers remote work that could be done there"
                    .to_owned(),
            );
        }
    }
    None
}

fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// The posting's schema.org `JobPosting` as Google reads it: a pure function
/// of the posting and when it was first published (`datePosted`). A broken
/// rule of Google's (or of the law on pay ranges) is an error naming the
/// property.
pub fn json_ld(
    posting: &PostingContext<'_>,
    first_published: OffsetDateTime,
) -> Result<Value, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    let title = ad.title.trim();
    if title.is_empty() {
        super::preview::broken("title is required for Google for Jobs; the ad has none")?;
    }
    let description = description(ad, posting.locale);
    if description.is_empty() {
        super::preview::broken(
            "description is required for Google for Jobs; the ad has no summary and no sections",
        )?;
    }
    let sections_empty =
        ad.responsibilities.is_empty() && ad.requirements.is_empty() && ad.benefits.is_empty();
    if sections_empty && ad.summary.trim() == title {
        super::preview::broken(
            "description must not be the same as title for Google for Jobs; the ad's summary repeats its title",
        )?;
    }
    let company = &job.company;
    if company.name.trim().is_empty() {
        super::preview::broken(
            "hiringOrganization.name is required for Google for Jobs; the company has no name",
        )?;
    }
    let date_posted = iso_datetime(first_published);

    let mut posting_ld = json!({
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": ad.title,
        "description": description,
        "datePosted": date_posted,
        "employmentType": employment_type(job.employment_type),
        "directApply": false,
        "identifier": {
            "@type": "PropertyValue",
            "name": company.name,
            "value": posting.reference,
        },
    });
    let fields = posting_ld
        .as_object_mut()
        .expect("a JSON object literal is an object");

    let mut organization = json!({"@type": "Organization", "name": company.name});
    if let Some(url) = &company.url {
        organization["sameAs"] = json!(url);
    }
    if let Some(logo) = &company.logo_url {
        organization["logo"] = json!(logo);
    }
    fields.insert("hiringOrganization".into(), organization);

    for location in &job.locations {
        if !is_country_code(&location.country) {
            super::preview::broken(format!(
                "jobLocation.address.addressCountry \"{}\" is not an ISO 3166-1 alpha-2 code, which Google for Jobs requires",
                location.country
            ))?;
        }
    }
    if job.workplace == Workplace::Remote {
        let mut countries: Vec<&str> = Vec::new();
        for location in &job.locations {
            if !countries.contains(&location.country.as_str()) {
                countries.push(&location.country);
            }
        }
        if countries.is_empty() {
            super::preview::broken(
                "applicantLocationRequirements is required for Google for Jobs when the job is remote (jobLocationType TELECOMMUTE); the job names no country",
            )?;
        }
        fields.insert("jobLocationType".into(), json!("TELECOMMUTE"));
        let countries: Vec<Value> = countries
            .iter()
            .map(|code| json!({"@type": "Country", "name": code}))
            .collect();
        fields.insert("applicantLocationRequirements".into(), json!(countries));
    } else {
        if job.locations.is_empty() {
            super::preview::broken(
                "jobLocation is required for Google for Jobs unless the job is remote; the job has no location",
            )?;
        }
        let places: Vec<Value> = job
            .locations
            .iter()
            .map(|location| {
                let mut address = json!({
                    "@type": "PostalAddress",
                    "addressLocality": location.city,
                    "addressCountry": location.country,
                });
                if let Some(region) = &location.region {
                    address["addressRegion"] = json!(region);
                }
                if let Some(postal_code) = &location.postal_code {
                    address["postalCode"] = json!(postal_code);
                }
                json!({"@type": "Place", "address": address})
            })
            .collect();
        fields.insert("jobLocation".into(), json!(places));
    }

    if let Some(valid_through) = job.valid_through {
        let Some(until) = checked_iso_datetime(valid_through) else {
            return Err(BoardError::rule(format!(
                "validThrough {valid_through} is past the year 9999 in UTC; Google for Jobs reads ISO 8601 dates, which end there"
            )));
        };
        if valid_through <= first_published {
            super::preview::broken(format!(
                "validThrough {until} is not after datePosted {date_posted}; Google for Jobs takes a posting whose validThrough has passed as expired"
            ))?;
        }
        fields.insert("validThrough".into(), json!(until));
    }

    match &job.salary {
        Some(salary) => {
            if salary.max <= 0.0 {
                super::preview::broken(format!(
                    "baseSalary.value.maxValue is {}; Google for Jobs needs a pay above 0",
                    salary.max
                ))?;
            }
            let mut value =
                json!({"@type": "QuantitativeValue", "unitText": unit_text(salary.period)});
            if salary.min == salary.max {
                value["value"] = amount(salary.max);
            } else {
                value["minValue"] = amount(salary.min);
                value["maxValue"] = amount(salary.max);
            }
            fields.insert(
                "baseSalary".into(),
                json!({"@type": "MonetaryAmount", "currency": salary.currency, "value": value}),
            );
        }
        None => {
            if let Some(whence) = pay_range_required(job) {
                super::preview::broken(format!(
                    "baseSalary is required for Google for Jobs when {whence}: pay-transparency law wants the pay range in every posting, third-party postings included (BOARDS.md §5); the job has no salary"
                ))?;
            }
        }
    }
    Ok(posting_ld)
}

// ---------------------------------------------------------------------------
// Pacific time: the daily quota resets at midnight there.

/// The `n`th Sunday of `month` (1-based).
fn nth_sunday(year: i32, month: Month, n: u8) -> Date {
    let first = Date::from_calendar_date(year, month, 1).expect("the 1st exists");
    let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
    let day = 1 + to_sunday + 7 * (n - 1);
    Date::from_calendar_date(year, month, day).expect("the nth Sunday exists")
}

/// Pacific time's offset at `at`: PDT (-7) from the second Sunday of March
/// 02:00 PST to the first Sunday of November 02:00 PDT, PST (-8) otherwise.
pub fn pacific_offset(at: OffsetDateTime) -> UtcOffset {
    let utc = at.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let starts = nth_sunday(year, Month::March, 2)
        .with_hms(10, 0, 0)
        .expect("a valid time")
        .assume_utc();
    let ends = nth_sunday(year, Month::November, 1)
        .with_hms(9, 0, 0)
        .expect("a valid time")
        .assume_utc();
    let hours = if utc >= starts && utc < ends { -7 } else { -8 };
    UtcOffset::from_hms(hours, 0, 0).expect("a valid offset")
}

/// The Pacific calendar day of `at` (the quota's day).
pub fn pacific_day(at: OffsetDateTime) -> Date {
    at.to_offset(pacific_offset(at)).date()
}

/// The last Pacific midnight at or before `at`: when today's quota began.
pub fn quota_day_start(at: OffsetDateTime) -> OffsetDateTime {
    let day = pacific_day(at);
    let guess = day.midnight().assume_offset(pacific_offset(at));
    day.midnight().assume_offset(pacific_offset(guess))
}

/// The next Pacific midnight after `at`: when the quota resets.
pub fn quota_reset(at: OffsetDateTime) -> OffsetDateTime {
    let tomorrow = pacific_day(at).next_day().expect("not the end of time");
    let guess = tomorrow.midnight().assume_offset(pacific_offset(at));
    tomorrow.midnight().assume_offset(pacific_offset(guess))
}

/// The daily quota a board's configuration grants (option `daily_quota`,
/// for a project Google gave more), or Google's default.
pub fn daily_limit(settings: &BoardSettings) -> Option<u32> {
    match settings.options.get("daily_quota") {
        None => Some(DAILY_QUOTA),
        Some(text) => text.trim().parse().ok(),
    }
}

/// The daily quota as this adapter has spent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub used: u32,
    pub limit: u32,
    pub resets_at: OffsetDateTime,
}

#[derive(Debug)]
struct DailyCount {
    day: Date,
    used: u32,
}

struct Token {
    value: SecretString,
    refresh_at: Instant,
}

pub struct GoogleJobs {
    http: reqwest::Client,
    publish_url: url::Url,
    token_url: url::Url,
    client_email: String,
    private_key_pem: SecretString,
    /// Our public URL: job pages are `<public_url>/jobs/<reference>`.
    public_url: String,
    inspection_url: url::Url,
    /// The Search Console property the pages belong to.
    site_url: String,
    timeout: Duration,
    token: Mutex<Option<Token>>,
    daily_limit: u32,
    count: SyncMutex<DailyCount>,
}

impl GoogleJobs {
    /// `public_url` is where Google reaches our job pages ([`crate::config::Settings::public_url`]).
    pub fn new(config: &BoardConfig<'_>, public_url: &str) -> Result<Self, BuildError> {
        let base = config.base_url()?;
        let daily_limit =
            daily_limit(config.settings).ok_or_else(|| BuildError::MissingOption {
                board: config.id.to_owned(),
                key: config.id.replace('-', "_"),
                name: "daily_quota (a whole number of publish calls a day)".to_owned(),
            })?;
        Ok(Self {
            http: config.http.clone(),
            publish_url: base
                .join("v3/urlNotifications:publish")
                .expect("static path"),
            token_url: config.token_url(TOKEN_URL)?,
            client_email: config.option("client_email")?,
            private_key_pem: config.credential("private_key_pem")?,
            public_url: public_url.trim_end_matches('/').to_owned(),
            inspection_url: match config.settings.options.get("inspection_url") {
                None => url::Url::parse(INSPECTION_URL).expect("a static URL parses"),
                Some(text) => base.join(text).map_err(|error| BuildError::BaseUrl {
                    board: config.id.to_owned(),
                    error,
                })?,
            },
            site_url: config
                .settings
                .options
                .get("site_url")
                .cloned()
                .unwrap_or_else(|| format!("{}/", public_url.trim_end_matches('/'))),
            timeout: config.request_timeout,
            token: Mutex::new(None),
            daily_limit,
            count: SyncMutex::new(DailyCount {
                day: pacific_day(OffsetDateTime::now_utc()),
                used: 0,
            }),
        })
    }

    /// Today's quota as this adapter (this replica, this project) spent it.
    pub fn quota(&self) -> Quota {
        let now = OffsetDateTime::now_utc();
        let count = self.count.lock().expect("quota lock");
        let used = if count.day == pacific_day(now) {
            count.used
        } else {
            0
        };
        Quota {
            used,
            limit: self.daily_limit,
            resets_at: quota_reset(now),
        }
    }

    /// Takes one publish call from today's quota, or says when it resets.
    fn reserve(&self) -> Result<(), BoardError> {
        let now = OffsetDateTime::now_utc();
        let mut count = self.count.lock().expect("quota lock");
        let today = pacific_day(now);
        if count.day != today {
            *count = DailyCount {
                day: today,
                used: 0,
            };
        }
        if count.used >= self.daily_limit {
            let wait = quota_reset(now) - now;
            return Err(BoardError::new(
                ErrorClass::Throttled,
                None,
                format!(
                    "Google's Indexing API quota of {} publish calls a day is spent ({} since midnight Pacific time); it resets in {}h {:02}m",
                    self.daily_limit,
                    count.used,
                    wait.whole_hours(),
                    wait.whole_minutes() % 60
                ),
            )
            .with_retry_after(Some(wait.unsigned_abs())));
        }
        count.used += 1;
        debug!(
            message = "Indexing API publish call.",
            board = ID,
            quota_used = count.used,
            quota_limit = self.daily_limit
        );
        if count.used == self.daily_limit {
            warn!(
                message = "Google's Indexing API daily quota is now spent; notifications wait for midnight Pacific time.",
                board = ID,
                quota_used = count.used,
                quota_limit = self.daily_limit
            );
        }
        Ok(())
    }

    /// Gives back a call that never reached the Indexing API.
    fn refund(&self) {
        let mut count = self.count.lock().expect("quota lock");
        count.used = count.used.saturating_sub(1);
    }

    /// Google says the day's quota is spent: spend ours too, so no call goes
    /// out before the reset.
    fn spend_all(&self) {
        let mut count = self.count.lock().expect("quota lock");
        count.day = pacific_day(OffsetDateTime::now_utc());
        count.used = count.used.max(self.daily_limit);
    }

    fn page_url(&self, reference: &str) -> String {
        page_url(&self.public_url, reference)
    }

    /// The access token, from the token endpoint when none is cached or it is
    /// about to expire.
    async fn token(&self, log: &mut CallLog) -> Result<SecretString, BoardError> {
        // Preview never signs with, or asks for, a real credential.
        if super::preview::active() {
            return Ok(super::preview::placeholder());
        }
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(
            self.private_key_pem.expose_secret().as_bytes(),
        )
        .map_err(|_| {
            BoardError::new(
                ErrorClass::Auth,
                None,
                "the credential private_key_pem is not an RSA private key in PEM form",
            )
        })?;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = ServiceAccountClaims {
            iss: self.client_email.clone(),
            scope: format!("{SCOPE} {INSPECTION_SCOPE}"),
            aud: self.token_url.to_string(),
            iat: now,
            exp: now + ASSERTION_LIFETIME,
        };
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        let assertion = jsonwebtoken::encode(&header, &claims, &key).map_err(|error| {
            BoardError::new(
                ErrorClass::Auth,
                None,
                format!("could not sign the service account's token request: {error}"),
            )
        })?;
        let form = [
            ("grant_type", JWT_BEARER),
            ("assertion", assertion.as_str()),
        ];
        let request = self
            .http
            .post(self.token_url.clone())
            .form(&form)
            .timeout(self.timeout);
        let reply = http::send(NAME, request, None, log).await?;
        if reply.status == 400 || reply.status == 401 {
            // OAuth's error and description name the cause, never the key.
            let reason = serde_json::from_str::<Value>(&reply.body)
                .ok()
                .map(|body| {
                    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
                    format!("{}: {}", text("error"), text("error_description"))
                })
                .unwrap_or_else(|| http::excerpt(&reply.body));
            return Err(BoardError::new(
                ErrorClass::Auth,
                Some(reply.status),
                format!(
                    "Google refused the service account {} ({}, {reason})",
                    self.client_email, reply.status
                ),
            ));
        }
        if !reply.is_success() {
            return Err(reply.error(NAME));
        }
        let token: TokenResponse = reply.json(NAME)?;
        let lifetime = Duration::from_secs(token.expires_in).saturating_sub(TOKEN_MARGIN);
        let value = SecretString::from(token.access_token);
        *cached = Some(Token {
            value: value.clone(),
            refresh_at: Instant::now() + lifetime,
        });
        Ok(value)
    }

    /// Sends one notification; a 401 refreshes the token once.
    async fn notify(
        &self,
        url: &str,
        kind: NotificationType,
        log: &mut CallLog,
    ) -> Result<UrlNotificationMetadata, BoardError> {
        self.reserve()?;
        let result = self.send_notification(url, kind, log).await;
        if let Err(error) = &result {
            // Calls that never reached the API (or were refused before it
            // counted them) do not spend the quota.
            let unsent = error.class == ErrorClass::Transient && error.http_status.is_none();
            if unsent || error.class == ErrorClass::Auth {
                self.refund();
            }
        }
        result
    }

    async fn send_notification(
        &self,
        url: &str,
        kind: NotificationType,
        log: &mut CallLog,
    ) -> Result<UrlNotificationMetadata, BoardError> {
        let body = serde_json::to_vec(&UrlNotification {
            url: url.to_owned(),
            kind,
        })
        .expect("a notification serialises");
        for first_try in [true, false] {
            let token = self.token(log).await?;
            let request = self
                .http
                .post(self.publish_url.clone())
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .timeout(self.timeout);
            let reply = http::send(NAME, request, Some(&body), log).await?;
            if reply.status == 401 && first_try {
                self.token.lock().await.take();
                continue;
            }
            if reply.is_success() {
                let response: PublishResponse = reply.json(NAME)?;
                return Ok(response.url_notification_metadata);
            }
            return Err(self.error(&reply));
        }
        unreachable!("the loop returns on its second pass")
    }

    /// Google's refusal, classified by its status and error body.
    fn error(&self, reply: &Reply) -> BoardError {
        let google = serde_json::from_str::<GoogleErrorBody>(&reply.body)
            .ok()
            .map(|body| body.error);
        let (status, message) = match &google {
            Some(error) => (error.status.as_str(), error.message.as_str()),
            None => ("", reply.body.as_str()),
        };
        let said = http::excerpt(&format!(
            "{NAME} answered {} {status}: {message}",
            reply.status
        ));
        match reply.status {
            401 => BoardError::new(
                ErrorClass::Auth,
                Some(401),
                format!("{said} (with a fresh token)"),
            ),
            403 => BoardError::new(
                ErrorClass::Auth,
                Some(403),
                format!(
                    "{said}; the site is not approved for the Indexing API for this project, or the service account {} does not own it in Search Console (Google answers 403 to both)",
                    self.client_email
                ),
            ),
            429 => {
                let daily = message.contains("per day");
                if daily {
                    self.spend_all();
                }
                let now = OffsetDateTime::now_utc();
                let wait = http::retry_after(&reply.headers).unwrap_or(if daily {
                    (quota_reset(now) - now).unsigned_abs()
                } else {
                    PER_MINUTE_WAIT
                });
                BoardError::new(ErrorClass::Throttled, Some(429), said).with_retry_after(Some(wait))
            }
            _ => http::classify(reply.status, &reply.headers, &said),
        }
    }

    /// Checks the page's markup, then tells Google the page changed.
    async fn updated(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        // The page dates the posting from its first publication; here only
        // the rules matter, and "now" is the strictest date for validThrough.
        json_ld(posting, OffsetDateTime::now_utc())?;
        let url = self.page_url(posting.reference);
        self.notify(&url, NotificationType::UrlUpdated, log).await?;
        // Notified, not indexed: confirm() asks Search Console.
        Ok(Receipt::Accepted {
            task: url.clone(),
            external_id: Some(url),
        })
    }

    /// Asks Search Console's URL Inspection API how Google sees `url`; a
    /// 401 refreshes the token once.
    async fn inspect(&self, url: &str, log: &mut CallLog) -> Result<Receipt, BoardError> {
        let body = serde_json::to_vec(&InspectionRequest {
            inspection_url: url.to_owned(),
            site_url: self.site_url.clone(),
            language_code: "en-US".to_owned(),
        })
        .expect("an inspection request serialises");
        for first_try in [true, false] {
            let token = self.token(log).await?;
            let request = self
                .http
                .post(self.inspection_url.clone())
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .timeout(self.timeout);
            let reply = http::send(NAME, request, Some(&body), log).await?;
            if reply.status == 401 && first_try {
                self.token.lock().await.take();
                continue;
            }
            if reply.is_success() {
                let answer: InspectionResponse = reply.json(NAME)?;
                return read_inspection(url, &answer.inspection_result, &mut log.notes);
            }
            let said = http::excerpt(&format!(
                "Search Console answered {} to the inspection of {url}: {}",
                reply.status, reply.body
            ));
            return Err(match reply.status {
                401 | 403 => BoardError::new(
                    ErrorClass::Auth,
                    Some(reply.status),
                    format!(
                        "{said}; the service account {} must be a user of the Search Console property {}",
                        self.client_email, self.site_url
                    ),
                ),
                // The inspection quota is its own (per property), not the Indexing API's.
                429 => BoardError::new(ErrorClass::Throttled, Some(429), said).with_retry_after(
                    Some(http::retry_after(&reply.headers).unwrap_or(PER_MINUTE_WAIT)),
                ),
                status => http::classify(status, &reply.headers, &said),
            });
        }
        unreachable!("the loop returns on its second pass")
    }
}

#[async_trait]
impl Board for GoogleJobs {
    fn id(&self) -> &'static str {
        ID
    }

    /// 380 requests a minute over all Indexing API endpoints (§3.5); the
    /// daily quota is counted in the adapter.
    fn limits(&self) -> BoardLimits {
        BoardLimits {
            requests_per_minute: Some(380),
            // For every replica together; `reserve` still guards each one.
            sends_per_day: Some(self.daily_limit),
            ..BoardLimits::default()
        }
    }

    /// `URL_UPDATED` is a notification, not a create: repeating it after a
    /// lost answer (`may_exist`) leaves one page and one posting.
    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.updated(posting, log).await
    }

    /// The page shows the new revision already; Google is told to crawl it
    /// again (and takes a withdrawn page back the same way).
    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.updated(posting, log).await
    }

    /// The notification was taken; is the page indexed, with a valid job
    /// posting? `task` is the page's URL.
    async fn confirm(
        &self,
        _posting: &PostingContext<'_>,
        task: &str,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.inspect(task, log).await
    }

    /// The page answers 410 once the posting is withdrawn; `URL_DELETED`
    /// tells Google so.
    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let url = match posting.external_id {
            Some(url) => url.to_owned(),
            None if posting.may_exist => self.page_url(posting.reference),
            // Google was never told of the page: no quota spent on it.
            None => return Ok(Receipt::Withdrawn),
        };
        self.notify(&url, NotificationType::UrlDeleted, log).await?;
        Ok(Receipt::Withdrawn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn pacific_midnight_follows_daylight_saving() {
        // Winter: PST, midnight is 08:00 UTC.
        let winter = datetime!(2026-11-23 12:11 UTC);
        assert_eq!(pacific_day(winter), time::macros::date!(2026 - 11 - 23));
        assert_eq!(quota_reset(winter), datetime!(2026-11-24 08:00 UTC));
        assert_eq!(quota_day_start(winter), datetime!(2026-11-23 08:00 UTC));
        // Still the 22nd in California at 07:59 UTC.
        assert_eq!(
            pacific_day(datetime!(2026-11-23 07:59 UTC)),
            time::macros::date!(2026 - 11 - 22)
        );
        // Summer: PDT, midnight is 07:00 UTC.
        let summer = datetime!(2026-07-01 12:00 UTC);
        assert_eq!(quota_reset(summer), datetime!(2026-07-02 07:00 UTC));
        // 2026: PDT from Sunday 8 March 10:00 UTC to Sunday 1 November 09:00 UTC.
        assert_eq!(
            pacific_offset(datetime!(2026-03-08 09:59 UTC)).whole_hours(),
            -8
        );
        assert_eq!(
            pacific_offset(datetime!(2026-03-08 10:00 UTC)).whole_hours(),
            -7
        );
        assert_eq!(
            pacific_offset(datetime!(2026-11-01 08:59 UTC)).whole_hours(),
            -7
        );
        assert_eq!(
            pacific_offset(datetime!(2026-11-01 09:00 UTC)).whole_hours(),
            -8
        );
        // The night the clocks go back: midnight is still PDT, the next one PST.
        assert_eq!(
            quota_reset(datetime!(2026-10-31 20:00 UTC)),
            datetime!(2026-11-01 07:00 UTC)
        );
        assert_eq!(
            quota_reset(datetime!(2026-11-01 12:00 UTC)),
            datetime!(2026-11-02 08:00 UTC)
        );
    }

    #[test]
    fn amounts_are_integers_when_whole() {
        assert_eq!(amount(48_000.0), json!(48000));
        assert_eq!(amount(12.5), json!(12.5));
    }
}
