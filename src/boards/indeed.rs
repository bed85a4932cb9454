//! Indeed Job Sync API: GraphQL over HTTPS POST with OAuth2 client
//! credentials (BOARDS.md §2 row 2, §3.2).
//!
//! `POST /graphql` with `{query, operationName, variables}`:
//! `jobsIngest.createSourcedJobPostings` creates or upserts a posting keyed by
//! (`jobPostingId`, `sourceName`) and answers its `sourcedPostingId`, which we
//! always store; a rejected posting comes back inside the 200 as
//! `jobPosting: null` with standard GraphQL `errors`. Indeed asks for the
//! entire payload on every send, so publish and update are the same call, and
//! publishing with `may_exist` needs no look-up: a re-send after a lost answer
//! updates the one copy instead of making a second. The same call reactivates
//! an expired posting (within 30 days, usually with the same id). Description
//! at most 65,000 bytes, HTML from p, h3, ul, li with `RICH_FORMATTING`;
//! `benefits` is required (`[]` when none); salary in minor units; clients
//! time out after 5 s; rate limits are a cost budget over a rolling 60 s.
//!
//! Indeed forbids HTML entities, so the description carries literal
//! characters: of the shared escaping, only `&amp;` and `&lt;` stay, because a
//! literal `&` or `<` in the ad's text would otherwise read as markup.
//!
//! From secondary sources [V2]: tokens come from `/oauth/v2/tokens` with
//! `scope=employer_access` and live 3600 s; expiry is
//! `jobsIngest.expireSourcedJobsBySourcedPostingId(input: {jobs:
//! [{sourcedPostingId}]})` answering a `trackingKey` per job.
//! Inferred [I], and modelled the same way in the sandbox: the rate-limit
//! status is 429 with `Retry-After`; refused client credentials are a 400 or
//! 401 at the token endpoint and an expired token a 401 at `/graphql`;
//! `cityRegionPostal` reads "City, Region Postal"; errors carry
//! `extensions.code`, where `NOT_FOUND` on an expire means Indeed holds no
//! such posting (nothing to take down), and `RATE_LIMITED` or
//! `INTERNAL_SERVER_ERROR` are not verdicts on the posting.
//! `datePublished` is the posting's first publication (kept in
//! `postings.first_published_at`), not the time of each update.
//!
//! `sourceName` is the employer's parent organisation, which "determines
//! which jobs are associated with their account" when users claim jobs on
//! Indeed: the tenant's `indeed_source_name` (`[tenants.<id>]`), else the
//! job's company name [I]; never one name for every tenant. The title is at
//! most 200 characters, as in our Indeed XML feed.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::http::{self, Reply};
use super::oauth::ClientCredentials;
use super::render::{check_max, check_min, html_description};
use super::{
    Board, BoardConfig, BoardError, BoardLimits, BuildError, CallLog, ErrorClass, PostingContext,
    Receipt,
};
use crate::config::TenantProfile;
use crate::intake::message::{LocalizedAd, PayPeriod, Salary};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "GraphQL push (upsert, expire), OAuth2 client credentials";
pub const ID: &str = "indeed";
/// Indeed's token endpoint.
pub const TOKEN_URL: &str = "https://apis.indeed.com/oauth/v2/tokens";
/// Longer budgets for one-job requests (BOARDS.md §3.2, IND-RL2).
const WINDOWS: &[(u32, Duration)] = &[
    (20_000, Duration::from_secs(600)),
    (80_000, Duration::from_secs(3_600)),
];
const NAME: &str = "Indeed";
/// Indeed counts the description in bytes of UTF-8.
const MAX_DESCRIPTION_BYTES: usize = 65_000;
/// The title limit both Indeed adapters apply (see `indeed_feed`).
pub const MAX_TITLE: usize = 200;
/// Every posting we send is a direct employer's.
const SOURCE_TYPE: &str = "Employer";

pub const CREATE_OPERATION: &str = "CreateSourcedJobPostings";
pub const CREATE_QUERY: &str = "mutation CreateSourcedJobPostings($input: CreateSourcedJobPostingsInput) { jobsIngest { createSourcedJobPostings(input: $input) { results { jobPosting { sourcedPostingId } } } } }";
pub const EXPIRE_OPERATION: &str = "ExpireSourcedJobsBySourcedPostingId";
pub const EXPIRE_QUERY: &str = "mutation ExpireSourcedJobsBySourcedPostingId($input: ExpireSourcedJobsBySourcedPostingIdInput) { jobsIngest { expireSourcedJobsBySourcedPostingId(input: $input) { results { trackingKey } } } }";

/// The body of every call to `/graphql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQlRequest<V> {
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    pub variables: V,
}

pub type CreateRequest = GraphQlRequest<CreateVariables>;
pub type ExpireRequest = GraphQlRequest<ExpireVariables>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateVariables {
    pub input: CreateSourcedJobPostingsInput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSourcedJobPostingsInput {
    pub job_postings: Vec<JobPostingInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPostingInput {
    pub body: JobBody,
    pub metadata: JobMetadata,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobBody {
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub description_formatting: DescriptionFormatting,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary: Option<JobSalary>,
    pub location: JobLocation,
    /// Required, even when empty.
    pub benefits: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DescriptionFormatting {
    #[default]
    Text,
    RichFormatting,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSalary {
    /// ISO 4217 (`CurrencyCode`).
    pub currency: String,
    /// In the currency's minor unit, above 0.
    pub minimum_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_minor: Option<i64>,
    pub period: SalaryPeriod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SalaryPeriod {
    Hour,
    Day,
    Week,
    Month,
    Year,
    Mile,
    Task,
    Shift,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobLocation {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city_region_postal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMetadata {
    pub job_source: JobSource,
    /// Our posting reference: with `sourceName`, the upsert key.
    pub job_posting_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_requisition_id: Option<String>,
    pub date_published: String,
    /// The job's page; Indeed wants the description to match it.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSource {
    pub company_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_website: Option<String>,
    pub source_name: String,
    pub source_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpireVariables {
    pub input: ExpireInput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpireInput {
    pub jobs: Vec<ExpireJob>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpireJob {
    pub sourced_posting_id: String,
}

/// Every answer of `/graphql`: data, errors, or both.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphQlResponse<D> {
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub data: Option<D>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GraphQlError>,
}

/// `#[serde(default)]` would make `D: Default` a bound.
fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphQlError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<ErrorExtensions>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorExtensions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl GraphQlError {
    pub fn code(&self) -> Option<&str> {
        self.extensions.as_ref()?.code.as_deref()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateData {
    pub jobs_ingest: Option<CreateIngest>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateIngest {
    pub create_sourced_job_postings: Option<CreatePayload>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatePayload {
    pub results: Vec<CreateResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateResult {
    /// `null` when Indeed rejected the posting (the reason is in `errors`).
    pub job_posting: Option<SourcedPosting>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourcedPosting {
    pub sourced_posting_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpireData {
    pub jobs_ingest: Option<ExpireIngest>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpireIngest {
    pub expire_sourced_jobs_by_sourced_posting_id: Option<ExpirePayload>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpirePayload {
    pub results: Vec<Option<ExpireResult>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpireResult {
    pub tracking_key: String,
}

/// The ad as Indeed's HTML: the shared description with every entity Indeed
/// does not need turned back into its character. Exact, because in
/// `escape_html`'s output every `&` starts an entity it wrote.
pub fn description(ad: &LocalizedAd, locale: &str) -> String {
    html_description(ad, locale)
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&gt;", ">")
}

/// Builds the create/upsert request for one language variant: a pure
/// function of the posting, our source name and the publication time.
pub fn render(
    posting: &PostingContext<'_>,
    source_name: &str,
    published_at: OffsetDateTime,
) -> Result<CreateRequest, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    check_min(NAME, "title", ad.title.trim(), 1)?;
    check_max(NAME, "title", &ad.title, MAX_TITLE)?;
    let description = description(ad, posting.locale);
    check_max_bytes("description", &description, MAX_DESCRIPTION_BYTES)?;
    let Some(url) = job.apply.url.clone() else {
        return Err(BoardError::rule(
            "Indeed requires metadata.url (the job's page); the job has only an apply email",
        ));
    };
    let salary = job.salary.as_ref().map(salary).transpose()?;
    let location = &job.locations[0];
    let city_region = match &location.region {
        Some(region) => format!("{}, {region}", location.city),
        None => location.city.clone(),
    };
    let city_region_postal = match &location.postal_code {
        Some(postal) => format!("{city_region} {postal}"),
        None => city_region,
    };
    let date_published = published_at
        .replace_nanosecond(0)
        .expect("0 is a valid nanosecond")
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("a UTC time formats as RFC 3339");
    Ok(GraphQlRequest {
        query: CREATE_QUERY.to_owned(),
        operation_name: Some(CREATE_OPERATION.to_owned()),
        variables: CreateVariables {
            input: CreateSourcedJobPostingsInput {
                job_postings: vec![JobPostingInput {
                    body: JobBody {
                        title: ad.title.clone(),
                        description,
                        description_formatting: DescriptionFormatting::RichFormatting,
                        salary,
                        location: JobLocation {
                            country: location.country.clone(),
                            city_region_postal: Some(city_region_postal),
                        },
                        benefits: ad.benefits.clone(),
                    },
                    metadata: JobMetadata {
                        job_source: JobSource {
                            company_name: job.company.name.clone(),
                            company_website: job.company.url.clone(),
                            source_name: source_name.to_owned(),
                            source_type: SOURCE_TYPE.to_owned(),
                        },
                        job_posting_id: posting.reference.to_owned(),
                        job_requisition_id: Some(job.id.clone()),
                        date_published,
                        url,
                    },
                }],
            },
        },
    })
}

/// The expire request for one posting Indeed knows by `sourcedPostingId`.
pub fn expire_request(sourced_posting_id: &str) -> ExpireRequest {
    GraphQlRequest {
        query: EXPIRE_QUERY.to_owned(),
        operation_name: Some(EXPIRE_OPERATION.to_owned()),
        variables: ExpireVariables {
            input: ExpireInput {
                jobs: vec![ExpireJob {
                    sourced_posting_id: sourced_posting_id.to_owned(),
                }],
            },
        },
    }
}

/// Like `render::check_max`, for limits Indeed counts in bytes.
fn check_max_bytes(field: &str, text: &str, max: usize) -> Result<(), BoardError> {
    let length = text.len();
    if length > max {
        super::preview::broken(format!(
            "{field} is {length} bytes; {NAME} allows {max} bytes"
        ))?;
    }
    Ok(())
}

fn salary(salary: &Salary) -> Result<JobSalary, BoardError> {
    let minimum = minor_units(&salary.currency, "min", salary.min)?;
    if minimum <= 0 {
        super::preview::broken(format!(
            "salary.min is {}; {NAME} needs minimumMinor above 0",
            salary.min
        ))?;
    }
    Ok(JobSalary {
        currency: salary.currency.clone(),
        minimum_minor: minimum,
        maximum_minor: Some(minor_units(&salary.currency, "max", salary.max)?),
        period: match salary.period {
            PayPeriod::Hour => SalaryPeriod::Hour,
            PayPeriod::Day => SalaryPeriod::Day,
            PayPeriod::Week => SalaryPeriod::Week,
            PayPeriod::Month => SalaryPeriod::Month,
            PayPeriod::Year => SalaryPeriod::Year,
        },
    })
}

/// An amount in the currency's minor unit (cents for EUR, yen for JPY).
/// Rounding only removes float noise: an amount finer than the minor unit
/// is refused rather than changed.
fn minor_units(currency: &str, field: &str, amount: f64) -> Result<i64, BoardError> {
    let scaled = amount * 10f64.powi(minor_unit_digits(currency));
    let rounded = scaled.round();
    if (scaled - rounded).abs() > 1e-9 * rounded.abs().max(1.0) {
        super::preview::broken(format!(
            "salary.{field} {amount} is finer than the minor unit of {currency}; {NAME} takes whole minor units"
        ))?;
    }
    Ok(rounded as i64)
}

/// ISO 4217 minor-unit digits (2 where the standard gives none).
fn minor_unit_digits(currency: &str) -> i32 {
    iso_currency::Currency::from_code(currency)
        .and_then(|c| c.exponent())
        .map_or(2, i32::from)
}

/// Indeed's verdict from GraphQL errors. Unknown codes are about the posting.
fn graphql_error(status: u16, errors: &[GraphQlError]) -> BoardError {
    let class = match errors.iter().find_map(GraphQlError::code) {
        Some("RATE_LIMITED" | "TOO_MANY_REQUESTS") => ErrorClass::Throttled,
        Some("INTERNAL_SERVER_ERROR" | "SERVICE_UNAVAILABLE") => ErrorClass::Ambiguous,
        _ => ErrorClass::Rejected,
    };
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    BoardError::new(
        class,
        Some(status),
        http::excerpt(&format!("{NAME}: {}", messages.join("; "))),
    )
}

/// `sourceName` for a tenant's job: its configured parent organisation, else
/// the job's company name.
pub fn source_name<'a>(
    profiles: &'a std::collections::BTreeMap<String, TenantProfile>,
    posting: &'a PostingContext<'_>,
) -> &'a str {
    profiles
        .get(posting.tenant_id)
        .and_then(|profile| profile.indeed_source_name.as_deref())
        .unwrap_or(&posting.job.company.name)
}

pub struct Indeed {
    http: reqwest::Client,
    graphql_url: url::Url,
    /// Every tenant's profile: its `sourceName`.
    tenant_profiles: std::collections::BTreeMap<String, TenantProfile>,
    /// One token for every concurrent call, refreshed once near expiry.
    auth: ClientCredentials,
}

impl Indeed {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let base = config.base_url()?;
        let token_url = config.token_url(TOKEN_URL)?;
        Ok(Self {
            http: config.http.clone(),
            graphql_url: base.join("graphql").expect("static path"),
            tenant_profiles: config.settings.tenant_profiles.clone(),
            auth: ClientCredentials::new(
                NAME,
                config,
                token_url,
                vec![("scope", "employer_access")],
            )?,
        })
    }

    /// POSTs one GraphQL operation; any answer but a 2xx is classified here.
    async fn graphql<V: Serialize>(
        &self,
        request: &GraphQlRequest<V>,
        log: &mut CallLog,
    ) -> Result<Reply, BoardError> {
        let bytes = serde_json::to_vec(request).expect("request bodies serialise");
        let reply = self
            .auth
            .send(
                |token| {
                    self.http
                        .post(self.graphql_url.clone())
                        .bearer_auth(token)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(bytes.clone())
                },
                Some(&bytes),
                log,
            )
            .await?;
        if !reply.is_success() {
            return Err(reply.error(NAME));
        }
        Ok(reply)
    }

    /// Creates, updates or reactivates the posting; answers its `sourcedPostingId`.
    async fn upsert(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<String, BoardError> {
        let source_name = source_name(&self.tenant_profiles, posting);
        // The first publication, not this update's time.
        let published_at = posting
            .first_published_at
            .unwrap_or_else(OffsetDateTime::now_utc);
        let request = render(posting, source_name, published_at)?;
        let reply = self.graphql(&request, log).await?;
        let response: GraphQlResponse<CreateData> = reply.json(NAME)?;
        let posted = response
            .data
            .and_then(|data| data.jobs_ingest)
            .and_then(|ingest| ingest.create_sourced_job_postings)
            .and_then(|payload| payload.results.into_iter().next())
            .and_then(|result| result.job_posting);
        match posted {
            Some(posting) => Ok(posting.sourced_posting_id),
            None if !response.errors.is_empty() => {
                Err(graphql_error(reply.status, &response.errors))
            }
            None => Err(BoardError::new(
                ErrorClass::Ambiguous,
                Some(reply.status),
                format!(
                    "Indeed answered without a sourcedPostingId or an error: {}",
                    http::excerpt(&reply.body)
                ),
            )),
        }
    }

    async fn expire(
        &self,
        sourced_posting_id: &str,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let reply = self
            .graphql(&expire_request(sourced_posting_id), log)
            .await?;
        let response: GraphQlResponse<ExpireData> = reply.json(NAME)?;
        let expired = response
            .data
            .and_then(|data| data.jobs_ingest)
            .and_then(|ingest| ingest.expire_sourced_jobs_by_sourced_posting_id)
            .and_then(|payload| payload.results.into_iter().next())
            .flatten();
        if expired.is_some() {
            return Ok(Receipt::Withdrawn);
        }
        if response.errors.is_empty() {
            return Err(BoardError::new(
                ErrorClass::Ambiguous,
                Some(reply.status),
                format!(
                    "Indeed answered an expire without a result or an error: {}",
                    http::excerpt(&reply.body)
                ),
            ));
        }
        // Indeed holds no such posting: nothing is live to take down.
        if response
            .errors
            .iter()
            .any(|e| e.code() == Some("NOT_FOUND"))
        {
            return Ok(Receipt::Withdrawn);
        }
        Err(graphql_error(reply.status, &response.errors))
    }
}

#[async_trait]
impl Board for Indeed {
    fn id(&self) -> &'static str {
        ID
    }

    /// Creating one job per request: 4,000 a minute (BOARDS.md §3.2, [V2]).
    fn limits(&self) -> BoardLimits {
        // One job per request (BOARDS.md §3.2): 4,000 a minute, 20,000 per
        // 10 minutes, 80,000 an hour; the per-second 150 is within the spacing.
        BoardLimits {
            requests_per_minute: Some(4_000),
            windows: WINDOWS,
            ..BoardLimits::default()
        }
    }

    /// An upsert: safe to repeat after a lost answer (`may_exist`), as the
    /// same (`jobPostingId`, `sourceName`) updates the copy Indeed holds.
    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let sourced_posting_id = self.upsert(posting, log).await?;
        // Indexing takes minutes to hours; the id is what we keep.
        Ok(Receipt::Live {
            external_id: sourced_posting_id,
            url: None,
        })
    }

    /// The same upsert, which also reactivates an expired posting.
    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.publish(posting, log).await
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let sourced_posting_id = match posting.external_id {
            Some(id) => id.to_owned(),
            // A lost answer may have left a copy we have no id for. Indeed
            // finds nothing by our reference except through the upsert, which
            // answers the id to expire.
            None if posting.may_exist => self.upsert(posting, log).await?,
            // Never reached Indeed: nothing to take down.
            None => return Ok(Receipt::Withdrawn),
        };
        self.expire(&sourced_posting_id, log).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_follow_the_currency() {
        assert_eq!(minor_units("EUR", "min", 48_000.0).unwrap(), 4_800_000);
        assert_eq!(minor_units("JPY", "min", 2_000.0).unwrap(), 2_000);
        assert_eq!(minor_units("KWD", "min", 1.5).unwrap(), 1_500);
        assert_eq!(minor_units("EUR", "min", 12.34).unwrap(), 1_234);
        assert!(minor_units("EUR", "min", 48_000.005).is_err());
        let error = minor_units("EUR", "min", 12.345).unwrap_err();
        assert_eq!(error.class, ErrorClass::Rejected);
        assert!(error.message.contains("minor unit"), "{}", error.message);
    }

    #[test]
    fn description_keeps_only_markup_entities() {
        let ad = LocalizedAd {
            title: "T".into(),
            summary: "R&D <fast> \"quoted\" it's".into(),
            responsibilities: vec![],
            requirements: vec![],
            benefits: vec![],
        };
        assert_eq!(
            description(&ad, "en"),
            "<p>R&amp;D &lt;fast> \"quoted\" it's</p>"
        );
        let literal = LocalizedAd {
            summary: "&#39; &gt; &quot;".into(),
            ..ad
        };
        assert_eq!(
            description(&literal, "en"),
            "<p>&amp;#39; &amp;gt; &amp;quot;</p>"
        );
    }
}
