//! Welcome to the Jungle (Welcomekit): a JSON push API with a Bearer API key.
//!
//! Documented (BOARDS.md §3.14): `POST /api/v1/external/jobs` with
//! `organization_reference`, `name` (≤ 200), `description` (≤ 10,000),
//! `profile`, `contract_type`, `language` and an office; `PUT
//! /api/v1/external/jobs/:reference` to update; a separate status endpoint.
//! Inferred, and modelled the same way in the sandbox: the response shape
//! (`reference`, `public_url`), the status values (`published`, `archived`),
//! and looking a job up by our `external_reference`, which is how a send whose
//! answer was lost is found again instead of creating a second copy.

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
pub const MECHANISM: &str = "JSON push API, Bearer API key";
pub const ID: &str = "welcome-to-the-jungle";
const NAME: &str = "Welcome to the Jungle";
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 10_000;

/// The request body of a create or an update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    pub organization_reference: String,
    pub external_reference: String,
    pub name: String,
    pub description: String,
    pub profile: String,
    pub contract_type: String,
    pub language: String,
    pub offices: Vec<Office>,
    pub remote: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub apply_url: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Office {
    pub city: String,
    pub country_code: String,
}

/// The board's view of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub reference: String,
    pub external_reference: String,
    pub status: String,
    pub public_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobList {
    pub jobs: Vec<JobRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: String,
}

/// Builds the request for one language variant: a pure function of the posting.
pub fn render(
    posting: &PostingContext<'_>,
    organization_reference: &str,
) -> Result<JobRequest, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    check_max(NAME, "title", &ad.title, MAX_NAME)?;
    if ad.requirements.is_empty() {
        return Err(BoardError::rule(format!(
            "{NAME} requires a candidate profile; the \"{}\" ad lists no requirements",
            posting.locale
        )));
    }
    let titles = headings(posting.locale);
    // WTTJ asks for the job in `description` and the candidate in `profile`.
    let description = format!(
        "<p>{}</p>{}{}",
        escape_html(&ad.summary),
        html_section(titles.responsibilities, &ad.responsibilities),
        html_section(titles.benefits, &ad.benefits)
    );
    check_max(NAME, "description", &description, MAX_DESCRIPTION)?;
    let salary = job.salary.as_ref();
    Ok(JobRequest {
        organization_reference: organization_reference.to_owned(),
        external_reference: posting.reference.to_owned(),
        name: ad.title.clone(),
        description,
        profile: html_list(&ad.requirements),
        contract_type: contract_type(job.employment_type).to_owned(),
        language: crate::intake::message::primary_language(posting.locale).to_owned(),
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
        salary_min: salary.map(|s| s.min),
        salary_max: salary.map(|s| s.max),
        salary_currency: salary.map(|s| s.currency.clone()),
        salary_period: salary.map(|s| salary_period(s.period).to_owned()),
        apply_url: job.apply.url.clone(),
        status: "published".to_owned(),
    })
}

fn contract_type(kind: EmploymentType) -> &'static str {
    match kind {
        EmploymentType::FullTime => "FULL_TIME",
        EmploymentType::PartTime => "PART_TIME",
        EmploymentType::Contract => "FREELANCE",
        EmploymentType::Temporary => "TEMPORARY",
        EmploymentType::Internship => "INTERNSHIP",
        EmploymentType::Volunteer => "VOLUNTEER",
        EmploymentType::Other => "OTHER",
    }
}

fn salary_period(period: PayPeriod) -> &'static str {
    match period {
        PayPeriod::Hour => "hourly",
        PayPeriod::Day => "daily",
        PayPeriod::Week => "weekly",
        PayPeriod::Month => "monthly",
        PayPeriod::Year => "yearly",
    }
}

pub struct WelcomeToTheJungle {
    http: reqwest::Client,
    jobs_url: url::Url,
    api_key: SecretString,
    organization_reference: String,
    timeout: std::time::Duration,
}

impl WelcomeToTheJungle {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        Ok(Self {
            http: config.http.clone(),
            jobs_url: config
                .base_url()?
                .join("api/v1/external/jobs")
                .expect("a static path joins"),
            api_key: config.credential("api_key")?,
            organization_reference: config.option("organization_reference")?,
            timeout: config.request_timeout,
        })
    }

    fn request(&self, method: reqwest::Method, url: url::Url) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(self.api_key.expose_secret())
            .timeout(self.timeout)
    }

    fn job_url(&self, reference: &str, suffix: &str) -> url::Url {
        let mut url = self.jobs_url.clone();
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .push(reference)
            .extend(suffix.split('/').filter(|s| !s.is_empty()));
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

    /// Finds our posting by its external reference (after a lost answer).
    async fn find(
        &self,
        reference: &str,
        log: &mut CallLog,
    ) -> Result<Option<JobRecord>, BoardError> {
        let mut url = self.jobs_url.clone();
        url.query_pairs_mut()
            .append_pair("external_reference", reference);
        let reply = http::send(NAME, self.request(reqwest::Method::GET, url), None, log).await?;
        if !reply.is_success() {
            return Err(reply.error(NAME));
        }
        Ok(reply.json::<JobList>(NAME)?.jobs.into_iter().next())
    }

    async fn put(
        &self,
        reference: &str,
        body: &JobRequest,
        log: &mut CallLog,
    ) -> Result<JobRecord, BoardError> {
        let reply = self
            .send_json(reqwest::Method::PUT, self.job_url(reference, ""), body, log)
            .await?;
        reply.json(NAME)
    }

    async fn set_status(
        &self,
        reference: &str,
        status: &str,
        log: &mut CallLog,
    ) -> Result<(), BoardError> {
        self.send_json(
            reqwest::Method::PUT,
            self.job_url(reference, "status"),
            &StatusChange {
                status: status.to_owned(),
            },
            log,
        )
        .await
        .map(drop)
    }
}

fn live(record: JobRecord) -> Receipt {
    Receipt::Live {
        external_id: record.reference,
        url: Some(record.public_url),
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
        let body = render(posting, &self.organization_reference)?;
        if posting.may_exist
            && let Some(found) = self.find(posting.reference, log).await?
        {
            let record = self.put(&found.reference, &body, log).await?;
            if record.status != "published" {
                self.set_status(&record.reference, "published", log).await?;
            }
            return Ok(live(record));
        }
        let reply = self
            .send_json(reqwest::Method::POST, self.jobs_url.clone(), &body, log)
            .await?;
        Ok(live(reply.json(NAME)?))
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let Some(reference) = posting.external_id else {
            return self.publish(posting, log).await;
        };
        let body = render(posting, &self.organization_reference)?;
        let record = self.put(reference, &body, log).await?;
        if record.status != "published" {
            self.set_status(reference, "published", log).await?;
        }
        Ok(live(record))
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let reference = match posting.external_id {
            Some(reference) => reference.to_owned(),
            None => match self.find(posting.reference, log).await? {
                Some(found) => found.reference,
                None => return Ok(Receipt::Withdrawn),
            },
        };
        match self.set_status(&reference, "archived", log).await {
            Ok(()) => Ok(Receipt::Withdrawn),
            // Already gone at the board: what we wanted.
            Err(error) if error.http_status == Some(404) && error.class == ErrorClass::Rejected => {
                Ok(Receipt::Withdrawn)
            }
            Err(error) => Err(error),
        }
    }
}
