//! LinkedIn Job Posting API: OAuth2 client credentials, Rest.li batch
//! create, and asynchronous confirmation (BOARDS.md §3.3).
//!
//! `POST /v2/simpleJobPostings` with `x-restli-method: batch_create` answers
//! 200 with one element per job: a task URN (status 202), or an error with
//! its own status *inside* the 200. The task is polled at
//! `/v2/simpleJobPostingTasks` until `SUCCEEDED` (with the job URN) or
//! `FAILED`. Updates and closes re-post the same `externalJobPostingId` with
//! `UPDATE` or `CLOSE`. Tokens live 30 minutes; LinkedIn asks that one token
//! be shared and refreshed only near expiry.
//!
//! Attempts running at the same time share requests ([`super::batch`]): up
//! to 100 jobs go in one `batch_create`, and up to 50 tasks in one lookup
//! (`?ids=<URN>&ids=<URN>`). Each attempt still reads only its own element.
//!
//! Since June 2025 LinkedIn requires the job poster's e-mail on every job
//! (`posterEmail`): the message's `job.poster`, else the tenant's default
//! (`[tenants.<id>] poster_email`); a job with neither is refused before
//! sending. A `CLOSE` goes out without one, so an old ad can always be taken
//! down. Free jobs say `listingType: BASIC` (docs/boards/linkedin.md).
//!
//! Inferred, and modelled the same way in the sandbox: a `CREATE` of an id
//! LinkedIn already holds fails with status 409, and `UPDATE`/`CLOSE` of an
//! unknown id with 404, each inside the 200. That is how a create whose answer
//! was lost is recognised instead of duplicated.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::batch::{Coalescer, Flushed};
use super::linkedin_feed::location_string;
use super::oauth::ClientCredentials;
use super::render::{check_max, check_min, html_description};
use super::{
    Board, BoardConfig, BoardError, BoardLimits, BuildError, CallLog, ErrorClass, PostingContext,
    Receipt,
};
use crate::config::TenantProfile;
use crate::intake::message::{EmploymentType, Job, PayPeriod, Poster, Workplace};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "Rest.li batch push, OAuth2 client credentials, asynchronous tasks";
pub const ID: &str = "linkedin";
/// LinkedIn's token endpoint, on another host than the API (api.linkedin.com).
pub const TOKEN_URL: &str = "https://www.linkedin.com/oauth/v2/accessToken";
/// 60,000 records a day (BOARDS.md §3.3).
const DAILY_RECORDS: &[(u32, std::time::Duration)] =
    &[(60_000, std::time::Duration::from_secs(86_400))];
const NAME: &str = "LinkedIn";
const MAX_TITLE: usize = 200;
const MIN_DESCRIPTION: usize = 100;
const MAX_DESCRIPTION: usize = 25_000;
/// LinkedIn refuses an `expireAt` more than 180 days after listing.
const MAX_LISTING: Duration = Duration::from_secs(180 * 24 * 3600);

/// `listingType`: `BASIC` is a free job, `PREMIUM` a promoted one (which
/// needs a `contract`); we post free jobs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ListingType {
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Close,
}

/// One element of a `batch_create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobElement {
    pub integration_context: String,
    pub external_job_posting_id: String,
    pub job_posting_operation_type: Operation,
    pub title: String,
    pub description: String,
    pub company_apply_url: String,
    pub location: String,
    pub listed_at: i64,
    pub employment_status: String,
    pub work_remote_allowed: bool,
    pub listing_type: ListingType,
    /// The job poster's e-mail: required on every job since June 2025.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub poster_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expire_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub compensation: Option<Compensation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compensation {
    pub compensations: Vec<CompensationItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompensationItem {
    pub value: CompensationValue,
    pub period: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompensationValue {
    pub range: MoneyRange,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoneyRange {
    pub start: Money,
    pub end: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub currency_code: String,
    pub amount: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchRequest {
    pub elements: Vec<JobElement>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchResponse {
    pub elements: Vec<BatchResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ElementError>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ElementError {
    pub message: String,
    pub status: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskResponse {
    pub results: std::collections::BTreeMap<String, TaskStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    /// `IN_PROGRESS`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_posting: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// The job's poster: the message's `job.poster`, else the tenant's default.
pub fn poster<'a>(job: &'a Job, tenant_default: Option<&'a Poster>) -> Option<&'a Poster> {
    job.poster.as_ref().or(tenant_default)
}

/// The refusal of a job without a poster's e-mail, saying where to give one.
pub fn no_poster(tenant: &str) -> BoardError {
    BoardError::rule(format!(
        "LinkedIn requires the job poster's e-mail (posterEmail) on every job: the message has no job.poster and tenant \"{tenant}\" has no default (set poster_email in [tenants.{tenant}])"
    ))
}

/// The tenant's default poster, from its profile.
pub fn tenant_poster<'a>(
    profiles: &'a std::collections::BTreeMap<String, TenantProfile>,
    tenant: &str,
) -> Option<&'a Poster> {
    profiles.get(tenant)?.poster.as_ref()
}

/// Builds one batch element: a pure function of the posting, the tenant's
/// default poster, the operation and the listing time.
pub fn render(
    posting: &PostingContext<'_>,
    organization_id: &str,
    tenant_default: Option<&Poster>,
    operation: Operation,
    listed_at: OffsetDateTime,
) -> Result<JobElement, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    let poster_email = match poster(job, tenant_default) {
        Some(poster) => Some(poster.email.clone()),
        // Taking an ad down never waits for a poster.
        None if operation == Operation::Close => None,
        None => return Err(no_poster(posting.tenant_id)),
    };
    check_max(NAME, "title", &ad.title, MAX_TITLE)?;
    let description = html_description(ad, posting.locale);
    check_min(NAME, "description", &description, MIN_DESCRIPTION)?;
    check_max(NAME, "description", &description, MAX_DESCRIPTION)?;
    let Some(apply_url) = job.apply.url.clone() else {
        return Err(BoardError::rule(
            "LinkedIn requires companyApplyUrl; the job has only an apply email",
        ));
    };
    let location = location_string(&job.locations[0])?;
    let listed_ms = (listed_at.unix_timestamp_nanos() / 1_000_000) as i64;
    let expire_at = job.valid_through.and_then(|until| {
        let ms = (until.unix_timestamp_nanos() / 1_000_000) as i64;
        (ms > listed_ms && ms - listed_ms <= MAX_LISTING.as_millis() as i64).then_some(ms)
    });
    Ok(JobElement {
        integration_context: format!("urn:li:organization:{organization_id}"),
        external_job_posting_id: posting.reference.to_owned(),
        job_posting_operation_type: operation,
        title: ad.title.clone(),
        description,
        company_apply_url: apply_url,
        location,
        listed_at: listed_ms,
        employment_status: employment_status(job.employment_type).to_owned(),
        work_remote_allowed: job.workplace == Workplace::Remote,
        listing_type: ListingType::Basic,
        poster_email,
        expire_at,
        compensation: job.salary.as_ref().map(|salary| Compensation {
            compensations: vec![CompensationItem {
                value: CompensationValue {
                    range: MoneyRange {
                        start: Money {
                            currency_code: salary.currency.clone(),
                            amount: format!("{}", salary.min),
                        },
                        end: Money {
                            currency_code: salary.currency.clone(),
                            amount: format!("{}", salary.max),
                        },
                    },
                },
                period: pay_period(salary.period).to_owned(),
                kind: "BASE_SALARY".to_owned(),
            }],
        }),
    })
}

fn employment_status(kind: EmploymentType) -> &'static str {
    match kind {
        EmploymentType::FullTime => "FULL_TIME",
        EmploymentType::PartTime => "PART_TIME",
        EmploymentType::Contract => "CONTRACT",
        EmploymentType::Temporary => "TEMPORARY",
        EmploymentType::Internship => "INTERNSHIP",
        EmploymentType::Volunteer => "VOLUNTEER",
        EmploymentType::Other => "OTHER",
    }
}

fn pay_period(period: PayPeriod) -> &'static str {
    match period {
        PayPeriod::Hour => "HOURLY",
        PayPeriod::Day => "DAILY",
        PayPeriod::Week => "WEEKLY",
        PayPeriod::Month => "MONTHLY",
        PayPeriod::Year => "YEARLY",
    }
}

/// Where a task's status is read: `GET /v2/simpleJobPostingTasks?ids=<task URN>`.
pub fn task_url(tasks_url: &url::Url, task_urn: &str) -> url::Url {
    tasks_lookup_url(tasks_url, &[task_urn])
}

/// Where many tasks' statuses are read at once: the `ids` parameter once per
/// task, `?ids=<URN 1>&ids=<URN 2>` [S7].
pub fn tasks_lookup_url(tasks_url: &url::Url, task_urns: &[impl AsRef<str>]) -> url::Url {
    let mut url = tasks_url.clone();
    {
        let mut query = url.query_pairs_mut();
        for urn in task_urns {
            query.append_pair("ids", urn.as_ref());
        }
    }
    url
}

/// The public page of a job URN (`urn:li:jobPosting:123`).
pub fn public_url(job_urn: &str) -> Option<String> {
    let id = job_urn.rsplit(':').next()?;
    Some(format!("https://www.linkedin.com/jobs/view/{id}"))
}

pub struct LinkedIn {
    organization_id: String,
    /// Every tenant's profile: its default job poster.
    tenant_profiles: std::collections::BTreeMap<String, TenantProfile>,
    /// Concurrent attempts' jobs, sent together in `batch_create`s.
    jobs: Coalescer<JobElement, Element>,
    /// Concurrent confirmations, looked up together.
    tasks: Coalescer<String, TaskStatus>,
}

/// At most 100 jobs in one `batch_create` [S2].
const MAX_JOBS_PER_BATCH: usize = 100;
/// Task URNs in one lookup. LinkedIn caps a query string at 4 KB (its job
/// posting status API; assumed the same for tasks [inferred]): 50 encoded
/// URNs of about 70 characters stay well inside.
const MAX_TASKS_PER_LOOKUP: usize = 50;
/// How long the first job of a batch waits for others to join: at most this
/// is added to a posting's wait.
const LINGER: Duration = Duration::from_millis(5);

/// What one element of a batch came back as.
enum Element {
    Task(String),
    Failed(ElementError),
}

/// The calls themselves, shared by the batches in flight.
struct Api {
    http: reqwest::Client,
    postings_url: url::Url,
    tasks_url: url::Url,
    /// One token for every concurrent call, refreshed once near expiry.
    auth: ClientCredentials,
}

impl Api {
    /// One `batch_create` of `elements`: each element's task or error.
    async fn create(&self, elements: Vec<JobElement>) -> Flushed<Element> {
        let mut log = CallLog::default();
        let answers = self.create_logged(elements, &mut log).await;
        Flushed { answers, log }
    }

    async fn create_logged(
        &self,
        elements: Vec<JobElement>,
        log: &mut CallLog,
    ) -> Result<Vec<Result<Element, BoardError>>, BoardError> {
        let bytes =
            serde_json::to_vec(&BatchRequest { elements }).expect("request bodies serialise");
        let reply = self
            .auth
            .send(
                |token| {
                    self.http
                        .post(self.postings_url.clone())
                        .bearer_auth(token)
                        .header("x-restli-method", "batch_create")
                        .header("X-Restli-Protocol-Version", "2.0.0")
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
        let batch: BatchResponse = reply.json(NAME)?;
        Ok(batch
            .elements
            .into_iter()
            .map(|element| match element {
                BatchResult { id: Some(task), .. } => Ok(Element::Task(task)),
                BatchResult {
                    error: Some(error), ..
                } => Ok(Element::Failed(error)),
                _ => Err(BoardError::new(
                    ErrorClass::Ambiguous,
                    Some(reply.status),
                    "LinkedIn answered an element without a task or an error",
                )),
            })
            .collect())
    }

    /// One lookup of `urns`: each task's status.
    async fn lookup(&self, urns: Vec<String>) -> Flushed<TaskStatus> {
        let mut log = CallLog::default();
        let answers = self.lookup_logged(urns, &mut log).await;
        Flushed { answers, log }
    }

    async fn lookup_logged(
        &self,
        urns: Vec<String>,
        log: &mut CallLog,
    ) -> Result<Vec<Result<TaskStatus, BoardError>>, BoardError> {
        let url = tasks_lookup_url(&self.tasks_url, &urns);
        let reply = self
            .auth
            .send(
                |token| self.http.get(url.clone()).bearer_auth(token),
                None,
                log,
            )
            .await?;
        if !reply.is_success() {
            return Err(reply.error(NAME));
        }
        let mut response: TaskResponse = reply.json(NAME)?;
        Ok(urns
            .iter()
            .map(|urn| {
                // Tasks expire; an expired one tells us nothing.
                response.results.remove(urn).ok_or_else(|| {
                    BoardError::new(
                        ErrorClass::Ambiguous,
                        Some(reply.status),
                        format!("LinkedIn no longer knows task {urn}"),
                    )
                })
            })
            .collect())
    }
}

impl LinkedIn {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let base = config.base_url()?;
        let token_url = config.token_url(TOKEN_URL)?;
        let api = Arc::new(Api {
            http: config.http.clone(),
            postings_url: base.join("v2/simpleJobPostings").expect("static path"),
            tasks_url: base.join("v2/simpleJobPostingTasks").expect("static path"),
            auth: ClientCredentials::new(NAME, config, token_url, Vec::new())?,
        });
        let creating = api.clone();
        let looking = api;
        Ok(Self {
            organization_id: config.option("organization_id")?,
            tenant_profiles: config.settings.tenant_profiles.clone(),
            jobs: Coalescer::new(
                MAX_JOBS_PER_BATCH,
                config.concurrency,
                LINGER,
                |element: &JobElement| element.external_job_posting_id.as_str(),
                Arc::new(move |elements| {
                    let api = creating.clone();
                    async move { api.create(elements).await }.boxed()
                }),
            ),
            tasks: Coalescer::new(
                MAX_TASKS_PER_LOOKUP,
                config.concurrency,
                LINGER,
                |urn: &String| urn.as_str(),
                Arc::new(move |urns| {
                    let api = looking.clone();
                    async move { api.lookup(urns).await }.boxed()
                }),
            ),
        })
    }

    async fn operate(
        &self,
        posting: &PostingContext<'_>,
        operation: Operation,
        log: &mut CallLog,
    ) -> Result<Result<String, ElementError>, BoardError> {
        let element = render(
            posting,
            &self.organization_id,
            tenant_poster(&self.tenant_profiles, posting.tenant_id),
            operation,
            // The first publication, not this update's time.
            posting
                .first_published_at
                .unwrap_or_else(OffsetDateTime::now_utc),
        )?;
        Ok(match self.jobs.submit(element, log).await? {
            Element::Task(task) => Ok(task),
            Element::Failed(error) => Err(error),
        })
    }
}

/// A task handle names the operation, so confirming a close means withdrawn.
fn accepted(operation: Operation, task: String) -> Receipt {
    let op = match operation {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Close => "CLOSE",
    };
    Receipt::Accepted {
        task: format!("{op} {task}"),
        external_id: None,
    }
}

fn element_error(error: ElementError) -> BoardError {
    let class = match error.status {
        429 => ErrorClass::Throttled,
        500..=599 => ErrorClass::Ambiguous,
        _ => ErrorClass::Rejected,
    };
    BoardError::new(
        class,
        Some(error.status),
        format!("LinkedIn: {}", error.message),
    )
}

#[async_trait]
impl Board for LinkedIn {
    fn id(&self) -> &'static str {
        ID
    }

    /// 2,000 records a minute and 60,000 a day (BOARDS.md §3.3). Each
    /// attempt is one record, whichever batch carries it.
    fn limits(&self) -> BoardLimits {
        BoardLimits {
            requests_per_minute: Some(2_000),
            windows: DAILY_RECORDS,
            postings_per_request: MAX_JOBS_PER_BATCH,
            ..BoardLimits::default()
        }
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        match self.operate(posting, Operation::Create, log).await? {
            Ok(task) => Ok(accepted(Operation::Create, task)),
            // LinkedIn holds it already (an earlier answer was lost): update it instead.
            Err(error) if error.status == 409 => {
                match self.operate(posting, Operation::Update, log).await? {
                    Ok(task) => Ok(accepted(Operation::Update, task)),
                    Err(error) => Err(element_error(error)),
                }
            }
            Err(error) => Err(element_error(error)),
        }
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        match self.operate(posting, Operation::Update, log).await? {
            Ok(task) => Ok(accepted(Operation::Update, task)),
            Err(error) if error.status == 404 => self.publish(posting, log).await,
            Err(error) => Err(element_error(error)),
        }
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        match self.operate(posting, Operation::Close, log).await? {
            Ok(task) => Ok(accepted(Operation::Close, task)),
            // Never reached LinkedIn: nothing to take down.
            Err(error) if error.status == 404 => Ok(Receipt::Withdrawn),
            Err(error) => Err(element_error(error)),
        }
    }

    async fn confirm(
        &self,
        _posting: &PostingContext<'_>,
        task: &str,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let (operation, urn) = task.split_once(' ').unwrap_or(("CREATE", task));
        let status = self.tasks.submit(urn.to_owned(), log).await?;
        match status.status.as_str() {
            "SUCCEEDED" if operation == "CLOSE" => Ok(Receipt::Withdrawn),
            "SUCCEEDED" => {
                let urn = status.job_posting.clone().ok_or_else(|| {
                    BoardError::new(
                        ErrorClass::Ambiguous,
                        log.http_status,
                        "LinkedIn task succeeded without a job URN",
                    )
                })?;
                Ok(Receipt::Live {
                    url: public_url(&urn),
                    external_id: urn,
                })
            }
            "FAILED" => Err(BoardError::new(
                ErrorClass::Rejected,
                log.http_status,
                format!(
                    "LinkedIn: {}",
                    status
                        .error_message
                        .as_deref()
                        .unwrap_or("the task failed without a message")
                ),
            )),
            _ => Ok(Receipt::Pending),
        }
    }
}
