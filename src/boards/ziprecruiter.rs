//! ZipRecruiter Job API: REST JSON with HTTP Basic auth (BOARDS.md §2 row 7, §3.6).
//!
//! Documented: `/partner/v0/job/{job_id}` where `job_id` is ours, UTF-8
//! percent-encoded in the URI; `POST` creates (and fails when the `job_id`
//! exists), `PUT` updates, `DELETE` closes, `GET` reads; HTTP Basic with the
//! partner API key; English ads.
//! Documented too: jobs in the US, Canada and Australia only (the UK is not
//! among the Job API's country codes). The conformance record is
//! `docs/boards/ziprecruiter.md`.
//! Inferred [I], and modelled the same way in the sandbox: the JSON field list (not captured), which follows
//! Indeed's XML job elements, which ZipRecruiter's XML feed copies (`title`,
//! `company`, `description` as HTML, `city`, `state`, `country`,
//! `postal_code`, `job_type`, `remote_type` with Indeed's values, `category`,
//! `requisition_id`, `expiration_date`), in Welcome to the Jungle's JSON shape
//! (flat `salary_*` fields, `apply_url`); one location per job, so we send the
//! first of the job's locations in a country ZipRecruiter serves; the API key
//! as the Basic user name with an empty password; a title limit of 100
//! characters; the response (`job_id`, `status` `open` | `closed`, `url`); a
//! POST of an existing id answering 409; a PUT of a closed job reopening it;
//! a validation failure answering 422 with `errors: [{field, message}]`, and
//! `state` required for US and CA jobs (checked by the board only).
//! Because the board keys jobs by our id, its id for the posting is our
//! reference, and a send whose answer was lost is found with `GET`.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::http::{self, Reply};
use super::render::{check_max, employment_type_name, html_description};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::{PayPeriod, Workplace, primary_language};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "JSON push API (POST/PUT/DELETE on our job_id), Basic API key";
pub const ID: &str = "ziprecruiter";
const NAME: &str = "ZipRecruiter";
/// Not documented for ZipRecruiter [I]: borrowed from Monster RTP's
/// documented JobTitle limit (BOARDS.md §2 row 8, §6.1).
pub const MAX_TITLE: usize = 100;
/// Countries the Job API takes: "The current API supports U.S., Canadian,
/// and Australian job country codes" (docs/boards/ziprecruiter.md [S2]).
pub const COUNTRIES: [&str; 3] = ["US", "CA", "AU"];
const LANGUAGE: &str = "en";

/// The Job API's path under the base URL; our reference follows it.
pub const JOB_PATH: &str = "partner/v0/job";

/// Every operation's request as it leaves us, for the golden files:
/// `(operation, method, path under the base URL, body)`.
pub fn operations(
    request: &JobRequest,
    reference: &str,
) -> Vec<(
    &'static str,
    &'static str,
    String,
    Option<serde_json::Value>,
)> {
    let path = format!("{JOB_PATH}/{reference}");
    let body = serde_json::to_value(request).expect("bodies serialise");
    vec![
        ("publish", "POST", path.clone(), Some(body.clone())),
        ("update", "PUT", path.clone(), Some(body)),
        ("withdraw", "DELETE", path.clone(), None),
        ("lookup", "GET", path, None),
    ]
}

/// The request body of a create (POST) or an update (PUT); the `job_id`
/// travels in the URI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    pub title: String,
    pub company: String,
    pub description: String,
    pub city: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state: Option<String>,
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub postal_code: Option<String>,
    pub job_type: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub remote_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub category: Option<String>,
    /// The ATS's job id, shared by every posting of the job (Indeed's `requisitionid`).
    pub requisition_id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub apply_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub apply_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_period: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expiration_date: Option<String>,
}

/// The board's view of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    /// `open` or `closed`.
    pub status: String,
    pub url: String,
}

/// One field the board refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The board's error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Builds the request for one language variant: a pure function of the posting.
pub fn render(posting: &PostingContext<'_>) -> Result<JobRequest, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    let language = primary_language(posting.locale);
    if language != LANGUAGE {
        super::preview::broken(format!(
            "{NAME} takes ads in {LANGUAGE}; this one is in {language}"
        ))?;
    }
    let Some(location) = job
        .locations
        .iter()
        .find(|l| COUNTRIES.contains(&l.country.as_str()))
    else {
        let mut countries: Vec<&str> = Vec::new();
        for location in &job.locations {
            if !countries.contains(&location.country.as_str()) {
                countries.push(&location.country);
            }
        }
        return Err(BoardError::rule(format!(
            "{NAME} publishes jobs in {}; this job is in {}",
            COUNTRIES.join(", "),
            countries.join(", ")
        )));
    };
    check_max(NAME, "title", &ad.title, MAX_TITLE)?;
    let salary = job.salary.as_ref();
    Ok(JobRequest {
        title: ad.title.clone(),
        company: job.company.name.clone(),
        description: html_description(ad, posting.locale),
        city: location.city.clone(),
        state: location.region.clone(),
        country: location.country.clone(),
        postal_code: location.postal_code.clone(),
        job_type: employment_type_name(job.employment_type).to_owned(),
        // Indeed's documented `remotetype` values; on-site jobs send none.
        remote_type: match job.workplace {
            Workplace::OnSite => None,
            Workplace::Hybrid => Some("Hybrid remote".to_owned()),
            Workplace::Remote => Some("Fully remote".to_owned()),
        },
        category: job.category.clone(),
        requisition_id: job.id.clone(),
        apply_url: job.apply.url.clone(),
        apply_email: job.apply.email.clone(),
        salary_min: salary.map(|s| s.min),
        salary_max: salary.map(|s| s.max),
        salary_currency: salary.map(|s| s.currency.clone()),
        salary_period: salary.map(|s| salary_period(s.period).to_owned()),
        expiration_date: job.valid_through.map(|t| t.date().to_string()),
    })
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

pub struct ZipRecruiter {
    http: reqwest::Client,
    jobs_url: url::Url,
    api_key: SecretString,
    timeout: std::time::Duration,
}

impl ZipRecruiter {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        Ok(Self {
            http: config.http.clone(),
            jobs_url: config
                .base_url()?
                .join(JOB_PATH)
                .expect("a static path joins"),
            api_key: config.credential("api_key")?,
            timeout: config.request_timeout,
        })
    }

    /// `/partner/v0/job/{job_id}`, the id percent-encoded as a path segment.
    fn job_url(&self, job_id: &str) -> url::Url {
        let mut url = self.jobs_url.clone();
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .push(job_id);
        url
    }

    fn request(&self, method: reqwest::Method, job_id: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.job_url(job_id))
            .basic_auth(self.api_key.expose_secret(), None::<&str>)
            .timeout(self.timeout)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        job_id: &str,
        body: Option<&JobRequest>,
        log: &mut CallLog,
    ) -> Result<Reply, BoardError> {
        let mut request = self.request(method, job_id);
        let bytes = body.map(|b| serde_json::to_vec(b).expect("request bodies serialise"));
        if let Some(bytes) = &bytes {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone());
        }
        let reply = http::send(NAME, request, bytes.as_deref(), log).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(reply.error(NAME))
        }
    }

    /// Reads our job back (after a lost answer); `None` if the board has no such id.
    async fn find(&self, job_id: &str, log: &mut CallLog) -> Result<Option<JobRecord>, BoardError> {
        match self.call(reqwest::Method::GET, job_id, None, log).await {
            Ok(reply) => Ok(Some(reply.json(NAME)?)),
            Err(error) if is_rejected(&error, 404) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn post(
        &self,
        job_id: &str,
        body: &JobRequest,
        log: &mut CallLog,
    ) -> Result<JobRecord, BoardError> {
        self.call(reqwest::Method::POST, job_id, Some(body), log)
            .await?
            .json(NAME)
    }

    async fn put(
        &self,
        job_id: &str,
        body: &JobRequest,
        log: &mut CallLog,
    ) -> Result<JobRecord, BoardError> {
        self.call(reqwest::Method::PUT, job_id, Some(body), log)
            .await?
            .json(NAME)
    }
}

fn is_rejected(error: &BoardError, status: u16) -> bool {
    error.class == ErrorClass::Rejected && error.http_status == Some(status)
}

fn live(record: JobRecord) -> Receipt {
    Receipt::Live {
        external_id: record.job_id,
        url: Some(record.url),
    }
}

#[async_trait]
impl Board for ZipRecruiter {
    fn id(&self) -> &'static str {
        ID
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = render(posting)?;
        let job_id = posting.reference;
        if posting.may_exist && self.find(job_id, log).await?.is_some() {
            return Ok(live(self.put(job_id, &body, log).await?));
        }
        match self.post(job_id, &body, log).await {
            Ok(record) => Ok(live(record)),
            // The id exists (a lost answer, or closed earlier): PUT brings that one copy in line.
            Err(error) if is_rejected(&error, 409) => Ok(live(self.put(job_id, &body, log).await?)),
            Err(error) => Err(error),
        }
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = render(posting)?;
        match self.put(posting.reference, &body, log).await {
            Ok(record) => Ok(live(record)),
            // The board never got the create: make it now.
            Err(error) if is_rejected(&error, 404) => {
                Ok(live(self.post(posting.reference, &body, log).await?))
            }
            Err(error) => Err(error),
        }
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        match self
            .call(reqwest::Method::DELETE, posting.reference, None, log)
            .await
        {
            Ok(_) => Ok(Receipt::Withdrawn),
            // A 404 is "gone" only when reading the job agrees.
            Err(error) if is_rejected(&error, 404) => {
                match self.find(posting.reference, log).await? {
                    Some(found) if found.status == "open" => Err(BoardError::new(
                        ErrorClass::Transient,
                        error.http_status,
                        format!(
                            "{NAME} answered 404 to closing {}, yet shows it open; trying again later",
                            posting.reference
                        ),
                    )),
                    _ => Ok(Receipt::Withdrawn),
                }
            }
            Err(error) => Err(error),
        }
    }
}
