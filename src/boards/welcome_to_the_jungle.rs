//! Welcome to the Jungle (Welcome Kit, WTTJ's ATS API): JSON over HTTPS with
//! a Bearer API key. The conformance record, with every source, is
//! `docs/boards/welcome-to-the-jungle.md`.
//!
//! Documented (github.com/WTTJ/wk-api-docs, `source/includes/_jobs.md`, and
//! BOARDS.md §3.14): `POST /api/v1/external/jobs` creates a job with
//! `organization_reference`, `profession_reference`, `name` (≤ 200),
//! `company_description`, `description` (≤ 10,000, "explain the job, not the
//! company"), `profile` ("who you're looking for"), `contract_type` (from the
//! dependencies list: `FULL_TIME`, `PART_TIME`, `TEMPORARY`, `FREELANCE`,
//! `INTERNSHIP`, `APPRENTICESHIP`), an office (`office_city` and
//! `office_country_code` are mandatory for creation), `salary_min` /
//! `salary_max` (integers), `salary_currency`, `salary_period` (`yearly`,
//! `monthly`, `daily`), `apply_url`, `external_reference` (ours; unique),
//! `status` and `cms_sites_references`, the comma-separated sites a
//! published job shows on (`wttj_fr,smgo_fr`): without it a published job
//! shows nowhere, so it is an option per account (and per tenant).
//! `PUT /api/v1/external/jobs/:reference` updates, `PUT
//! …/:reference/update_status` with `{status}` (`draft`, `published`,
//! `archived`) changes the status, `GET /api/v1/external/jobs` lists an
//! organisation's jobs (`organization_reference`, `page`, `per_page`), and
//! `GET …/:reference?websites=true` names the sites' URLs. Every answer is
//! the job object: `reference` (theirs), `external_reference`, `status`; no
//! public URL.
//!
//! Inferred [inferred]: `language` and `offices` (BOARDS.md lists them from
//! the newer docs site, which the index does not hold), `remote`
//! (`no`/`partial`/`fulltime`, BOARDS.md), our category slug as the
//! profession reference (the docs' examples, `sales`, are slugs like ours),
//! the company name standing in for `company_description` when the account
//! sets none, a weekly salary sent yearly (×52), and what a missing job
//! answers (404).

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::http::{self, Reply};
use super::render::{check_max, escape_html, headings, html_list, html_section};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::{EmploymentType, PayPeriod, Workplace};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "JSON push API (Welcome Kit), Bearer API key";
pub const ID: &str = "welcome-to-the-jungle";
const NAME: &str = "Welcome to the Jungle";
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 10_000;
/// The list endpoint's largest page.
const PAGE_SIZE: u32 = 100;
/// How many pages a lookup reads before giving up (10,000 jobs).
const MAX_PAGES: u32 = 100;
pub const STATUS_PUBLISHED: &str = "published";
pub const STATUS_ARCHIVED: &str = "archived";

/// The request body of a create or an update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    pub organization_reference: String,
    pub profession_reference: String,
    pub external_reference: String,
    pub name: String,
    pub company_description: String,
    pub description: String,
    pub profile: String,
    pub contract_type: String,
    pub language: String,
    pub office_city: String,
    pub office_country_code: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub office_zip_code: Option<String>,
    pub offices: Vec<Office>,
    pub remote: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_max: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub apply_url: Option<String>,
    pub status: String,
    pub cms_sites_references: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Office {
    pub city: String,
    pub country_code: String,
}

/// The board's view of one job (the fields we read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub reference: String,
    #[serde(default)]
    pub external_reference: Option<String>,
    pub status: String,
    /// With `websites=true`: the sites the job shows on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub websites: Vec<Website>,
}

/// A site a job shows on, and its URL there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Website {
    pub reference: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: String,
}

/// What an account sends beside the ad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub organization_reference: String,
    /// Comma-separated, as the board takes it.
    pub cms_sites_references: String,
    pub company_description: Option<String>,
    /// When the job has no category.
    pub profession_reference: Option<String>,
}

/// Builds the request for one language variant: a pure function of the posting.
pub fn render(posting: &PostingContext<'_>, account: &Account) -> Result<JobRequest, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    check_max(NAME, "title", &ad.title, MAX_NAME)?;
    if ad.requirements.is_empty() {
        super::preview::broken(format!(
            "{NAME} requires a candidate profile; the \"{}\" ad lists no requirements",
            posting.locale
        ))?;
    }
    let Some(first) = job.locations.first() else {
        return Err(BoardError::rule(format!(
            "{NAME} needs an office city and country to create a job; this job has no location"
        )));
    };
    let Some(profession_reference) = job
        .category
        .clone()
        .or_else(|| account.profession_reference.clone())
    else {
        return Err(BoardError::rule(format!(
            "{NAME} requires a profession_reference; the job has no category and the account sets no profession_reference"
        )));
    };
    let contract_type = contract_type(job.employment_type).ok_or_else(|| {
        BoardError::rule(format!(
            "{NAME} has no contract type for employment type {}",
            crate::boards::render::employment_type_name(job.employment_type)
        ))
    })?;
    let titles = headings(posting.locale);
    // WTTJ asks for the job in `description` and the candidate in `profile`.
    let description = format!(
        "<p>{}</p>{}{}",
        escape_html(&ad.summary),
        html_section(titles.responsibilities, &ad.responsibilities),
        html_section(titles.benefits, &ad.benefits)
    );
    check_max(NAME, "description", &description, MAX_DESCRIPTION)?;
    let (salary_min, salary_max, salary_currency, salary_period) = match &job.salary {
        None => (None, None, None, None),
        Some(salary) => {
            let (factor, period) = match salary.period {
                PayPeriod::Year => (1.0, "yearly"),
                PayPeriod::Month => (1.0, "monthly"),
                PayPeriod::Day => (1.0, "daily"),
                PayPeriod::Week => (52.0, "yearly"),
                PayPeriod::Hour => {
                    return Err(BoardError::rule(format!(
                        "{NAME} takes yearly, monthly or daily salaries; this one is per hour"
                    )));
                }
            };
            // The docs type both bounds as integers.
            (
                Some((salary.min * factor).round() as i64),
                Some((salary.max * factor).round() as i64),
                Some(salary.currency.clone()),
                Some(period.to_owned()),
            )
        }
    };
    Ok(JobRequest {
        organization_reference: account.organization_reference.clone(),
        profession_reference,
        external_reference: posting.reference.to_owned(),
        name: ad.title.clone(),
        company_description: account
            .company_description
            .clone()
            .unwrap_or_else(|| job.company.name.clone()),
        description,
        profile: html_list(&ad.requirements),
        contract_type: contract_type.to_owned(),
        language: crate::intake::message::primary_language(posting.locale).to_owned(),
        office_city: first.city.clone(),
        office_country_code: first.country.clone(),
        office_zip_code: first.postal_code.clone(),
        offices: job
            .locations
            .iter()
            .map(|l| Office {
                city: l.city.clone(),
                country_code: l.country.clone(),
            })
            .collect(),
        remote: match job.workplace {
            Workplace::OnSite => "no",
            Workplace::Hybrid => "partial",
            Workplace::Remote => "fulltime",
        }
        .to_owned(),
        salary_min,
        salary_max,
        salary_currency,
        salary_period,
        apply_url: job.apply.url.clone(),
        status: STATUS_PUBLISHED.to_owned(),
        cms_sites_references: account.cms_sites_references.clone(),
    })
}

/// The documented contract types; volunteering and "other" have none.
fn contract_type(kind: EmploymentType) -> Option<&'static str> {
    Some(match kind {
        EmploymentType::FullTime => "FULL_TIME",
        EmploymentType::PartTime => "PART_TIME",
        EmploymentType::Contract => "FREELANCE",
        EmploymentType::Temporary => "TEMPORARY",
        EmploymentType::Internship => "INTERNSHIP",
        EmploymentType::Volunteer | EmploymentType::Other => return None,
    })
}

/// Every operation's request as it leaves us, for the golden files:
/// `(operation, method, path under the base URL, body)`.
pub fn operations(
    create: &JobRequest,
    reference: &str,
) -> Vec<(
    &'static str,
    &'static str,
    String,
    Option<serde_json::Value>,
)> {
    let status = |status: &str| serde_json::json!({ "status": status });
    vec![
        (
            "publish",
            "POST",
            JOBS_PATH.to_owned(),
            Some(serde_json::to_value(create).expect("bodies serialise")),
        ),
        (
            "update",
            "PUT",
            format!("{JOBS_PATH}/{reference}"),
            Some(serde_json::to_value(create).expect("bodies serialise")),
        ),
        (
            "republish",
            "PUT",
            format!("{JOBS_PATH}/{reference}/update_status"),
            Some(status(STATUS_PUBLISHED)),
        ),
        (
            "withdraw",
            "PUT",
            format!("{JOBS_PATH}/{reference}/update_status"),
            Some(status(STATUS_ARCHIVED)),
        ),
        (
            "websites",
            "GET",
            format!("{JOBS_PATH}/{reference}?websites=true"),
            None,
        ),
        (
            "lookup",
            "GET",
            format!(
                "{JOBS_PATH}?organization_reference={}&per_page={PAGE_SIZE}&page=1",
                create.organization_reference
            ),
            None,
        ),
    ]
}

/// The API's path under the base URL.
pub const JOBS_PATH: &str = "api/v1/external/jobs";

pub struct WelcomeToTheJungle {
    http: reqwest::Client,
    jobs_url: url::Url,
    api_key: SecretString,
    account: Account,
    timeout: std::time::Duration,
}

impl WelcomeToTheJungle {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let option = |name: &str| {
            config
                .settings
                .options
                .get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Ok(Self {
            http: config.http.clone(),
            jobs_url: config
                .base_url()?
                .join(JOBS_PATH)
                .expect("a static path joins"),
            api_key: config.credential("api_key")?,
            account: Account {
                organization_reference: config.option("organization_reference")?,
                cms_sites_references: config.option("cms_sites_references")?,
                company_description: option("company_description"),
                profession_reference: option("profession_reference"),
            },
            timeout: config.request_timeout,
        })
    }

    fn request(&self, method: reqwest::Method, url: url::Url) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(self.api_key.expose_secret())
            .timeout(self.timeout)
    }

    fn job_url(&self, reference: &str, suffix: Option<&str>) -> url::Url {
        let mut url = self.jobs_url.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("an http URL has path segments");
            path.push(reference);
            if let Some(suffix) = suffix {
                path.push(suffix);
            }
        }
        url
    }

    async fn send_json<T: Serialize>(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: &T,
        log: &mut CallLog,
    ) -> Result<Reply, BoardError> {
        let bytes = serde_json::to_vec(body).expect("request bodies serialise");
        let request = self
            .request(method, url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes.clone());
        let reply = http::send(NAME, request, Some(&bytes), log).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(reply.error(NAME))
        }
    }

    async fn get(&self, url: url::Url, log: &mut CallLog) -> Result<Reply, BoardError> {
        let reply = http::send(NAME, self.request(reqwest::Method::GET, url), None, log).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(reply.error(NAME))
        }
    }

    /// Finds our job by its external reference, reading the organisation's
    /// jobs page by page (the list takes no reference filter).
    async fn find(
        &self,
        reference: &str,
        log: &mut CallLog,
    ) -> Result<Option<JobRecord>, BoardError> {
        for page in 1..=MAX_PAGES {
            let mut url = self.jobs_url.clone();
            url.query_pairs_mut()
                .append_pair(
                    "organization_reference",
                    &self.account.organization_reference,
                )
                .append_pair("per_page", &PAGE_SIZE.to_string())
                .append_pair("page", &page.to_string());
            let jobs: Vec<JobRecord> = self.get(url, log).await?.json(NAME)?;
            if let Some(found) = jobs
                .iter()
                .find(|j| j.external_reference.as_deref() == Some(reference))
            {
                return Ok(Some(found.clone()));
            }
            if jobs.len() < PAGE_SIZE as usize {
                return Ok(None);
            }
        }
        Err(BoardError::new(
            ErrorClass::Transient,
            None,
            format!(
                "{NAME}: {reference} not found in the organisation's first {} jobs",
                MAX_PAGES * PAGE_SIZE
            ),
        ))
    }

    async fn put(
        &self,
        reference: &str,
        body: &JobRequest,
        log: &mut CallLog,
    ) -> Result<JobRecord, BoardError> {
        let reply = self
            .send_json(
                reqwest::Method::PUT,
                self.job_url(reference, None),
                body,
                log,
            )
            .await?;
        reply.json(NAME)
    }

    async fn set_status(
        &self,
        reference: &str,
        status: &str,
        log: &mut CallLog,
    ) -> Result<JobRecord, BoardError> {
        self.send_json(
            reqwest::Method::PUT,
            self.job_url(reference, Some("update_status")),
            &StatusChange {
                status: status.to_owned(),
            },
            log,
        )
        .await?
        .json(NAME)
    }

    /// Updates the job and publishes it if it is not.
    async fn put_published(
        &self,
        reference: &str,
        body: &JobRequest,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let record = self.put(reference, body, log).await?;
        if record.status != STATUS_PUBLISHED {
            self.set_status(reference, STATUS_PUBLISHED, log).await?;
        }
        Ok(self.live(reference, log).await)
    }

    /// The job's receipt, with its first site's URL: the answers carry no
    /// public URL, `GET …/:reference?websites=true` names them. The job is
    /// live whether or not that read succeeds; a failure is noted.
    async fn live(&self, reference: &str, log: &mut CallLog) -> Receipt {
        let mut url = self.job_url(reference, None);
        url.query_pairs_mut().append_pair("websites", "true");
        let mut read = CallLog::default();
        let found = match self.get(url, &mut read).await {
            Ok(reply) => reply
                .json::<JobRecord>(NAME)
                .ok()
                .and_then(|r| r.websites.into_iter().next().map(|w| w.url)),
            Err(error) => {
                log.notes
                    .push(format!("the job's site URL could not be read: {error}"));
                None
            }
        };
        Receipt::Live {
            external_id: reference.to_owned(),
            url: found,
        }
    }
}

#[async_trait]
impl Board for WelcomeToTheJungle {
    fn id(&self) -> &'static str {
        ID
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = render(posting, &self.account)?;
        if posting.may_exist
            && let Some(found) = self.find(posting.reference, log).await?
        {
            return self.put_published(&found.reference, &body, log).await;
        }
        let reply = self
            .send_json(reqwest::Method::POST, self.jobs_url.clone(), &body, log)
            .await?;
        let record: JobRecord = reply.json(NAME)?;
        if record.status != STATUS_PUBLISHED {
            self.set_status(&record.reference, STATUS_PUBLISHED, log)
                .await?;
        }
        Ok(self.live(&record.reference, log).await)
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = render(posting, &self.account)?;
        let reference = match posting.external_id {
            Some(reference) => reference.to_owned(),
            None => match self.find(posting.reference, log).await? {
                Some(found) => found.reference,
                None => return self.publish(posting, log).await,
            },
        };
        self.put_published(&reference, &body, log).await
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let reference = match posting.external_id {
            Some(reference) => reference.to_owned(),
            None => match self.find(posting.reference, log).await? {
                Some(found) if found.status != STATUS_ARCHIVED => found.reference,
                _ => return Ok(Receipt::Withdrawn),
            },
        };
        let refused = match self.set_status(&reference, STATUS_ARCHIVED, log).await {
            Ok(_) => return Ok(Receipt::Withdrawn),
            Err(error) if error.http_status == Some(404) => error,
            Err(error) => return Err(error),
        };
        // A 404 is "gone" only when the board lists no open copy of ours.
        match self.find(posting.reference, log).await? {
            None => Ok(Receipt::Withdrawn),
            Some(found) if found.status == STATUS_ARCHIVED => Ok(Receipt::Withdrawn),
            Some(found) if found.reference != reference => {
                self.set_status(&found.reference, STATUS_ARCHIVED, log)
                    .await?;
                Ok(Receipt::Withdrawn)
            }
            Some(_) => Err(BoardError::new(
                ErrorClass::Transient,
                refused.http_status,
                format!(
                    "{NAME} answered 404 to archiving {reference}, yet lists it open; trying again later"
                ),
            )),
        }
    }
}
