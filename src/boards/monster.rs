//! Monster Real Time Posting (RTP): SOAP 1.1 over HTTPS to Monster's Business
//! Gateway (BGW), one job per request (BOARDS.md §2 row 8, §3.7, §6.1).
//!
//! Documented [V MON]: the envelope (`SOAP-ENV:Envelope`, header
//! `mh:MonsterHeader{MessageData{MessageId, Timestamp}}` plus WS-Security
//! `wsse:Security/UsernameToken{Username, Password}`); at most one job per
//! request; the body `<Job jobRefCode jobAction inventoryType jobComplete
//! xmlns="http://schemas.monster.com/Monster">`; `jobRefCode` required, ≤ 50
//! characters, ours; `jobAction` `addOrUpdate` (recommended: it posts new ads
//! and updates active ones) | `add` | `delete`; `RecruiterReference/UserName`
//! required; `JobTitle` required, ≤ 100 characters; `JobLevel`, `JobType` and
//! `JobStatus` `monsterId`s required, `JobType` 1 employee, 2
//! temporary/contract, 3 intern, 20 seasonal (US channel); Salary optional;
//! requests "encoded in Windows-1252", UTF-8 accepted but limited to the
//! Windows-1252 subset, so Greek cannot go to Monster at all.
//!
//! Seen in public client code [V2] (the `hrflow-connectors` Monster connector,
//! and a public C# RTP client in the search index, file id 34880091318, which
//! copies Monster's lookup lists): the endpoint `POST …/bgwBroker` with
//! `text/xml`; the element order `RecruiterReference`, `Channel`,
//! `JobInformation{JobTitle, JobLevel, JobType, JobStatus, Salary,
//! PhysicalAddress, JobBody}`, `JobPostings/JobPosting{Location, JobCategory,
//! JobOccupations, BoardName}`; the lookup ids used here: `JobLevel` 10–16
//! (12 = experienced, non-manager), `JobType` 75 = volunteer, `JobStatus`
//! 4 full time / 5 part time / 26 per diem, `Currency` USD 1, EUR 2, CHF 8,
//! GBP 15, `CompensationType` 1 year / 2 hour / 3 week / 4 month / 6 day, the
//! channels per country and language (US 58, UK 200, DE 419, AT 3252, CH 800
//! German / 916 French, FR 120, ES 437), `JobCategory` 11 and
//! `JobOccupation` 11892 = other, `BoardName` 1 = Monster (178 on the test
//! board), `JobBody` at least 25 characters, and the answer's `postingId`
//! attribute with the public page `jobview.monster.com/getjob.aspx?jobid=…`.
//!
//! Apply routing [V2, Odoo's Monster RTP integration,
//! `hr_recruitment_integration_monster` `_prepare_monster_data` and its
//! website extension]: `JobInformation/Contact{Name, CompanyName, E-mail}`,
//! `E-mail` set when candidates apply by e-mail, and
//! `JobInformation/CustomApplyOnlineURL` with the job's apply page when they
//! apply on the employer's site. The position of `Contact` (before
//! `PhysicalAddress`) follows a public PHP RTP client; that of
//! `CustomApplyOnlineURL` (after `PhysicalAddress`) is [I].
//!
//! Inferred [I], and modelled the same way in the sandbox: the countries (US,
//! GB, DE, AT, CH, FR, ES) and languages (en, de, fr, es) we send; the answer
//! document (`JobResponse{Status{ReturnCode, Descriptions}, JobPostingResponse/
//! JobPosting@postingId{JobViewURL}}`), following the SOAP 1.1 conventions the
//! envelope already follows: every fault comes with HTTP 500 and is read by
//! its `faultcode` (`SOAP-ENV:Client` = we sent something wrong → Rejected;
//! `wsse:FailedAuthentication` = credentials refused → Auth;
//! `SOAP-ENV:Server` → Ambiguous), and deleting a job the BGW does not hold
//! answers `SOAP-ENV:Client.JobNotFound` (SOAP 1.1's dotted sub-code); the
//! HTML Monster keeps in `JobBody` (`p, br, ul, ol, li, b, strong, i, em,
//! u`, no attributes: headings become `<p><strong>`, as for Google, §6.2).
//! Rates: none documented for RTP (the one-update-a-day rule is the Job Ad
//! Feed's, §3.7), so no limit is declared.
//!
//! Idempotency: publish and update both send `addOrUpdate` keyed by our
//! reference, so a re-send after a lost answer updates the one job instead of
//! adding a second, and an update of a withdrawn job posts it again.

use async_trait::async_trait;
use encoding_rs::WINDOWS_1252;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::http::{self, Reply};
use super::render::{check_max, check_min, headings};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::{EmploymentType, LocalizedAd, PayPeriod, primary_language};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "SOAP 1.1 Real Time Posting (addOrUpdate/delete, one job per request), WS-Security UsernameToken, Windows-1252";
pub const ID: &str = "monster";
const NAME: &str = "Monster";

pub const MAX_TITLE: usize = 100;
pub const MAX_JOB_REF_CODE: usize = 50;
/// [V2]: the BGW refuses a shorter `JobBody`.
pub const MIN_JOB_BODY: usize = 25;
/// Languages we send Monster [I]; Greek cannot be written in Windows-1252.
pub const LANGUAGES: [&str; 4] = ["en", "de", "fr", "es"];
/// Countries we send Monster jobs in [I] (ISO 3166-1; the UK is GB).
pub const COUNTRIES: [&str; 7] = ["US", "GB", "DE", "AT", "CH", "FR", "ES"];
/// Tags `JobBody` may hold [I]; everything we render stays inside them.
pub const BODY_TAGS: [&str; 10] = ["p", "br", "ul", "ol", "li", "b", "strong", "i", "em", "u"];

pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const HEADER_NS: &str = "http://schemas.monster.com/MonsterHeader";
pub const WSSE_NS: &str = "http://schemas.xmlsoap.org/ws/2002/04/secext";
pub const MONSTER_NS: &str = "http://schemas.monster.com/Monster";
/// The charset requests travel in, in the XML declaration and the Content-Type.
pub const CHARSET: &str = "windows-1252";
pub const CONTENT_TYPE: &str = "text/xml; charset=windows-1252";

/// `JobType` ids [V; 75 volunteer V2].
pub const JOB_TYPE_EMPLOYEE: u32 = 1;
pub const JOB_TYPE_TEMPORARY_CONTRACT: u32 = 2;
pub const JOB_TYPE_INTERN: u32 = 3;
pub const JOB_TYPE_SEASONAL: u32 = 20;
pub const JOB_TYPE_VOLUNTEER: u32 = 75;
/// `JobStatus` ids [V2].
pub const JOB_STATUS_FULL_TIME: u32 = 4;
pub const JOB_STATUS_PART_TIME: u32 = 5;
pub const JOB_STATUS_PER_DIEM: u32 = 26;

/// `Currency` ids of the currencies our countries pay in [V2].
pub const CURRENCIES: [(&str, u32); 4] = [("USD", 1), ("EUR", 2), ("CHF", 8), ("GBP", 15)];

/// Monster's site (channel) for a country and language [V2]; a pair without
/// one goes to the account's default channel.
pub const CHANNELS: [(&str, &str, u32); 8] = [
    ("US", "en", 58),
    ("GB", "en", 200),
    ("DE", "de", 419),
    ("AT", "de", 3252),
    ("CH", "de", 800),
    ("CH", "fr", 916),
    ("FR", "fr", 120),
    ("ES", "es", 437),
];

pub fn channel(country: &str, language: &str) -> Option<u32> {
    CHANNELS
        .iter()
        .find(|(c, l, _)| *c == country && *l == language)
        .map(|(_, _, id)| *id)
}

// ---------------------------------------------------------------------------
// Wire types. Element names carry their prefixes when we write them; quick-xml
// reads elements by local name, hence the separate serialize/deserialize names.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobAction {
    AddOrUpdate,
    Add,
    Delete,
}

/// An attribute-only element such as `<JobType monsterId="1"/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonsterId {
    #[serde(rename = "@monsterId")]
    pub monster_id: u32,
}

fn id(monster_id: u32) -> MonsterId {
    MonsterId { monster_id }
}

/// The body of one request: the job, or just its reference for a delete.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename = "Job", rename_all = "PascalCase")]
pub struct MonsterJob {
    #[serde(rename = "@jobRefCode")]
    pub job_ref_code: String,
    #[serde(rename = "@jobAction")]
    pub job_action: JobAction,
    #[serde(rename = "@inventoryType", skip_serializing_if = "Option::is_none")]
    pub inventory_type: Option<String>,
    #[serde(rename = "@jobComplete", skip_serializing_if = "Option::is_none")]
    pub job_complete: Option<bool>,
    #[serde(rename = "@xmlns")]
    pub xmlns: String,
    pub recruiter_reference: RecruiterReference,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<MonsterId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_information: Option<JobInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_postings: Option<JobPostings>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecruiterReference {
    pub user_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobInformation {
    pub job_title: String,
    pub job_level: MonsterId,
    pub job_type: MonsterId,
    pub job_status: MonsterId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salary: Option<Salary>,
    /// Who candidates reach, with the apply e-mail when there is one.
    pub contact: Contact,
    pub physical_address: Address,
    /// The employer's apply page: Monster's apply button sends candidates there.
    #[serde(
        rename = "CustomApplyOnlineURL",
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_apply_online_url: Option<String>,
    /// HTML, reduced to [`BODY_TAGS`].
    pub job_body: String,
}

/// `JobInformation/Contact` as Odoo's Monster RTP integration sends it:
/// `CompanyName` always, `E-mail` when candidates apply by e-mail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Contact {
    pub company_name: String,
    #[serde(rename = "E-mail", skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Salary {
    pub currency: MonsterId,
    pub salary_min: String,
    pub salary_max: String,
    pub compensation_type: MonsterId,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    pub city: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub country_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobPostings {
    #[serde(rename = "JobPosting")]
    pub job_posting: Vec<JobPosting>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobPosting {
    pub location: Address,
    pub job_category: MonsterId,
    pub job_occupations: JobOccupations,
    pub board_name: MonsterId,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobOccupations {
    #[serde(rename = "JobOccupation")]
    pub job_occupation: Vec<MonsterId>,
}

/// `mh:MonsterHeader`, in requests and (echoed) in answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonsterHeader {
    #[serde(rename = "@xmlns:mh", default)]
    pub xmlns: String,
    #[serde(rename(serialize = "mh:MessageData", deserialize = "MessageData"))]
    pub message_data: MessageData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageData {
    #[serde(rename(serialize = "mh:MessageId", deserialize = "MessageId"))]
    pub message_id: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(rename(serialize = "mh:Timestamp", deserialize = "Timestamp"))]
    pub timestamp: String,
}

impl MonsterHeader {
    pub fn new(message_id: impl Into<String>, timestamp: impl Into<String>) -> Self {
        Self {
            xmlns: HEADER_NS.to_owned(),
            message_data: MessageData {
                message_id: message_id.into(),
                timestamp: timestamp.into(),
            },
        }
    }
}

/// A request envelope. It holds the password, so it has no `Debug`.
#[derive(Serialize)]
#[serde(rename = "SOAP-ENV:Envelope")]
pub struct Envelope<'a> {
    #[serde(rename = "@xmlns:SOAP-ENV")]
    xmlns: &'static str,
    #[serde(rename = "SOAP-ENV:Header")]
    header: RequestHeader<'a>,
    #[serde(rename = "SOAP-ENV:Body")]
    body: RequestBody<'a>,
}

#[derive(Serialize)]
struct RequestHeader<'a> {
    #[serde(rename = "mh:MonsterHeader")]
    monster_header: MonsterHeader,
    #[serde(rename = "wsse:Security")]
    security: Security<'a>,
}

#[derive(Serialize)]
struct Security<'a> {
    #[serde(rename = "@xmlns:wsse")]
    xmlns: &'static str,
    #[serde(rename = "wsse:UsernameToken")]
    token: UsernameToken<'a>,
}

#[derive(Serialize)]
struct UsernameToken<'a> {
    #[serde(rename = "wsse:Username")]
    username: &'a str,
    #[serde(rename = "wsse:Password")]
    password: &'a str,
}

#[derive(Serialize)]
struct RequestBody<'a> {
    #[serde(rename = "Job")]
    job: &'a MonsterJob,
}

/// Wraps `job` in the SOAP envelope with the message data and credentials.
pub fn envelope<'a>(
    job: &'a MonsterJob,
    header: MonsterHeader,
    username: &'a str,
    password: &'a str,
) -> Envelope<'a> {
    Envelope {
        xmlns: SOAP_ENV_NS,
        header: RequestHeader {
            monster_header: header,
            security: Security {
                xmlns: WSSE_NS,
                token: UsernameToken { username, password },
            },
        },
        body: RequestBody { job },
    }
}

/// An answer envelope: a job response or a SOAP fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename(serialize = "SOAP-ENV:Envelope", deserialize = "Envelope"))]
pub struct ResponseEnvelope {
    #[serde(rename = "@xmlns:SOAP-ENV", default)]
    pub xmlns: String,
    #[serde(
        rename(serialize = "SOAP-ENV:Header", deserialize = "Header"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub header: Option<ResponseHeader>,
    #[serde(rename(serialize = "SOAP-ENV:Body", deserialize = "Body"))]
    pub body: ResponseBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseHeader {
    #[serde(rename(serialize = "mh:MonsterHeader", deserialize = "MonsterHeader"))]
    pub monster_header: MonsterHeader,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseBody {
    #[serde(
        rename(serialize = "SOAP-ENV:Fault", deserialize = "Fault"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fault: Option<Fault>,
    #[serde(
        rename = "JobResponse",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub job_response: Option<JobResponse>,
}

/// A SOAP 1.1 fault; `faultcode` is a qualified name such as `SOAP-ENV:Client`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(
        rename = "@xmlns:wsse",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub xmlns_wsse: Option<String>,
    pub faultcode: String,
    pub faultstring: String,
}

impl Fault {
    /// The code without its prefix: `Client`, `Client.JobNotFound`, `FailedAuthentication`.
    pub fn code(&self) -> &str {
        let code = self.faultcode.trim();
        code.rsplit_once(':').map_or(code, |(_, local)| local)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResponse {
    #[serde(rename = "@jobRefCode")]
    pub job_ref_code: String,
    #[serde(rename = "@xmlns", default)]
    pub xmlns: String,
    #[serde(rename = "Status")]
    pub status: Status,
    #[serde(
        rename = "JobPostingResponse",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub posting: Option<JobPostingResponse>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    #[serde(rename = "ReturnCode")]
    pub return_code: ReturnCode,
    #[serde(
        rename = "Descriptions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub descriptions: Option<Descriptions>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnCode {
    /// `success`, `warning` or `failure`.
    #[serde(rename = "@returnCodeType")]
    pub return_code_type: String,
    #[serde(rename = "$text", default)]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptions {
    #[serde(rename = "Description", default)]
    pub description: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPostingResponse {
    #[serde(rename = "JobPosting", default)]
    pub job_posting: Vec<PostedJob>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostedJob {
    #[serde(rename = "@postingId")]
    pub posting_id: String,
    #[serde(
        rename = "JobViewURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub job_view_url: Option<String>,
}

/// Serialises any of the documents above, indented, without a declaration.
pub fn to_xml_fragment<T: Serialize>(document: &T) -> String {
    let mut text = String::new();
    let mut serializer = quick_xml::se::Serializer::new(&mut text);
    serializer.indent(' ', 2);
    document
        .serialize(serializer)
        .expect("Monster documents serialise");
    text
}

/// The request as text, with its Windows-1252 declaration.
pub fn to_xml(envelope: &Envelope<'_>) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"{CHARSET}\"?>\n{}\n",
        to_xml_fragment(envelope)
    )
}

/// The request as sent: its text encoded in Windows-1252.
pub fn encode(envelope: &Envelope<'_>) -> Result<Vec<u8>, BoardError> {
    to_windows_1252(&to_xml(envelope)).ok_or_else(|| {
        // `render` checked the ad's text, so only the account's settings can
        // land here; they are never quoted (the password is among them).
        BoardError::rule(
            "the credentials or the recruiter user name hold characters Windows-1252 cannot carry; Monster takes Windows-1252 only",
        )
    })
}

/// `text` in Windows-1252, or `None` when a character has no byte there.
pub fn to_windows_1252(text: &str) -> Option<Vec<u8>> {
    if text.chars().any(|c| !is_carried(c)) {
        return None;
    }
    let (bytes, _, unmappable) = WINDOWS_1252.encode(text);
    (!unmappable).then(|| bytes.into_owned())
}

/// Whether Monster's Windows-1252 XML can carry `c`. The WHATWG table maps
/// the five bytes Windows-1252 leaves undefined to C1 controls; those, and
/// the C0 controls XML 1.0 forbids, are refused too.
pub fn is_carried(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        c if c.is_ascii() => !c.is_ascii_control(),
        '\u{80}'..='\u{9f}' => false,
        c => {
            let mut buffer = [0; 4];
            let (_, _, unmappable) = WINDOWS_1252.encode(c.encode_utf8(&mut buffer));
            !unmappable
        }
    }
}

/// Refuses `text` naming `field` and its first character Monster cannot carry.
pub fn check_carried(field: &str, text: &str) -> Result<(), BoardError> {
    match text.chars().find(|c| !is_carried(*c)) {
        None => Ok(()),
        Some(c) if c.is_control() => Err(BoardError::rule(format!(
            "{field} contains the control character U+{:04X}, which {NAME}'s Windows-1252 XML cannot carry",
            c as u32
        ))),
        Some(c) => Err(BoardError::rule(format!(
            "{field} contains '{c}', which Windows-1252 cannot carry; {NAME} takes Windows-1252 only"
        ))),
    }
}

// ---------------------------------------------------------------------------
// Rendering.

/// The account settings every job carries (non-secret, from `[boards.monster.options]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `RecruiterReference/UserName`: the Monster recruiter who owns the jobs.
    pub recruiter_username: String,
    /// `JobLevel` for every job (our model has no seniority).
    pub job_level: u32,
    pub job_category: u32,
    pub job_occupation: u32,
    /// `BoardName`: 1 is Monster itself, 178 Monster's test board.
    pub board: u32,
}

/// Escapes text for HTML element content (quotes need none there).
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The ad as Monster's `JobBody`: summary, then each section under a bold
/// paragraph (Monster keeps no headings [I]).
pub fn job_body(ad: &LocalizedAd, locale: &str) -> String {
    let titles = headings(locale);
    let mut html = format!("<p>{}</p>", escape_text(&ad.summary));
    for (heading, items) in [
        (titles.responsibilities, &ad.responsibilities),
        (titles.requirements, &ad.requirements),
        (titles.benefits, &ad.benefits),
    ] {
        if items.is_empty() {
            continue;
        }
        html.push_str(&format!("<p><strong>{}</strong></p>", escape_text(heading)));
        html.push_str("<ul>");
        for item in items {
            html.push_str("<li>");
            html.push_str(&escape_text(item));
            html.push_str("</li>");
        }
        html.push_str("</ul>");
    }
    html
}

/// A salary figure as Monster reads it: whole numbers without a fraction.
fn amount(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn job_type(kind: EmploymentType) -> Result<u32, BoardError> {
    Ok(match kind {
        EmploymentType::FullTime | EmploymentType::PartTime => JOB_TYPE_EMPLOYEE,
        EmploymentType::Contract | EmploymentType::Temporary => JOB_TYPE_TEMPORARY_CONTRACT,
        EmploymentType::Internship => JOB_TYPE_INTERN,
        EmploymentType::Volunteer => JOB_TYPE_VOLUNTEER,
        EmploymentType::Other => {
            return Err(BoardError::rule(format!(
                "employment type \"other\" has no {NAME} JobType; {NAME} takes employee, temporary/contract, intern, seasonal or volunteer jobs"
            )));
        }
    })
}

fn compensation_type(period: PayPeriod) -> u32 {
    match period {
        PayPeriod::Year => 1,
        PayPeriod::Hour => 2,
        PayPeriod::Week => 3,
        PayPeriod::Month => 4,
        PayPeriod::Day => 6,
    }
}

/// Builds the `<Job>` for one language variant: a pure function of the posting.
/// A delete carries only the reference and the recruiter.
pub fn render(
    posting: &PostingContext<'_>,
    account: &Account,
    action: JobAction,
) -> Result<MonsterJob, BoardError> {
    check_max(NAME, "jobRefCode", posting.reference, MAX_JOB_REF_CODE)?;
    let mut request = MonsterJob {
        job_ref_code: posting.reference.to_owned(),
        job_action: action,
        inventory_type: None,
        job_complete: None,
        xmlns: MONSTER_NS.to_owned(),
        recruiter_reference: RecruiterReference {
            user_name: account.recruiter_username.clone(),
        },
        channel: None,
        job_information: None,
        job_postings: None,
    };
    if action == JobAction::Delete {
        return Ok(request);
    }

    let job = posting.job;
    let ad = posting.ad;
    let language = primary_language(posting.locale);
    if !LANGUAGES.contains(&language) {
        super::preview::broken(format!(
            "{NAME} publishes in {}; this ad is in {language}",
            LANGUAGES.join(", ")
        ))?;
    }
    let served: Vec<_> = job
        .locations
        .iter()
        .filter(|l| COUNTRIES.contains(&l.country.as_str()))
        .collect();
    let Some(first) = served.first() else {
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
    // One location per job: the first one whose Monster site speaks the ad's
    // language, else the first one Monster serves.
    let location = served
        .iter()
        .find(|l| channel(&l.country, language).is_some())
        .unwrap_or(first);

    check_min(NAME, "title", ad.title.trim(), 1)?;
    check_max(NAME, "title", &ad.title, MAX_TITLE)?;
    check_carried("title", &ad.title)?;
    let body = job_body(ad, posting.locale);
    check_min(NAME, "description", &body, MIN_JOB_BODY)?;
    check_carried("description", &body)?;
    check_carried("city", &location.city)?;
    if let Some(region) = &location.region {
        check_carried("region", region)?;
    }
    if let Some(postal_code) = &location.postal_code {
        check_carried("postal code", postal_code)?;
    }

    // Apply routing: without it candidates cannot reach the employer.
    let apply_url = job
        .apply
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let apply_email = job
        .apply
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if apply_url.is_none() && apply_email.is_none() {
        super::preview::broken(format!(
            "{NAME} needs an apply URL or e-mail to route candidates; this job has neither"
        ))?;
    }
    if let Some(url) = apply_url {
        check_carried("apply URL", url)?;
    }
    if let Some(email) = apply_email {
        check_carried("apply e-mail", email)?;
    }
    check_carried("company name", &job.company.name)?;

    let salary = match &job.salary {
        None => None,
        Some(salary) => {
            let Some((_, currency)) = CURRENCIES.iter().find(|(c, _)| *c == salary.currency) else {
                return Err(BoardError::rule(format!(
                    "salary currency {} is not one {NAME} takes here ({})",
                    salary.currency,
                    CURRENCIES.map(|(c, _)| c).join(", ")
                )));
            };
            Some(Salary {
                currency: id(*currency),
                salary_min: amount(salary.min),
                salary_max: amount(salary.max),
                compensation_type: id(compensation_type(salary.period)),
            })
        }
    };
    let address = Address {
        city: location.city.clone(),
        state: location.region.clone(),
        country_code: location.country.clone(),
        postal_code: location.postal_code.clone(),
    };
    request.inventory_type = Some("transactional".to_owned());
    request.job_complete = Some(true);
    request.channel = channel(&location.country, language).map(id);
    request.job_information = Some(JobInformation {
        job_title: ad.title.clone(),
        job_level: id(account.job_level),
        job_type: id(job_type(job.employment_type)?),
        job_status: id(if job.employment_type == EmploymentType::PartTime {
            JOB_STATUS_PART_TIME
        } else {
            JOB_STATUS_FULL_TIME
        }),
        salary,
        contact: Contact {
            company_name: job.company.name.clone(),
            email: apply_email.map(str::to_owned),
        },
        physical_address: address.clone(),
        custom_apply_online_url: apply_url.map(str::to_owned),
        job_body: body,
    });
    request.job_postings = Some(JobPostings {
        job_posting: vec![JobPosting {
            location: address,
            job_category: id(account.job_category),
            job_occupations: JobOccupations {
                job_occupation: vec![id(account.job_occupation)],
            },
            board_name: id(account.board),
        }],
    });
    Ok(request)
}

// ---------------------------------------------------------------------------
// The adapter.

pub struct Monster {
    http: reqwest::Client,
    url: url::Url,
    username: SecretString,
    password: SecretString,
    account: Account,
    timeout: std::time::Duration,
}

fn numeric_option(config: &BoardConfig<'_>, name: &str) -> Result<u32, BuildError> {
    config
        .option(name)?
        .trim()
        .parse()
        .map_err(|_| BuildError::MissingOption {
            board: config.id.to_owned(),
            key: config.id.replace('-', "_"),
            name: format!("{name} (a Monster id: digits only)"),
        })
}

impl Monster {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        Ok(Self {
            http: config.http.clone(),
            url: config.base_url()?.join("bgwBroker").expect("static path"),
            username: config.credential("username")?,
            password: config.credential("password")?,
            account: Account {
                recruiter_username: config.option("recruiter_username")?,
                job_level: numeric_option(config, "job_level")?,
                job_category: numeric_option(config, "job_category")?,
                job_occupation: numeric_option(config, "job_occupation")?,
                board: numeric_option(config, "board_id")?,
            },
            timeout: config.request_timeout,
        })
    }

    /// Sends one job action; the BGW's answer is either a job response or a fault.
    async fn call(
        &self,
        posting: &PostingContext<'_>,
        action: JobAction,
        log: &mut CallLog,
    ) -> Result<Answer, BoardError> {
        let job = render(posting, &self.account, action)?;
        let header = MonsterHeader::new(
            format!(
                "boardcast {} {}",
                posting.reference, posting.idempotency_key
            ),
            now(),
        );
        let bytes = encode(&envelope(
            &job,
            header,
            self.username.expose_secret(),
            self.password.expose_secret(),
        ))?;
        // The attempt's hash covers the job as sent, not the envelope: that
        // carries the password and a fresh timestamp.
        let job_bytes = to_windows_1252(&to_xml_fragment(&job)).unwrap_or_default();
        let request = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .timeout(self.timeout)
            .body(bytes);
        let reply = http::send(NAME, request, Some(&job_bytes), log).await?;
        read(&reply, posting.reference)
    }
}

fn now() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .expect("a UTC time formats")
}

/// What the BGW answered, short of transport and HTTP-level failures.
#[derive(Debug)]
enum Answer {
    Done(JobResponse),
    Fault(Fault, u16),
}

/// Reads the BGW's answer. SOAP 1.1 sends every fault with HTTP 500, so the
/// fault code decides, never the status alone; statuses without a SOAP body
/// (503, 429, a proxy's 500) are classified by status.
fn read(reply: &Reply, reference: &str) -> Result<Answer, BoardError> {
    if matches!(reply.status, 408 | 429 | 503) {
        return Err(reply.error(NAME));
    }
    let document: ResponseEnvelope = match quick_xml::de::from_str(&reply.body) {
        Ok(document) => document,
        Err(_) if !reply.is_success() => return Err(reply.error(NAME)),
        Err(error) => {
            return Err(BoardError::new(
                ErrorClass::Ambiguous,
                Some(reply.status),
                format!(
                    "{NAME} answered with a document we could not read ({error}): {}",
                    http::excerpt(&reply.body)
                ),
            ));
        }
    };
    if let Some(fault) = document.body.fault {
        return Ok(Answer::Fault(fault, reply.status));
    }
    if !reply.is_success() {
        return Err(reply.error(NAME));
    }
    match document.body.job_response {
        Some(response) if response.job_ref_code == reference => Ok(Answer::Done(response)),
        _ => Err(BoardError::new(
            ErrorClass::Ambiguous,
            Some(reply.status),
            format!(
                "{NAME}'s answer does not report on job {reference}: {}",
                http::excerpt(&reply.body)
            ),
        )),
    }
}

/// A fault, classified by its code.
fn fault_error(fault: &Fault, status: u16) -> BoardError {
    let code = fault.code();
    let (class, what) = if matches!(
        code,
        "FailedAuthentication" | "InvalidSecurityToken" | "InvalidSecurity"
    ) {
        (ErrorClass::Auth, "refused our username and password")
    } else if code == "Server" || code.starts_with("Server.") {
        (ErrorClass::Ambiguous, "failed while handling the job")
    } else {
        // Client, VersionMismatch, MustUnderstand: what we sent is wrong.
        (ErrorClass::Rejected, "refused the job")
    };
    BoardError::new(
        class,
        Some(status),
        format!(
            "{NAME} {what} ({}): {}",
            fault.faultcode.trim(),
            http::excerpt(&fault.faultstring)
        ),
    )
}

fn descriptions(response: &JobResponse) -> String {
    response
        .status
        .descriptions
        .as_ref()
        .map(|d| d.description.join("; "))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "no description".to_owned())
}

fn succeeded(response: &JobResponse) -> Result<(), BoardError> {
    let kind = response.status.return_code.return_code_type.as_str();
    if kind.eq_ignore_ascii_case("success") || kind.eq_ignore_ascii_case("warning") {
        Ok(())
    } else {
        Err(BoardError::new(
            ErrorClass::Rejected,
            Some(200),
            format!(
                "{NAME} refused job {} ({kind} {}): {}",
                response.job_ref_code,
                response.status.return_code.value.trim(),
                descriptions(response)
            ),
        ))
    }
}

fn live(response: JobResponse) -> Result<Receipt, BoardError> {
    succeeded(&response)?;
    let posted = response
        .posting
        .and_then(|p| p.job_posting.into_iter().next())
        .filter(|p| !p.posting_id.trim().is_empty());
    match posted {
        Some(posted) => Ok(Receipt::Live {
            external_id: posted.posting_id,
            url: posted.job_view_url,
        }),
        None => Err(BoardError::new(
            ErrorClass::Ambiguous,
            Some(200),
            format!(
                "{NAME} accepted job {} without a posting id",
                response.job_ref_code
            ),
        )),
    }
}

#[async_trait]
impl Board for Monster {
    fn id(&self) -> &'static str {
        ID
    }

    /// `addOrUpdate`: a re-send after a lost answer (`may_exist`) updates
    /// the one job Monster holds under our reference.
    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        match self.call(posting, JobAction::AddOrUpdate, log).await? {
            Answer::Done(response) => live(response),
            Answer::Fault(fault, status) => Err(fault_error(&fault, status)),
        }
    }

    /// `addOrUpdate` again: it also posts a withdrawn job anew.
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
        match self.call(posting, JobAction::Delete, log).await? {
            Answer::Done(response) => {
                succeeded(&response)?;
                Ok(Receipt::Withdrawn)
            }
            // Never there, or deleted already: what we wanted.
            Answer::Fault(fault, _) if fault.code() == "Client.JobNotFound" => {
                Ok(Receipt::Withdrawn)
            }
            Answer::Fault(fault, status) => Err(fault_error(&fault, status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: body.to_owned(),
        }
    }

    fn fault_body(code: &str, reason: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV_NS}\"><SOAP-ENV:Body><SOAP-ENV:Fault xmlns:wsse=\"{WSSE_NS}\"><faultcode>{code}</faultcode><faultstring>{reason}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
        )
    }

    fn fault_class(status: u16, code: &str) -> ErrorClass {
        match read(&reply(status, &fault_body(code, "why")), "bcref") {
            Ok(Answer::Fault(fault, status)) => fault_error(&fault, status).class,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn faults_are_classified_by_their_code_not_the_status() {
        assert_eq!(fault_class(500, "SOAP-ENV:Client"), ErrorClass::Rejected);
        assert_eq!(
            fault_class(500, "soap:Client.Validation"),
            ErrorClass::Rejected
        );
        assert_eq!(
            fault_class(500, "wsse:FailedAuthentication"),
            ErrorClass::Auth
        );
        assert_eq!(fault_class(500, "SOAP-ENV:Server"), ErrorClass::Ambiguous);
        assert_eq!(
            fault_class(500, "SOAP-ENV:VersionMismatch"),
            ErrorClass::Rejected
        );
        // A fault in a 200 is still a fault.
        assert_eq!(fault_class(200, "SOAP-ENV:Client"), ErrorClass::Rejected);
        let Ok(Answer::Fault(fault, _)) = read(
            &reply(500, &fault_body("SOAP-ENV:Client.JobNotFound", "none")),
            "bcref",
        ) else {
            panic!("a fault");
        };
        assert_eq!(fault.code(), "Client.JobNotFound");
    }

    #[test]
    fn statuses_without_a_soap_body_are_classified_by_status() {
        let error = |status| read(&reply(status, "busy"), "bcref").unwrap_err().class;
        assert_eq!(error(503), ErrorClass::Transient);
        assert_eq!(error(500), ErrorClass::Ambiguous);
        assert_eq!(error(502), ErrorClass::Ambiguous);
        let mut throttled = reply(429, "slow down");
        throttled
            .headers
            .insert(RETRY_AFTER, HeaderValue::from_static("30"));
        let error = read(&throttled, "bcref").unwrap_err();
        assert_eq!(error.class, ErrorClass::Throttled);
        assert_eq!(error.retry_after, Some(std::time::Duration::from_secs(30)));
        // A 200 we cannot read may have posted the job.
        assert_eq!(
            error_class_of_200("<html>oops</html>"),
            ErrorClass::Ambiguous
        );
    }

    fn error_class_of_200(body: &str) -> ErrorClass {
        read(&reply(200, body), "bcref").unwrap_err().class
    }

    #[test]
    fn a_success_without_a_posting_id_or_for_another_job_is_ambiguous() {
        let response = |reference: &str, posting: &str| {
            format!(
                "<Envelope><Body><JobResponse jobRefCode=\"{reference}\"><Status><ReturnCode returnCodeType=\"success\">0</ReturnCode></Status>{posting}</JobResponse></Body></Envelope>"
            )
        };
        assert_eq!(
            error_class_of_200(&response("bcother", "")),
            ErrorClass::Ambiguous
        );
        let Ok(Answer::Done(done)) = read(&reply(200, &response("bcref", "")), "bcref") else {
            panic!("a response");
        };
        assert_eq!(live(done).unwrap_err().class, ErrorClass::Ambiguous);
        let posted = response(
            "bcref",
            "<JobPostingResponse><JobPosting postingId=\"42\"><JobViewURL>https://jobview.monster.com/getjob.aspx?jobid=42</JobViewURL></JobPosting></JobPostingResponse>",
        );
        let Ok(Answer::Done(done)) = read(&reply(200, &posted), "bcref") else {
            panic!("a response");
        };
        assert_eq!(
            live(done).unwrap(),
            Receipt::Live {
                external_id: "42".into(),
                url: Some("https://jobview.monster.com/getjob.aspx?jobid=42".into())
            }
        );
        let failed = "<Envelope><Body><JobResponse jobRefCode=\"bcref\"><Status><ReturnCode returnCodeType=\"failure\">7</ReturnCode><Descriptions><Description>No inventory left</Description></Descriptions></Status></JobResponse></Body></Envelope>";
        let Ok(Answer::Done(done)) = read(&reply(200, failed), "bcref") else {
            panic!("a response");
        };
        let error = live(done).unwrap_err();
        assert_eq!(error.class, ErrorClass::Rejected);
        assert!(error.message.contains("No inventory left"), "{error:?}");
    }

    #[test]
    fn the_character_set_rule_names_the_field_and_the_character() {
        assert!(check_carried("title", "Chargé(e) d'affaires – €").is_ok());
        assert_eq!(
            check_carried("title", "Ωmega").unwrap_err().message,
            "title contains 'Ω', which Windows-1252 cannot carry; Monster takes Windows-1252 only"
        );
        // Bytes Windows-1252 leaves undefined come back from the WHATWG table as C1 controls.
        assert!(check_carried("city", "a\u{81}b").is_err());
        assert!(
            check_carried("city", "a\u{7}b")
                .unwrap_err()
                .message
                .contains("U+0007")
        );
        assert_eq!(to_windows_1252("é€"), Some(vec![0xE9, 0x80]));
        assert_eq!(to_windows_1252("Σ"), None);
    }
}
