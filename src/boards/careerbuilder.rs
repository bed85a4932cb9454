//! CareerBuilder's Document Post Interface (DPI): one job per SOAP call to
//! the `RealTimeJobPost` web service, with the DPI job document inside as an
//! escaped string (BOARDS.md §2 row 9, §3.8).
//!
//! Documented [V]: `POST /webservices/realtimejobpost.asmx` with `SOAPAction:
//! "http://dpi.careerbuilder.com/WebServices/RealTimeJobPost/ProcessJob"` and
//! the body `<ProcessJob><xmlJob>…</xmlJob></ProcessJob>`; the answer
//! `ProcessJobResult { Errors[DPIError{ErrorCode, ErrorText}], Action, JobDID,
//! ProductID, UserJobID, PREndDate, TransactionDID, PostStatus }`; a second
//! service, `RealTimeJobStatus`; the DPI field names (Action, Job ID, Job
//! Title, Description, City, Postal Code, Country, Employee Type, Job Type
//! Code, Base Pay Low/High, Pay Rate, Currency Code, Application URL,
//! Expiration Date, Display Job ID, Company Profile Name, Contact…) and the
//! header's Vendor ID, Customer Account Code, Replacement Directive and Origin.
//!
//! Inferred [I], and modelled the same way in the sandbox twin:
//! * The DPI document's shape: `<DPIJobPost><Header>…</Header><Job>…</Job>
//!   </DPIJobPost>`, element names in the field names' PascalCase
//!   (`JobTitle`, `EmployeeType`, `BasePayLow`…), which is how one public
//!   integration writes `EmployeeType`, `JobTypeCode` and `PostalCode`.
//! * Credentials: the Vendor ID CareerBuilder issues to us and the
//!   customer's Customer Account Code are options (not secret); the account
//!   password is the one credential (`password`) and travels in the DPI
//!   header as `AccountPassword`. `ReplacementDirective` is `None` (touch
//!   only the job in this document; replacing all jobs is for batch files).
//! * Actions: `Add`, `Update` (the same Job ID; also puts an expired job
//!   back online) and `Expire` (the withdrawal). The Job ID is our
//!   reference and comes back as `UserJobID`.
//! * `PostStatus` is `Posted` after an Add or Update, `Expired` after an
//!   Expire and `Failed` otherwise. The `Errors` list is present on every
//!   answer, success included: the DPIError code table is [`codes`], the one
//!   place the adapter keeps it. 1xx codes are information or warnings
//!   (kept in the log: a receipt has no place for them), 2xx name a rule
//!   the job broke (`Rejected`), 301/302/303 say what CareerBuilder holds
//!   for the Job ID (the adapter acts on them), 4xx refuse our Vendor ID or
//!   account (`Auth`) and 5xx mean CareerBuilder failed mid-way (`Ambiguous`).
//! * An Add of a Job ID CareerBuilder holds answers 302, so a re-send after a
//!   lost answer makes no second copy: the adapter sends Update instead.
//!   `RealTimeJobStatus.GetJobPostStatus` is documented [V, its ASMX page] to
//!   take only `sTGDID`, the TransactionDID of a queued post, so it cannot
//!   find a job by our Job ID and the adapter no longer calls it.
//!   [`status_message`] (a DPI document with our Job ID) is what the twin's
//!   status service still reads; it is not CareerBuilder's operation.
//! * SOAP faults arrive, as from any ASMX service, with HTTP 500:
//!   `soap:Client` (the request was not understood, nothing happened) is
//!   `Rejected`, `soap:Server` is `Ambiguous`; 503 is `Transient` and 429 with
//!   `Retry-After` is `Throttled`.
//! * Limits: a title of at most 100 characters, borrowed from Monster RTP's
//!   documented JobTitle limit (BOARDS.md §6.1; Monster is CareerBuilder's
//!   sister company), and a description is required. Jobs in the US only, ads
//!   in English only; the first US location of the job is the one sent, its
//!   region as `State`. HTML in the description: p, br, ul, ol, li, b,
//!   strong, i, em, u, h3 (our renderer emits p, h3, ul and li).
//! * Employee Type codes (`ETFE` full-time, `ETPE` part-time, `ETCT`
//!   contractor, `ETTS` temporary, `ETIN` intern: recalled from
//!   CareerBuilder's public job-search API, not from the DPI guide; volunteer
//!   and "other" jobs have none and are refused), Job Type Codes (`JNnnn`,
//!   our small table in [`job_type_code`], invented: replace with
//!   CareerBuilder's list), Pay Rate (`Year`, `Month`, `Week`, `Day`,
//!   `Hour`), dates as `YYYY-MM-DD`.
//! * The public URL, which the answer does not carry:
//!   `https://www.careerbuilder.com/job/{JobDID}`.
//!
//! Not researched: CareerBuilder's status today after its combination with
//! Monster (BOARDS.md §3.8).

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::http::{self, Reply};
use super::render::{check_max, html_description};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::{EmploymentType, PayPeriod, primary_language};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str =
    "SOAP RealTimeJobPost (DPI document: Add/Update/Expire); Vendor ID + account password";
pub const ID: &str = "careerbuilder";
const NAME: &str = "CareerBuilder";
/// Not documented for CareerBuilder [I]: Monster RTP's documented JobTitle limit.
pub const MAX_TITLE: usize = 100;
/// The one country CareerBuilder DPI publishes jobs in [I].
pub const COUNTRY: &str = "US";
const LANGUAGE: &str = "en";
/// Real-time posts touch only the job they carry [I].
pub const REPLACEMENT_DIRECTIVE: &str = "None";
/// Who sends the document (the DPI header's Origin).
pub const ORIGIN: &str = "boardcast";

pub const POST_PATH: &str = "webservices/realtimejobpost.asmx";
pub const STATUS_PATH: &str = "webservices/realtimejobstatus.asmx";
pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
pub const POST_NS: &str = "http://dpi.careerbuilder.com/WebServices/RealTimeJobPost";
pub const STATUS_NS: &str = "http://dpi.careerbuilder.com/WebServices/RealTimeJobStatus";
/// The `SOAPAction` header of `ProcessJob`, quotes included [V].
pub const PROCESS_JOB_ACTION: &str =
    "\"http://dpi.careerbuilder.com/WebServices/RealTimeJobPost/ProcessJob\"";
/// The `SOAPAction` header of `GetJobPostStatus` [I].
pub const STATUS_ACTION: &str =
    "\"http://dpi.careerbuilder.com/WebServices/RealTimeJobStatus/GetJobPostStatus\"";

/// CareerBuilder's DPIError codes as the adapter reads them [I]: the one
/// place the adapter keeps them (the sandbox keeps its own).
///
/// | code | meaning | PostStatus |
/// |---|---|---|
/// | 100 | request processed (on every success) | Posted / Expired |
/// | 110 | no Expiration Date: the default 30-day posting applies | Posted |
/// | 120 | no Postal Code: the job is placed by City and State | Posted |
/// | 130 | no Job Type Code: CareerBuilder categorises the job | Posted |
/// | 200 | xmlJob is not a DPI document | Failed |
/// | 201 | a required field is missing | Failed |
/// | 202 | a field is too long | Failed |
/// | 203 | the Country is not one CareerBuilder serves | Failed |
/// | 204 | unknown Employee Type | Failed |
/// | 205 | unknown Job Type Code | Failed |
/// | 206 | Base Pay / Pay Rate invalid | Failed |
/// | 207 | unknown or unaccepted Currency Code | Failed |
/// | 208 | Application URL or Contact Email invalid | Failed |
/// | 209 | State or Postal Code invalid | Failed |
/// | 210 | HTML CareerBuilder does not allow in the Description | Failed |
/// | 211 | Action, Replacement Directive or a date invalid | Failed |
/// | 301 | no job with this Job ID | Failed |
/// | 302 | a job with this Job ID exists (use Update) | Failed |
/// | 303 | the job is already expired | Failed |
/// | 401 | Vendor ID refused | Failed |
/// | 402 | Customer Account Code or password refused | Failed |
/// | 500 | internal error: the request may or may not have been applied | Failed |
pub mod codes {
    pub const PROCESSED: &str = "100";
    pub const NO_EXPIRATION_DATE: &str = "110";
    pub const NO_POSTAL_CODE: &str = "120";
    pub const NO_JOB_TYPE_CODE: &str = "130";
    pub const UNKNOWN_JOB: &str = "301";
    pub const JOB_EXISTS: &str = "302";
    pub const ALREADY_EXPIRED: &str = "303";

    /// What a code says about the request.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        /// Information or a warning; never a failure by itself.
        Notice,
        /// The job broke one of CareerBuilder's rules.
        Invalid,
        /// What CareerBuilder holds for the Job ID (301, 302, 303).
        JobState,
        /// Our Vendor ID or the customer's account was refused.
        Auth,
        /// CareerBuilder failed mid-way; it may have acted.
        System,
    }

    /// By the code's hundred; a code outside the table is a rule broken.
    pub fn kind(code: &str) -> Kind {
        match code.trim().as_bytes().first() {
            Some(b'1') => Kind::Notice,
            Some(b'3') => Kind::JobState,
            Some(b'4') => Kind::Auth,
            Some(b'5') => Kind::System,
            _ => Kind::Invalid,
        }
    }
}

/// The DPI actions [I].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Add,
    Update,
    Expire,
}

/// The `PostStatus` values [I].
pub const POSTED: &str = "Posted";
pub const EXPIRED: &str = "Expired";
pub const FAILED: &str = "Failed";

/// `JobStatus` values of `GetJobPostStatus` [I].
pub const STATUS_ACTIVE: &str = "Active";
pub const STATUS_EXPIRED: &str = "Expired";
pub const STATUS_NOT_FOUND: &str = "NotFound";

// ---------------------------------------------------------------------------
// The DPI documents (carried as escaped strings inside the SOAP bodies).

/// The DPI header: who sends, for which account.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct DpiHeader {
    #[serde(rename = "VendorID")]
    pub vendor_id: String,
    #[serde(rename = "CustomerAccountCode")]
    pub customer_account_code: String,
    #[serde(rename = "AccountPassword")]
    pub account_password: String,
    #[serde(rename = "ReplacementDirective")]
    pub replacement_directive: String,
    #[serde(rename = "Origin")]
    pub origin: String,
}

/// Never prints the password.
impl std::fmt::Debug for DpiHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpiHeader")
            .field("vendor_id", &self.vendor_id)
            .field("customer_account_code", &self.customer_account_code)
            .field("account_password", &"[redacted]")
            .field("replacement_directive", &self.replacement_directive)
            .field("origin", &self.origin)
            .finish()
    }
}

impl DpiHeader {
    pub fn new(vendor_id: &str, customer_account_code: &str, account_password: &str) -> Self {
        Self {
            vendor_id: vendor_id.to_owned(),
            customer_account_code: customer_account_code.to_owned(),
            account_password: account_password.to_owned(),
            replacement_directive: REPLACEMENT_DIRECTIVE.to_owned(),
            origin: ORIGIN.to_owned(),
        }
    }
}

/// One job of a DPI document. Only `Action` and `JobID` are always present
/// (an Expire carries nothing else).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DpiJob {
    #[serde(rename = "Action")]
    pub action: Action,
    /// Our posting reference; CareerBuilder's `UserJobID`.
    #[serde(rename = "JobID")]
    pub job_id: String,
    /// The ATS's job id, shown to candidates.
    #[serde(
        rename = "DisplayJobID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub display_job_id: Option<String>,
    #[serde(rename = "JobTitle", default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(
        rename = "CompanyProfileName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub company_profile_name: Option<String>,
    /// HTML.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    #[serde(rename = "City", default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(rename = "State", default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(
        rename = "PostalCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub postal_code: Option<String>,
    #[serde(rename = "Country", default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(
        rename = "EmployeeType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub employee_type: Option<String>,
    #[serde(
        rename = "JobTypeCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub job_type_code: Option<String>,
    #[serde(
        rename = "BasePayLow",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub base_pay_low: Option<String>,
    #[serde(
        rename = "BasePayHigh",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub base_pay_high: Option<String>,
    #[serde(rename = "PayRate", default, skip_serializing_if = "Option::is_none")]
    pub pay_rate: Option<String>,
    #[serde(
        rename = "CurrencyCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub currency_code: Option<String>,
    #[serde(
        rename = "ApplicationURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub application_url: Option<String>,
    #[serde(
        rename = "ContactEmail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_email: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(
        rename = "ExpirationDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration_date: Option<String>,
}

impl DpiJob {
    /// The job of an Expire: the Job ID alone.
    pub fn expire(job_id: &str) -> Self {
        Self {
            action: Action::Expire,
            job_id: job_id.to_owned(),
            display_job_id: None,
            job_title: None,
            company_profile_name: None,
            description: None,
            city: None,
            state: None,
            postal_code: None,
            country: None,
            employee_type: None,
            job_type_code: None,
            base_pay_low: None,
            base_pay_high: None,
            pay_rate: None,
            currency_code: None,
            application_url: None,
            contact_email: None,
            expiration_date: None,
        }
    }
}

/// The document `ProcessJob` carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "DPIJobPost")]
pub struct DpiJobPost {
    #[serde(rename = "Header")]
    pub header: DpiHeader,
    #[serde(rename = "Job")]
    pub job: DpiJob,
}

/// The document `GetJobPostStatus` carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "DPIJobStatus")]
pub struct DpiJobStatus {
    #[serde(rename = "Header")]
    pub header: DpiHeader,
    #[serde(rename = "JobID")]
    pub job_id: String,
}

// ---------------------------------------------------------------------------
// SOAP 1.1 envelopes.

/// A SOAP envelope. Element names are read without their prefix, so a
/// client's `soapenv:` reads as well as our `soap:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "soap:Envelope")]
pub struct Envelope<B> {
    #[serde(
        rename = "@xmlns:xsi",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub xmlns_xsi: String,
    #[serde(
        rename = "@xmlns:xsd",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub xmlns_xsd: String,
    #[serde(
        rename = "@xmlns:soap",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub xmlns_soap: String,
    #[serde(rename(serialize = "soap:Body", deserialize = "Body"))]
    pub body: B,
}

impl<B> Envelope<B> {
    pub fn new(body: B) -> Self {
        Self {
            xmlns_xsi: XSI_NS.to_owned(),
            xmlns_xsd: XSD_NS.to_owned(),
            xmlns_soap: SOAP_NS.to_owned(),
            body,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessJobBody {
    #[serde(rename = "ProcessJob")]
    pub process_job: ProcessJob,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessJob {
    #[serde(rename = "@xmlns", default)]
    pub xmlns: String,
    /// A [`DpiJobPost`] document, as text.
    #[serde(rename = "xmlJob", default)]
    pub xml_job: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusBody {
    #[serde(rename = "GetJobPostStatus")]
    pub get_job_post_status: GetJobPostStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetJobPostStatus {
    #[serde(rename = "@xmlns", default)]
    pub xmlns: String,
    /// A [`DpiJobStatus`] document, as text.
    #[serde(rename = "xmlStatusRequest", default)]
    pub xml_status_request: String,
}

/// The body of `ProcessJob`'s answer: its response or a fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessJobReplyBody {
    #[serde(
        rename = "ProcessJobResponse",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub response: Option<ProcessJobResponse>,
    #[serde(
        rename(serialize = "soap:Fault", deserialize = "Fault"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fault: Option<Fault>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessJobResponse {
    #[serde(rename = "@xmlns", default)]
    pub xmlns: String,
    #[serde(rename = "ProcessJobResult")]
    pub result: ProcessJobResult,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessJobResult {
    /// Present on every answer, success included.
    #[serde(rename = "Errors", default)]
    pub errors: DpiErrors,
    #[serde(rename = "Action", default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(rename = "JobDID", default, skip_serializing_if = "Option::is_none")]
    pub job_did: Option<String>,
    #[serde(rename = "ProductID", default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(rename = "UserJobID", default, skip_serializing_if = "Option::is_none")]
    pub user_job_id: Option<String>,
    #[serde(rename = "PREndDate", default, skip_serializing_if = "Option::is_none")]
    pub pr_end_date: Option<String>,
    #[serde(
        rename = "TransactionDID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transaction_did: Option<String>,
    #[serde(
        rename = "PostStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub post_status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DpiErrors {
    #[serde(rename = "DPIError", default)]
    pub items: Vec<DpiError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DpiError {
    #[serde(rename = "ErrorCode")]
    pub error_code: String,
    #[serde(rename = "ErrorText", default)]
    pub error_text: String,
}

impl DpiErrors {
    pub fn has(&self, code: &str) -> bool {
        self.items.iter().any(|e| e.error_code.trim() == code)
    }

    /// The codes that are not information or warnings.
    pub fn failures(&self) -> impl Iterator<Item = &DpiError> {
        self.items
            .iter()
            .filter(|e| codes::kind(&e.error_code) != codes::Kind::Notice)
    }

    /// The information and warnings (kept even when the job was taken).
    pub fn notices(&self) -> impl Iterator<Item = &DpiError> {
        self.items
            .iter()
            .filter(|e| codes::kind(&e.error_code) == codes::Kind::Notice)
    }
}

/// The body of `GetJobPostStatus`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReplyBody {
    #[serde(
        rename = "GetJobPostStatusResponse",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub response: Option<StatusResponse>,
    #[serde(
        rename(serialize = "soap:Fault", deserialize = "Fault"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fault: Option<Fault>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusResponse {
    #[serde(rename = "@xmlns", default)]
    pub xmlns: String,
    #[serde(rename = "GetJobPostStatusResult")]
    pub result: JobStatusResult,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobStatusResult {
    #[serde(rename = "Errors", default)]
    pub errors: DpiErrors,
    #[serde(rename = "UserJobID", default, skip_serializing_if = "Option::is_none")]
    pub user_job_id: Option<String>,
    #[serde(rename = "JobDID", default, skip_serializing_if = "Option::is_none")]
    pub job_did: Option<String>,
    /// `Active`, `Expired` or `NotFound`.
    #[serde(rename = "JobStatus", default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<String>,
    #[serde(rename = "PREndDate", default, skip_serializing_if = "Option::is_none")]
    pub pr_end_date: Option<String>,
}

/// A SOAP 1.1 fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// `soap:Client` or `soap:Server`.
    #[serde(rename = "faultcode")]
    pub faultcode: String,
    #[serde(rename = "faultstring", default)]
    pub faultstring: String,
}

/// Serialises a document or envelope, indented, without an XML declaration.
pub fn to_xml<T: Serialize>(value: &T) -> String {
    let mut text = String::new();
    let mut serializer = quick_xml::se::Serializer::new(&mut text);
    serializer.indent(' ', 2);
    value
        .serialize(serializer)
        .expect("DPI documents and SOAP envelopes serialise");
    text
}

/// A SOAP message as sent: the XML declaration, then the envelope.
pub fn soap_message<B: Serialize>(body: B) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{}\n",
        to_xml(&Envelope::new(body))
    )
}

// ---------------------------------------------------------------------------
// Rendering: pure functions of the posting.

/// CareerBuilder's Employee Type for ours [I]; `None` where it has none.
pub fn employee_type(kind: EmploymentType) -> Option<&'static str> {
    match kind {
        EmploymentType::FullTime => Some("ETFE"),
        EmploymentType::PartTime => Some("ETPE"),
        EmploymentType::Contract => Some("ETCT"),
        EmploymentType::Temporary => Some("ETTS"),
        EmploymentType::Internship => Some("ETIN"),
        EmploymentType::Volunteer | EmploymentType::Other => None,
    }
}

/// A Job Type Code for our category [I: an invented table, to be replaced by
/// CareerBuilder's list]; `None` lets CareerBuilder categorise the job.
pub fn job_type_code(category: &str) -> Option<&'static str> {
    Some(match category.trim().to_ascii_lowercase().as_str() {
        "accounting" | "finance" => "JN001",
        "administrative" | "admin" => "JN002",
        "customer_service" | "customer-service" => "JN008",
        "engineering" => "JN011",
        "healthcare" => "JN016",
        "hospitality" => "JN017",
        "human_resources" | "hr" => "JN018",
        "information_technology" | "it" | "software" => "JN021",
        "marketing" => "JN027",
        "sales" => "JN053",
        _ => return None,
    })
}

fn pay_rate(period: PayPeriod) -> &'static str {
    match period {
        PayPeriod::Hour => "Hour",
        PayPeriod::Day => "Day",
        PayPeriod::Week => "Week",
        PayPeriod::Month => "Month",
        PayPeriod::Year => "Year",
    }
}

/// The job of an Add or Update for one language variant, with every rule
/// the adapter checks before sending.
pub fn render_job(posting: &PostingContext<'_>, action: Action) -> Result<DpiJob, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    let language = primary_language(posting.locale);
    if language != LANGUAGE {
        super::preview::broken(format!(
            "{NAME} takes ads in {LANGUAGE}; this one is in {language}"
        ))?;
    }
    let Some(location) = job.locations.iter().find(|l| l.country == COUNTRY) else {
        let mut countries: Vec<&str> = Vec::new();
        for location in &job.locations {
            if !countries.contains(&location.country.as_str()) {
                countries.push(&location.country);
            }
        }
        return Err(BoardError::rule(format!(
            "{NAME} publishes jobs in {COUNTRY}; this job is in {}",
            countries.join(", ")
        )));
    };
    check_max(NAME, "title", &ad.title, MAX_TITLE)?;
    if ad.title.trim().is_empty() {
        super::preview::broken(format!("{NAME} requires a Job Title"))?;
    }
    let has_text = !ad.summary.trim().is_empty()
        || [&ad.responsibilities, &ad.requirements, &ad.benefits]
            .iter()
            .any(|items| items.iter().any(|item| !item.trim().is_empty()));
    if !has_text {
        super::preview::broken(format!("{NAME} requires a description; this ad has none"))?;
    }
    let Some(employee_type) = employee_type(job.employment_type) else {
        return Err(BoardError::rule(format!(
            "{NAME} has no Employee Type for {} jobs",
            super::render::employment_type_name(job.employment_type).replace('_', " ")
        )));
    };
    let salary = job.salary.as_ref();
    Ok(DpiJob {
        action,
        job_id: posting.reference.to_owned(),
        display_job_id: Some(job.id.clone()),
        job_title: Some(ad.title.clone()),
        company_profile_name: Some(job.company.name.clone()),
        description: Some(html_description(ad, posting.locale)),
        city: Some(location.city.clone()),
        state: location.region.clone(),
        postal_code: location.postal_code.clone(),
        country: Some(location.country.clone()),
        employee_type: Some(employee_type.to_owned()),
        job_type_code: job
            .category
            .as_deref()
            .and_then(job_type_code)
            .map(str::to_owned),
        base_pay_low: salary.map(|s| format!("{:.2}", s.min)),
        base_pay_high: salary.map(|s| format!("{:.2}", s.max)),
        pay_rate: salary.map(|s| pay_rate(s.period).to_owned()),
        currency_code: salary.map(|s| s.currency.clone()),
        application_url: job.apply.url.clone(),
        contact_email: job.apply.email.clone(),
        expiration_date: job.valid_through.map(|t| t.date().to_string()),
    })
}

/// The whole `ProcessJob` SOAP message of one DPI document.
pub fn process_job_message(header: &DpiHeader, job: DpiJob) -> String {
    let document = DpiJobPost {
        header: header.clone(),
        job,
    };
    soap_message(ProcessJobBody {
        process_job: ProcessJob {
            xmlns: POST_NS.to_owned(),
            xml_job: to_xml(&document),
        },
    })
}

/// The `ProcessJob` message (Add or Update) for one language variant: a
/// pure function of the posting and the account header.
pub fn render(
    posting: &PostingContext<'_>,
    header: &DpiHeader,
    action: Action,
) -> Result<String, BoardError> {
    Ok(process_job_message(header, render_job(posting, action)?))
}

/// The `GetJobPostStatus` message for our Job ID.
pub fn status_message(header: &DpiHeader, job_id: &str) -> String {
    let document = DpiJobStatus {
        header: header.clone(),
        job_id: job_id.to_owned(),
    };
    soap_message(StatusBody {
        get_job_post_status: GetJobPostStatus {
            xmlns: STATUS_NS.to_owned(),
            xml_status_request: to_xml(&document),
        },
    })
}

/// The public page of a job [I]: the answer carries no URL.
pub fn job_url(job_did: &str) -> String {
    format!("https://www.careerbuilder.com/job/{job_did}")
}

// ---------------------------------------------------------------------------
// Reading answers.

/// Reads a SOAP answer: faults and non-2xx statuses become errors here.
pub fn read_reply<B: serde::de::DeserializeOwned>(
    reply: &Reply,
    fault_of: impl Fn(&B) -> Option<&Fault>,
) -> Result<B, BoardError> {
    let parsed = quick_xml::de::from_str::<Envelope<B>>(&reply.body);
    if let Ok(envelope) = &parsed
        && let Some(fault) = fault_of(&envelope.body)
    {
        return Err(fault_error(reply.status, fault));
    }
    if !reply.is_success() {
        return Err(reply.error(NAME));
    }
    parsed.map(|envelope| envelope.body).map_err(|error| {
        BoardError::new(
            ErrorClass::Ambiguous,
            Some(reply.status),
            format!(
                "{NAME} answered with a document we could not read ({error}): {}",
                http::excerpt(&reply.body)
            ),
        )
    })
}

/// `soap:Client`: the request was not understood and nothing happened;
/// anything else: CareerBuilder failed while it may have been acting.
fn fault_error(status: u16, fault: &Fault) -> BoardError {
    let client = fault.faultcode.rsplit(':').next() == Some("Client");
    let class = if client {
        ErrorClass::Rejected
    } else {
        ErrorClass::Ambiguous
    };
    BoardError::new(
        class,
        Some(status),
        http::excerpt(&format!(
            "{NAME} SOAP fault {}: {}",
            fault.faultcode, fault.faultstring
        )),
    )
}

/// The error a failed result stands for, by its DPIError codes.
pub fn failure(status: u16, errors: &DpiErrors, post_status: Option<&str>) -> BoardError {
    let failures: Vec<&DpiError> = errors.failures().collect();
    let class = if failures
        .iter()
        .any(|e| codes::kind(&e.error_code) == codes::Kind::Auth)
    {
        ErrorClass::Auth
    } else if failures
        .iter()
        .any(|e| codes::kind(&e.error_code) == codes::Kind::System)
    {
        ErrorClass::Ambiguous
    } else {
        ErrorClass::Rejected
    };
    let reasons: Vec<String> = failures
        .iter()
        .map(|e| format!("{}: {}", e.error_code.trim(), e.error_text.trim()))
        .collect();
    let message = if reasons.is_empty() {
        format!(
            "{NAME} answered PostStatus {} without an error code",
            post_status.unwrap_or("(none)")
        )
    } else {
        format!("{NAME} {}", reasons.join("; "))
    };
    BoardError::new(class, Some(status), http::excerpt(&message))
}

/// What a `ProcessJob` result means.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Taken (`Posted` with a JobDID, or `Expired`); the notices are the
    /// information and warnings CareerBuilder added.
    Done {
        job_did: Option<String>,
        notices: Vec<DpiError>,
    },
    /// Refused with this job-state code (301, 302 or 303).
    JobState(&'static str),
    Failed(BoardError),
}

/// Decides from `PostStatus` first, then the codes: the `Errors` list is
/// there on success too, so its presence means nothing.
pub fn verdict(status: u16, result: &ProcessJobResult, expected: &str) -> Verdict {
    let post_status = result.post_status.as_deref().map(str::trim);
    if post_status == Some(expected) {
        let job_did = result.job_did.clone().filter(|d| !d.trim().is_empty());
        if expected == POSTED && job_did.is_none() {
            return Verdict::Failed(BoardError::new(
                ErrorClass::Ambiguous,
                Some(status),
                format!("{NAME} answered PostStatus {POSTED} without a JobDID"),
            ));
        }
        return Verdict::Done {
            job_did,
            notices: result.errors.notices().cloned().collect(),
        };
    }
    if post_status != Some(FAILED) {
        return Verdict::Failed(BoardError::new(
            ErrorClass::Ambiguous,
            Some(status),
            format!(
                "{NAME} answered PostStatus {} to an action expecting {expected}",
                post_status.unwrap_or("(none)")
            ),
        ));
    }
    for code in [
        codes::UNKNOWN_JOB,
        codes::JOB_EXISTS,
        codes::ALREADY_EXPIRED,
    ] {
        // Only when nothing else is wrong: a broken rule or a refused
        // account outranks what CareerBuilder holds.
        let others = result
            .errors
            .failures()
            .any(|e| codes::kind(&e.error_code) != codes::Kind::JobState);
        if result.errors.has(code) && !others {
            return Verdict::JobState(code);
        }
    }
    Verdict::Failed(failure(status, &result.errors, post_status))
}

// ---------------------------------------------------------------------------
// The adapter.

pub struct CareerBuilder {
    http: reqwest::Client,
    post_url: url::Url,
    vendor_id: String,
    account_code: String,
    password: SecretString,
    timeout: std::time::Duration,
}

impl CareerBuilder {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let base = config.base_url()?;
        Ok(Self {
            http: config.http.clone(),
            post_url: base.join(POST_PATH).expect("a static path joins"),
            vendor_id: config.option("vendor_id")?,
            account_code: config.option("account_code")?,
            password: config.credential("password")?,
            timeout: config.request_timeout,
        })
    }

    fn header(&self) -> DpiHeader {
        DpiHeader::new(
            &self.vendor_id,
            &self.account_code,
            self.password.expose_secret(),
        )
    }

    async fn call(
        &self,
        url: &url::Url,
        soap_action: &'static str,
        message: String,
        log: &mut CallLog,
    ) -> Result<Reply, BoardError> {
        let request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", soap_action)
            .timeout(self.timeout)
            .body(message.clone());
        // The attempt's hash covers everything sent but the account password.
        log.record_redacted(&message, &[self.password.expose_secret()]);
        http::send(NAME, request, None, log).await
    }

    /// Sends one DPI job; answers the result with its HTTP status.
    async fn process(
        &self,
        job: DpiJob,
        log: &mut CallLog,
    ) -> Result<(u16, ProcessJobResult), BoardError> {
        let message = process_job_message(&self.header(), job);
        let reply = self
            .call(&self.post_url, PROCESS_JOB_ACTION, message, log)
            .await?;
        let body: ProcessJobReplyBody =
            read_reply(&reply, |b: &ProcessJobReplyBody| b.fault.as_ref())?;
        let response = body.response.ok_or_else(|| {
            BoardError::new(
                ErrorClass::Ambiguous,
                Some(reply.status),
                format!(
                    "{NAME} answered without a ProcessJobResult: {}",
                    http::excerpt(&reply.body)
                ),
            )
        })?;
        Ok((reply.status, response.result))
    }

    /// Adds or updates the job; on "exists" / "unknown" switches to the
    /// other action once.
    async fn post(
        &self,
        posting: &PostingContext<'_>,
        action: Action,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let (status, result) = self.process(render_job(posting, action)?, log).await?;
        match (verdict(status, &result, POSTED), action) {
            (Verdict::Done { job_did, notices }, _) => Ok(live(posting, job_did, &notices, log)),
            // Held already (a lost answer, or expired earlier): Update brings
            // that one copy in line, and back online.
            (Verdict::JobState(codes::JOB_EXISTS), Action::Add) => {
                self.post_once(posting, Action::Update, log).await
            }
            // Never got the Add: make it now.
            (Verdict::JobState(codes::UNKNOWN_JOB), Action::Update) => {
                self.post_once(posting, Action::Add, log).await
            }
            (Verdict::JobState(_), _) => Err(failure(status, &result.errors, Some(FAILED))),
            (Verdict::Failed(error), _) => Err(error),
        }
    }

    async fn post_once(
        &self,
        posting: &PostingContext<'_>,
        action: Action,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let (status, result) = self.process(render_job(posting, action)?, log).await?;
        match verdict(status, &result, POSTED) {
            Verdict::Done { job_did, notices } => Ok(live(posting, job_did, &notices, log)),
            Verdict::JobState(_) => Err(failure(status, &result.errors, Some(FAILED))),
            Verdict::Failed(error) => Err(error),
        }
    }
}

/// A live receipt; CareerBuilder's warnings go to the attempt's history
/// (and the log).
fn live(
    posting: &PostingContext<'_>,
    job_did: Option<String>,
    notices: &[DpiError],
    log: &mut CallLog,
) -> Receipt {
    for notice in notices
        .iter()
        .filter(|n| n.error_code.trim() != codes::PROCESSED)
    {
        log.notes.push(format!(
            "DPIError {}: {}",
            notice.error_code.trim(),
            notice.error_text.trim()
        ));
        tracing::info!(
            board = ID,
            reference = posting.reference,
            code = notice.error_code.trim(),
            text = notice.error_text.trim(),
            "CareerBuilder took the job with a warning"
        );
    }
    let job_did = job_did.unwrap_or_default();
    Receipt::Live {
        url: Some(job_url(&job_did)),
        external_id: job_did,
    }
}

#[async_trait]
impl Board for CareerBuilder {
    fn id(&self) -> &'static str {
        ID
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        // Also when an earlier send may have landed (`may_exist`): an Add of
        // a Job ID CareerBuilder holds answers 302 and turns into an Update.
        // RealTimeJobStatus cannot tell: it takes only the TransactionDID of
        // a queued post (`sTGDID`), which a lost answer never gave us.
        self.post(posting, Action::Add, log).await
    }

    /// Update also puts an expired job back online (`live_at_board` false).
    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.post(posting, Action::Update, log).await
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let (status, result) = self.process(DpiJob::expire(posting.reference), log).await?;
        match verdict(status, &result, EXPIRED) {
            Verdict::Done { .. } => Ok(Receipt::Withdrawn),
            // Never there, or expired already: what we wanted.
            Verdict::JobState(codes::UNKNOWN_JOB | codes::ALREADY_EXPIRED) => {
                Ok(Receipt::Withdrawn)
            }
            Verdict::JobState(_) => Err(failure(status, &result.errors, Some(FAILED))),
            Verdict::Failed(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: body.to_owned(),
        }
    }

    fn fault(code: &str) -> String {
        soap_message(ProcessJobReplyBody {
            response: None,
            fault: Some(Fault {
                faultcode: code.to_owned(),
                faultstring: "Server was unable to process request.".to_owned(),
            }),
        })
    }

    fn read(reply: &Reply) -> Result<ProcessJobReplyBody, BoardError> {
        read_reply(reply, |b: &ProcessJobReplyBody| b.fault.as_ref())
    }

    #[test]
    fn soap_faults_by_their_code() {
        let error = read(&reply(500, &fault("soap:Server"))).unwrap_err();
        assert_eq!(error.class, ErrorClass::Ambiguous);
        assert!(error.message.contains("soap:Server"), "{}", error.message);
        let error = read(&reply(500, &fault("soapenv:Client"))).unwrap_err();
        assert_eq!(error.class, ErrorClass::Rejected);
        // A 500 that is no SOAP fault is ambiguous as any 500 is.
        let error = read(&reply(500, "Internal Server Error")).unwrap_err();
        assert_eq!(error.class, ErrorClass::Ambiguous);
        assert_eq!(
            read(&reply(503, "busy")).unwrap_err().class,
            ErrorClass::Transient
        );
    }

    fn result(status: &str, errors: &[(&str, &str)]) -> ProcessJobResult {
        ProcessJobResult {
            errors: DpiErrors {
                items: errors
                    .iter()
                    .map(|(code, text)| DpiError {
                        error_code: (*code).to_owned(),
                        error_text: (*text).to_owned(),
                    })
                    .collect(),
            },
            job_did: Some("J3X".to_owned()),
            post_status: Some(status.to_owned()),
            ..ProcessJobResult::default()
        }
    }

    #[test]
    fn post_status_decides_and_codes_classify() {
        let warned = result(POSTED, &[("100", "Request processed"), ("110", "default")]);
        let Verdict::Done { job_did, notices } = verdict(200, &warned, POSTED) else {
            panic!("a Posted result with warnings is a success");
        };
        assert_eq!(job_did.as_deref(), Some("J3X"));
        assert_eq!(notices.len(), 2);

        let rejected = result(FAILED, &[("202", "Job Title is too long")]);
        let Verdict::Failed(error) = verdict(200, &rejected, POSTED) else {
            panic!("a failed result fails");
        };
        assert_eq!(error.class, ErrorClass::Rejected);
        assert_eq!(error.message, "CareerBuilder 202: Job Title is too long");

        let auth = result(FAILED, &[("402", "Invalid account")]);
        let Verdict::Failed(error) = verdict(200, &auth, POSTED) else {
            panic!("refused credentials fail");
        };
        assert_eq!(error.class, ErrorClass::Auth);

        let system = result(FAILED, &[("500", "Internal error")]);
        let Verdict::Failed(error) = verdict(200, &system, POSTED) else {
            panic!("system errors fail");
        };
        assert_eq!(error.class, ErrorClass::Ambiguous);

        let exists = result(FAILED, &[("302", "exists")]);
        assert_eq!(
            verdict(200, &exists, POSTED),
            Verdict::JobState(codes::JOB_EXISTS)
        );
        // A broken rule outranks the job's state.
        let both = result(FAILED, &[("302", "exists"), ("204", "bad type")]);
        assert!(matches!(verdict(200, &both, POSTED), Verdict::Failed(_)));

        let queued = result("Queued", &[("100", "ok")]);
        let Verdict::Failed(error) = verdict(200, &queued, POSTED) else {
            panic!("an unknown PostStatus is not a success");
        };
        assert_eq!(error.class, ErrorClass::Ambiguous);
    }

    #[test]
    fn the_hash_input_masks_the_password_even_escaped_twice() {
        // The DPI document travels escaped inside xmlJob: `&` becomes `&amp;amp;`.
        let password = "p&ss<w>\"o'rd";
        let message = status_message(&DpiHeader::new("v", "a", password), "bc1");
        assert!(message.contains("p&amp;amp;ss&amp;lt;w"), "{message}");
        let hashed = crate::boards::redact(&message, &[password]);
        assert!(!hashed.contains("ss&amp;amp;lt;w") && !hashed.contains("p&amp;amp;ss"));
        assert!(hashed.contains("AccountPassword&gt;********&lt;/AccountPassword"));
        let other = status_message(&DpiHeader::new("v", "a", "hunter2"), "bc1");
        assert_eq!(hashed, crate::boards::redact(&other, &["hunter2"]));
    }

    #[test]
    fn the_header_never_prints_the_password() {
        let header = DpiHeader::new("v", "a", "hunter2");
        assert!(!format!("{header:?}").contains("hunter2"));
    }
}
